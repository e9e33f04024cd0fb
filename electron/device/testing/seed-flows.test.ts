import { describe, expect, it } from 'vitest';
import { type ChainSpec, type Dialogs, FLOW1_CHAINS, FLOW2_CHAINS, FLOW2_FAR_CS_B_CHAINS, type FlowElements, flowOfModes, matchFlow, type TraceHopLike } from './seed-flows';

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
    cseq: `1 ${step.method}`,
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
    expect(match.extra).toEqual([]);
  });

  it('name the missing step of flow 2, and every chain that waited for a step after it', () => {
    expect(matchFlow(traceOf(FLOW2_CHAINS, new Set(['12'])), NAMES).problems).toEqual([
      'step 12: no INVITE from CS A to core A after the previous step of "CPM Session Invitation (INVITE J) and OK"',
      'CPM Session Replaced Notification: its trigger, step 23, is missing',
      'Release CPM Session Notification: its trigger, step 25, is missing',
      'Release CPM Session request (BYE on T) and OK: its trigger, step 30, is missing',
    ]);
  });

  it('end INVITE J and the BYE at CS B when CS B is in-path, keeping the seed numbers of the other hops', () => {
    const hops = (name: string): string[] =>
      FLOW2_FAR_CS_B_CHAINS.find((c) => c.name.startsWith(name))!.steps.map((s) => `${s.label} ${s.from}→${s.to}${s.status === undefined ? '' : ` ${s.status}`}`);
    expect(hops('CPM Session Invitation')).toEqual([
      '10 target→coreA', '11 coreA→csA', '12 csA→coreA', '13 coreA→coreB', '14 coreB→csB',
      '19 csB→coreB 200', '20 coreB→coreA 200', '21 coreA→csA 200', '22 csA→coreA 200', '23 coreA→target 200',
    ]);
    expect(hops('Release CPM Session request')).toEqual([
      '32 source→coreA', '33 coreA→csA', '34 csA→coreA', '35 coreA→coreB', '36 coreB→csB',
      '41 csB→coreB 200', '42 coreB→coreA 200', '43 coreA→csA 200', '44 csA→coreA 200', '45 coreA→source 200',
    ]);
    expect(FLOW2_FAR_CS_B_CHAINS.flatMap((c) => c.steps).some((s) => s.from === 'far' || s.to === 'far')).toBe(false);
    const match = matchFlow(traceOf(FLOW2_FAR_CS_B_CHAINS), NAMES, FLOW2_FAR_CS_B_CHAINS);
    expect(match.problems).toEqual([]);
    expect(match.extra).toEqual([]);
    // A 200 to INVITE J resent until its ACK is the same hop again, not one the flow lacks; a second INVITE is.
    const trace = traceOf(FLOW2_FAR_CS_B_CHAINS);
    const ok = trace.find((h) => h.method === 'INVITE' && h.status === 200 && h.to === 'Desktop')!;
    const invite = trace.find((h) => h.method === 'INVITE' && h.status === undefined && h.from === 'Desktop')!;
    const again = [...trace, { ...ok, timestampNs: 1000n }, { ...invite, cseq: '2 INVITE', timestampNs: 1001n }];
    expect(matchFlow(again, NAMES, FLOW2_FAR_CS_B_CHAINS).extra.map((h) => `${h.from}→${h.to} ${h.summary} ${h.cseq ?? ''}`)).toEqual(['Desktop→core A INVITE 2 INVITE']);
    // A trace that went on to B-D1 (CS B proxying) is not this flow's: the hops beyond CS B are left over.
    const proxied = matchFlow(traceOf(FLOW2_CHAINS), NAMES, FLOW2_FAR_CS_B_CHAINS);
    expect(proxied.extra.map((h) => `${h.from}→${h.to} ${h.summary}`)).toEqual([
      'CS B→core B INVITE', 'core B→Bob INVITE', 'Bob→core B 200 (INVITE)', 'core B→CS B 200 (INVITE)',
      'CS B→core B BYE', 'core B→Bob BYE', 'Bob→core B 200 (BYE)', 'core B→CS B 200 (BYE)',
    ]);
  });

  it('pick flow 1 whenever CS A is in-path, and otherwise flow 2 ending at whichever element is T\'s far side', () => {
    expect(flowOfModes('in-path', 'proxy')).toMatchObject({ name: 'flow 1', chains: FLOW1_CHAINS, far: 'csA' });
    expect(flowOfModes('in-path', 'in-path')).toMatchObject({ name: 'flow 1', chains: FLOW1_CHAINS, far: 'csA' });
    expect(flowOfModes('proxy', 'in-path')).toMatchObject({ name: 'flow 2', chains: FLOW2_FAR_CS_B_CHAINS, far: 'csB' });
    expect(flowOfModes('proxy', 'proxy')).toMatchObject({ name: 'flow 2', chains: FLOW2_CHAINS, far: 'far' });
  });
});
