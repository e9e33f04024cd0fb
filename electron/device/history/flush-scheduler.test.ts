import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlushScheduler } from './flush-scheduler';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function scheduler(run: () => void = () => undefined) {
  const errors: unknown[] = [];
  const runs: number[] = [];
  const s = new FlushScheduler({
    run: () => {
      runs.push(Date.now());
      run();
    },
    delayMs: 5,
    onError: (e) => errors.push(e),
  });
  return { s, errors, runs };
}

describe('batching writes', () => {
  it('runs once for a burst, after the delay', () => {
    const { s, runs } = scheduler();
    s.schedule();
    s.schedule();
    vi.advanceTimersByTime(4);
    s.schedule();
    expect(runs).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(runs).toHaveLength(1);
    expect(s.scheduled).toBe(false);
  });

  it('runs on the next tick when the batch is full', () => {
    const { s, runs } = scheduler();
    s.schedule();
    s.schedule(true);
    vi.advanceTimersByTime(0);
    expect(runs).toHaveLength(1);
    vi.advanceTimersByTime(10);
    expect(runs).toHaveLength(1);
  });

  it('runs at once on flush, cancelling the timer', () => {
    const { s, runs } = scheduler();
    s.schedule();
    s.flush();
    vi.advanceTimersByTime(10);
    expect(runs).toHaveLength(1);
  });

  it('reports a failing timer-driven run instead of throwing, and throws from flush()', () => {
    const { s, errors } = scheduler(() => {
      throw new Error('SQLITE_FULL');
    });
    s.schedule();
    expect(() => vi.advanceTimersByTime(5)).not.toThrow();
    expect(String(errors[0])).toMatch(/SQLITE_FULL/);
    expect(() => s.flush()).toThrow(/SQLITE_FULL/);
  });
});
