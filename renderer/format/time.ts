/**
 * Dates and times as the UI shows them, in the user's locale and time zone.
 */

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const SHORT_DAY = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const DAY_MS = 86_400_000;

/** "14:05". */
export function formatTime(timestamp: number): string {
  return TIME.format(timestamp);
}

/** Start of the local day holding `timestamp`. */
export function startOfDay(timestamp: number): number {
  const d = new Date(timestamp);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "Today", "Yesterday" or "Monday, 3 March 2026" for the day starting at `dayStart`. */
export function formatDay(dayStart: number, now: number = Date.now()): string {
  const today = startOfDay(now);
  if (dayStart === today) return 'Today';
  if (dayStart === startOfDay(today - DAY_MS / 2)) return 'Yesterday';
  return DAY.format(dayStart);
}

/** Side bar time: the time today, else a short date. */
export function formatListTime(timestamp: number, now: number = Date.now()): string {
  return startOfDay(timestamp) === startOfDay(now) ? formatTime(timestamp) : SHORT_DAY.format(timestamp);
}
