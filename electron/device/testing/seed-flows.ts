/**
 * The seed's two flows as PROFILE.md's table maps them onto SIP, hop by hop: flow 1 (Conversation Server A in
 * the media path) and flow 2 (CS A not in the media path; it ends at CS B when CS B is, else at B-D1), the flow
 * a pair of modes follows (`flowOfModes`), and a matcher that finds each numbered step in a lab trace
 * (`lab.trace.hops()`) and any hop the flow does not have.
 *
 * Steps that happen in parallel in the network (CS A's NOTIFY 100 to the source and its Join REFER to the
 * target) are not ordered against each other: each causal chain is checked in order, and each chain must
 * start after the step that triggers it (the Join after step 3, INVITE J after step 7, the Session Replaced
 * NOTIFY after step 23, the release NOTIFY after step 25, the BYE after step 30).
 */

/** A hop as the lab trace gives it (structural: `SipTraceHop`). */
export interface TraceHopLike {
  readonly from: string;
  readonly to: string;
  readonly method: string;
  readonly status?: number;
  readonly callId?: string;
  /** The CSeq as written (`1 INVITE`), when known: tells a retransmission from a new request. */
  readonly cseq?: string;
  readonly summary: string;
  readonly timestampNs: bigint;
}

/** The names of the elements in the trace. */
export interface FlowElements {
  source: string;
  target: string;
  far: string;
  coreA: string;
  csA: string;
  coreB: string;
  csB: string;
}

/** The four dialogs of a move: the transfer subscription, the Join subscription, INVITE J, and T. */
export type Dialogs = 'transfer' | 'join' | 'invite' | 't';

/** One hop of a flow. */
export interface StepSpec {
  label: string;
  from: keyof FlowElements;
  to: keyof FlowElements;
  method: string;
  /** A response status; undefined for the request. */
  status?: number;
  dialog: Dialogs;
}

/** One causal chain of steps. */
export interface ChainSpec {
  name: string;
  /** The label of the step after which this chain starts (none for the first). */
  after?: string;
  steps: StepSpec[];
}

/**
 * The hops of one transaction: the request along `path` (one hop per pair of neighbours), then its final
 * response (`status`) back along the same path. Labels count up from `first`, or repeat it when it is a
 * string (a pair of hops the table gives one label, such as "4–5").
 */
function transaction(first: number | string, path: readonly (keyof FlowElements)[], method: string, dialog: Dialogs, status = 200): StepSpec[] {
  const hops: StepSpec[] = [];
  const label = (): string => (typeof first === 'number' ? String(first + hops.length) : first);
  for (let i = 0; i + 1 < path.length; i++) hops.push({ label: label(), from: path[i]!, to: path[i + 1]!, method, dialog });
  for (let i = path.length - 1; i > 0; i--) hops.push({ label: label(), from: path[i]!, to: path[i - 1]!, method, status, dialog });
  return hops;
}

/** Steps 2–9, the same in both flows. */
const REQUEST_AND_JOIN: readonly ChainSpec[] = [
  {
    name: 'CPM Session Transfer request and Accepted notification',
    steps: transaction(2, ['source', 'coreA', 'csA'], 'REFER', 'transfer', 202),
  },
  {
    name: 'Accepted notification (NOTIFY 100 Trying)',
    after: '3',
    steps: transaction('4–5', ['csA', 'coreA', 'source'], 'NOTIFY', 'transfer'),
  },
  {
    name: 'Join CPM Session Notification and response',
    after: '3',
    steps: transaction(6, ['csA', 'coreA', 'target'], 'REFER', 'join', 202),
  },
  {
    name: 'Join notification response (NOTIFY 100 Trying)',
    after: '7',
    steps: transaction('8–9', ['target', 'coreA', 'csA'], 'NOTIFY', 'join'),
  },
];

