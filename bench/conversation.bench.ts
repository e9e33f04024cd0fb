/**
 * CPM sessions through the lab, for the four mode pairs of the two Conversation Servers:
 * `npx tsx --expose-gc bench/conversation.bench.ts` (a few minutes; `SETUPS=n`, `MESSAGES=n`, `ROUNDS=n`;
 * `PARTS=heap` or another subset of `setups,throughput,heap`, or `PAIRS=proxy/proxy,in-path/proxy`, measures only
 * those and writes no results file).
 *
 * Everything runs in this one process: the lab (two cores, two Conversation Servers) and two bench phones,
 * Alice on core A and Bob on core B, each a small SIP UA over TCP (the server's own SIP stack, registered with
 * digest) with its own MSRP endpoint (the device's `MsrpEndpoint`). Per pair:
 * - **Set-ups per second**: SETUPS sessions over the rounds, CONCURRENCY at a time; a session counts once both
 *   phones' MSRP sessions are bound (media up end to end); the BYEs that follow are not timed.
 * - **Throughput**: one session, MESSAGES messages of 1 KiB from Alice to Bob as fast as flow control lets
 *   them, until the last arrives: messages/s and MB/s. The proxy/proxy pair is the direct device-to-device
 *   MSRP session of the same run; the in-path pairs go through one or two relays.
 * - **Heap per concurrent session**: the process heap after gc() with 1,000 then 2,000 sessions open, each
 *   time after every transaction has ended (they linger 32 s: steady state); the slope in bytes per session.
 *   It includes both phones' state, so the same phones are measured once more with no Conversation Server in
 *   the path (the baseline: their INVITEs carry no CPM feature tag, so the cores route them straight from
 *   Alice to Bob, and the phones hold the same dialog and MSRP sessions as in proxy/proxy). A pair's slope
 *   minus the baseline is what its two Conversation Servers hold per session (plus the cores' `odi` Route
 *   token of each server visit, some 100 B): proxy/proxy gives the proxy-mode server's own cost (half of it
 *   each), in-path/in-path the in-path server's, and the mixed pairs each in-path server once the proxy-mode
 *   server's cost is subtracted (in-path/proxy: the originating side, proxy/in-path: the terminating side).
 * The four pairs' labs run side by side and are measured in interleaved rounds (medians), so that load from
 * elsewhere on the machine hits them alike. Prints a markdown table and writes bench/results/conversation.json.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MsrpEndpoint } from '../electron/device/chat/msrp/msrp-endpoint';
import { encodeCpim } from '../protocol/cpim/cpim';
import type { MsrpSession } from '../protocol/msrp/msrp-session';
import { answerSetup, buildMsrpSdp, parseMsrpSdp } from '../protocol/sdp/msrp-sdp';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import { LabNetwork } from '../server/lab/lab-network';
import { Dialog } from '../server/sip/dialog/dialog';
import { newCallId, newTag } from '../server/sip/dialog/identifiers';
import { UserAgent } from '../server/sip/dialog/user-agent';
import { createRequest, type SipRequest } from '../server/sip/message/sip-message';
import { buildResponse } from '../server/sip/transaction/response-builder';
import { TransactionLayer, type ServerTransaction } from '../server/sip/transaction/transaction-layer';
import { createTransportLayer } from '../server/sip/transport/sip-transport-layer';
import type { SendTarget, SipTransportLayer } from '../server/sip/transport/transport-types';

const SETUPS = Number(process.env.SETUPS ?? 500);
const CONCURRENCY = 25;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const MESSAGES = Number(process.env.MESSAGES ?? 10_000);
const MESSAGE_BYTES = 1024;
const HEAP_SESSIONS = [1000, 2000] as const;
/** What to measure: any of `setups`, `throughput`, `heap` (all by default; a subset writes no results file). */
const PARTS = new Set((process.env.PARTS ?? 'setups,throughput,heap').split(',').map((p) => p.trim()));
const ALL_PARTS = ['setups', 'throughput', 'heap'].every((p) => PARTS.has(p)) && process.env.PAIRS === undefined;
/** Targets of issue 5 for a Conversation Server's own heap per open session (bytes). */
const SERVER_HEAP_TARGETS = { 'in-path': 20_000, proxy: 4_000 } as const;
const ALL_PAIRS: [ConversationMode, ConversationMode][] = [
  ['in-path', 'in-path'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['proxy', 'proxy'],
];
/** The mode pairs to measure (`PAIRS=a/b,…`; all by default). */
const PAIRS = ALL_PAIRS.filter(([a, b]) => process.env.PAIRS === undefined || process.env.PAIRS.split(',').map((p) => p.trim()).includes(`${a}/${b}`));
const ACCEPT_CONTACT = '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

/** A session of the bench: Alice's dialog and both phones' MSRP sessions. */
interface Call {
  dialog: Dialog;
  alice: MsrpSession;
  bob: MsrpSession;
}

/** A bench phone: a SIP UA over TCP towards its core, answering every INVITE, with an MSRP endpoint. */
class Phone {
  private readonly ua: UserAgent;
  /** Bob's side of each session, by Conversation-ID (kept across in-path legs): its MSRP session (or its wait). */
  private readonly answered = new Map<string, Promise<MsrpSession>>();
  /** Conversation-ID of each answered dialog, by Call-ID (a BYE names the Call-ID). */
  private readonly conversations = new Map<string, string>();

  private constructor(
    readonly aor: string,
    private readonly transport: SipTransportLayer,
    private readonly layer: TransactionLayer,
    private readonly core: SendTarget,
    readonly msrp: MsrpEndpoint,
    readonly contact: string,
  ) {
    this.ua = new UserAgent(layer);
    layer.on('request', (tx, received) => {
      const request = received.message;
      if (request.type !== 'request') return;
      if (request.method === 'INVITE' && !request.headers.get('To')?.includes('tag=')) this.answer(tx, request);
      else {
        const callId = request.headers.get('Call-ID') ?? '';
        const conversation = this.conversations.get(callId);
        if (request.method === 'BYE' && conversation !== undefined) {
          void this.answered.get(conversation)?.then((s) => s.close(), () => undefined);
          this.answered.delete(conversation);
          this.conversations.delete(callId);
        }
        tx.respond(buildResponse(request, 200));
      }
    });
    layer.on('error', () => undefined);
  }

  static async start(lab: LabNetwork, user: string): Promise<Phone> {
    const domain = user.split('@')[1]!;
    const d = lab.description.domains.find((x) => x.domain === domain)!;
    const password = lab.description.users.find((u) => u.uri === user)!.password;
    const transport = await createTransportLayer({ listeners: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }] });
    const layer = new TransactionLayer(transport);
    const point = transport.listeningPoint('tcp')!;
    const msrp = new MsrpEndpoint({ limits: { maxConnections: 4096 } });
    await msrp.listen();
    const name = user.slice(4, user.indexOf('@'));
    const phone = new Phone(user, transport, layer, { protocol: 'tcp', host: '127.0.0.1', port: d.tcp }, msrp, `<sip:${name}@127.0.0.1:${point.port};transport=tcp>`);
    await phone.register(name, domain, password);
    return phone;
  }

  private async register(user: string, domain: string, password: string): Promise<void> {
    const callId = newCallId('bench');
    const build = (seq: number, authorization?: string): SipRequest => {
      const request = createRequest('REGISTER', `sip:${domain}`, [
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: `<${this.aor}>;tag=${newTag()}` },
        { name: 'To', value: `<${this.aor}>` },
        { name: 'Call-ID', value: callId },
        { name: 'CSeq', value: `${seq} REGISTER` },
        { name: 'Contact', value: `${this.contact};+sip.instance="<urn:uuid:${randomUUID()}>";reg-id=1;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"` },
        { name: 'Supported', value: 'gruu, outbound, path' },
        { name: 'Expires', value: '3600' },
      ]);
      if (authorization) request.headers.append('Authorization', authorization);
      return request;
    };
    const first = await this.ua.sendRequest(build(1), { target: this.core });
    if (first.status === 200) return;
    const challenge = first.headers.get('WWW-Authenticate');
    if (first.status !== 401 || !challenge) throw new Error(`REGISTER ${this.aor}: ${first.status} ${first.reason}`);
    const second = await this.ua.sendRequest(build(2, digest(challenge, user, password, `sip:${domain}`)), { target: this.core });
    if (second.status !== 200) throw new Error(`REGISTER ${this.aor}: ${second.status} ${second.reason}`);
  }

  /** Answer an INVITE as a device (RFC 6135: passive to actpass, active to passive), MSRP opened first. */
  private answer(tx: ServerTransaction, invite: SipRequest): void {
    const offer = parseMsrpSdp(new TextDecoder().decode(invite.body));
    const { setup } = answerSetup(offer.setup, 'device');
    const localUri = this.msrp.newLocalUri();
    const media = this.msrp.openSession({ localUri, remotePath: offer.path, setup });
    media.catch(() => undefined);
    const conversation = invite.headers.get('Conversation-ID') ?? '';
    this.answered.set(conversation, media);
    this.conversations.set(invite.headers.get('Call-ID') ?? '', conversation);
    const sdp = buildMsrpSdp({ address: { addrType: 'IP4', address: '127.0.0.1' }, port: localUri.port ?? 9, path: [localUri], setup });
    tx.respond(buildResponse(invite, 200, { toTag: newTag(), headers: [{ name: 'Contact', value: this.contact }, { name: 'Content-Type', value: 'application/sdp' }], body: sdp }));
  }

  /** Bob's MSRP session of a conversation, once bound (waits for his INVITE if it is still on its way). */
  async mediaOf(conversationId: string): Promise<MsrpSession> {
    for (let i = 0; i < 500 && !this.answered.has(conversationId); i++) await new Promise((r) => setTimeout(r, 2));
    const media = this.answered.get(conversationId);
    if (!media) throw new Error(`Bob was never offered conversation ${conversationId}`);
    return media;
  }

  /**
   * Place a session to `to`; resolves once Alice's MSRP session is bound (Bob's is `to.mediaOf`). With
   * `cpm: false` the INVITE carries no CPM feature tag, so the cores route it straight to Bob, past the
   * Conversation Servers (the heap baseline: the same phones and dialogs, no server in the path).
   */
  async call(to: Phone, options: { cpm?: boolean } = {}): Promise<Call> {
    const localUri = this.msrp.newLocalUri();
    const invite = createRequest('INVITE', to.aor, [
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `<${this.aor}>;tag=${newTag()}` },
      { name: 'To', value: `<${to.aor}>` },
      { name: 'Call-ID', value: newCallId('bench') },
      { name: 'CSeq', value: '1 INVITE' },
      { name: 'Contact', value: this.contact },
      ...(options.cpm === false ? [] : [{ name: 'Accept-Contact', value: ACCEPT_CONTACT }]),
      { name: 'Conversation-ID', value: randomUUID() },
      { name: 'Contribution-ID', value: randomUUID() },
      { name: 'Content-Type', value: 'application/sdp' },
    ]);
    invite.body = new TextEncoder().encode(buildMsrpSdp({ address: { addrType: 'IP4', address: '127.0.0.1' }, port: localUri.port ?? 9, path: [localUri], setup: 'actpass' }));
    const response = await this.ua.sendRequest(invite, { target: this.core });
    if (response.status !== 200) throw new Error(`INVITE: ${response.status} ${response.reason}`);
    const dialog = Dialog.fromUac(invite, response, this.contact);
    await this.ua.sendAck(dialog.createAck(1), this.core);
    const answer = parseMsrpSdp(new TextDecoder().decode(response.body));
    const alice = await this.msrp.openSession({ localUri, remotePath: answer.path, setup: answer.setup === 'active' ? 'passive' : 'active' });
    // Bob's leg has its own Call-ID in-path; the Conversation-ID is the same on every leg.
    const bob = await to.mediaOf(invite.headers.get('Conversation-ID') ?? '');
    return { dialog, alice, bob };
  }

  async bye(call: Call): Promise<void> {
    const response = await this.ua.sendRequest(call.dialog.createRequest('BYE'), { target: this.core });
    if (response.status !== 200) throw new Error(`BYE: ${response.status}`);
    call.alice.close();
  }

  async close(): Promise<void> {
    this.layer.close();
    await Promise.all([this.transport.close(), this.msrp.close()]);
  }
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** A digest answer (RFC 7616 §3.4, MD5, qop=auth) to a registrar challenge. */
function digest(challenge: string, user: string, password: string, uri: string): string {
  const param = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
  const realm = param('realm');
  const nonce = param('nonce');
  const opaque = param('opaque');
  const cnonce = randomUUID().replace(/-/g, '');
  const response = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"${opaque ? `, opaque="${opaque}"` : ''}`;
}


