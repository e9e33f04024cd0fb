/**
 * Reassembly of chunked messages (RFC 4975 §7.1.1, §7.3), keyed by Message-ID.
 *
 * Tolerates chunks out of order, duplicated or overlapping chunks (later bytes overwrite earlier ones,
 * coverage is counted once), interrupted chunks (a `+` chunk shorter than its Byte-Range said) and
 * aborted messages (`#`). Memory is bounded: a message larger than `maxMessageBytes` is refused with
 * 413, and at most `maxPendingMessages` incomplete messages are kept.
 */
import type { ByteRange } from './msrp-headers';
import type { ContinuationFlag } from './msrp-message';

/** One received chunk, as the reassembler needs it. */
export interface IncomingChunk {
  messageId: string;
  byteRange: ByteRange;
  continuation: ContinuationFlag;
  body: Uint8Array;
}

/** What adding a chunk did. `error` carries the MSRP status to answer with. */
export type ReassemblyResult =
  | { kind: 'partial'; messageId: string; receivedBytes: number; totalBytes: number | undefined }
  | { kind: 'complete'; messageId: string; body: Uint8Array }
  | { kind: 'aborted'; messageId: string }
  | { kind: 'duplicate'; messageId: string }
  | { kind: 'error'; messageId: string; status: 400 | 413; reason: string };

/** Bounds of a reassembler. */
export interface ReassemblerOptions {
  /** Largest message accepted, in bytes. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Incomplete messages kept at once. Default 64. */
  maxPendingMessages?: number;
  /** Bytes held for all incomplete messages together. Default 64 MiB. */
  maxPendingBytes?: number;
  /** Message-IDs of completed or aborted messages remembered to drop late duplicates. Default 1024. */
  rememberCompleted?: number;
}

interface Pending {
  data: Uint8Array;
  /** Sorted, disjoint, non-adjacent half-open intervals [start, end) of received offsets (0-based). */
  ranges: Array<[number, number]>;
  received: number;
  total: number | undefined;
}

/** Reassembles the chunks of many concurrent messages. */
export class MsrpReassembler {
  private readonly pending = new Map<string, Pending>();
  private readonly finished = new Set<string>();
  private readonly maxMessageBytes: number;
  private readonly maxPendingMessages: number;
  private readonly rememberCompleted: number;
  private readonly maxPendingBytes: number;
  private heldBytes = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxPendingMessages = options.maxPendingMessages ?? 64;
    this.rememberCompleted = options.rememberCompleted ?? 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
  }

  /** Messages currently incomplete. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Bytes held for incomplete messages. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** Forget an incomplete message (e.g. after answering its chunk with an error). */
  discard(messageId: string): void {
    const p = this.pending.get(messageId);
    if (!p) return;
    this.heldBytes -= p.data.length;
    this.pending.delete(messageId);
  }

  /** Add one chunk. Never throws on bad input: problems come back as `error` results. */
  add(chunk: IncomingChunk): ReassemblyResult {
    const { messageId, byteRange, continuation, body } = chunk;
    if (this.finished.has(messageId)) return { kind: 'duplicate', messageId };
    const start = byteRange.start - 1;
    const end = start + body.length;
    if (byteRange.end !== undefined) {
      const announced = byteRange.end - byteRange.start + 1;
      // Only an interrupted chunk (not `$`) may be shorter than announced (RFC 4975 §7.1.1).
      if (body.length > announced || (continuation === '$' && body.length !== announced)) {
        return this.fail(messageId, 400, `Byte-Range ${byteRange.start}-${byteRange.end} does not match a body of ${body.length} bytes`);
      }
    }
    let p = this.pending.get(messageId);
    const total = byteRange.total ?? (continuation === '$' ? end : undefined);
    if (total !== undefined && total > this.maxMessageBytes) return this.fail(messageId, 413, `message of ${total} bytes exceeds ${this.maxMessageBytes}`);
    if (end > this.maxMessageBytes) return this.fail(messageId, 413, `message exceeds ${this.maxMessageBytes} bytes`);
    if (total !== undefined && end > total) return this.fail(messageId, 400, `chunk ends at ${end} beyond the total ${total}`);
    if (continuation === '#') {
      this.discard(messageId);
      this.remember(messageId);
      return { kind: 'aborted', messageId };
    }
    if (!p) {
      // A single-chunk message needs no bookkeeping.
      if (start === 0 && continuation === '$' && (total === undefined || total === end)) {
        this.remember(messageId);
        return { kind: 'complete', messageId, body };
      }
      if (this.pending.size >= this.maxPendingMessages) {
        return this.fail(messageId, 413, `more than ${this.maxPendingMessages} messages in progress`);
      }
      const size = total ?? Math.min(this.maxMessageBytes, Math.max(end, 4096));
      if (this.heldBytes + size > this.maxPendingBytes) return this.fail(messageId, 413, 'too many bytes in incomplete messages');
      p = { data: new Uint8Array(size), ranges: [], received: 0, total };
      this.pending.set(messageId, p);
      this.heldBytes += size;
    }
    if (total !== undefined) {
      if (p.total !== undefined && p.total !== total) return this.fail(messageId, 400, `total changed from ${p.total} to ${total}`);
      if (p.total === undefined) {
        const highest = p.ranges.length ? p.ranges[p.ranges.length - 1]![1] : 0;
        if (highest > total) return this.fail(messageId, 400, `total ${total} is below bytes already received`);
        p.total = total;
      }
    }
    if (end > p.data.length) {
      const size = p.total ?? Math.min(this.maxMessageBytes, Math.max(end, p.data.length * 2));
      if (this.heldBytes - p.data.length + size > this.maxPendingBytes) return this.fail(messageId, 413, 'too many bytes in incomplete messages');
      this.heldBytes += size - p.data.length;
      const grown = new Uint8Array(size);
      grown.set(p.data);
      p.data = grown;
    }
    p.data.set(body, start);
    p.received += addRange(p.ranges, start, end);
    if (p.total !== undefined && p.received === p.total) {
      this.discard(messageId);
      this.remember(messageId);
      return { kind: 'complete', messageId, body: p.data.length === p.total ? p.data : p.data.slice(0, p.total) };
    }
    return { kind: 'partial', messageId, receivedBytes: p.received, totalBytes: p.total };
  }

  private fail(messageId: string, status: 400 | 413, reason: string): ReassemblyResult {
    this.discard(messageId);
    return { kind: 'error', messageId, status, reason };
  }

  private remember(messageId: string): void {
    this.finished.add(messageId);
    if (this.finished.size > this.rememberCompleted) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}

/** Insert [start, end) into sorted disjoint ranges, merging; returns how many new offsets it covered. */
export function addRange(ranges: Array<[number, number]>, start: number, end: number): number {
  if (end <= start) return 0;
  let added = end - start;
  let s = start;
  let e = end;
  let i = 0;
  while (i < ranges.length && ranges[i]![1] < s) i++;
  let j = i;
  while (j < ranges.length && ranges[j]![0] <= e) {
    const [rs, re] = ranges[j]!;
    added -= Math.max(0, Math.min(re, end) - Math.max(rs, start));
    s = Math.min(s, rs);
    e = Math.max(e, re);
    j++;
  }
  ranges.splice(i, j - i, [s, e]);
  return added;
}
