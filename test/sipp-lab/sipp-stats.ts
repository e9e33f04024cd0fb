/**
 * SIPp's statistics file (`-trace_stat -stf FILE`): a `;`-separated CSV whose first line names the columns and
 * whose last line holds the final cumulative counters, written when SIPp exits. `(C)` columns are cumulative,
 * `(P)` ones cover the last period only; we read the cumulative ones.
 */

/** The cumulative counters of one SIPp run that tests and benchmarks judge it by. */
export interface SippStats {
  /** Calls SIPp started (UAC) or accepted (UAS). */
  created: number;
  /** Calls that reached the end of the scenario. */
  successful: number;
  /** Calls that failed, for any reason. */
  failed: number;
  /** Of the failed: a message arrived that the scenario did not expect (a wrong response code, a check_it). */
  unexpected: number;
  /** Of the failed: a request was retransmitted until SIPp gave up (UDP). */
  maxRetransmissions: number;
  /** Of the failed: a `recv` timed out. */
  receiveTimeouts: number;
  /** Messages that matched no call (discarded). */
  outOfCall: number;
  /** Messages for calls already finished (late retransmissions, discarded). */
  deadCall: number;
  /** Messages SIPp retransmitted. */
  retransmissions: number;
}

/** The CSV column of each counter. */
const COLUMNS: Readonly<Record<keyof SippStats, string>> = {
  created: 'TotalCallCreated',
  successful: 'SuccessfulCall(C)',
  failed: 'FailedCall(C)',
  unexpected: 'FailedUnexpectedMessage(C)',
  maxRetransmissions: 'FailedMaxUDPRetrans(C)',
  receiveTimeouts: 'FailedTimeoutOnRecv(C)',
  outOfCall: 'OutOfCallMsgs(C)',
  deadCall: 'DeadCallMsgs(C)',
  retransmissions: 'Retransmissions(C)',
};

/** Thrown when a statistics file is not what SIPp writes. */
export class SippStatsError extends Error {
  override readonly name = 'SippStatsError';
}

/**
 * The final counters of a SIPp statistics file (its last data line).
 * @throws SippStatsError when the text has no data line or lacks a column we read
 */
export function parseSippStats(csv: string): SippStats {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = lines[0];
  const last = lines.length > 1 ? lines[lines.length - 1] : undefined;
  if (header === undefined || last === undefined) throw new SippStatsError('SIPp statistics: no data line (did SIPp run at all?)');
  const names = header.split(';');
  const values = last.split(';');
  const read = (column: string): number => {
    const at = names.indexOf(column);
    if (at < 0) throw new SippStatsError(`SIPp statistics: no column ${column}`);
    const text = values[at];
    const value = text === undefined ? NaN : Number(text);
    if (!Number.isInteger(value) || value < 0) throw new SippStatsError(`SIPp statistics: ${column} is not a count: ${JSON.stringify(text)}`);
    return value;
  };
  const out = {} as SippStats;
  for (const key of Object.keys(COLUMNS) as (keyof SippStats)[]) out[key] = read(COLUMNS[key]);
  return out;
}

/**
 * Seconds from SIPp's start until it had created `calls` calls, read from the periodic lines of a statistics file
 * written with `-fd 1` (so accurate to about a second): how fast SIPp actually offered the load. Undefined when it
 * never created that many.
 */
export function creationSeconds(csv: string, calls: number): number | undefined {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const names = (lines[0] ?? '').split(';');
  const created = names.indexOf('TotalCallCreated');
  const start = names.indexOf('StartTime');
  const current = names.indexOf('CurrentTime');
  if (created < 0 || start < 0 || current < 0) throw new SippStatsError('SIPp statistics: no TotalCallCreated, StartTime or CurrentTime column');
  // Times look like "2026-11-26\t21:09:41.181503\t1795727381.181503": the last part is epoch seconds.
  const epoch = (text: string | undefined): number => Number((text ?? '').split('\t').pop());
  for (const line of lines.slice(1)) {
    const values = line.split(';');
    if (Number(values[created]) < calls) continue;
    const seconds = epoch(values[current]) - epoch(values[start]);
    if (!Number.isFinite(seconds)) throw new SippStatsError(`SIPp statistics: unreadable times in ${JSON.stringify(line.slice(0, 120))}`);
    return seconds;
  }
  return undefined;
}

/** One line for a failure message: the counters that say what went wrong. */
export function describeSippStats(stats: SippStats): string {
  return (Object.keys(COLUMNS) as (keyof SippStats)[]).map((key) => `${key}=${stats[key]}`).join(' ');
}
