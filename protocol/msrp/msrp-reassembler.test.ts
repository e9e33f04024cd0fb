import { describe, expect, it } from 'vitest';
import { chunkMessage, MessageChunker } from './msrp-chunker';
import { addRange, MsrpReassembler, type IncomingChunk } from './msrp-reassembler';

function bytes(n: number, seed = 7): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) & 0xff);
}

function asIncoming(messageId: string, body: Uint8Array, chunkSize: number): IncomingChunk[] {
  return chunkMessage(body, { chunkSize }).map((c) => ({ messageId, byteRange: c.byteRange, continuation: c.continuation, body: c.body }));
}

describe('chunking (RFC 4975 §7.1.1)', () => {
  it('splits into Byte-Ranges that tile the message, + on all but the last', () => {
    const chunks = chunkMessage(bytes(5000), { chunkSize: 2048 });
    expect(chunks.map((c) => [c.byteRange.start, c.byteRange.end, c.byteRange.total, c.continuation])).toEqual([
      [1, 2048, 5000, '+'],
      [2049, 4096, 5000, '+'],
      [4097, 5000, 5000, '$'],
    ]);
  });

  it('sends an empty message as one 1-0/0 chunk and can leave the total unknown', () => {
    expect(chunkMessage(new Uint8Array(0)).map((c) => c.byteRange)).toEqual([{ start: 1, end: 0, total: 0 }]);
    expect(chunkMessage(bytes(10), { chunkSize: 4, announceTotal: false })[0]!.byteRange.total).toBeUndefined();
  });

  it('aborts with an empty # chunk after the bytes already sent, and not before any', () => {
    const c = new MessageChunker(bytes(100), { chunkSize: 40 });
    c.next();
    expect(c.abort()).toEqual({ body: new Uint8Array(0), byteRange: { start: 41, end: 40, total: 100 }, continuation: '#' });
    expect(c.done).toBe(true);
    expect(new MessageChunker(bytes(10)).abort()).toBeUndefined();
  });

  it('refuses a nonsensical chunk size', () => {
    expect(() => new MessageChunker(bytes(1), { chunkSize: 0 })).toThrow(RangeError);
    expect(() => new MessageChunker(bytes(1), { chunkSize: 4096, maxChunkSize: 2048 })).toThrow(RangeError);
  });

  it('by default doubles the chunks of a long message from 2 KiB up to 256 KiB, the ranges still tiling it', () => {
    const body = bytes(1024 * 1024);
    const chunks = chunkMessage(body);
    const KiB = 1024;
    expect(chunks.map((c) => c.body.length)).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 256, 256].map((k) => k * KiB).concat([2 * KiB]));
    let next = 1;
    for (const c of chunks) {
      expect(c.byteRange).toEqual({ start: next, end: next + c.body.length - 1, total: body.length });
      expect(c.body.buffer).toBe(body.buffer); // a view, not a copy
      next += c.body.length;
    }
    expect(chunks.map((c) => c.continuation).join('')).toBe('+'.repeat(10) + '$');
    expect(chunkMessage(bytes(2048)).map((c) => c.continuation)).toEqual(['$']); // a short message is one SEND
  });

  it('ramps only up to the given largest chunk', () => {
    expect(chunkMessage(bytes(10_000), { chunkSize: 1000, maxChunkSize: 3000 }).map((c) => c.body.length)).toEqual([1000, 2000, 3000, 3000, 1000]);
  });
});

