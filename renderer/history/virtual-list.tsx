/**
 * A windowed (virtualized) vertical list for long chat histories: only the rows in view plus `overscan`
 * rows on each side are in the DOM; every rendered row is measured (one ResizeObserver, which reports
 * border-box sizes without forcing a layout) and its real height replaces the estimate. Follows the ARIA
 * feed pattern (role=feed, articles with aria-posinset / aria-setsize).
 *
 * Scroll anchoring: whenever the layout changes (rows measured, older pages prepended, new rows at the end),
 * the first visible row of the layout the user was looking at is found, and the viewport is scrolled *by*
 * how far that row moved (`anchorShift`), so it stays where it was on screen. A relative scroll never
 * undoes a scroll the list has not heard of yet (one set in this frame, whose scroll event comes with the
 * next), and it needs no read of scrollTop (no forced layout) before it. At the end of the list the list
 * follows new rows instead.
 *
 * Cost per frame: the rendered range moves a chunk of rows at a time, and a scroll re-renders only when
 * it moves; rows are memoized, so a
 * re-render touches the rows whose position or index changed; older pages are asked for from an effect
 * (after paint), well before the top is reached.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { anchorShift, computeOffsets, sameRowRange, visibleRange, type RowRange } from './windowing';

/** What a row needs to be listed. */
export interface ListRow {
  key: string;
}

/** Props of VirtualList. */
export interface VirtualListProps<R extends ListRow> {
  rows: readonly R[];
  /** Height to assume for a row never rendered yet (called once per row object). */
  estimateHeight: (row: R) => number;
  /** Renders a row's content; keep it stable (useCallback) so that unchanged rows are not re-rendered. */
  renderRow: (row: R) => ReactNode;
  /** Accessible name of the feed. */
  label: string;
  /** Rows rendered above and below the viewport. */
  overscan?: number;
  /** The rendered range grows and shrinks by this many rows at a time (see `visibleRange`). */
  chunk?: number;
  /** Called (after paint) while the viewport is within `startThreshold` px of the first row. */
  onReachStart?: () => void;
  startThreshold?: number;
  /** Whether a row can pin the scroll position (default: every row). Rows whose key moves must not. */
  anchorable?: (row: R) => boolean;
  /** True while older rows are being fetched (aria-busy). */
  busy?: boolean;
  /** False when rows exist before the first one (aria-setsize becomes -1, "unknown"). */
  complete?: boolean;
  className?: string;
}

/** Within this many pixels of the end, the list counts as "at the end" and follows new rows. */
const END_SLACK = 24;

/** Viewport height to assume before the list is laid out. */
const DEFAULT_VIEWPORT = 800;

/** The layout last committed to the DOM: what the user is looking at. */
interface Committed<R> {
  rows: readonly R[];
  offsets: Float64Array;
  range: RowRange;
  /** The viewport height it was laid out for. */
  view: number;
}

/** Finds a row's index by key, trying the likely places first (same index, or shifted by a prepend). */
function findRow<R extends ListRow>(rows: readonly R[], key: string, hints: readonly number[]): number {
  for (const hint of hints) if (hint >= 0 && hint < rows.length && rows[hint]!.key === key) return hint;
  for (let i = 0; i < rows.length; i++) if (rows[i]!.key === key) return i;
  return -1;
}

/** One positioned, observed row. Memoized: re-rendered only when its row, place or size of set changes. */
interface VirtualRowProps<R extends ListRow> {
  row: R;
  index: number;
  top: number;
  setSize: number;
  renderRow: (row: R) => ReactNode;
  observe: (element: HTMLDivElement | null) => (() => void) | undefined;
}

function VirtualRowView<R extends ListRow>(props: VirtualRowProps<R>): ReactNode {
  const { row, index, top, setSize } = props;
  return (
    <div
      ref={props.observe}
      data-row-key={row.key}
      role="article"
      aria-posinset={index + 1}
      aria-setsize={setSize}
      className="virtual-row"
      style={{ transform: `translateY(${top}px)` }}
    >
      {props.renderRow(row)}
    </div>
  );
}

const VirtualRow = memo(VirtualRowView) as typeof VirtualRowView;

