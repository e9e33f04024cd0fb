import { describe, expect, it } from 'vitest';
import { describeSearch, searchHighestRate, type SearchOptions, type StepOutcome } from './rate-search';

/** A server that passes up to `capacity` attempts/s, with a generator that saturates at `generatorMax`. */
function server(capacity: number, generatorMax = Infinity): { step: (rate: number) => Promise<StepOutcome>; tried: number[] } {
  const tried: number[] = [];
  return {
    tried,
    step: (rate) => {
      tried.push(rate);
      return Promise.resolve({ rate, passed: rate <= capacity, generatorCpu: rate / generatorMax });
    },
  };
}

const bounds: SearchOptions = { start: 200, maxRate: 12_800, minRate: 25, maxSteps: 20, deadline: Infinity };

describe('Finding the highest rate without failure (RFC 7501/7502 style)', () => {
  it('doubles from the start rate, then bisects between the last pass and the first failure', async () => {
    const s = server(1000);
    const result = await searchHighestRate(s.step, bounds);
    expect(s.tried.slice(0, 4)).toEqual([200, 400, 800, 1600]);
    expect(s.tried[4]).toBe(1200);
    expect(result.end).toBe('converged');
    expect(result.highestPassed).toBeLessThanOrEqual(1000);
    expect(result.highestPassed).toBeGreaterThanOrEqual(900);
    expect(result.lowestFailed).toBeGreaterThan(1000);
    expect(describeSearch(result)).toBe(`${result.highestPassed}/s`);
  });

  it('bisects downwards when even the start rate fails', async () => {
    const result = await searchHighestRate(server(60).step, bounds);
    expect(result.highestPassed).toBeDefined();
    expect(result.highestPassed).toBeLessThanOrEqual(60);
    expect(result.lowestFailed! - (result.highestPassed ?? 0)).toBeLessThanOrEqual(25);
  });

  it('says "< minimum" when nothing passes at all', async () => {
    const result = await searchHighestRate(server(0).step, bounds);
    expect(result.highestPassed).toBeUndefined();
    expect(describeSearch(result)).toBe('< 25/s');
  });

  it('stops as SIPp-bound, without claiming a server limit, once the generator saturates', async () => {
    const s = server(100_000, 1000);
    const result = await searchHighestRate(s.step, bounds);
    expect(s.tried).toEqual([200, 400, 800, 1600]);
    expect(result.end).toBe('generator-bound');
    expect(result.highestPassed).toBe(800);
    expect(describeSearch(result)).toBe('≥ 800/s (SIPp-bound at 1600/s)');
  });

  it('stops as SIPp-bound when SIPp could not offer the rate, even with CPU to spare', async () => {
    const result = await searchHighestRate((rate) => Promise.resolve({ rate, passed: true, generatorCpu: 0.1, generatorSaturated: rate >= 800 }), bounds);
    expect(result.steps.map((s) => s.rate)).toEqual([200, 400, 800]);
    expect(describeSearch(result)).toBe('≥ 400/s (SIPp-bound at 800/s)');
  });

  it('reports the maximum when every rate up to it passes', async () => {
    const result = await searchHighestRate(server(100_000).step, { ...bounds, maxRate: 800 });
    expect(result.end).toBe('max-rate');
    expect(describeSearch(result)).toBe('≥ 800/s (maximum tried)');
  });

  it('stops when the step budget or the deadline is spent', async () => {
    const byCount = await searchHighestRate(server(100_000).step, { ...bounds, maxSteps: 2 });
    expect(byCount).toMatchObject({ end: 'budget', highestPassed: 400 });
    let clock = 0;
    const byTime = await searchHighestRate(
      (rate) => {
        clock += 10_000;
        return Promise.resolve({ rate, passed: true, generatorCpu: 0 });
      },
      { ...bounds, deadline: 25_000, now: () => clock },
    );
    expect(byTime.steps.map((s) => s.rate)).toEqual([200, 400, 800]);
    expect(byTime.end).toBe('budget');
  });

  it('refuses bounds that make no sense', async () => {
    await expect(searchHighestRate(server(1).step, { ...bounds, start: 10 })).rejects.toThrow(RangeError);
    await expect(searchHighestRate(server(1).step, { ...bounds, maxRate: 100 })).rejects.toThrow(/minRate ≤ start ≤ maxRate/);
  });
});
