/**
 * Replay protection for Digest nonce counts (RFC 7616 §3.4 and §5.5: the server remembers which `nc`
 * values it has seen for a nonce and refuses a repeat), bounded in memory.
 *
 * Per nonce it keeps the highest `nc` accepted and a 32-bit window of the ones just below it, like the IPsec
 * anti-replay window (RFC 4303 §3.4.3), so that a client's parallel requests may arrive a little out of order.
 *
 * Memory is bounded by `capacity`. When a nonce has to be forgotten, its issue time raises a watermark: any
 * nonce issued at or before the watermark that is no longer tracked is answered as `evicted`, so a forgotten
 * nonce can never be replayed; the client simply re-authenticates with a fresh nonce (stale=true).
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

/** Tracks nonce counts per nonce, with a fixed maximum number of nonces. */
export class NonceCountTracker {
  private readonly entries = new Map<string, Entry>();
  private watermark = -Infinity;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('capacity must be a positive integer');
  }

  /** Nonces currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Record `nc` for `nonce` (issued at `issuedAt`) and say whether it is new. Only call this for requests
   * whose digest response was correct, so that forged requests cannot fill the tracker.
   */
  accept(nonce: string, issuedAt: number, nc: number): NonceCountVerdict {
    if (!Number.isInteger(nc) || nc < 1) return 'replay';
    let entry = this.entries.get(nonce);
    if (entry === undefined) {
      if (issuedAt <= this.watermark) return 'evicted';
      entry = { issuedAt, highest: 0, window: 0 };
      this.entries.set(nonce, entry);
      this.evictOverflow();
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

  private evictOverflow(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const [nonce, entry] = oldest.value;
      this.entries.delete(nonce);
      this.watermark = Math.max(this.watermark, entry.issuedAt);
    }
  }
}
