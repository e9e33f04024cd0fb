/**
 * The move scenario shared by the system tests (`test/transfer-*.test.ts`), the demo (`scripts/demo.ts`) and
 * the bench (`bench/transfer.bench.ts`): DeviceAgents on a lab network with SQLite history and the Message
 * Store, a chat under load (bob every 10 ms, alice every 25 ms on whichever device holds the conversation,
 * by default), moves back and forth between Laptop and Desktop (`moveBackAndForth`), and the accounting of
 * what arrived where: lost, duplicated, out of order, delivery delays, messages sent during each move.
 *
 * Structural on the lab (`LabLike`): it never imports `server/`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeviceApiError } from '../../api/device-api';
import type { ChatMessage, TransferProgress } from '../../api/payloads';
import { DeviceAgent, sqliteHistory } from '../device-agent';
import type { WsSocketTrace } from '../sip/ws-socket';
import { startRecordedAgent, type RecordedAgent } from './event-recorder';
import { labAccount, type LabDescriptionLike } from './lab-accounts';
import { waitUntil } from './wait-until';

export { waitUntil };

/** What the scenario needs of a running lab. */
export interface LabLike {
  description: LabDescriptionLike;
  trace: { device(name: string): WsSocketTrace };
}

/** A DeviceAgent on the lab and everything it raised. */
export type Party = RecordedAgent;

/** Options of a party. */
export interface PartyOptions {
  autoAccept?: boolean;
  joinPromptMs?: number;
  /** Feed the lab's SIP trace (default true). */
  traced?: boolean;
}

/** Start a DeviceAgent for `user` named `name` (SQLite history, the lab's Message Store) and wait until registered. */
export async function startParty(lab: LabLike, user: string, name: string, options: PartyOptions = {}): Promise<Party> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cpm-move-'));
  const agent = new DeviceAgent({
    dataDir,
    deviceName: name,
    account: labAccount(lab.description, user),
    history: sqliteHistory(dataDir),
    sessionKeepAliveMs: 0,
    ...(options.autoAccept !== undefined ? { autoAccept: options.autoAccept } : {}),
    ...(options.joinPromptMs !== undefined ? { joinPromptMs: options.joinPromptMs } : {}),
    ...(options.traced === false ? {} : { sipTrace: lab.trace.device(name) }),
  });
  return startRecordedAgent(agent, { user, name, dataDir }, () => rm(dataDir, { recursive: true, force: true }));
}

/** Every message of a conversation on a device, oldest first (the thread as the UI shows it). */
export async function allMessages(party: Party, conversationId: string): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  let before: string | undefined;
  for (;;) {
    let page;
    try {
      page = await party.agent.getMessages(conversationId, { limit: 200, ...(before ? { before } : {}) });
    } catch (error) {
      if (error instanceof DeviceApiError && error.code === 'not-found') return [];
      throw error;
    }
    out.push(...page.messages);
    const last = page.messages.at(-1);
    if (!page.hasMore || !last) break;
    before = last.id;
  }
  return out.reverse();
}

/** The alice Laptop + Desktop, bob chat the scenario runs. */
export interface ChatSetup {
  laptop: Party;
  desktop: Party;
  bob: Party;
  conversationId: string;
}

/** alice on Laptop and Desktop (auto-accept on Desktop), bob on one device; Laptop chats with bob. */
export async function setUpChat(lab: LabLike, options: { alice?: string; bob?: string; desktopAutoAccept?: boolean; joinPromptMs?: number } = {}): Promise<ChatSetup> {
  const alice = options.alice ?? lab.description.users[0]?.uri ?? 'sip:alice@a.example';
  const bobUri = options.bob ?? lab.description.users.find((u) => u.uri.split('@')[1] !== alice.split('@')[1])?.uri ?? 'sip:bob@b.example';
  const [laptop, desktop, bob] = await Promise.all([
    startParty(lab, alice, 'Laptop', { autoAccept: true }),
    startParty(lab, alice, 'Desktop', { autoAccept: options.desktopAutoAccept ?? true, ...(options.joinPromptMs !== undefined ? { joinPromptMs: options.joinPromptMs } : {}) }),
    startParty(lab, bobUri, 'Bob', { autoAccept: true }),
  ]);
  try {
    await seesSibling(laptop, 'Desktop');
    await seesSibling(desktop, 'Laptop');
    const conversation = await laptop.agent.startChat(bobUri);
    const incoming = await bob.until('incomingSession', (s) => s.conversationId === conversation.id);
    await bob.agent.acceptSession(incoming.sessionId);
    await laptop.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'active');
    await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && s.state === 'active');
    return { laptop, desktop, bob, conversationId: conversation.id };
  } catch (error) {
    await Promise.allSettled([laptop.close(), desktop.close(), bob.close()]);
    throw error;
  }
}

