import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NONCE_LENGTH, NonceSigner } from './digest-nonce';

const secret = new Uint8Array(32).fill(7);

describe('NonceSigner', () => {
  it('accepts its own fresh nonce and reports its issue time', () => {
    const s = new NonceSigner(secret, 'a.example', 60_000);
    const nonce = s.issue(1_000_000);
    expect(nonce).toHaveLength(NONCE_LENGTH);
    expect(s.check(nonce, 1_030_000)).toEqual({ valid: true, issuedAt: 1_000_000, stale: false });
  });

  it('marks a nonce older than the lifetime as stale, not invalid', () => {
    const s = new NonceSigner(secret, 'a.example', 60_000);
    const nonce = s.issue(1_000_000);
    expect(s.check(nonce, 1_060_001)).toEqual({ valid: true, issuedAt: 1_000_000, stale: true });
  });

  it('refuses a tampered nonce, one from another realm or secret, and one from the future', () => {
    const s = new NonceSigner(secret, 'a.example', 60_000);
    const nonce = s.issue(1_000_000);
    const flipped = (nonce[3] === 'A' ? 'B' : 'A');
    expect(s.check(nonce.slice(0, 3) + flipped + nonce.slice(4), 1_000_000).valid).toBe(false);
    expect(new NonceSigner(secret, 'b.example', 60_000).check(nonce, 1_000_000).valid).toBe(false);
    expect(new NonceSigner(new Uint8Array(32).fill(8), 'a.example', 60_000).check(nonce, 1_000_000).valid).toBe(false);
    expect(s.check(s.issue(2_000_000), 1_000_000)).toEqual({ valid: false, reason: 'nonce issued in the future' });
  });

  it('refuses junk without throwing', () => {
    const s = new NonceSigner(secret, 'a.example', 60_000);
    for (const junk of ['', 'x', '!'.repeat(NONCE_LENGTH), 'A'.repeat(NONCE_LENGTH), 'A'.repeat(1000)]) {
      expect(s.check(junk, 0).valid).toBe(false);
    }
  });

  it.each([32, 64, 100])('signs with HMAC-SHA-256 exactly as node:crypto computes it (a %i-byte secret)', (size) => {
    const key = new Uint8Array(size).map((_, i) => (i * 31 + 5) & 0xff);
    const s = new NonceSigner(key, 'a.example', 60_000);
    const raw = Buffer.from(s.issue(1_700_000_000_000), 'base64url');
    const body = raw.subarray(0, 16);
    const expected = createHmac('sha256', key).update('nonce\0').update('a.example').update('\0').update(body).digest().subarray(0, 16);
    expect(raw.subarray(16).equals(expected)).toBe(true);
  });

  it('draws fresh random bytes for every nonce, across refills of its random pool', () => {
    const s = new NonceSigner(secret, 'a.example', 60_000);
    const randoms = new Set(Array.from({ length: 1500 }, () => Buffer.from(s.issue(1_000_000), 'base64url').subarray(8, 16).toString('hex')));
    expect(randoms.size).toBe(1500);
  });

  it('refuses a short secret', () => {
    expect(() => new NonceSigner(new Uint8Array(8), 'r', 1)).toThrow(/32 bytes/);
  });
});
