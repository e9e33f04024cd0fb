import { describe, expect, it } from 'vitest';
import { anchorFor, computeOffsets, anchorShift, rowAt, sameRowRange, scrollTopForAnchor, visibleRange } from './windowing';

const heights = [40, 60, 20, 100, 30];
const offsets = computeOffsets(heights.length, (i) => heights[i]!);

describe('windowing of a variable-height list', () => {
  it('lays rows out as prefix sums, ending with the total height', () => {
    expect([...offsets]).toEqual([0, 40, 100, 120, 220, 250]);
  });

  it('finds the row under a position, including row edges and beyond the ends', () => {
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 39.9)).toBe(0);
    expect(rowAt(offsets, 40)).toBe(1);
    expect(rowAt(offsets, 219)).toBe(3);
    expect(rowAt(offsets, 10_000)).toBe(4);
    expect(rowAt(offsets, -5)).toBe(0);
  });

  it('renders only the rows in the viewport plus the overscan', () => {
    expect(visibleRange(offsets, 100, 100, 0)).toEqual({ start: 2, end: 4 });
    expect(visibleRange(offsets, 100, 100, 1)).toEqual({ start: 1, end: 5 });
    expect(visibleRange(computeOffsets(0, () => 10), 0, 500, 3)).toEqual({ start: 0, end: 0 });
  });

  it('widens the range to whole chunks, so that it changes once per chunk of rows scrolled', () => {
    const even = computeOffsets(1_000, () => 50);
    // Rows 100..115 in view, 4 overscan: 96..119, out to chunks of 10: 90..120.
    expect(visibleRange(even, 5_000, 800, 4, 10)).toEqual({ start: 90, end: 120 });
    // Scrolling up six rows keeps the same range; the seventh brings the chunk above in.
    expect(visibleRange(even, 5_000 - 6 * 50, 800, 4, 10)).toEqual({ start: 90, end: 120 });
    expect(visibleRange(even, 5_000 - 7 * 50, 800, 4, 10)).toEqual({ start: 80, end: 120 });
    // Clamped to the rows there are; a chunk below 1 is 1.
    expect(visibleRange(even, 49_200, 800, 4, 10)).toEqual({ start: 980, end: 1_000 });
    expect(visibleRange(even, 5_000, 800, 4, 0)).toEqual({ start: 96, end: 120 });
  });

  it('keeps 100,000 rows to a handful in the DOM wherever the viewport is', () => {
    const big = computeOffsets(100_000, (i) => 30 + (i % 5) * 10);
    const middle = visibleRange(big, big[50_000]!, 800, 8);
    expect(middle.start).toBe(49_992);
    expect(middle.end - middle.start).toBeLessThan(60);
    const end = visibleRange(big, big[100_000]! - 800, 800, 8);
    expect(end.end).toBe(100_000);
  });

  it('puts the anchor row back at the same distance from the top after rows are prepended above it', () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const anchor = anchorFor(offsets, (i) => keys[i]!, 110)!;
    expect(anchor).toEqual({ key: 'c', index: 2, delta: -10 });
    // A row that may move (a day separator) is skipped for the next one.
    expect(anchorFor(offsets, (i) => keys[i]!, 110, (i) => i !== 2)).toEqual({ key: 'd', index: 3, delta: 10 });
    const grown = computeOffsets(7, (i) => [50, 50, ...heights][i]!);
    const grownKeys = ['y', 'z', ...keys];
    expect(scrollTopForAnchor(grown, (k) => grownKeys.indexOf(k), anchor)).toBe(210);
    expect(scrollTopForAnchor(grown, () => -1, anchor)).toBeNull();
  });

  it('keeps the first visible row where it was when rows above it are measured taller or shorter', () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const measured = computeOffsets(5, (i) => [40, 90, 20, 100, 30][i]!); // b measured 30 px taller
    // Row c's top was 10 px above the viewport's top; scrolled by the shift, it still is.
    const shift = anchorShift(offsets, (i) => keys[i]!, measured, (k) => keys.indexOf(k), 110)!;
    expect(shift).toBe(30);
    expect(measured[2]! - (110 + shift)).toBe(offsets[2]! - 110);
    // A row measured below the anchor moves nothing on screen.
    expect(anchorShift(offsets, (i) => keys[i]!, computeOffsets(5, (i) => [40, 60, 20, 140, 30][i]!), (k) => keys.indexOf(k), 110)).toBe(0);
    // Nothing to anchor to in an empty list; a row that disappeared leaves the position alone.
    expect(anchorShift(computeOffsets(0, () => 0), () => 'x', measured, () => 0, 0)).toBeNull();
    expect(anchorShift(offsets, (i) => keys[i]!, measured, () => -1, 110)).toBeNull();
  });

  it('shifts by the height of a prepended page, finding the anchor row by its old index', () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const hints: number[] = [];
    const grown = computeOffsets(7, (i) => [50, 50, ...heights][i]!);
    const shift = anchorShift(offsets, (i) => keys[i]!, grown, (key, before) => {
      hints.push(before);
      return ['y', 'z', ...keys].indexOf(key);
    }, 230);
    expect(hints).toEqual([4]);
    expect(shift).toBe(100);
  });

  it('compares rendered ranges by their rows', () => {
    expect(sameRowRange({ start: 3, end: 9 }, { start: 3, end: 9 })).toBe(true);
    expect(sameRowRange({ start: 3, end: 9 }, { start: 2, end: 9 })).toBe(false);
    expect(sameRowRange({ start: 3, end: 9 }, { start: 3, end: 10 })).toBe(false);
  });

  it('scrolls 40,000 px up through rows measured in the frame of each scroll, and pages prepended, losing no ground', () => {
    // The list as virtual-list.tsx drives it: 100 px up per frame; after each step the rows in range are
    // measured (their real heights differ from the estimate) and, near the top, an older page of 100 rows is
    // prepended. Each re-layout scrolls by the anchor's shift, the anchor chosen at the scrollTop the list
    // last heard of, which is a frame old: the scroll event of this frame's step has not arrived yet.
    const realHeight = (n: number): number => 36 + (n % 7) * 13; // rows are keyed by their message number n
    const estimate = 50;
    const viewport = 720;
    const measured = new Map<number, number>();
    let first = 99_900; // loaded rows: [first, 100_000): the newest page
    let layout = computeOffsets(100_000 - first, (i) => measured.get(first + i) ?? estimate);
    let scrollTop = layout[layout.length - 1]! - viewport;
    let reported = scrollTop; // what the last scroll event said
    const relayout = (nextFirst: number): void => {
      const before = layout;
      const beforeFirst = first;
      first = nextFirst;
      layout = computeOffsets(100_000 - first, (i) => measured.get(first + i) ?? estimate);
      const shift = anchorShift(before, (i) => String(beforeFirst + i), layout, (key) => Number(key) - first, reported) ?? 0;
      scrollTop += shift;
      reported += shift;
    };
    const measure = (): void => {
      const range = visibleRange(layout, scrollTop, viewport, 8);
      for (let i = range.start; i < range.end; i++) measured.set(first + i, realHeight(first + i));
      relayout(first);
    };
    measure();
    // The row at the top of the viewport, and how far below the viewport's top it starts.
    const startRow = first + rowAt(layout, scrollTop);
    const startOffset = layout[startRow - first]! - scrollTop;

    let pages = 0;
    for (let frame = 0; frame < 400; frame++) {
      scrollTop -= 100;
      expect(scrollTop).toBeGreaterThan(0); // the pages keep ahead of the viewport
      measure();
      if (scrollTop < 2000) {
        relayout(first - 100);
        pages++;
      }
      reported = scrollTop; // the scroll event arrives
    }
    // Where the starting row is now, relative to the viewport: exactly 40,000 px further down.
    expect(layout[startRow - first]! - scrollTop - startOffset).toBeCloseTo(40_000, 6);
    expect(pages).toBeGreaterThanOrEqual(5);
  });
});