/** Wait until `party`'s device list shows its sibling `name` (CPM-capable); the error says what it saw. */
async function seesSibling(party: Party, name: string): Promise<void> {
  try {
    await party.until('devices', (list) => list.some((d) => d.name === name && d.cpmCapable && !d.self), 20_000);
  } catch {
    const lists = party.of('devices').map((l) => l.map((d) => `${d.name}${d.self ? ' (self)' : ''}`).join(', '));
    const problems = party.of('error').map((e) => e.message);
    throw new Error(`${party.name} never saw ${name} in its device list; lists: [${lists.join(' | ')}]; problems: [${problems.join(' | ')}]`);
  }
}

/** The `+sip.instance` of a party as its sibling's device list shows it. */
export function instanceOf(party: Party): string {
  const id = party.agent.instance;
  if (!id) throw new Error(`${party.name} has not started`);
  return id;
}

/** One message a sender sent: its id, sequence number, and when. */
export interface SentMessage {
  id: string;
  seq: number;
  sender: 'alice' | 'bob';
  at: number;
}

/**
 * The chat under load: bob sends every `bobEveryMs`, alice every `aliceEveryMs` on whichever of her devices
 * holds the conversation (Laptop until it says the conversation moved, then the one that has it). Neither
 * knows when a move happens.
 */
export class ChatLoad {
  readonly sent: SentMessage[] = [];
  /** Messages a device refused to send (the conversation was moving): not sent, so not expected anywhere. */
  refused = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private seqA = 0;
  private seqB = 0;
  private holder: Party;

  constructor(
    private readonly setup: ChatSetup,
    private readonly options: { bobEveryMs?: number; aliceEveryMs?: number } = {},
  ) {
    this.holder = setup.laptop;
  }

  /** Start both senders. */
  start(): void {
    this.timers.push(setInterval(() => this.sendBob(), this.options.bobEveryMs ?? 10));
    this.timers.push(setInterval(() => this.sendAlice(), this.options.aliceEveryMs ?? 25));
  }

  /** Stop both senders. */
  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  private sendBob(): void {
    const seq = ++this.seqB;
    const at = performance.now();
    this.setup.bob.agent.sendMessage(this.setup.conversationId, `b${seq}`).then(
      (m) => this.sent.push({ id: m.id, seq, sender: 'bob', at }),
      () => {
        this.refused++;
      },
    );
  }

  private sendAlice(): void {
    const seq = ++this.seqA;
    const at = performance.now();
    const { laptop, desktop, conversationId } = this.setup;
    const holder = this.holder;
    holder.agent.sendMessage(conversationId, `a${seq}`).then(
      (m) => this.sent.push({ id: m.id, seq, sender: 'alice', at }),
      () => {
        this.refused++;
        // The conversation moved: continue on the device that holds it now (the user switched devices).
        const other = holder === laptop ? desktop : laptop;
        void other.agent.listConversations().then((list) => {
          if (list.some((c) => c.id === conversationId && c.activeSessionId !== null)) this.holder = other;
        });
      },
    );
  }
}

/** What arrived where, the figures of the demo line. */
export interface DeliveryReport {
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
}

/**
 * Check a thread against what was sent: every message of `expected` once (lost / duplicated), and each sender's
 * messages in the order they were sent (out of order: a message that comes before one sent earlier).
 */
