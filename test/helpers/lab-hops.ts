/**
 * The ways requests take through the lab, as the lab trace's hops show them (`lab.trace.hops(…)`), for
 * system tests to compare with: one `from → to` line per hop.
 */
import type { SipTraceHop } from '../../server/lab/sip-trace';

/** One line per hop: `from → to`. */
export function hopLines(hops: readonly Pick<SipTraceHop, 'from' | 'to'>[]): string[] {
  return hops.map((h) => `${h.from} → ${h.to}`);
}

/**
 * A request from the device `alice laptop` (a.example) to `bob desktop` (b.example) outside the dialog or
 * inside it: each core hands it to its Conversation Server and takes it back (originating at CS A,
 * terminating at CS B), in any mode pair.
 */
export const ALICE_LAPTOP_TO_BOB_DESKTOP: readonly string[] = [
  'alice laptop → core A',
  'core A → CS A',
  'CS A → core A',
  'core A → core B',
  'core B → CS B',
  'CS B → core B',
  'core B → bob desktop',
];

/** The same way back: a request of `bob desktop` inside the dialog, to `alice laptop`. */
export const BOB_DESKTOP_TO_ALICE_LAPTOP: readonly string[] = [
  'bob desktop → core B',
  'core B → CS B',
  'CS B → core B',
  'core B → core A',
  'core A → CS A',
  'CS A → core A',
  'core A → alice laptop',
];