describe('MsrpReassembler', () => {
  it('reassembles chunks delivered in order, reversed, shuffled and duplicated', () => {
    const body = bytes(10_000);
    const chunks = asIncoming('m1', body, 999);
    const orders = [chunks, [...chunks].reverse(), [...chunks.slice(5), ...chunks.slice(0, 5)], [...chunks, ...chunks]];
    for (const order of orders) {
      const r = new MsrpReassembler();
      const results = order.map((c) => r.add(c));
      const completes = results.filter((x) => x.kind === 'complete');
      expect(completes).toHaveLength(1);
      expect(completes[0]!.kind === 'complete' && completes[0]!.body).toEqual(body);
      expect(r.pendingCount).toBe(0);
      expect(r.pendingBytes).toBe(0);
    }
  });

  it('learns an unknown total from the $ chunk even when it arrives first', () => {
    const body = bytes(300);
    const chunks = chunkMessage(body, { chunkSize: 100, announceTotal: false }).map((c) => ({ messageId: 'm2', ...c }));
    const r = new MsrpReassembler();
    expect(r.add(chunks[2]!).kind).toBe('partial');
    expect(r.add(chunks[0]!)).toMatchObject({ kind: 'partial', receivedBytes: 200, totalBytes: 300 });
    const last = r.add(chunks[1]!);
    expect(last.kind === 'complete' && last.body).toEqual(body);
  });

  it('accepts an interrupted + chunk shorter than its Byte-Range and the rest later', () => {
    const r = new MsrpReassembler();
    const body = bytes(100);
    expect(r.add({ messageId: 'm3', byteRange: { start: 1, end: 100, total: 100 }, continuation: '+', body: body.subarray(0, 30) }).kind).toBe('partial');
    const done = r.add({ messageId: 'm3', byteRange: { start: 31, end: 100, total: 100 }, continuation: '$', body: body.subarray(30) });
    expect(done.kind === 'complete' && done.body).toEqual(body);
  });

  it('drops an aborted message and ignores its late chunks as duplicates', () => {
    const r = new MsrpReassembler();
    const chunks = asIncoming('m4', bytes(300), 100);
    r.add(chunks[0]!);
    expect(r.add({ messageId: 'm4', byteRange: { start: 101, end: 100, total: 300 }, continuation: '#', body: new Uint8Array(0) }).kind).toBe('aborted');
    expect(r.pendingBytes).toBe(0);
    expect(r.add(chunks[1]!).kind).toBe('duplicate');
  });

  it('reports a completed message arriving again as a duplicate', () => {
    const r = new MsrpReassembler();
    const [only] = asIncoming('m5', bytes(10), 100);
    expect(r.add(only!).kind).toBe('complete');
    expect(r.add(only!).kind).toBe('duplicate');
  });

  it('refuses messages over the size bound with 413, by announced total or by offset', () => {
    const r = new MsrpReassembler({ maxMessageBytes: 1000 });
    expect(r.add({ messageId: 'a', byteRange: { start: 1, end: 10, total: 5000 }, continuation: '+', body: bytes(10) })).toMatchObject({ kind: 'error', status: 413 });
    expect(r.add({ messageId: 'b', byteRange: { start: 995, end: undefined, total: undefined }, continuation: '+', body: bytes(10) })).toMatchObject({ kind: 'error', status: 413 });
    expect(r.pendingCount).toBe(0);
  });

  it('bounds the number and the bytes of incomplete messages', () => {
    const r = new MsrpReassembler({ maxPendingMessages: 2 });
    for (const id of ['x', 'y']) r.add({ messageId: id, byteRange: { start: 1, end: 1, total: 2 }, continuation: '+', body: bytes(1) });
    expect(r.add({ messageId: 'z', byteRange: { start: 1, end: 1, total: 2 }, continuation: '+', body: bytes(1) })).toMatchObject({ kind: 'error', status: 413 });
    const s = new MsrpReassembler({ maxPendingBytes: 1500 });
    expect(s.add({ messageId: 'p', byteRange: { start: 1, end: 1, total: 1000 }, continuation: '+', body: bytes(1) }).kind).toBe('partial');
    expect(s.add({ messageId: 'q', byteRange: { start: 1, end: 1, total: 1000 }, continuation: '+', body: bytes(1) })).toMatchObject({ kind: 'error', status: 413 });
  });

  it('answers 400 to inconsistent ranges', () => {
    const r = new MsrpReassembler();
    expect(r.add({ messageId: 'a', byteRange: { start: 1, end: 5, total: 10 }, continuation: '+', body: bytes(6) })).toMatchObject({ kind: 'error', status: 400 });
    expect(r.add({ messageId: 'b', byteRange: { start: 1, end: 5, total: 5 }, continuation: '$', body: bytes(4) })).toMatchObject({ kind: 'error', status: 400 });
    r.add({ messageId: 'c', byteRange: { start: 1, end: 5, total: 10 }, continuation: '+', body: bytes(5) });
    expect(r.add({ messageId: 'c', byteRange: { start: 6, end: 10, total: 12 }, continuation: '+', body: bytes(5) })).toMatchObject({ kind: 'error', status: 400 });
  });
});

describe('addRange', () => {
  it('counts only newly covered offsets and merges neighbours', () => {
    const ranges: Array<[number, number]> = [];
    expect(addRange(ranges, 10, 20)).toBe(10);
    expect(addRange(ranges, 30, 40)).toBe(10);
    expect(addRange(ranges, 15, 35)).toBe(10);
    expect(ranges).toEqual([[10, 40]]);
    expect(addRange(ranges, 0, 10)).toBe(10);
    expect(ranges).toEqual([[0, 40]]);
    expect(addRange(ranges, 5, 6)).toBe(0);
  });
});
