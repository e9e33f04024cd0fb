/**
 * The search for the highest rate a server sustains without failure, in the manner of RFC 7501 §3.1 / RFC 7502
 * §4 ("Session Establishment Rate", "Registration Rate"): run fixed-length steps at a rate, double the rate while
 * every attempt succeeds, then bisect between the last rate that passed and the first that failed.
 *
 * A step in which the load generator itself is saturated (SIPp's CPU over a threshold, or SIPp not managing to
 * offer the rate) says nothing about the server: the search stops there and reports the limit as SIPp-bound
 * instead of claiming a server rate.
 */

/** What one step at one rate showed. */
export interface StepOutcome {
  /** Attempts per second offered. */
  rate: number;
  /** Every attempt succeeded (no failed call, no unexpected message). */
  passed: boolean;
  /** Load generator CPU use during the step, 0–1 per core it ran on (SIPp on its own CPU). */
  generatorCpu: number;
  /** The generator could not offer the rate (it created the attempts too slowly), whatever its CPU said. */
  generatorSaturated?: boolean;
}

/** Why a search stopped. */
export type SearchEnd =
  /** First-fail and last-pass are within the resolution. */
  | 'converged'
  /** Every rate up to the maximum passed. */
  | 'max-rate'
  /** The load generator saturated first: the server's limit is above what it can offer. */
  | 'generator-bound'
  /** The step or time budget ran out. */
  | 'budget';

/** The result of a search. */
export interface SearchResult {
  /** The highest rate that passed (undefined: none did). */
  highestPassed: number | undefined;
  /** The lowest rate that failed (undefined: none did). */
  lowestFailed: number | undefined;
  /** The rate at which the generator saturated (its step counts neither as a pass nor as a failure). */
  generatorBoundAt?: number;
  end: SearchEnd;
  steps: StepOutcome[];
}

/** Bounds of a search. */
export interface SearchOptions {
  /** First rate tried (attempts/s). */
  start: number;
  /** Never offer more than this. */
  maxRate: number;
  /** Never offer less than this (when even `start` fails, the search bisects down to it). */
  minRate: number;
  /** Stop bisecting when first-fail − last-pass ≤ max(this fraction of last-pass, minRate). Default 0.1. */
  resolution?: number;
  /** At most this many steps. */
  maxSteps: number;
  /** Stop before a step would start after this time (ms since epoch, `Date.now()`). */
  deadline: number;
  /** Generator CPU (0–1) above which a step is generator-bound. Default 0.8. */
  generatorLimit?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Run steps (`step(rate)`) as the search decides; resolves with what it found. */
export async function searchHighestRate(step: (rate: number) => Promise<StepOutcome>, options: SearchOptions): Promise<SearchResult> {
  if (!(options.minRate > 0 && options.start >= options.minRate && options.maxRate >= options.start)) {
    throw new RangeError(`rate search: need 0 < minRate ≤ start ≤ maxRate, got ${options.minRate}, ${options.start}, ${options.maxRate}`);
  }
  const now = options.now ?? Date.now;
  const limit = options.generatorLimit ?? 0.8;
  const resolution = options.resolution ?? 0.1;
  const steps: StepOutcome[] = [];
  let passed: number | undefined;
  let failed: number | undefined;
  const result = (end: SearchEnd): SearchResult => ({ highestPassed: passed, lowestFailed: failed, end, steps });

  let rate = options.start;
  for (;;) {
    if (steps.length >= options.maxSteps || now() >= options.deadline) return result('budget');
    const outcome = await step(rate);
    steps.push(outcome);
    if (outcome.generatorCpu > limit || outcome.generatorSaturated === true) return { ...result('generator-bound'), generatorBoundAt: rate };
    if (outcome.passed) passed = Math.max(passed ?? 0, rate);
    else failed = Math.min(failed ?? Infinity, rate);

    if (failed === undefined) {
      if (rate >= options.maxRate) return result('max-rate');
      rate = Math.min(options.maxRate, rate * 2);
      continue;
    }
    const low = passed ?? 0;
    if (failed - low <= Math.max(low * resolution, options.minRate)) return result('converged');
    const next = roundRate((low + failed) / 2, options.minRate);
    if (next <= low || next >= failed) return result('converged');
    rate = next;
  }
}

/** A rate rounded to a multiple of `grain` (at least `grain`), so that steps use readable numbers. */
function roundRate(rate: number, grain: number): number {
  return Math.max(grain, Math.round(rate / grain) * grain);
}

/** "≥ 1600/s (SIPp-bound at 3200/s)", "1400/s", "< 25/s": the highest rate, in words fit for a table. */
export function describeSearch(result: SearchResult, unit = '/s'): string {
  const top = result.highestPassed;
  switch (result.end) {
    case 'generator-bound': {
      const at = result.generatorBoundAt === undefined ? '' : ` at ${result.generatorBoundAt}${unit}`;
      return top === undefined ? `n/a (SIPp-bound${at} before any rate passed)` : `≥ ${top}${unit} (SIPp-bound${at})`;
    }
    case 'max-rate':
      return `≥ ${top ?? 0}${unit} (maximum tried)`;
    case 'budget':
      return top === undefined ? 'n/a (time budget spent)' : `≥ ${top}${unit} (time budget spent; first failure ${result.lowestFailed === undefined ? 'not seen' : `${result.lowestFailed}${unit}`})`;
    case 'converged':
      return top === undefined ? `< ${result.lowestFailed ?? 0}${unit}` : `${top}${unit}`;
  }
}
