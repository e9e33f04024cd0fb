/**
 * SIP session timers (RFC 4028) on one leg of the in-path B2BUA: the header formats, the negotiation of the
 * interval and of who refreshes, and a per-leg timer that either asks us to refresh (at half the interval,
 * §10) or, when the peer refreshes, reports the session expired if no refresh came in time (§10: at
 * `interval - min(32, interval / 3)` seconds).
 *
 * ```
 *            start(weRefresh)                 refreshed(weRefresh')
 *   Off ───────────────────────► Refreshing ◄──────────────────────► Watching
 *    │                               │                                   │ no refresh in time
 *    │                               │                                   ▼
 *    │                               │                                Expired
 *    │ stop()                        │ stop()                            │ stop()
 *    └───────────────────────────────┴──────────► Stopped ◄──────────────┘
 * ```
 * `refreshed` also restarts the current state's clock (a refresh from either side resets the interval).
 */
import { EventEmitter } from 'node:events';
import { assertTransition, type TransitionTable } from '../../sip/transaction/state-machine';

/** Who refreshes, relative to the transaction that negotiated it (RFC 4028 §4). */
export type Refresher = 'uac' | 'uas';

/** A parsed `Session-Expires` (RFC 4028 §4): delta-seconds and the optional refresher. */
export interface SessionExpires {
  deltaSeconds: number;
  refresher: Refresher | undefined;
}

/** The RFC 4028 minimum of `Min-SE` (§5): 90 seconds. */
export const RFC4028_MIN_SE = 90;

/** Parse a Session-Expires value; undefined when malformed (a malformed one is treated as absent). */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/.exec(value);
  if (!m) return undefined;
  const deltaSeconds = Number(m[1]);
  if (!Number.isSafeInteger(deltaSeconds) || deltaSeconds <= 0) return undefined;
  let refresher: Refresher | undefined;
  for (const param of (m[2] ?? '').split(';').slice(1)) {
    const [name, raw] = param.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'refresher' && (raw === 'uac' || raw === 'uas')) refresher = raw;
  }
  return { deltaSeconds, refresher };
}

/** Format a Session-Expires value. */
export function formatSessionExpires(value: SessionExpires): string {
  return value.refresher ? `${value.deltaSeconds};refresher=${value.refresher}` : String(value.deltaSeconds);
}

/** Parse a Min-SE value (RFC 4028 §5); undefined when absent or malformed. */
export function parseMinSe(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*(?:;.*)?$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** Whether a request or response lists the `timer` option tag in Supported (or Require). */
export function supportsTimer(values: readonly string[]): boolean {
  return values.some((v) => v.trim().toLowerCase() === 'timer');
}

/** Our session-timer policy. */
export interface SessionTimerPolicy {
  /** The interval we ask for on the legs we originate (s). Default 1800 (RFC 4028 §4 recommends it). */
  interval: number;
  /** The smallest interval we accept (s). Default 90 (§5); lower only in tests. */
  minSe: number;
}

/** The default policy. */
export const DEFAULT_SESSION_TIMER_POLICY: Readonly<SessionTimerPolicy> = { interval: 1800, minSe: RFC4028_MIN_SE };

/** What a UAS answers to a request's session-timer headers (§9). */
export type UasTimerDecision =
  | { kind: 'none' }
  /** Refuse with 422 and our Min-SE (§9: the interval is below our minimum). */
  | { kind: 'too-small'; minSe: number }
  | { kind: 'timer'; deltaSeconds: number; refresher: Refresher };

/**
 * The UAS side of §9 for a request (initial INVITE or a refresh): no Session-Expires → no timer; below our
 * Min-SE → 422; otherwise the interval asked, with the refresher it named, else the UAC when it supports
 * timers (it asked for one), else us.
 */
export function decideAsUas(sessionExpires: string | undefined, supported: readonly string[], policy: SessionTimerPolicy): UasTimerDecision {
  const se = parseSessionExpires(sessionExpires);
  if (!se) return { kind: 'none' };
  if (se.deltaSeconds < policy.minSe) return { kind: 'too-small', minSe: policy.minSe };
  const refresher = se.refresher ?? (supportsTimer(supported) ? 'uac' : 'uas');
  return { kind: 'timer', deltaSeconds: se.deltaSeconds, refresher };
}

/** States of a leg's session timer (see the module diagram). */
export enum SessionTimerState {
  Off = 'off',
  /** We refresh: `refreshDue` fires at half the interval. */
  Refreshing = 'refreshing',
  /** The peer refreshes: `expired` fires if it does not in time. */
  Watching = 'watching',
  Expired = 'expired',
  Stopped = 'stopped',
}

const S = SessionTimerState;
const TRANSITIONS: TransitionTable<SessionTimerState> = {
  [S.Off]: [S.Refreshing, S.Watching, S.Stopped],
  [S.Refreshing]: [S.Refreshing, S.Watching, S.Stopped],
  [S.Watching]: [S.Refreshing, S.Watching, S.Expired, S.Stopped],
  [S.Expired]: [S.Stopped],
  [S.Stopped]: [],
};

/** Events of a session timer. */
export type SessionTimerEvents = {
  stateChange: [from: SessionTimerState, to: SessionTimerState];
  /** Time for us to send a refresh (re-INVITE or UPDATE). */
  refreshDue: [];
  /** The peer, the refresher, did not refresh in time: end the leg (§10). */
  expired: [];
};

/** One leg's session timer. */
export class SessionTimer extends EventEmitter<SessionTimerEvents> {
  private current = S.Off;
  private timer: NodeJS.Timeout | undefined;
  private seconds = 0;

  /** Current state. */
  get state(): SessionTimerState {
    return this.current;
  }

  /** The interval in force (s), 0 when off. */
  get interval(): number {
    return this.seconds;
  }

  /**
   * (Re)start the clock after a successful negotiation or refresh: `weRefresh` says whether we are the
   * refresher from now on. Ignored once stopped or expired.
   */
  refreshed(deltaSeconds: number, weRefresh: boolean): void {
    if (this.current === S.Stopped || this.current === S.Expired) return;
    this.clear();
    this.seconds = deltaSeconds;
    this.transition(weRefresh ? S.Refreshing : S.Watching);
    const ms = weRefresh ? (deltaSeconds * 1000) / 2 : (deltaSeconds - Math.min(32, deltaSeconds / 3)) * 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current === S.Refreshing) this.emit('refreshDue');
      else if (this.current === S.Watching) {
        this.transition(S.Expired);
        this.emit('expired');
      }
    }, ms);
    this.timer.unref?.();
  }

  /** Stop for good (the leg ended). Idempotent. */
  stop(): void {
    this.clear();
    if (this.current !== S.Stopped) this.transition(S.Stopped);
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The one transition function: throws IllegalTransitionError on a move the diagram does not have. */
  private transition(to: SessionTimerState): void {
    const from = this.current;
    assertTransition('SessionTimer', TRANSITIONS, from, to);
    this.current = to;
    this.emit('stateChange', from, to);
  }
}