export function deliveryReport(expected: readonly SentMessage[], thread: readonly ChatMessage[]): DeliveryReport {
  const wanted = new Map(expected.map((s) => [s.id, s]));
  const seen = new Map<string, number>();
  for (const m of thread) if (wanted.has(m.id)) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
  let duplicated = 0;
  for (const n of seen.values()) if (n > 1) duplicated += n - 1;
  const lost = expected.filter((s) => !seen.has(s.id)).length;
  let outOfOrder = 0;
  const lastSeq = new Map<string, number>();
  for (const m of thread) {
    const s = wanted.get(m.id);
    if (!s) continue;
    const prev = lastSeq.get(s.sender) ?? 0;
    if (s.seq < prev) outOfOrder++;
    else lastSeq.set(s.sender, s.seq);
  }
  return { sent: expected.length, received: seen.size, lost, duplicated, outOfOrder };
}

/** First arrival time (monotonic ms) of each message id at any of `parties`. */
export function arrivals(parties: readonly Party[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const p of parties) {
    for (const e of p.events) {
      if (e.type !== 'message' || e.payload.direction !== 'incoming') continue;
      const at = first.get(e.payload.id);
      if (at === undefined || e.at < at) first.set(e.payload.id, e.at);
    }
  }
  return first;
}

/** Median of a list (0 for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The interruption a move caused: the largest delivery delay of bob's messages sent during `[from, to]`
 * minus the median delay of those sent outside it (PROFILE.md: "minimal interruption").
 */
export function interruptionMs(sent: readonly SentMessage[], arrived: ReadonlyMap<string, number>, from: number, to: number): number {
  const during: number[] = [];
  const outside: number[] = [];
  for (const s of sent) {
    if (s.sender !== 'bob') continue;
    const at = arrived.get(s.id);
    if (at === undefined) continue;
    (s.at >= from && s.at <= to ? during : outside).push(at - s.at);
  }
  if (during.length === 0) return 0;
  return Math.max(0, Math.max(...during) - median(outside));
}

/** The phases that end a move on its source. */
const FINAL_PHASES: readonly TransferProgress['phase'][] = ['completed', 'declined', 'timed-out', 'failed'];

/** One move of a back-and-forth run: from the source's REFER to its release (monotonic ms, `performance.now()`). */
export interface MoveWindow {
  /** 1 for the first move. */
  move: number;
  from: string;
  to: string;
  /** Just before the source was asked to move (its REFER follows at once). */
  referAt: number;
  /**
   * When the source raised `completed`: it has the final NOTIFY and sends its BYE right after, so a message
   * counted inside the window was sent before the BYE (a lower bound of what the move overlapped).
   */
  releasedAt: number;
}

/** A move of a back-and-forth run that did not complete, and why. */
export interface MoveFailure {
  move: number;
  from: string;
  to: string;
  /** The source's final progress of the move, when it had one. */
  progress?: TransferProgress;
  reason: string;
}

/** The result of `moveBackAndForth`. */
export interface BackAndForthRun {
  /** Every move that completed, in order. */
  windows: MoveWindow[];
  /** The device that holds the conversation at the end. */
  holder: Party;
  /** The move that did not complete (the run stops there). */
  failure?: MoveFailure;
}

/** Options of `moveBackAndForth`. */
export interface BackAndForthOptions {
  /** Moves to make at most. */
  maxMoves: number;
  /** Stop starting moves once this much time has passed (ms; default: no limit). */
  budgetMs?: number;
  /** How long a move may take to end on its source (default 15 000 ms). */
  moveTimeoutMs?: number;
}

/**
 * Move the conversation back and forth between Laptop and Desktop (Laptop → Desktop first), each move
 * started once the previous one is over on both devices (the target joined and carries the conversation).
 * Whatever chat load runs meanwhile is not told about the moves. Stops at the first move that does not
 * complete and says why, rather than throwing, so that the caller can report it with a trace excerpt.
 */
