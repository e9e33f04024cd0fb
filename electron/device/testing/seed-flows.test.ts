import { describe, expect, it } from 'vitest';
import { type ChainSpec, type Dialogs, FLOW1_CHAINS, FLOW2_CHAINS, type FlowElements, matchFlow, type TraceHopLike } from './seed-flows';

const NAMES: FlowElements = { source: 'Laptop', target: 'Desktop', far: 'Bob', coreA: 'core A', csA: 'CS A', coreB: 'core B', csB: 'CS B' };

/** A trace that takes every step of `chains` in order, one hop each, each dialog on its own Call-ID. */
function traceOf(chains: readonly ChainSpec[], skip: ReadonlySet<string> = new Set()): TraceHopLike[] {
  const callId = (dialog: Dialogs): string => `${dialog}@lab`;
  return chains.flatMap((chain) => chain.steps).filter((step) => !skip.has(step.label)).map((step, i) => ({
    from: NAMES[step.from],
    to: NAMES[step.to],
    method: step.method,
    ...(step.status === undefined ? {} : { status: step.status }),
    callId: callId(step.dialog),
    summary: step.status === undefined ? step.method : `${step.status} (${step.method})`,
    timestampNs: BigInt(i),
  }));
}

describe('the seed flows as hops', () => {
  it('number flow 2 from step 2 to step 45, each response retracing its request', () => {
    const numbered = FLOW2_CHAINS.flatMap((c) => c.steps).map((s) => s.label).filter((label) => /^\d+$/.test(label)).map(Number);
    expect([...numbered].sort((a, b) => a - b)).toEqual(Array.from({ length: 44 }, (_, i) => i + 2));
    const invite = FLOW2_CHAINS.find((c) => c.name.startsWith('CPM Session Invitation'))!.steps;
    expect(invite.map((s) => `${s.from}→${s.to}${s.status === undefined ? '' : ` ${s.status}`}`)).toEqual([
      'target→coreA', 'coreA→csA', 'csA→coreA', 'coreA→coreB', 'coreB→csB', 'csB→coreB', 'coreB→far',
      'far→coreB 200', 'coreB→csB 200', 'csB→coreB 200', 'coreB→coreA 200', 'coreA→csA 200', 'csA→coreA 200', 'coreA→target 200',
    ]);
  });

  it('answer a REFER with 202 and everything else with 200', () => {
    for (const step of FLOW1_CHAINS.flatMap((c) => c.steps)) {
      if (step.status !== undefined) expect(step.status).toBe(step.method === 'REFER' ? 202 : 200);
    }
  });

  it('find every step of a trace that follows flow 1', () => {
    const match = matchFlow(traceOf(FLOW1_CHAINS), NAMES, FLOW1_CHAINS);
    expect(match.problems).toEqual([]);
    expect(match.steps).toHaveLength(FLOW1_CHAINS.flatMap((c) => c.steps).length);
    expect(match.callIds).toEqual({ transfer: 'transfer@lab', join: 'join@lab', invite: 'invite@lab', t: 't@lab' });
  });

  it('name the missing step of flow 2, and every chain that waited for a step after it', () => {
    expect(matchFlow(traceOf(FLOW2_CHAINS, new Set(['12'])), NAMES).problems).toEqual([
      'step 12: no INVITE from CS A to core A after the previous step of "CPM Session Invitation (INVITE J) and OK"',
      'CPM Session Replaced Notification: its trigger, step 23, is missing',
      'Release CPM Session Notification: its trigger, step 25, is missing',
      'Release CPM Session request (BYE on T) and OK: its trigger, step 30, is missing',
    ]);
  });
});
