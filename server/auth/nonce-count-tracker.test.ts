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
});
