import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COARSE_SLOT_MS, cancelCoarse, pendingCoarse, startCoarse } from './coarse-timers';
import { TimerSet } from './timer-set';

describe('Long SIP timers share slotted Node timers', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_037 }));
  afterEach(() => vi.useRealTimers());

  it('Timer J (32 s) never fires early and at most one slot late', () => {
    const fired: number[] = [];
    const started = Date.now();
    startCoarse(32_000, () => fired.push(Date.now() - started));
    vi.advanceTimersByTime(31_999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(COARSE_SLOT_MS);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(32_000);
    expect(fired[0]).toBeLessThanOrEqual(32_000 + COARSE_SLOT_MS);
    expect(pendingCoarse()).toBe(0);
  });

  it('a thousand transactions started within one slot cost one Node timer, and all fire', () => {
    let fired = 0;
    for (let i = 0; i < 1000; i++) {
      startCoarse(32_000, () => fired++);
      if (i % 100 === 99) vi.advanceTimersByTime(9);
    }
    expect(vi.getTimerCount()).toBeLessThanOrEqual(2);
    vi.advanceTimersByTime(32_200);
    expect(fired).toBe(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a cancelled timer does not fire; cancelling the last one of a slot clears its Node timer', () => {
    const fired: string[] = [];
    const a = startCoarse(5_000, () => fired.push('a'));
    startCoarse(5_000, () => fired.push('b'));
    cancelCoarse(a);
    cancelCoarse(a);
    vi.advanceTimersByTime(5_100);
    expect(fired).toEqual(['b']);
    const c = startCoarse(5_000, () => fired.push('c'));
    expect(vi.getTimerCount()).toBe(1);
    cancelCoarse(c);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a throwing callback does not starve the others in its slot; its error is still raised', () => {
    const fired: string[] = [];
    startCoarse(2_000, () => {
      throw new Error('boom');
    });
    startCoarse(2_000, () => fired.push('after'));
    // the error is raised from a timer of its own, where an uncaught timer error would surface
    expect(() => vi.advanceTimersByTime(2_100)).toThrow('boom');
    expect(fired).toEqual(['after']);
  });

  it('a TimerSet keeps short timers exact and restarts long ones by name', () => {
    const timers = new TimerSet<'E' | 'F'>();
    const fired: string[] = [];
    timers.start('E', 10, () => fired.push('E'));
    timers.start('F', 32_000, () => fired.push('F1'));
    timers.start('F', 32_000, () => fired.push('F2'));
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['E']);
    expect(timers.running('F')).toBe(true);
    vi.advanceTimersByTime(32_100);
    expect(fired).toEqual(['E', 'F2']);
    expect(timers.running('F')).toBe(false);
    timers.start('F', 32_000, () => fired.push('F3'));
    timers.stopAll();
    vi.advanceTimersByTime(40_000);
    expect(fired).toEqual(['E', 'F2']);
    expect(pendingCoarse()).toBe(0);
  });
});
