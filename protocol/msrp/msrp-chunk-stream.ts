/**
 * A message whose chunks arrive over time (RFC 4975 §7.1.1): what a relay forwards. Each pushed chunk keeps
 * its Byte-Range and continuation flag; the stream ends with the `$` chunk, or with `#` when the original
 * sender gave up. Chunks may come in any order the sender chose; the stream hands them on in push order.
 *
 * With `coalesceUpTo`, chunks that queued up back to back (each starting where the previous one ended)
 * leave as one chunk of at most that many bytes: a relay whose sender uses small chunks then spends one
 * transaction, not dozens, on the receiving leg when that leg is the slower one. Nothing waits for more
 * chunks to merge: only what is already queued is combined.
 */
import { concatBytes } from '../common/bytes';
import type { ChunkSource, OutgoingChunk } from './msrp-chunker';

/** The empty queue shared by every stream without chunks (never written to). */
const NONE: OutgoingChunk[] = [];

/** A push-fed `ChunkSource`. */
export class ChunkStream implements ChunkSource {
  /** Queued chunks; made with the first one, as `[chunk]` (most relayed messages are one chunk: no spare slots). */
  private chunks: OutgoingChunk[] = NONE;
  private ended = false;
  private aborted = false;
  private started = false;
  private pendingBytes = 0;
  /** The highest byte produced so far (1-based end), for the Byte-Range of an abort chunk. */
  private highestEnd = 0;
  private total: number | undefined;
  private readonly coalesceUpTo: number;

  /** @param coalesceUpTo merge chunks queued back to back up to this many bytes (0: never). */
  constructor(coalesceUpTo = 0) {
    this.coalesceUpTo = coalesceUpTo;
  }

  /** @see ChunkSource.done */
  get done(): boolean {
    return this.aborted || (this.ended && this.chunks.length === 0);
  }

  /** @see ChunkSource.ready */
  get ready(): boolean {
    return !this.aborted && this.chunks.length > 0;
  }

  /** @see ChunkSource.hasStarted */
  get hasStarted(): boolean {
    return this.started;
  }

  /** @see ChunkSource.remainingBytes */
  get remainingBytes(): number {
    return this.pendingBytes;
  }

  /** Whether more chunks may still be pushed. */
  get open(): boolean {
    return !this.ended && !this.aborted;
  }

  /**
   * Add the next chunk. Throws `TypeError` after the last chunk (a caller bug). A chunk pushed after
   * `abort()` is dropped: the message was given up.
   */
  push(chunk: OutgoingChunk): void {
    if (this.ended) throw new TypeError('push() after the last chunk of a stream');
    if (this.aborted) return;
    if (chunk.continuation !== '+') this.ended = true;
    if (this.chunks === NONE) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.pendingBytes += chunk.body.length;
    if (chunk.byteRange.total !== undefined) this.total = chunk.byteRange.total;
  }

  /** @see ChunkSource.next */
  next(): OutgoingChunk | undefined {
    if (this.aborted) return undefined;
    const first = this.chunks.shift();
    if (!first) return undefined;
    const chunk = this.coalesce(first);
    this.started = true;
    this.pendingBytes -= chunk.body.length;
    this.highestEnd = Math.max(this.highestEnd, chunk.byteRange.start - 1 + chunk.body.length);
    return chunk;
  }

  /** `first` merged with the contiguous chunks queued behind it, within `coalesceUpTo` bytes. */
  private coalesce(first: OutgoingChunk): OutgoingChunk {
    let last = first;
    let size = first.body.length;
    let count = 1;
    while (count <= this.chunks.length) {
      const candidate = this.chunks[count - 1]!;
      if (last.continuation !== '+' || candidate.continuation === '#') break;
      if (candidate.byteRange.start !== last.byteRange.start + last.body.length) break;
      if (size + candidate.body.length > this.coalesceUpTo) break;
      last = candidate;
      size += candidate.body.length;
      count++;
    }
    if (count === 1) return first;
    const parts = [first, ...this.chunks.splice(0, count - 1)];
    const start = first.byteRange.start;
    return {
      body: concatBytes(parts.map((p) => p.body)),
      byteRange: { start, end: start + size - 1, total: last.byteRange.total ?? first.byteRange.total },
      continuation: last.continuation,
    };
  }

  /** @see ChunkSource.abort */
  abort(): OutgoingChunk | undefined {
    if (this.done) return undefined;
    this.aborted = true;
    this.chunks = NONE;
    this.pendingBytes = 0;
    if (!this.started) return undefined;
    return { body: new Uint8Array(0), byteRange: { start: this.highestEnd + 1, end: this.highestEnd, total: this.total }, continuation: '#' };
  }
}
