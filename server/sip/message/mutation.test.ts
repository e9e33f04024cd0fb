import { describe, expect, it } from 'vitest';
import { concatBytes, mutateMessage, seededRandom } from './mutation';

describe('seeded mutation', () => {
  it('the same seed gives the same mutants, another seed different ones', () => {
    const base = new TextEncoder().encode('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n');
    const run = (seed: number): string[] => {
      const rnd = seededRandom(seed);
      return Array.from({ length: 20 }, () => Buffer.from(mutateMessage(base, rnd)).toString('latin1'));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    expect(run(7).some((m) => m !== Buffer.from(base).toString('latin1'))).toBe(true);
  });

  it('never changes the message it starts from, and keeps huge values within the bound', () => {
    const base = new TextEncoder().encode('SIP/2.0 200 OK\r\n\r\n');
    const copy = base.slice();
    // each of at most 3 rounds at worst doubles the message (a duplicated line) or adds a huge value
    const bound = (max: number): number => [1, 2, 3].reduce((n) => 2 * n + max + 1, base.length);
    const rnd = seededRandom(1);
    let longest = 0;
    for (let i = 0; i < 2000; i++) {
      const small = mutateMessage(base, rnd, { maxHugeValue: 50 });
      expect(small.length).toBeLessThanOrEqual(bound(50));
      longest = Math.max(longest, mutateMessage(base, rnd).length);
    }
    expect(longest).toBeGreaterThan(bound(50));
    expect(base).toEqual(copy);
  });

  it('concatBytes joins in order', () => {
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
  });
});
