/**
 * The conversation's history: its rows (day separators, messages, move markers) in a VirtualList,
 * paging older messages in as the user scrolls up.
 */
import { useCallback, useMemo, type ReactNode } from 'react';
import type { ChatMessage } from '../../electron/api/payloads';
import { formatDay } from '../format/time';
import { buildHistoryRows, type HistoryRow } from '../history/history-rows';
import { VirtualList } from '../history/virtual-list';
import type { MoveMarker } from '../state/transfer-slice';
import { useAppState } from '../state/store-context';
import { HistoryRowView, estimateRowHeight } from './message-row';

const NO_MESSAGES: readonly ChatMessage[] = [];
const NO_MARKERS: readonly MoveMarker[] = [];

/** Day separators move when older messages of the same day arrive: they never pin the scroll position. */
const anchorable = (row: HistoryRow): boolean => row.kind !== 'day';

/** The history of `conversationId`. */
export function MessageHistory(props: { conversationId: string; peerName: string }): ReactNode {
  const { conversationId, peerName } = props;
  const history = useAppState((s) => s.histories[conversationId]);
  const markers = useAppState((s) => s.markers[conversationId] ?? NO_MARKERS);
  const loadOlder = useAppState((s) => s.loadOlder);
  const messages = history?.messages ?? NO_MESSAGES;

  const rows = useMemo(() => buildHistoryRows(messages, markers, (day) => formatDay(day)), [messages, markers]);
  const onReachStart = useCallback(() => {
    if (history?.hasMore && !history.loading) void loadOlder(conversationId);
  }, [history?.hasMore, history?.loading, loadOlder, conversationId]);
  const renderRow = useCallback((row: HistoryRow) => <HistoryRowView row={row} peerName={peerName} />, [peerName]);

  return (
    <div className="history">
      {history?.error ? (
        <p className="history-error" role="alert">
          Could not load messages: {history.error}{' '}
          <button type="button" onClick={() => void loadOlder(conversationId)}>Retry</button>
        </p>
      ) : null}
      {history !== undefined && !history.loading && messages.length === 0 && rows.length === 0 ? (
        <p className="empty-note">No messages yet. Say hello.</p>
      ) : null}
      <VirtualList
        key={conversationId}
        rows={rows}
        estimateHeight={estimateRowHeight}
        renderRow={renderRow}
        label={`Messages with ${peerName}`}
        onReachStart={onReachStart}
        anchorable={anchorable}
        busy={history?.loading ?? true}
        complete={history ? !history.hasMore : false}
        className="history-list"
      />
    </div>
  );
}
