/**
 * Splitting an outgoing message into chunks (RFC 4975 §5.1, §7.1.1): each chunk is the body of one SEND
 * with `Byte-Range: start-end/total` and the continuation flag `+` (more follow), `$` (last) or `#`
 * (the sender gave up on the message).
 */
import type { ByteRange } from './msrp-headers';
import type { ContinuationFlag } from './msrp-message';

/** One chunk to send. */
export interface OutgoingChunk {
  body: Uint8Array;
  byteRange: ByteRange;
  continuation: ContinuationFlag;
}

/**
 * Where a session's outgoing queue takes the chunks of one message from: a `MessageChunker` (the whole
 * body is known) or a `ChunkStream` (chunks arrive over time, as in a relay).
 */
export interface ChunkSource {
  /** Nothing more will come: every chunk was produced, or the source was aborted. */
  readonly done: boolean;
  /** A chunk can be produced now. */
  readonly ready: boolean;
  /** Whether at least one chunk was produced. */
  readonly hasStarted: boolean;
  /** Bytes known and not yet produced. */
  readonly remainingBytes: number;
  /** The next chunk, or undefined when none is ready. */
  next(): OutgoingChunk | undefined;
  /** Give up: the `#` chunk to send when part of the message was sent (RFC 4975 §7.1.1), else undefined. */
  abort(): OutgoingChunk | undefined;
}

/**
 * Default size of a message's first chunk in bytes: a short message is one SEND, and the first bytes of a
 * long one leave at once.
 */
export const DEFAULT_CHUNK_SIZE = 2048;

/**
 * Default largest chunk: a long message's chunks double from the first chunk's size up to this. RFC 4975
 * §5.1 leaves the chunk size to the sender; 256 KiB keeps a 1 MiB message to 11 transactions instead of
 * 512, stays well under the 1 MiB chunk bound of our receivers, and bounds how long another session sharing
 * the connection waits behind one chunk.
 */
export const DEFAULT_MAX_CHUNK_SIZE = 256 * 1024;

/** Options of a `MessageChunker`. */
export interface ChunkerOptions {
  /**
   * Size of the first chunk's body, at least 1. Default 2048. Given without `maxChunkSize`, every chunk
   * has this size (a fixed chunk size).
   */
  chunkSize?: number;
  /**
   * Largest chunk body: each chunk is twice the previous one up to this (RFC 4975 §5.1 lets the sender
   * choose). Default `chunkSize` when that is given, else `DEFAULT_MAX_CHUNK_SIZE`.
   */
  maxChunkSize?: number;
  /** Announce the total size in every Byte-Range (default); `false` sends `*` (RFC 4975 §7.1.1). */
  announceTotal?: boolean;
}

/**
 * Yields the chunks of one message lazily, so that a queue of large messages costs no more memory than
 * the messages themselves. A zero-length message yields one chunk `1-0/0`. Chunk bodies are views of the
 * message body (no copies). Sizes ramp up: `chunkSize`, twice that, … up to `maxChunkSize`.
 */
export class MessageChunker implements ChunkSource {
  private offset = 0;
  private started = false;
  private aborted = false;
  private nextSize: number;
  private readonly maxChunkSize: number;
  private readonly announceTotal: boolean;

  constructor(
    readonly body: Uint8Array,
    options: ChunkerOptions = {},
  ) {
    this.nextSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.maxChunkSize = options.maxChunkSize ?? (options.chunkSize !== undefined ? options.chunkSize : DEFAULT_MAX_CHUNK_SIZE);
    if (!Number.isInteger(this.nextSize) || this.nextSize < 1) throw new RangeError(`chunk size must be a positive integer, got ${this.nextSize}`);
    if (!Number.isInteger(this.maxChunkSize) || this.maxChunkSize < this.nextSize) {
      throw new RangeError(`the largest chunk size must be an integer of at least the first chunk size, got ${this.maxChunkSize}`);
    }
    this.announceTotal = options.announceTotal ?? true;
  }

  /** Whether every chunk (or the abort chunk) has been produced. */
  get done(): boolean {
    return this.aborted || (this.started && this.offset >= this.body.length);
  }

  /** Whether a chunk can be produced now (until done, always). */
  get ready(): boolean {
    return !this.done;
  }

  /** Whether at least one chunk was produced. */
  get hasStarted(): boolean {
    return this.started;
  }

  /** Bytes not yet produced. */
  get remainingBytes(): number {
    return this.aborted ? 0 : this.body.length - this.offset;
  }

  /** The next chunk, or undefined when done. */
  next(): OutgoingChunk | undefined {
    if (this.done) return undefined;
    this.started = true;
    const total = this.body.length;
    const end = Math.min(total, this.offset + this.nextSize);
    this.nextSize = Math.min(this.maxChunkSize, this.nextSize * 2);
    const body = this.body.subarray(this.offset, end);
    const byteRange: ByteRange = { start: this.offset + 1, end, total: this.announceTotal ? total : undefined };
    this.offset = end;
    return { body, byteRange, continuation: end >= total ? '$' : '+' };
  }

  /**
   * Give up on the message: returns the empty `#` chunk that tells the receiver to discard what it has
   * (RFC 4975 §7.1.1), or undefined when nothing was sent yet or the message is already complete.
   */
  abort(): OutgoingChunk | undefined {
    if (this.done) return undefined;
    this.aborted = true;
    if (!this.started) return undefined;
    const total = this.announceTotal ? this.body.length : undefined;
    return { body: new Uint8Array(0), byteRange: { start: this.offset + 1, end: this.offset, total }, continuation: '#' };
  }
}

/** All chunks of a message at once (convenience for tests and small messages). */
export function chunkMessage(body: Uint8Array, options?: ChunkerOptions): OutgoingChunk[] {
  const chunker = new MessageChunker(body, options);
  const out: OutgoingChunk[] = [];
  for (let c = chunker.next(); c; c = chunker.next()) out.push(c);
  return out;
}