interface PairResult {
  modeA: ConversationMode;
  modeB: ConversationMode;
  /** Median over the rounds. */
  setupsPerSecond: number;
  throughput: { messagesPerSecond: number; megabytesPerSecond: number };
  rounds: { setupsPerSecond: number[]; messagesPerSecond: number[] };
  heap: { sessions: number[]; heapUsedBytes: number[]; bytesPerSession: number } | undefined;
}

/** One mode pair's lab and phones, kept up for the whole run. */
interface Rig {
  modeA: ConversationMode;
  modeB: ConversationMode;
  lab: LabNetwork;
  alice: Phone;
  bob: Phone;
}

async function startRig(modeA: ConversationMode, modeB: ConversationMode): Promise<Rig> {
  const lab = await LabNetwork.start({ modeA, modeB });
  const alice = await Phone.start(lab, 'sip:alice@a.example');
  const bob = await Phone.start(lab, 'sip:bob@b.example');
  return { modeA, modeB, lab, alice, bob };
}

async function stopRig(rig: Rig): Promise<void> {
  await rig.alice.close();
  await rig.bob.close();
  await rig.lab.close();
}

/** Open `count` sessions, CONCURRENCY at a time; resolves with them and the seconds it took. */
async function openSessions(rig: Rig, count: number, options: { cpm?: boolean } = {}): Promise<{ calls: Call[]; seconds: number }> {
  const calls: Call[] = [];
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      calls.push(await rig.alice.call(rig.bob, options));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  return { calls, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function closeSessions(rig: Rig, calls: Call[]): Promise<void> {
  for (let i = 0; i < calls.length; i += CONCURRENCY) await Promise.all(calls.slice(i, i + CONCURRENCY).map((c) => rig.alice.bye(c)));
}

/** Set-ups per second: sessions opened (media up on both phones) per second of opening; BYEs untimed. */
async function measureSetups(rig: Rig, count: number): Promise<number> {
  const { calls, seconds } = await openSessions(rig, count);
  await closeSessions(rig, calls);
  return count / seconds;
}

/** MESSAGES CPIM messages from Alice to Bob on one session, until the last arrives: messages/s and bytes/s. */
async function measureThroughput(rig: Rig): Promise<{ messages: number; bytes: number }> {
  const call = await rig.alice.call(rig.bob);
  // Real CPIM (the in-path servers record it in their Message Stores), each with its own imdn.Message-ID,
  // encoded before the clock starts; MESSAGE_BYTES of text each.
  const text = 'a'.repeat(MESSAGE_BYTES);
  const bodies = Array.from({ length: MESSAGES }, () =>
    encodeCpim({ from: { uri: rig.alice.aor }, to: [{ uri: rig.bob.aor }], dateTime: new Date(), imdn: { messageId: randomUUID() }, contentType: 'text/plain', body: text }),
  );
  let received = 0;
  const all = new Promise<void>((resolve) => {
    call.bob.on('message', () => {
      if (++received === MESSAGES) resolve();
    });
  });
  const t0 = process.hrtime.bigint();
  for (const body of bodies) call.alice.send(body, 'message/cpim');
  await all;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await rig.alice.bye(call);
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  return { messages: MESSAGES / seconds, bytes: bytes / seconds };
}

/** Wait until no element of any rig holds a transaction (they linger 64·T1 = 32 s after their final response). */
async function waitIdle(rigs: readonly Rig[]): Promise<void> {
  const busy = (): number => rigs.reduce((n, r) => n + r.lab.domains.reduce((m, d) => m + d.core.load().transactions + d.conversation.load().transactions, 0), 0);
  for (let waited = 0; busy() > 0 && waited < 70_000; waited += 500) await new Promise((r) => setTimeout(r, 500));
}

/**
 * Process heap after gc() with 1,000 then 2,000 of this rig's sessions open, each time once every transaction
 * has ended (steady state: what an open session costs, not its set-up); the slope per session. `cpm: false`
 * opens them past the Conversation Servers (see `Phone.call`).
 */
async function measureHeap(rig: Rig, all: readonly Rig[], options: { cpm?: boolean } = {}): Promise<PairResult['heap']> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const open: Call[] = [];
  const heapUsed: number[] = [];
  for (const target of HEAP_SESSIONS) {
    open.push(...(await openSessions(rig, target - open.length, options)).calls);
    await waitIdle(all);
    for (let i = 0; i < 3; i++) gc();
    heapUsed.push(process.memoryUsage().heapUsed);
  }
  await closeSessions(rig, open);
  const [s1 = 0, s2 = 0] = HEAP_SESSIONS;
  const [h1 = 0, h2 = 0] = heapUsed;
  return { sessions: [...HEAP_SESSIONS], heapUsedBytes: heapUsed, bytesPerSession: Math.round((h2 - h1) / (s2 - s1)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A Conversation Server's own heap per open session, derived from the pairs and the baseline. */
interface ServerHeap {
  mode: ConversationMode;
  /** Which server of which run, e.g. `each of the two in proxy/proxy`. */
  which: string;
  /** How it is computed from the slopes. */
  from: string;
  bytesPerSession: number;
  target: number;
  met: boolean;
}

/** Each server's own cost: a pair's slope minus the phones' and cores' (baseline), split as the module comment says. */
function serverHeaps(results: readonly PairResult[], baseline: number): ServerHeap[] {
  const slope = (a: ConversationMode, b: ConversationMode): number | undefined => results.find((r) => r.modeA === a && r.modeB === b)?.heap?.bytesPerSession;
  const out: ServerHeap[] = [];
  const add = (mode: ConversationMode, which: string, from: string, bytes: number): void => {
    const target = SERVER_HEAP_TARGETS[mode];
    out.push({ mode, which, from, bytesPerSession: Math.round(bytes), target, met: bytes < target });
  };
  const pp = slope('proxy', 'proxy');
  if (pp === undefined) return out;
  const proxy = (pp - baseline) / 2;
  add('proxy', 'each of the two in proxy/proxy', '(proxy/proxy − baseline) / 2', proxy);
  const ii = slope('in-path', 'in-path');
  if (ii !== undefined) add('in-path', 'each of the two in in-path/in-path', '(in-path/in-path − baseline) / 2', (ii - baseline) / 2);
  const ip = slope('in-path', 'proxy');
  if (ip !== undefined) add('in-path', 'originating (CS A of in-path/proxy)', 'in-path/proxy − baseline − proxy', ip - baseline - proxy);
  const pi = slope('proxy', 'in-path');
  if (pi !== undefined) add('in-path', 'terminating (CS B of proxy/in-path)', 'proxy/in-path − baseline − proxy', pi - baseline - proxy);
  return out;
}

function table(results: PairResult[], baseline: PairResult['heap'], servers: readonly ServerHeap[]): string {
  const n = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const lines = [
    '| CS A | CS B | set-ups/s (media up) | messages/s (CPIM, 1 KiB of text) | MB/s | heap per open session (phones, cores, servers) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.modeA} | ${r.modeB} | ${n(r.setupsPerSecond, 0)} | ${n(r.throughput.messagesPerSecond, 0)} | ${n(r.throughput.megabytesPerSecond, 1)} | ${r.heap ? `${r.heap.bytesPerSession} B` : PARTS.has('heap') ? 'n/a (run with --expose-gc)' : '–'} |`,
    );
  }
  if (baseline) lines.push(`| (no server in the path) | | | | | ${baseline.bytesPerSession} B: the baseline |`);
  const direct = results.find((r) => r.modeA === 'proxy' && r.modeB === 'proxy');
  const notes = results
    .filter((r) => r !== direct && direct && Number.isFinite(r.throughput.messagesPerSecond))
    .map((r) => `- ${r.modeA}/${r.modeB}: ${((r.throughput.messagesPerSecond / direct!.throughput.messagesPerSecond) * 100).toFixed(0)} % of the direct device-to-device (proxy/proxy) throughput`);
  const serverLines =
    servers.length === 0
      ? []
      : [
          '',
          '| Conversation Server | which | heap per open session, its own | from the slopes | target |',
          '| --- | --- | ---: | --- | --- |',
          ...servers.map((h) => `| ${h.mode} | ${h.which} | ${h.bytesPerSession} B | ${h.from} | < ${h.target} B: ${h.met ? 'met' : '**not met**'} |`),
        ];
  return `${lines.join('\n')}\n\n${notes.join('\n')}${serverLines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const rigs: Rig[] = [];
  try {
    if (PAIRS.length === 0) throw new Error(`PAIRS=${process.env.PAIRS ?? ''} names none of ${ALL_PAIRS.map(([a, b]) => `${a}/${b}`).join(', ')}`);
    for (const [a, b] of PAIRS) rigs.push(await startRig(a, b));
    for (const rig of rigs) await closeSessions(rig, (await openSessions(rig, 20)).calls); // warm-up
    // Interleaved rounds, so that load from elsewhere on the machine hits every pair alike; medians.
    const setups = rigs.map(() => [] as number[]);
    const throughput = rigs.map(() => [] as number[]);
    const byteRates = rigs.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS && (PARTS.has('setups') || PARTS.has('throughput')); round++) {
      for (const [i, rig] of rigs.entries()) {
        process.stderr.write(`round ${round + 1}/${ROUNDS}: ${rig.modeA}/${rig.modeB}…\n`);
        if (PARTS.has('setups')) setups[i]!.push(await measureSetups(rig, Math.ceil(SETUPS / ROUNDS)));
        if (!PARTS.has('throughput')) continue;
        const rate = await measureThroughput(rig);
        throughput[i]!.push(rate.messages);
        byteRates[i]!.push(rate.bytes);
      }
    }
    const results: PairResult[] = [];
    await waitIdle(rigs);
    for (const [i, rig] of rigs.entries()) {
      if (PARTS.has('heap')) process.stderr.write(`heap: ${rig.modeA}/${rig.modeB}…\n`);
      const messagesPerSecond = median(throughput[i]!);
      results.push({
        modeA: rig.modeA,
        modeB: rig.modeB,
        setupsPerSecond: median(setups[i]!),
        throughput: { messagesPerSecond, megabytesPerSecond: median(byteRates[i]!) / 1e6 },
        rounds: { setupsPerSecond: setups[i]!, messagesPerSecond: throughput[i]! },
        heap: PARTS.has('heap') ? await measureHeap(rig, rigs) : undefined,
      });
    }
    let baseline: PairResult['heap'];
    const direct = rigs.find((r) => r.modeA === 'proxy' && r.modeB === 'proxy');
    if (PARTS.has('heap') && direct) {
      process.stderr.write('heap: baseline (the proxy/proxy lab, INVITEs without the CPM feature tag: no server in the path)…\n');
      baseline = await measureHeap(direct, rigs, { cpm: false });
    }
    const servers = baseline ? serverHeaps(results, baseline.bytesPerSession) : [];
    const markdown = table(results, baseline, servers);
    process.stdout.write(markdown);
    if (!ALL_PARTS) return;
    const out = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
    mkdirSync(out, { recursive: true });
    const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', loadavg: loadavg(), node: process.version };
    writeFileSync(
      join(out, 'conversation.json'),
      `${JSON.stringify({ date: new Date().toISOString(), machine, settings: { SETUPS, CONCURRENCY, MESSAGES, MESSAGE_BYTES, ROUNDS, HEAP_SESSIONS }, results, baseline, servers }, null, 2)}\n`,
    );
  } finally {
    for (const rig of rigs) await stopRig(rig);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
