/**
 * One row of the history: a message bubble (with its time and, for ours, delivery ticks from IMDNs),
 * a day separator, or the quiet "moved" marker.
 */
import { memo, type ReactNode } from 'react';
import type { MessageStatus } from '../../electron/api/payloads';
import { formatTime } from '../format/time';
import type { HistoryRow } from '../history/history-rows';

/** What each status reads as, for screen readers and tooltips. */
export const STATUS_TEXT: Readonly<Record<MessageStatus, string>> = {
  pending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  displayed: 'Read',
  failed: 'Not sent',
};

/** The delivery mark of one of our messages: a clock, one tick, two ticks, two coloured ticks, or "!". */
export function StatusTicks(props: { status: MessageStatus }): ReactNode {
  const { status } = props;
  const glyph = status === 'pending' ? '◷' : status === 'sent' ? '✓' : status === 'failed' ? '!' : '✓✓';
  return (
    <span className={`ticks ticks-${status}`} role="img" aria-label={STATUS_TEXT[status]} title={STATUS_TEXT[status]}>
      {glyph}
    </span>
  );
}

/** One history row. */
export const HistoryRowView = memo(function HistoryRowView(props: { row: HistoryRow; peerName: string }): ReactNode {
  const { row } = props;
  if (row.kind === 'day') {
    return <div className="day-separator"><span>{row.label}</span></div>;
  }
  if (row.kind === 'marker') {
    return <div className="move-marker"><span>{row.text} · {formatTime(row.at)}</span></div>;
  }
  const { message, startsGroup } = row;
  const outgoing = message.direction === 'outgoing';
  return (
    <div className={`message ${outgoing ? 'outgoing' : 'incoming'}${startsGroup ? ' group-start' : ''}`}>
      <div className="bubble">
        <span className="visually-hidden">{outgoing ? 'You' : props.peerName}: </span>
        <span className="message-text">{message.text}</span>
        <span className="message-meta">
          <time dateTime={new Date(message.timestamp).toISOString()}>{formatTime(message.timestamp)}</time>
          {outgoing ? <StatusTicks status={message.status} /> : null}
        </span>
      </div>
    </div>
  );
});

/** Height to assume before a row is measured. */
export function estimateRowHeight(row: HistoryRow): number {
  if (row.kind === 'day') return 40;
  if (row.kind === 'marker') return 36;
  const lines = Math.max(1, Math.ceil(row.message.text.length / 48)) + (row.message.text.match(/\n/g)?.length ?? 0);
  return 30 + lines * 20 + (row.startsGroup ? 8 : 0);
}
