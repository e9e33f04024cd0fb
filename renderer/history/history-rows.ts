/**
 * Turns a conversation's messages (oldest first) and its move markers into the rows the history shows:
 * a day separator before each new local day, each message (marked when it starts a run from the same
 * sender, for spacing), and a quiet marker where the conversation moved between devices.
 */
import type { ChatMessage } from '../../electron/api/payloads';
import type { MoveMarker } from '../state/transfer-slice';

/** One row of the history. */
export type HistoryRow =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; message: ChatMessage; startsGroup: boolean }
  | { kind: 'marker'; key: string; text: string; at: number };

/** Names a day for the separator, given the start of that local day (epoch ms). */
export type DayLabeler = (dayStart: number) => string;

/** The start and end (epoch ms) of the local day holding `timestamp`. */
function localDay(timestamp: number): { start: number; end: number } {
  const date = new Date(timestamp);
  const start = new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const end = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime();
  return { start, end };
}

/**
 * The rows for `messages` and `markers`. Markers go after every message at or before their time.
 * Linear in the number of messages: a Date is built only when a new day begins.
 */
export function buildHistoryRows(messages: readonly ChatMessage[], markers: readonly MoveMarker[], label: DayLabeler): HistoryRow[] {
  const rows: HistoryRow[] = [];
  const pending = [...markers].sort((a, b) => a.at - b.at);
  let markerAt = 0;
  let day = { start: Number.NaN, end: Number.NaN };
  let previous: ChatMessage | null = null;

  const openDay = (timestamp: number): void => {
    if (timestamp >= day.start && timestamp < day.end) return;
    day = localDay(timestamp);
    rows.push({ kind: 'day', key: `day:${day.start}`, label: label(day.start) });
    previous = null;
  };
  const flushMarkers = (until: number): void => {
    while (markerAt < pending.length && pending[markerAt]!.at <= until) {
      const marker = pending[markerAt]!;
      openDay(marker.at);
      rows.push({ kind: 'marker', key: `marker:${marker.at}:${markerAt}`, text: marker.text, at: marker.at });
      markerAt++;
      previous = null;
    }
  };

  for (const message of messages) {
    flushMarkers(message.timestamp - 1);
    openDay(message.timestamp);
    const startsGroup = previous === null || previous.direction !== message.direction || message.timestamp - previous.timestamp > 5 * 60_000;
    rows.push({ kind: 'message', key: message.id, message, startsGroup });
    previous = message;
  }
  flushMarkers(Number.POSITIVE_INFINITY);
  return rows;
}
