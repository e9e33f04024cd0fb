import { describe, expect, it } from 'vitest';
import { NonceCountTracker } from './nonce-count-tracker';

describe('NonceCountTracker', () => {
  it('accepts increasing counts and refuses a repeated one', () => {
    const t = new NonceCountTracker(10);
    expect(t.accept('n', 1, 1)).toBe('fresh');
    expect(t.accept('n', 1, 2)).toBe('fresh');
    expect(t.accept('n', 1, 2)).toBe('replay');
    expect(t.accept('n', 1, 1)).toBe('replay');
  });

  it('accepts counts arriving out of order inside the window, once each', () => {
    const t = new NonceCountTracker(10);
    expect(t.accept('n', 1, 5)).toBe('fresh');
    expect(t.accept('n', 1, 3)).toBe('fresh');
    expect(t.accept('n', 1, 4)).toBe('fresh');
    expect(t.accept('n', 1, 3)).toBe('replay');
    expect(t.accept('n', 1, 100)).toBe('fresh');
    expect(t.accept('n', 1, 69)).toBe('fresh');
    expect(t.accept('n', 1, 68)).toBe('too-old');
  });

  it('refuses nc 0 and keeps counts per nonce', () => {
    const t = new NonceCountTracker(10);
    expect(t.accept('a', 1, 0)).toBe('replay');
    expect(t.accept('a', 1, 1)).toBe('fresh');
    expect(t.accept('b', 1, 1)).toBe('fresh');
  });

  it('stays within capacity and never lets a forgotten nonce be replayed', () => {
    const t = new NonceCountTracker(2);
    expect(t.accept('a', 100, 1)).toBe('fresh');
    expect(t.accept('b', 200, 1)).toBe('fresh');
    expect(t.accept('c', 300, 1)).toBe('fresh');
    expect(t.size).toBe(2);
    // 'a' was forgotten: replaying it must not pass, even with a count it never used.
    expect(t.accept('a', 100, 1)).toBe('evicted');
    expect(t.accept('a', 100, 2)).toBe('evicted');
    // A nonce issued after the evicted one is still welcome.
    expect(t.accept('d', 150, 1)).toBe('fresh');
  });

  it('evicts the least recently used nonce first', () => {
    const t = new NonceCountTracker(2);
    t.accept('a', 100, 1);
    t.accept('b', 200, 1);
    t.accept('a', 100, 2); // a is now most recent
    t.accept('c', 300, 1); // evicts b
    expect(t.accept('a', 100, 3)).toBe('fresh');
    expect(t.accept('b', 200, 2)).toBe('evicted');
  });

  it('prunes nonces issued before a cutoff', () => {
    const t = new NonceCountTracker(10);
    t.accept('old', 100, 1);
    t.accept('new', 1000, 1);
    t.prune(500);
    expect(t.size).toBe(1);
    expect(t.accept('old', 100, 2)).toBe('evicted');
    expect(t.accept('new', 1000, 2)).toBe('fresh');
  });

  it('beyond its capacity, keeps nonces issued within retainMs, so a busy server forgets none a client is about to use', () => {
    const t = new NonceCountTracker({ capacity: 2, retainMs: 1000, maxEntries: 100 });
    const now = 10_000;
    for (let i = 0; i < 50; i++) expect(t.accept(`n${i}`, now - 500 + i, 1, now)).toBe('fresh');
    expect(t.size).toBe(50);
    // Every one of them still counts: a second use is fresh, a repeat is a replay.
    expect(t.accept('n0', now - 500, 2, now)).toBe('fresh');
    expect(t.accept('n0', now - 500, 2, now)).toBe('replay');
  });

  it('forgets nonces older than retainMs once above capacity, and never lets them be replayed', () => {
    const t = new NonceCountTracker({ capacity: 2, retainMs: 1000, maxEntries: 100 });
    t.accept('old', 1000, 1, 1000);
    t.accept('young', 4500, 1, 4500);
    t.accept('newest', 4900, 1, 5000); // 'old' was issued 4 s before now: over capacity, it goes
    expect(t.size).toBe(2);
    expect(t.accept('old', 1000, 2, 5000)).toBe('evicted');
    expect(t.accept('young', 4500, 2, 5000)).toBe('fresh');
  });

  it('holds its hard bound even when every nonce is young', () => {
    const t = new NonceCountTracker({ capacity: 2, retainMs: 60_000, maxEntries: 3 });
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) t.accept(name, 100 + i, 1, 200);
    expect(t.size).toBe(3);
    expect(t.accept('a', 100, 2, 200)).toBe('evicted');
  });

  it('refuses bounds that cannot work', () => {
    expect(() => new NonceCountTracker({ capacity: 10, maxEntries: 5 })).toThrow(/maxEntries/);
    expect(() => new NonceCountTracker({ capacity: 10, retainMs: -1 })).toThrow(/retainMs/);
    expect(() => new NonceCountTracker(0)).toThrow(/capacity/);
  });
});
