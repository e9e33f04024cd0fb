/**
 * A windowed (virtualized) vertical list for long chat histories: only the rows in view plus `overscan`
 * rows on each side are in the DOM; every rendered row is measured (ResizeObserver) and its real height
 * replaces the estimate. The list keeps the viewport pinned to the row at its top when rows above change
 * (older pages prepended, rows measured), follows the end while the user is at the end, and asks for
 * older rows when the user nears the start. Follows the ARIA feed pattern (role=feed, articles with
 * aria-posinset / aria-setsize).
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { anchorFor, computeOffsets, scrollTopForAnchor, visibleRange, type ScrollAnchor } from './windowing';

/** What a row needs to be listed. */
export interface ListRow {
  key: string;
}

/** Props of VirtualList. */
export interface VirtualListProps<R extends ListRow> {
  rows: readonly R[];
  /** Height to assume for a row never rendered yet. */
  estimateHeight: (row: R) => number;
  renderRow: (row: R) => ReactNode;
  /** Accessible name of the feed. */
  label: string;
  /** Rows rendered above and below the viewport. */
  overscan?: number;
  /** Called when the viewport is within `startThreshold` px of the first row. */
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

/** Finds a row's index by key, trying the likely places first (same index, or shifted by a prepend). */
function makeIndexOf<R extends ListRow>(rows: readonly R[], hints: readonly number[]): (key: string) => number {
  return (key) => {
    for (const hint of hints) if (hint >= 0 && hint < rows.length && rows[hint]!.key === key) return hint;
    for (let i = 0; i < rows.length; i++) if (rows[i]!.key === key) return i;
    return -1;
  };
}

/** The virtualized list. */
export function VirtualList<R extends ListRow>(props: VirtualListProps<R>): ReactNode {
  const { rows, estimateHeight, renderRow, overscan = 8, onReachStart, startThreshold = 600, anchorable } = props;
  const container = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(0);
  const atEnd = useRef(true);
  const anchor = useRef<{ value: ScrollAnchor; count: number } | null>(null);

  const offsets = useMemo(
    () => computeOffsets(rows.length, (i) => heights.current.get(rows[i]!.key) ?? estimateHeight(rows[i]!)),
    // `measured` changes whenever a height in the map does.
    [rows, estimateHeight, measured],
  );
  const total = offsets[rows.length] ?? 0;

  // One observer for every rendered row: a changed height re-lays the list out.
  const observer = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              const key = (entry.target as HTMLElement).dataset['rowKey'];
              if (key === undefined) continue;
              const height = entry.borderBoxSize[0]?.blockSize ?? (entry.target as HTMLElement).offsetHeight;
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
    const resize = new ResizeObserver(() => setViewport(element.clientHeight));
    resize.observe(element);
    return () => resize.disconnect();
  }, []);

  // Remember which row is at the top of the viewport, to keep it there when rows above change.
  const takeAnchor = useCallback(
    (top: number) => {
      const found = anchorFor(offsets, (i) => rows[i]!.key, top, anchorable ? (i) => anchorable(rows[i]!) : undefined);
      anchor.current = found === null ? null : { value: found, count: rows.length };
    },
    [offsets, rows, anchorable],
  );

  // After every layout change: follow the end, or keep the anchor row where it was.
  useLayoutEffect(() => {
    const element = container.current;
    if (element === null) return;
    let target: number | null = null;
    if (atEnd.current) {
      target = Math.max(0, total - element.clientHeight);
    } else if (anchor.current !== null) {
      const { value, count } = anchor.current;
      target = scrollTopForAnchor(offsets, makeIndexOf(rows, [value.index + rows.length - count, value.index]), value);
    }
    if (target !== null && Math.abs(element.scrollTop - target) >= 1) {
      element.scrollTop = target;
      setScrollTop(element.scrollTop);
    }
    takeAnchor(element.scrollTop);
  }, [offsets, rows, total, takeAnchor]);

  const onScroll = useCallback(() => {
    const element = container.current;
    if (element === null) return;
    const top = element.scrollTop;
    atEnd.current = element.scrollHeight - top - element.clientHeight <= END_SLACK;
    takeAnchor(top);
    setScrollTop(top);
    if (top <= startThreshold) onReachStart?.();
  }, [takeAnchor, onReachStart, startThreshold]);

  // A short first page may not fill the viewport: ask for more right away.
  useEffect(() => {
    if (viewport > 0 && total <= viewport + startThreshold && rows.length > 0) onReachStart?.();
  }, [viewport, total, rows.length, onReachStart, startThreshold]);

  const range = visibleRange(offsets, scrollTop, viewport || 800, overscan);
  const items: ReactNode[] = [];
  for (let i = range.start; i < range.end; i++) {
    const row = rows[i]!;
    items.push(
      <div
        key={row.key}
        ref={observe}
        data-row-key={row.key}
        role="article"
        aria-posinset={i + 1}
        aria-setsize={props.complete === false ? -1 : rows.length}
        className="virtual-row"
        style={{ transform: `translateY(${offsets[i]!}px)` }}
      >
        {renderRow(row)}
      </div>,
    );
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
