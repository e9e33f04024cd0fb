import { describe, expect, it } from 'vitest';
import { randomHex } from './random-hex';

describe('Random tags and branches from the pool', () => {
  it('gives 2 hex digits per byte, and no two of many thousand draws (across pool refills) repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const tag = randomHex(6);
      expect(tag).toMatch(/^[0-9a-f]{12}$/);
      seen.add(tag);
    }
    expect(seen.size).toBe(5000);
    expect(randomHex(256)).toHaveLength(512);
  });

  it('refuses a size it cannot give, with a clear error', () => {
    expect(() => randomHex(0)).toThrow(/1–256/);
    expect(() => randomHex(257)).toThrow(/1–256/);
    expect(() => randomHex(1.5)).toThrow(RangeError);
  });
});
