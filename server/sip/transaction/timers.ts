/**
 * SIP timer values (RFC 3261 §17.1.1.1, Table 4 of Appendix A; RFC 6026 §8.4 for Timers L and M).
 * T1, T2 and T4 are configurable so that tests can run every timer path in milliseconds.
 */

/** The base values every other timer derives from. */
export interface TimerConfig {
  /** RTT estimate (default 500 ms). */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s). */
  t2: number;
  /** Maximum duration a message remains in the network (default 5 s). */
  t4: number;
}

/** RFC 3261 defaults. */
export const DEFAULT_TIMER_CONFIG: Readonly<TimerConfig> = { t1: 500, t2: 4000, t4: 5000 };

/** Every timer duration, in milliseconds, for one transport reliability. */
export interface TimerValues extends TimerConfig {
  /** Timer A initial value: INVITE request retransmit (unreliable only). */
  a: number;
  /** Timer B: INVITE transaction timeout. */
  b: number;
  /** Timer D: wait for response retransmits (≥ 32 s unreliable: 64·T1, which is 32 s at the default T1; 0 reliable). */
  d: number;
  /** Timer E initial value: non-INVITE request retransmit (unreliable only). */
  e: number;
  /** Timer F: non-INVITE transaction timeout. */
  f: number;
  /** Timer G initial value: INVITE final response retransmit (unreliable only). */
  g: number;
  /** Timer H: wait for ACK receipt. */
  h: number;
  /** Timer I: wait for ACK retransmits (T4 unreliable, 0 reliable). */
  i: number;
  /** Timer J: wait for non-INVITE request retransmits (64·T1 unreliable, 0 reliable). */
  j: number;
  /** Timer K: wait for response retransmits (T4 unreliable, 0 reliable). */
  k: number;
  /** Timer L (RFC 6026): wait for ACK retransmits / 2xx from the TU in Accepted (server). */
  l: number;
  /** Timer M (RFC 6026): wait for 2xx retransmits in Accepted (client). */
  m: number;
}

/** Fill in defaults and derive every timer; throws on a non-positive or non-finite base value. */
export function timerValues(config: Partial<TimerConfig> | undefined, reliable: boolean): TimerValues {
  const base = { ...DEFAULT_TIMER_CONFIG, ...config };
  for (const [name, value] of Object.entries(base)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`SIP timer ${name} must be a positive number of ms, got ${String(value)}`);
  }
  const { t1, t2, t4 } = base;
  return {
    t1, t2, t4,
    a: t1,
    b: 64 * t1,
    d: reliable ? 0 : 64 * t1,
    e: t1,
    f: 64 * t1,
    g: t1,
    h: 64 * t1,
    i: reliable ? 0 : t4,
    j: reliable ? 0 : 64 * t1,
    k: reliable ? 0 : t4,
    l: 64 * t1,
    m: 64 * t1,
  };
}
