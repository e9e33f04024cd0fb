import { describe, expect, it } from 'vitest';
import { RetiredResponses } from './retired-responses';

const TARGET = { host: '192.0.2.1', port: 5070 };
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const key = (n: number): string => `3261|z9hG4bK${n.toString(36)}|192.0.2.1:5070|REGISTER`;

describe('Responses kept for retransmissions of completed UDP transactions', () => {
  it('answers a retransmission with the response kept for its key, to the address it came from', () => {
    const kept = new RetiredResponses();
    expect(kept.add(key(1), bytes('SIP/2.0 200 OK one'), TARGET, 1000)).toBe(true);
    expect(kept.add(key(2), bytes('SIP/2.0 401 two'), { host: '::1', port: 5080 }, 1000)).toBe(true);
    const two = kept.find(key(2));
    expect(text(kept.response(two))).toBe('SIP/2.0 401 two');
    expect(kept.target(two)).toEqual({ host: '::1', port: 5080 });
    expect(text(kept.response(kept.find(key(1))))).toBe('SIP/2.0 200 OK one');
    expect(kept.find(key(3))).toBe(-1);
    expect(kept.size).toBe(2);
  });

  it('lets them go in the order they came once Timer J fired, and only then', () => {
    const kept = new RetiredResponses();
    for (let n = 0; n < 10; n++) kept.add(key(n), bytes(`r${n}`), TARGET, 100 + n);
    expect(kept.nextExpiry()).toBe(100);
    expect(kept.expire(104)).toBe(5);
    expect(kept.size).toBe(5);
    for (let n = 0; n < 5; n++) expect(kept.find(key(n))).toBe(-1);
    for (let n = 5; n < 10; n++) expect(text(kept.response(kept.find(key(n))))).toBe(`r${n}`);
    expect(kept.nextExpiry()).toBe(105);
    expect(kept.expire(1000)).toBe(5);
    expect(kept.nextExpiry()).toBeUndefined();
  });

  it('keeps every one of hundreds of thousands while it grows, moves and wraps, each findable until it expires', () => {
    const kept = new RetiredResponses();
    const body = (n: number): string => `SIP/2.0 200 OK\r\nCSeq: ${n} REGISTER\r\n${'x'.repeat(n % 300)}\r\n\r\n`;
    let expired = 0;
    // 300,000 entries, a sliding window of 50,000 live ones (a registrar's Timer J at 1,500 a second).
    for (let n = 0; n < 300_000; n++) {
      expect(kept.add(key(n), bytes(body(n)), TARGET, n)).toBe(true);
      if (n >= 50_000) expired += kept.expire(n - 50_000);
      if (n % 9_973 === 0) {
        for (const probe of [n, n - 1, n - 49_999]) if (probe >= 0) expect(text(kept.response(kept.find(key(probe))))).toBe(body(probe));
        if (n >= 50_001) expect(kept.find(key(n - 50_001))).toBe(-1);
      }
    }
    expect(expired).toBe(250_000);
    expect(kept.size).toBe(50_000);
  });

  it('forgets one before its time (a failed send), and the rest are still found', () => {
    const kept = new RetiredResponses();
    for (let n = 0; n < 5; n++) kept.add(key(n), bytes(`r${n}`), TARGET, 10);
    kept.delete(kept.find(key(2)));
    expect(kept.find(key(2))).toBe(-1);
    expect(kept.size).toBe(4);
    for (const n of [0, 1, 3, 4]) expect(text(kept.response(kept.find(key(n))))).toBe(`r${n}`);
    expect(kept.expire(10)).toBe(4);
    expect(kept.size).toBe(0);
  });

  it('tells apart keys whose hashes land in the same bucket', () => {
    const kept = new RetiredResponses();
    // 5,000 keys in 2,048 buckets at first: chains are sure to hold several keys.
    for (let n = 0; n < 5_000; n++) kept.add(`k${n}`, bytes(`v${n}`), TARGET, 1);
    for (let n = 0; n < 5_000; n++) expect(text(kept.response(kept.find(`k${n}`)))).toBe(`v${n}`);
  });

  it('refuses what it cannot keep as latin-1 text, so that the caller keeps it another way', () => {
    const kept = new RetiredResponses();
    expect(kept.add('3261|z9hG4bK✓|host|REGISTER', bytes('r'), TARGET, 1)).toBe(false);
    expect(kept.add('', bytes('r'), TARGET, 1)).toBe(false);
    expect(kept.add('x'.repeat(2000), bytes('r'), TARGET, 1)).toBe(false);
    expect(kept.size).toBe(0);
  });

  it('the copy it returns does not change when the kept bytes move', () => {
    const kept = new RetiredResponses();
    kept.add(key(0), bytes('first'), TARGET, 0);
    const copy = kept.response(kept.find(key(0)));
    kept.expire(0);
    for (let n = 1; n < 20_000; n++) kept.add(key(n), bytes('y'.repeat(100)), TARGET, n);
    expect(text(copy)).toBe('first');
  });
});