/** Flow 1 (Conversation Server A in-path), as PROFILE.md maps it. */
export const FLOW1_CHAINS: readonly ChainSpec[] = [
  ...REQUEST_AND_JOIN,
  {
    name: 'CPM Session Invitation (INVITE J to CS A) and OK',
    after: '7',
    steps: transaction(10, ['target', 'coreA', 'csA'], 'INVITE', 'invite'),
  },
  {
    name: 'CPM Session Replaced Notification',
    after: '13',
    steps: transaction(14, ['target', 'coreA', 'csA'], 'NOTIFY', 'join'),
  },
  {
    name: 'Release CPM Session Notification',
    after: '15',
    steps: transaction(18, ['csA', 'coreA', 'source'], 'NOTIFY', 'transfer'),
  },
  {
    name: 'Release CPM Session request (BYE on T) and OK',
    after: '20',
    steps: transaction(22, ['source', 'coreA', 'csA'], 'BYE', 't'),
  },
];

/** Flow 2 (neither Conversation Server in-path), as PROFILE.md maps it: every hop of the move, labelled with the seed's step. */
export const FLOW2_CHAINS: readonly ChainSpec[] = [
  ...REQUEST_AND_JOIN,
  {
    name: 'CPM Session Invitation (INVITE J) and OK',
    after: '7',
    steps: transaction(10, ['target', 'coreA', 'csA', 'coreA', 'coreB', 'csB', 'coreB', 'far'], 'INVITE', 'invite'),
  },
  {
    name: 'CPM Session Replaced Notification',
    after: '23',
    steps: transaction(24, ['target', 'coreA', 'csA'], 'NOTIFY', 'join'),
  },
  {
    name: 'Release CPM Session Notification',
    after: '25',
    steps: transaction(28, ['csA', 'coreA', 'source'], 'NOTIFY', 'transfer'),
  },
  {
    name: 'Release CPM Session request (BYE on T) and OK',
    after: '30',
    steps: transaction(32, ['source', 'coreA', 'csA', 'coreA', 'coreB', 'csB', 'coreB', 'far'], 'BYE', 't'),
  },
];

/**
 * Flow 2 when Conversation Server B is in the media path (CS A proxying): T's far side is CS B, which answers
 * INVITE J and A-D1's BYE itself and leaves B-D1's leg untouched (PROFILE.md: "If the far side is CS B
 * in-path…"), so the hops between CS B and B-D1 (the seed's steps 15–18 and 37–40) do not happen. Every other
 * hop keeps its number in the seed's flow 2.
 */
export const FLOW2_FAR_CS_B_CHAINS: readonly ChainSpec[] = FLOW2_CHAINS.map((chain) => ({
  ...chain,
  steps: chain.steps.filter((step) => !['15', '16', '17', '18', '37', '38', '39', '40'].includes(step.label)),
}));

/** A Conversation Server's mode (structural: `ConversationMode` of server/conversation). */
export type ServerMode = 'in-path' | 'proxy';

/** Which flow of PROFILE.md's table a pair of modes follows, and which element is T's far side. */
export interface FlowOfModes {
  /** `flow 1` when CS A is in-path, `flow 2` otherwise. */
  name: 'flow 1' | 'flow 2';
  chains: readonly ChainSpec[];
  /** The element that terminates T opposite A-D1 (PROFILE.md "The transfer, step by step"). */
  far: 'csA' | 'csB' | 'far';
}

/** The flow the move follows with CS A in `modeA` and CS B in `modeB`. */
export function flowOfModes(modeA: ServerMode, modeB: ServerMode): FlowOfModes {
  if (modeA === 'in-path') return { name: 'flow 1', chains: FLOW1_CHAINS, far: 'csA' };
  if (modeB === 'in-path') return { name: 'flow 2', chains: FLOW2_FAR_CS_B_CHAINS, far: 'csB' };
  return { name: 'flow 2', chains: FLOW2_CHAINS, far: 'far' };
}

/** One step found in the trace (`H`: the hop type given, such as the lab's `SipTraceHop`). */
export interface MatchedStep<H extends TraceHopLike = TraceHopLike> {
  label: string;
  chain: string;
  /** Index of the hop in the list given. */
  index: number;
  hop: H;
}

/** The result of matching the trace against a flow. */
export interface FlowMatch<H extends TraceHopLike = TraceHopLike> {
  steps: MatchedStep<H>[];
  /** What is missing or out of order; empty when the trace follows the table. */
  problems: string[];
  /** The Call-IDs the steps were matched on. */
  callIds: Partial<Record<Dialogs, string>>;
  /**
   * Requests (but ACK) and final responses on those Call-IDs that no step matched: a hop the flow does not
   * have (empty when the trace is exactly the flow, give or take provisional responses, ACKs and
   * retransmissions of a matched hop, such as a 2xx to INVITE resent until its ACK, RFC 3261 §13.3.1.4).
   */
  extra: H[];
}

