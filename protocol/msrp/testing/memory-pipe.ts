/**
 * Test support: two `MsrpConnection`s joined back to back in memory. Writes are queued and delivered by
 * `flush()`, so that a response never re-enters the sender's stack (as with a real socket), and tests
 * can inspect, drop or split what is on the wire.
 */
import type { MsrpDuplex } from '../msrp-connection';

/** One direction of an in-memory pipe. */
export class MemoryDuplex implements MsrpDuplex {
  readonly queue: Uint8Array[] = [];
  closed = false;
  /** What `write` returns, to exercise back-pressure. */
  writeResult: boolean | void = undefined;
  /** Total bytes written. */
  written = 0;

  write(bytes: Uint8Array): boolean | void {
    if (this.closed) throw new Error('write after close');
    this.queue.push(bytes);
    this.written += bytes.length;
    return this.writeResult;
  }

  close(): void {
    this.closed = true;
  }

  /** Take everything written so far. */
  drain(): Uint8Array[] {
    return this.queue.splice(0, this.queue.length);
  }
}

/** Something that accepts bytes (an `MsrpConnection`). */
export interface Receiver {
  receive(bytes: Uint8Array): void;
}

/** Deliver queued bytes both ways until both directions are empty; returns how many writes were delivered. */
export function flush(aOut: MemoryDuplex, a: Receiver, bOut: MemoryDuplex, b: Receiver, maxRounds = 10_000_000): number {
  let delivered = 0;
  while (aOut.queue.length > 0 || bOut.queue.length > 0) {
    if (delivered > maxRounds) throw new Error('flush did not settle');
    for (const bytes of aOut.drain()) {
      b.receive(bytes);
      delivered++;
    }
    for (const bytes of bOut.drain()) {
      a.receive(bytes);
      delivered++;
    }
  }
  return delivered;
}
