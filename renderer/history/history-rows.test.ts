import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../electron/api/payloads';
import { buildHistoryRows } from './history-rows';

const day = (d: number, h: number, m = 0) => new Date(2026, 2, d, h, m).getTime();
const msg = (id: string, timestamp: number, direction: ChatMessage['direction'] = 'incoming'): ChatMessage => ({
  id, conversationId: 'c', direction, senderUri: 'sip:bob@b.example', text: id, timestamp, status: 'sent',
});
const label = (start: number) => `day ${new Date(start).getDate()}`;

describe('history rows', () => {
  it('puts a day separator before the first message of each local day', () => {
    const rows = buildHistoryRows([msg('a', day(3, 9)), msg('b', day(3, 23, 59)), msg('c', day(4, 0, 1))], [], label);
    expect(rows.map((r) => (r.kind === 'message' ? r.message.id : r.kind === 'day' ? r.label : r.text))).toEqual(['day 3', 'a', 'b', 'day 4', 'c']);
  });

  it('places a move marker between the messages before and after the move', () => {
    const rows = buildHistoryRows([msg('a', day(3, 9)), msg('b', day(3, 11))], [{ at: day(3, 10), text: 'Moved here from Laptop' }], label);
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'marker', 'message']);
    const after = buildHistoryRows([msg('a', day(3, 9))], [{ at: day(5, 10), text: 'Moved to Desktop' }], label);
    expect(after.map((r) => (r.kind === 'day' ? r.label : r.kind))).toEqual(['day 3', 'message', 'day 5', 'marker']);
  });

  it('starts a new group on a change of sender or after a five-minute pause', () => {
    const rows = buildHistoryRows(
      [msg('a', day(3, 9)), msg('b', day(3, 9, 1)), msg('c', day(3, 9, 2), 'outgoing'), msg('d', day(3, 9, 20), 'outgoing')],
      [],
      label,
    );
    expect(rows.flatMap((r) => (r.kind === 'message' ? [r.startsGroup] : []))).toEqual([true, false, true, true]);
  });
});