/**
 * Find every step of a flow (default flow 2) in `hops` (sorted as `trace.hops()` sorts them). The four dialogs
 * are recognised by their first message: the source's REFER (transfer), CS A's REFER (Join), the target's
 * INVITE (J) and the source's BYE (T).
 */
export function matchFlow<H extends TraceHopLike>(hops: readonly H[], names: FlowElements, chains: readonly ChainSpec[] = FLOW2_CHAINS): FlowMatch<H> {
  const first = (pred: (h: TraceHopLike) => boolean): string | undefined => hops.find(pred)?.callId;
  const isRequest = (h: TraceHopLike, method: string): boolean => h.method === method && h.status === undefined;
  const callIds: Partial<Record<Dialogs, string>> = {
    transfer: first((h) => isRequest(h, 'REFER') && h.from === names.source),
    join: first((h) => isRequest(h, 'REFER') && h.from === names.csA),
    invite: first((h) => isRequest(h, 'INVITE') && h.from === names.target),
    t: first((h) => isRequest(h, 'BYE') && h.from === names.source),
  };
  const problems: string[] = [];
  const steps: MatchedStep<H>[] = [];
  const byLabel = new Map<string, number>();
  for (const chain of chains) {
    let cursor = -1;
    if (chain.after !== undefined) {
      const trigger = byLabel.get(chain.after);
      if (trigger === undefined) {
        problems.push(`${chain.name}: its trigger, step ${chain.after}, is missing`);
        continue;
      }
      cursor = trigger;
    }
    for (const spec of chain.steps) {
      const callId = callIds[spec.dialog];
      const index = hops.findIndex(
        (h, i) =>
          i > cursor &&
          h.callId === callId &&
          h.from === names[spec.from] &&
          h.to === names[spec.to] &&
          h.method === spec.method &&
          (spec.status === undefined ? h.status === undefined : h.status === spec.status),
      );
      if (index < 0) {
        const what = spec.status === undefined ? spec.method : `${spec.status} (${spec.method})`;
        problems.push(`step ${spec.label}: no ${what} from ${names[spec.from]} to ${names[spec.to]} after the previous step of "${chain.name}"`);
        break;
      }
      cursor = index;
      byLabel.set(spec.label, index);
      steps.push({ label: spec.label, chain: chain.name, index, hop: hops[index]! });
    }
  }
  const matched = new Set(steps.map((m) => m.index));
  const ours = new Set(Object.values(callIds));
  const key = (h: TraceHopLike): string => [h.from, h.to, h.method, h.status ?? '', h.callId ?? '', h.cseq ?? ''].join('\u0000');
  const resent = new Set(steps.map((m) => key(m.hop)));
  const extra = hops.filter(
    (h, i) =>
      !matched.has(i) && h.callId !== undefined && ours.has(h.callId) && (h.status === undefined ? h.method !== 'ACK' : h.status >= 200) && !resent.has(key(h)),
  );
  return { steps, problems, callIds, extra };
}

/**
 * The ladder of the move with each row numbered against the seed's steps (rows that the table does not
 * number, such as 100 Trying, 180 Ringing and ACK, get no number). `ladder` is what `renderLadder(hops)`
 * drew from the same hops (two header lines, then one row per hop).
 */
export function numberLadder(ladder: string, hops: readonly TraceHopLike[], match: FlowMatch): string {
  const labels = new Map<number, string>(match.steps.map((s) => [s.index, s.label]));
  const lines = ladder.replace(/\n$/, '').split('\n');
  if (lines.length !== hops.length + 2) return ladder; // drawn from other hops: leave it as it is
  const width = 7;
  return `${lines
    .map((line, i) => {
      const label = i < 2 ? (i === 0 ? 'step' : '') : (labels.get(i - 2) ?? '');
      return `${label.padStart(width - 2).padEnd(width)}${line}`;
    })
    .join('\n')}\n`;
}
