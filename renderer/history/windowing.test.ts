import { describe, expect, it } from 'vitest';
import { anchorFor, computeOffsets, rowAt, scrollTopForAnchor, visibleRange } from './windowing';

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
});