/** The virtualized list. */
export function VirtualList<R extends ListRow>(props: VirtualListProps<R>): ReactNode {
  const { rows, estimateHeight, renderRow, overscan = 6, chunk = 12, onReachStart, startThreshold = 2000, anchorable } = props;
  const container = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const estimates = useRef(new WeakMap<R, number>());
  const committed = useRef<Committed<R> | null>(null);
  /** The scrollTop as last reported by a scroll event or set here (a frame old at most). */
  const knownTop = useRef(0);
  const [measured, setMeasured] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(0);
  const view = viewport || DEFAULT_VIEWPORT;

  const offsets = useMemo(() => {
    const cache = estimates.current;
    return computeOffsets(rows.length, (i) => {
      const row = rows[i]!;
      const known = heights.current.get(row.key);
      if (known !== undefined) return known;
      let estimate = cache.get(row);
      if (estimate === undefined) {
        estimate = estimateHeight(row);
        cache.set(row, estimate);
      }
      return estimate;
    });
    // `measured` changes whenever a height in the map does.
  }, [rows, estimateHeight, measured]);
  const total = offsets[rows.length] ?? 0;
  const range = visibleRange(offsets, scrollTop, view, overscan, chunk);

  // One observer for every rendered row; a batch of changed heights is one re-layout.
  const observer = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              const key = (entry.target as HTMLElement).dataset['rowKey'];
              if (key === undefined) continue;
              const height = entry.borderBoxSize[0]?.blockSize ?? entry.contentRect.height;
              if (height > 0 && heights.current.get(key) !== height) {
                heights.current.set(key, height);
                changed = true;
              }
            }
            if (changed) setMeasured((n) => n + 1);
          }),
    [],
  );
  useEffect(() => () => observer?.disconnect(), [observer]);

  // Rows are observed while mounted only (React 19 ref cleanup), so scrolling through a long history
  // does not keep detached rows alive.
  const observe = useCallback(
    (element: HTMLDivElement | null) => {
      if (element === null || observer === null) return undefined;
      observer.observe(element);
      return () => observer.unobserve(element);
    },
    [observer],
  );

  // Viewport size.
  useLayoutEffect(() => {
    const element = container.current;
    if (element === null) return;
    setViewport(element.clientHeight);
    if (typeof ResizeObserver === 'undefined') return;
    const resize = new ResizeObserver((entries) => {
      const height = entries[0]?.contentRect.height;
      if (height !== undefined) setViewport(height);
    });
    resize.observe(element);
    return () => resize.disconnect();
  }, []);

  // After every layout change: follow the end, or keep the first visible row where it was.
  useLayoutEffect(() => {
    const element = container.current;
    const previous = committed.current;
    committed.current = { rows, offsets, range, view };
    if (element === null || (previous !== null && previous.offsets === offsets)) return;
    const previousTotal = previous === null ? 0 : (previous.offsets[previous.rows.length] ?? 0);
    let top: number;
    if (previous === null || previousTotal - knownTop.current - view <= END_SLACK) {
      // At the end (or the first layout): follow it (the browser clamps to the last full viewport).
      top = Math.max(0, total - view);
      element.scrollTop = total;
    } else {
      const before = previous.rows;
      const shift = rows.length - before.length;
      const moved = anchorShift(
        previous.offsets,
        (i) => before[i]!.key,
        offsets,
        (key, i) => findRow(rows, key, [i + shift, i]),
        knownTop.current,
        anchorable ? (i) => anchorable(before[i]!) : undefined,
      );
      if (moved === null || Math.abs(moved) < 0.5) return;
      element.scrollBy({ top: moved, behavior: 'instant' });
      top = Math.min(Math.max(0, knownTop.current + moved), Math.max(0, total - view));
    }
    knownTop.current = top;
    // Render again only if the new position brings other rows into range.
    if (!sameRowRange(visibleRange(offsets, top, view, overscan, chunk), range)) setScrollTop(top);
  }, [rows, offsets, range, total, view, overscan, chunk, anchorable]);

  const onScroll = useCallback(() => {
    const element = container.current;
    const layout = committed.current;
    if (element === null || layout === null) return;
    const top = element.scrollTop;
    knownTop.current = top;
    // Re-render only when other rows come into range, or the start comes near or goes away.
    const next = visibleRange(layout.offsets, top, layout.view, overscan, chunk);
    setScrollTop((current) => (sameRowRange(next, layout.range) && current <= startThreshold === top <= startThreshold ? current : top));
  }, [overscan, chunk, startThreshold]);

  // Older rows are asked for after paint, never from the scroll event itself; while the viewport stays
  // near the start, every new page (rows.length) or finished fetch (a new onReachStart) asks again.
  const nearStart = scrollTop <= startThreshold || total <= view + startThreshold;
  useEffect(() => {
    if (nearStart && rows.length > 0) onReachStart?.();
  }, [nearStart, rows.length, onReachStart]);

  const setSize = props.complete === false ? -1 : rows.length;
  const items: ReactNode[] = [];
  for (let i = range.start; i < range.end; i++) {
    const row = rows[i]!;
    items.push(<VirtualRow key={row.key} row={row} index={i} top={offsets[i]!} setSize={setSize} renderRow={renderRow} observe={observe} />);
  }

  return (
    <div
      ref={container}
      className={props.className ? `virtual-list ${props.className}` : 'virtual-list'}
      role="feed"
      aria-label={props.label}
      aria-busy={props.busy ?? false}
      tabIndex={0}
      onScroll={onScroll}
    >
      <div className="virtual-spacer" style={{ height: `${total}px` }}>
        {items}
      </div>
    </div>
  );
}
