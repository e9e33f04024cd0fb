/**
 * Replay protection for Digest nonce counts (RFC 7616 §3.4 and §5.5: the server remembers which `nc`
 * values it has seen for a nonce and refuses a repeat), bounded in memory.
 *
 * Per nonce it keeps the highest `nc` accepted and a 32-bit window of the ones just below it, like the IPsec
 * anti-replay window (RFC 4303 §3.4.3), so that a client's parallel requests may arrive a little out of order.
 *
 * When a nonce has to be forgotten, its issue time raises a watermark: any nonce issued at or before the
 * watermark that is no longer tracked is answered as `evicted`, so a forgotten nonce can never be replayed;
 * the client simply re-authenticates with a fresh nonce (stale=true).
 *
 * How much it remembers is sized by time as well as by count. Above `capacity` nonces, the least recently used
 * one is forgotten only once it was issued more than `retainMs` ago; a younger one is forgotten only to stay
 * under `maxEntries`. So at any rate up to `maxEntries / retainMs`, a client that answers its challenge within
 * `retainMs` is never refused because the tracker forgot the nonce (with a count alone, a busy registrar
 * forgets nonces seconds after issuing them, and answers clients' first use of them with stale 401s).
 *
 * ```
 *   accept(new nonce) ──► size > capacity? ──no──► keep
 *                              │ yes
 *                              v
 *        oldest issued ≤ now − retainMs, or size > maxEntries? ──yes──► forget it, raise the watermark
 * ```
 */

/** Result of offering a nonce count. */
export type NonceCountVerdict = 'fresh' | 'replay' | 'too-old' | 'evicted';

interface Entry {
  issuedAt: number;
  highest: number;
  /** Bit i set: nc = highest - i has been seen (bit 0 is `highest` itself). */
  window: number;
}

const WINDOW = 32;

/** Bounds of a {@link NonceCountTracker}. */
export interface NonceCountTrackerOptions {
  /** Nonces kept whatever their age (the least recently used beyond it may be forgotten). */
  capacity: number;
  /** Beyond `capacity`, a nonce issued less than this long ago (ms) is still kept. Default 0. */
  retainMs?: number;
  /** Hard bound on nonces kept, whatever their age. Default `capacity`. */
  maxEntries?: number;
}

/** Tracks nonce counts per nonce, bounded by count and by age (see the module comment). */
export class NonceCountTracker {
  private readonly entries = new Map<string, Entry>();
  private watermark = -Infinity;
  private readonly capacity: number;
  private readonly retainMs: number;
  private readonly maxEntries: number;

  /** @param bounds a number is `{ capacity: n }`: a plain count, no time-based retention */
  constructor(bounds: number | NonceCountTrackerOptions) {
    const options = typeof bounds === 'number' ? { capacity: bounds } : bounds;
    const { capacity, retainMs = 0, maxEntries = capacity } = options;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('capacity must be a positive integer');
    if (!Number.isFinite(retainMs) || retainMs < 0) throw new Error('retainMs must be a non-negative number of ms');
    if (!Number.isInteger(maxEntries) || maxEntries < capacity) throw new Error('maxEntries must be an integer ≥ capacity');
    this.capacity = capacity;
    this.retainMs = retainMs;
    this.maxEntries = maxEntries;
  }

  /** Nonces currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Record `nc` for `nonce` (issued at `issuedAt`) and say whether it is new. Only call this for requests
   * whose digest response was correct, so that forged requests cannot fill the tracker.
   */
  accept(nonce: string, issuedAt: number, nc: number, now: number = Date.now()): NonceCountVerdict {
    if (!Number.isInteger(nc) || nc < 1) return 'replay';
    let entry = this.entries.get(nonce);
    if (entry === undefined) {
      if (issuedAt <= this.watermark) return 'evicted';
      entry = { issuedAt, highest: 0, window: 0 };
      // The nonce usually arrives cut from a whole received message: a copy keeps that message collectable.
      this.entries.set(ownCopy(nonce), entry);
      this.evictOverflow(now);
    } else {
      // Keep recently used nonces at the end of the Map (least recently used first).
      this.entries.delete(nonce);
      this.entries.set(nonce, entry);
    }
    if (nc > entry.highest) {
      const shift = nc - entry.highest;
      entry.window = shift >= WINDOW ? 1 : ((entry.window << shift) | 1) >>> 0;
      entry.highest = nc;
      return 'fresh';
    }
    const offset = entry.highest - nc;
    if (offset >= WINDOW) return 'too-old';
    const bit = (1 << offset) >>> 0;
    if ((entry.window & bit) !== 0) return 'replay';
    entry.window = (entry.window | bit) >>> 0;
    return 'fresh';
  }

  /** Forget nonces issued before `cutoff` (they are stale anyway); call now and then. */
  prune(cutoff: number): void {
    for (const [nonce, entry] of this.entries) {
      if (entry.issuedAt < cutoff) {
        this.entries.delete(nonce);
        this.watermark = Math.max(this.watermark, entry.issuedAt);
      }
    }
  }

  private evictOverflow(now: number): void {
    const youngest = now - this.retainMs;
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const [nonce, entry] = oldest.value;
      if (entry.issuedAt > youngest && this.entries.size <= this.maxEntries) return;
      this.entries.delete(nonce);
      this.watermark = Math.max(this.watermark, entry.issuedAt);
    }
  }
}

/** A flat copy of `text` that shares no memory with the string it was cut from. */
function ownCopy(text: string): string {
  // V8 copies short slices anyway; a JSON round trip makes a fresh flat copy of a longer one.
  return text.length < 13 ? text : (JSON.parse(JSON.stringify(text)) as string);
}
