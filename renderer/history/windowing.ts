/**
 * The arithmetic of the virtualized history: rows have variable heights (measured once rendered, estimated
 * before), their top offsets are prefix sums, and only the rows that intersect the viewport, plus an
 * overscan on each side, are rendered. Pure functions: the React side is history/virtual-list.tsx.
 */

/** Top offset of every row, plus the total height as the last entry (length = count + 1). */
export function computeOffsets(count: number, heightAt: (index: number) => number): Float64Array {
  const offsets = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i]! + heightAt(i);
  return offsets;
}

/** The index of the row containing vertical position `y` (clamped to the rows that exist). */
export function rowAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (offsets[mid]! <= y) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Rows to render: `[start, end)`. */
export interface RowRange {
  start: number;
  end: number;
}

/**
 * The rows intersecting `[scrollTop, scrollTop + viewportHeight)`, widened by `overscan` rows each side, then
 * out to multiples of `chunk` rows: the range then changes once per `chunk` rows scrolled instead of at every
 * row, so rows are mounted (and measured) a chunk at a time, in fewer, larger updates.
 */
export function visibleRange(offsets: Float64Array, scrollTop: number, viewportHeight: number, overscan: number, chunk = 1): RowRange {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const step = Math.max(1, Math.floor(chunk));
  const first = rowAt(offsets, Math.max(0, scrollTop));
  const last = rowAt(offsets, Math.max(0, scrollTop + Math.max(0, viewportHeight) - 1));
  const start = Math.floor(Math.max(0, first - overscan) / step) * step;
  const end = Math.ceil((last + 1 + overscan) / step) * step;
  return { start, end: Math.min(count, end) };
}

/** Where the viewport is pinned while rows above it change height or are inserted. */
export interface ScrollAnchor {
  key: string;
  /** The row's index when the anchor was taken (a hint to find it again quickly). */
  index: number;
  /** The anchor row's top minus scrollTop, in pixels. */
  delta: number;
}

/**
 * The anchor for the current scroll position: the first row at or below the viewport's top that may
 * serve as one (`anchorable`; rows whose key can move, such as a day separator that older rows of the
 * same day push down, should not), and how far its top is from the viewport's top.
 */
export function anchorFor(
  offsets: Float64Array,
  keys: (index: number) => string,
  scrollTop: number,
  anchorable: (index: number) => boolean = () => true,
): ScrollAnchor | null {
  const count = offsets.length - 1;
  if (count <= 0) return null;
  for (let index = rowAt(offsets, scrollTop); index < count; index++) {
    if (anchorable(index)) return { key: keys(index), index, delta: offsets[index]! - scrollTop };
  }
  return null;
}

/** The scrollTop that puts the anchor row back where it was, or null if the row is gone. */
export function scrollTopForAnchor(offsets: Float64Array, indexOfKey: (key: string) => number, anchor: ScrollAnchor): number | null {
  const index = indexOfKey(anchor.key);
  if (index < 0 || index >= offsets.length - 1) return null;
  return Math.max(0, offsets[index]! - anchor.delta);
}

/**
 * How far the content under the viewport moved in a re-layout (rows measured, older rows prepended): the
 * first visible row that may anchor is found in the layout the user was looking at (`before`, at
 * `scrollTop`), and the result is how much lower its top is in the new layout (`after`). Scrolling by that
 * much keeps the row where it was on screen. Being a difference, it stays right when `scrollTop` is a frame
 * old (a scroll not yet reported): the rows between the two positions were already measured, so the shift
 * is the same. Null when there is nothing to anchor to or the anchor row is gone.
 */
export function anchorShift(
  before: Float64Array,
  keyBefore: (index: number) => string,
  after: Float64Array,
  indexAfter: (key: string, indexBefore: number) => number,
  scrollTop: number,
  anchorable?: (index: number) => boolean,
): number | null {
  const anchor = anchorFor(before, keyBefore, scrollTop, anchorable);
  if (anchor === null) return null;
  const index = indexAfter(anchor.key, anchor.index);
  if (index < 0 || index >= after.length - 1) return null;
  return after[index]! - before[anchor.index]!;
}

/** True when two ranges hold the same rows (a scroll that keeps them needs no re-render). */
export function sameRowRange(a: RowRange, b: RowRange): boolean {
  return a.start === b.start && a.end === b.end;
}
