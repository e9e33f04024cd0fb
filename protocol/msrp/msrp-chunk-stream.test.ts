import { describe, expect, it } from 'vitest';
import { utf8 } from '../common/bytes';
import { ChunkStream } from './msrp-chunk-stream';

const chunk = (start: number, text: string, continuation: '+' | '$' | '#', total?: number) => ({
  body: utf8(text),
  byteRange: { start, end: start + text.length - 1, total },
  continuation,
});

describe('ChunkStream (a message relayed chunk by chunk)', () => {
  it('hands chunks on in push order with their own Byte-Range, and is done after the last one', () => {
    const s = new ChunkStream();
    expect(s.ready).toBe(false);
    expect(s.done).toBe(false);
    s.push(chunk(1, 'abc', '+', 6));
    expect(s.remainingBytes).toBe(3);
    expect(s.next()).toMatchObject({ byteRange: { start: 1, end: 3, total: 6 }, continuation: '+' });
    expect(s.ready).toBe(false);
    expect(s.done).toBe(false); // waiting for more, not finished
    s.push(chunk(4, 'def', '$', 6));
    expect(s.open).toBe(false);
    expect(s.done).toBe(false);
    expect(s.next()?.body).toEqual(utf8('def'));
    expect(s.done).toBe(true);
    expect(s.next()).toBeUndefined();
  });

  it('refuses a chunk after the last one (a caller bug)', () => {
    const s = new ChunkStream();
    s.push(chunk(1, 'x', '$', 1));
    expect(() => s.push(chunk(2, 'y', '$'))).toThrow(TypeError);
  });

  it('aborts with a # chunk that starts after the bytes already produced, dropping what was queued', () => {
    const s = new ChunkStream();
    s.push(chunk(1, 'abcd', '+', 10));
    s.push(chunk(5, 'ef', '+', 10));
    s.next();
    const abort = s.abort();
    expect(abort).toEqual({ body: new Uint8Array(0), byteRange: { start: 5, end: 4, total: 10 }, continuation: '#' });
    expect(s.done).toBe(true);
    expect(s.remainingBytes).toBe(0);
    s.push(chunk(7, 'gh', '+', 10)); // dropped: the message was given up
    expect(s.next()).toBeUndefined();
  });

  it('aborts silently when nothing was produced yet', () => {
    const s = new ChunkStream();
    s.push(chunk(1, 'abcd', '+'));
    expect(s.abort()).toBeUndefined();
    expect(s.done).toBe(true);
  });

  it('merges chunks queued back to back up to its bound, and never across a gap, a # or the last chunk', () => {
    const s = new ChunkStream(8);
    s.push(chunk(1, 'abc', '+', 12));
    s.push(chunk(4, 'def', '+', 12));
    s.push(chunk(7, 'gh', '+', 12)); // 3 + 3 + 2 = 8: fits
    s.push(chunk(9, 'ij', '+', 12)); // would make 10
    s.push(chunk(11, 'kl', '$', 12));
    const first = s.next()!;
    expect(first).toMatchObject({ byteRange: { start: 1, end: 8, total: 12 }, continuation: '+' });
    expect(new TextDecoder().decode(first.body)).toBe('abcdefgh');
    expect(s.remainingBytes).toBe(4);
    const second = s.next()!;
    expect(second).toMatchObject({ byteRange: { start: 9, end: 12, total: 12 }, continuation: '$' });
    expect(s.done).toBe(true);
    const gap = new ChunkStream(100);
    gap.push(chunk(1, 'ab', '+'));
    gap.push(chunk(5, 'ef', '+')); // not contiguous: sent on its own
    expect(gap.next()?.byteRange).toMatchObject({ start: 1, end: 2 });
  });
});