export async function moveBackAndForth(setup: ChatSetup, options: BackAndForthOptions): Promise<BackAndForthRun> {
  const parties = [setup.laptop, setup.desktop] as const;
  const windows: MoveWindow[] = [];
  const began = performance.now();
  const timeoutMs = options.moveTimeoutMs ?? 15_000;
  let holder: Party = setup.laptop;
  for (let i = 0; i < options.maxMoves; i++) {
    if (options.budgetMs !== undefined && performance.now() - began >= options.budgetMs) break;
    const from = parties[i % 2]!;
    const to = parties[(i + 1) % 2]!;
    const move = i + 1;
    const fail = (reason: string, progress?: TransferProgress): BackAndForthRun => ({
      windows,
      holder,
      failure: { move, from: from.name, to: to.name, reason, ...(progress ? { progress } : {}) },
    });
    const before = to.of('transferProgress').length;
    const referAt = performance.now();
    let transferId: string;
    try {
      transferId = await from.agent.moveConversation(setup.conversationId, instanceOf(to));
    } catch (error) {
      return fail(`the move was not started: ${(error as Error).message}`);
    }
    const ends = (p: TransferProgress): boolean => p.transferId === transferId && FINAL_PHASES.includes(p.phase);
    try {
      await from.until('transferProgress', ends, timeoutMs);
    } catch {
      return fail(`${from.name} saw no end of the move in ${timeoutMs} ms`, from.of('transferProgress').filter((p) => p.transferId === transferId).at(-1));
    }
    const end = from.events.find((e) => e.type === 'transferProgress' && ends(e.payload));
    if (!end || end.type !== 'transferProgress' || end.payload.phase !== 'completed') {
      const progress = end?.type === 'transferProgress' ? end.payload : undefined;
      return fail(`the move ended ${progress?.phase ?? 'without a final event'}`, progress);
    }
    try {
      await waitUntil(`move ${move}: ${to.name} joined`, () => to.of('transferProgress').slice(before).some((p) => p.phase === 'replaced'), timeoutMs);
      await waitUntil(
        `move ${move}: ${to.name} carries the conversation`,
        async () => (await to.agent.listConversations()).some((c) => c.id === setup.conversationId && c.activeSessionId !== null),
        timeoutMs,
      );
    } catch (error) {
      return fail((error as Error).message, end.payload);
    }
    holder = to;
    windows.push({ move, from: from.name, to: to.name, referAt, releasedAt: end.at });
  }
  return { windows, holder };
}

/** How many of `sender`'s messages were sent inside each move's window (REFER to release). */
export function sentDuringMoves(windows: readonly MoveWindow[], sent: readonly SentMessage[], sender: SentMessage['sender'] = 'bob'): { move: number; count: number }[] {
  const times = sent.filter((m) => m.sender === sender).map((m) => m.at);
  return windows.map((w) => ({ move: w.move, count: times.filter((at) => at >= w.referAt && at <= w.releasedAt).length }));
}

/** What bob and the device holding the conversation have at the end of a run. */
export interface SettledReports {
  /** alice's messages (from either device) in bob's thread. */
  atBob: DeliveryReport;
  /** Everyone's messages in the holder's thread (with what reached the other device during a move). */
  atHolder: DeliveryReport;
}

/**
 * Once `load` has stopped: wait (up to `timeoutMs` each) until bob has every message alice sent and `holder`
 * every message anyone sent, then report what each has. The reports say what is missing; nothing throws.
 */
export async function settledReports(setup: ChatSetup, load: ChatLoad, holder: Party, timeoutMs = 20_000): Promise<SettledReports> {
  const alice = load.sent.filter((m) => m.sender === 'alice');
  const atBob = async (): Promise<DeliveryReport> => deliveryReport(alice, await allMessages(setup.bob, setup.conversationId));
  const atHolder = async (): Promise<DeliveryReport> => deliveryReport(load.sent, await allMessages(holder, setup.conversationId));
  await waitUntil('bob has all of alice', async () => (await atBob()).lost === 0, timeoutMs).catch(() => undefined);
  await waitUntil(`${holder.name} has the whole conversation`, async () => (await atHolder()).lost === 0, timeoutMs).catch(() => undefined);
  return { atBob: await atBob(), atHolder: await atHolder() };
}
