/**
 * The move scenario shared by the system tests (`test/transfer-*.test.ts`), the demo (`scripts/demo.ts`) and
 * the bench (`bench/transfer.bench.ts`): DeviceAgents on a lab network with SQLite history and the Message
 * Store, a chat under load (bob every 10 ms, alice every 25 ms on whichever device holds the conversation),
 * and the accounting of what arrived where: lost, duplicated, out of order, delivery delays.
 *
 * Structural on the lab (`LabLike`): it never imports `server/`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeviceApiError } from '../../api/device-api';
import type { ChatMessage } from '../../api/payloads';
import { DeviceAgent, sqliteHistory } from '../device-agent';
import type { WsSocketTrace } from '../sip/ws-socket';
import { startRecordedAgent, type RecordedAgent } from './event-recorder';
import { labAccount, type LabDescriptionLike } from './lab-accounts';

export { waitUntil } from './wait-until';

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
