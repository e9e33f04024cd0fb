/**
 * DeviceAgent benchmark: `npx tsx bench/device.bench.ts` (`ROUNDS=n`, `SETUPS=n` to change the sizes).
 *
 * Two DeviceAgents (alice@a.example, bob@b.example) on the in-process lab, both Conversation Servers in proxy
 * mode, so the media goes device to device on loopback and the signalling crosses both cores and both servers,
 * all in this one process. Measured through the DeviceApi only:
 *
 * - the full CPM path: `sendMessage` → CPIM (RFC 3862) → MSRP SEND → Bob's agent decodes, stores and raises the
 *   `message` event at a DeviceApi listener → its delivery IMDN (RFC 5438) → Alice's `messageStatus`
 *   `delivered`: messages/s to Bob's listener and messages/s until every IMDN is back;
 * - session set-up: `startChat` → Bob's `incomingSession` → `acceptSession` at once (a user who clicks
 *   instantly) → SIP INVITE/200/ACK through the lab → MSRP connect and bind → the first message, queued right
 *   after `startChat`, at Bob's listener: median and p99 over `SETUPS` set-ups (each session ended before the next);
 * - 1 MB messages (1 000 000 characters of text, CPIM-wrapped, 2 KiB MSRP chunks) through the agents: MiB/s.
 *
 * The throughput runs are interleaved over `ROUNDS` rounds after a warm-up; medians. Beside them, the raw MSRP and
 * `net` ceilings from bench/results/msrp.json (bench/msrp.bench.ts), when present. Prints a markdown table and
 * writes bench/results/device.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceEventMap, DeviceEventName } from '../electron/api/device-api';
import { DeviceAgent } from '../electron/device/device-agent';
import { LabNetwork } from '../server/lab/lab-network';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SETUPS = Number(process.env.SETUPS ?? 50);
const SMALL_COUNT = 1000;
const SMALL_TEXT = 'x'.repeat(100);
const LARGE_COUNT = 8;
const LARGE_CHARS = 1_000_000;
const MIB = 1024 * 1024;
const WAIT_MS = 60_000;

interface Row {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

/** Resolve with the first `event` payload that satisfies `match` (listening from now on); reject after WAIT_MS. */
function next<E extends DeviceEventName>(agent: DeviceAgent, event: E, match: (payload: DeviceEventMap[E]) => boolean, what: string): Promise<DeviceEventMap[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    const off = agent.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Resolve once `count` payloads of `event` satisfying `match` have arrived (listening from now on). */
function count<E extends DeviceEventName>(agent: DeviceAgent, event: E, match: (payload: DeviceEventMap[E]) => boolean, wanted: number, what: string): Promise<void> {
  let seen = 0;
  return next(agent, event, (payload) => match(payload) && ++seen >= wanted, what).then(() => undefined);
}

async function startAgent(lab: LabNetwork, uri: string, deviceName: string, dataDir: string): Promise<DeviceAgent> {
  const domain = lab.description.domains.find((d) => d.domain === uri.split('@')[1]);
  const password = lab.description.users.find((u) => u.uri === uri)?.password;
  if (!domain || password === undefined) throw new Error(`no lab account ${uri}`);
  const agent = new DeviceAgent({ dataDir, deviceName, sessionKeepAliveMs: 0, account: { uri, password, wsUrl: domain.ws } });
  const registered = next(agent, 'registrationState', (s) => s.state === 'registered', `${uri} registered`);
  await agent.start();
  await registered;
  return agent;
}

/** One chat set-up, from `startChat` to the first message at Bob's listener; ms. Ends the session afterwards. */
async function setUp(alice: DeviceAgent, bob: DeviceAgent, label: string): Promise<{ ms: number; conversationId: string }> {
  const alerted = next(bob, 'incomingSession', () => true, `${label}: Bob alerted`);
  const t0 = performance.now();
  const conversation = await alice.startChat('sip:bob@b.example');
  const text = `first ${label}`;
  const arrived = next(bob, 'message', (m) => m.direction === 'incoming' && m.text === text, `${label}: first message at Bob`);
  await alice.sendMessage(conversation.id, text);
  const incoming = await alerted;
  await bob.acceptSession(incoming.sessionId);
  await arrived;
  const ms = performance.now() - t0;
  return { ms, conversationId: conversation.id };
}

/** End the conversation's live session from Bob's side and wait until both agents have it ended. */
async function tearDown(alice: DeviceAgent, bob: DeviceAgent, conversationId: string): Promise<void> {
  const sessionId = (await bob.listConversations()).find((c) => c.id === conversationId)?.activeSessionId;
  if (!sessionId) throw new Error('no live session to end');
  const ended = next(alice, 'sessionState', (s) => s.conversationId === conversationId && s.state === 'ended', 'Alice’s session ended');
  await bob.endSession(sessionId);
  await ended;
}

/** Send `n` messages of `text` from Alice; seconds until all are at Bob's listener, and until all IMDNs are back. */
async function burst(alice: DeviceAgent, bob: DeviceAgent, conversationId: string, n: number, text: string): Promise<{ received: number; delivered: number }> {
  const ids = new Set<string>();
  const atBob = count(bob, 'message', (m) => m.direction === 'incoming' && m.conversationId === conversationId && m.text.length === text.length, n, `${n} messages at Bob`);
  const imdns = count(alice, 'messageStatus', (s) => s.status === 'delivered' && ids.has(s.messageId), n, `${n} delivery IMDNs at Alice`);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ids.add((await alice.sendMessage(conversationId, text)).id);
  await atBob;
  const received = (performance.now() - t0) / 1000;
  await imdns;
  return { received, delivered: (performance.now() - t0) / 1000 };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** The nearest-rank percentile (`p` in 0–100). */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** The rows of bench/results/msrp.json to show beside ours, if that file exists. */
function msrpCeilings(resultsDir: string): { rows: Row[]; date: string } | undefined {
  const file = join(resultsDir, 'msrp.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { date?: unknown; rows?: unknown };
    const rows = Array.isArray(parsed.rows) ? (parsed.rows as Row[]) : [];
    const wanted = rows.filter((r) => typeof r.name === 'string' && /^(net echo|MSRP direct)/.test(r.name));
    return { rows: wanted, date: typeof parsed.date === 'string' ? parsed.date : 'unknown date' };
  } catch (error) {
    console.error(`bench/results/msrp.json is unreadable: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const load = loadavg()[0]!;
  const dataDir = mkdtempSync(join(tmpdir(), 'device-bench-'));
  const lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy' });
  const agents: DeviceAgent[] = [];
  try {
    const alice = await startAgent(lab, 'sip:alice@a.example', 'Laptop', join(dataDir, 'alice'));
    agents.push(alice);
    const bob = await startAgent(lab, 'sip:bob@b.example', 'Desk', join(dataDir, 'bob'));
    agents.push(bob);

    // Session set-up: one warm-up, then SETUPS measured, each ended before the next.
    const setups: number[] = [];
    for (let i = -1; i < SETUPS; i++) {
      const { ms, conversationId } = await setUp(alice, bob, `set-up ${i}`);
      if (i >= 0) setups.push(ms);
      await tearDown(alice, bob, conversationId);
    }

    // Throughput on one live session, small and large interleaved per round after a warm-up round.
    const { conversationId } = await setUp(alice, bob, 'throughput');
    const large = 'y'.repeat(LARGE_CHARS);
    const small = { received: [] as number[], delivered: [] as number[] };
    const big = { received: [] as number[], delivered: [] as number[] };
    for (let round = -1; round < ROUNDS; round++) {
      const s = await burst(alice, bob, conversationId, SMALL_COUNT, SMALL_TEXT);
      const l = await burst(alice, bob, conversationId, LARGE_COUNT, large);
      if (round < 0) continue;
      small.received.push(s.received);
      small.delivered.push(s.delivered);
      big.received.push(l.received);
      big.delivered.push(l.delivered);
    }
    await tearDown(alice, bob, conversationId);

    const smallDetail = `${SMALL_COUNT} × ${SMALL_TEXT.length} characters, median of ${ROUNDS}`;
    const largeDetail = `${LARGE_COUNT} × ${LARGE_CHARS} characters (CPIM-wrapped, 2 KiB chunks), median of ${ROUNDS}`;
    const largeMib = (LARGE_COUNT * LARGE_CHARS) / MIB;
    const rows: Row[] = [
      { name: 'CPM path, messages to Bob’s DeviceApi listener', value: Math.round(SMALL_COUNT / median(small.received)), unit: 'msg/s', detail: smallDetail },
      { name: 'CPM path, messages until every delivery IMDN is back at Alice', value: Math.round(SMALL_COUNT / median(small.delivered)), unit: 'msg/s', detail: smallDetail },
      { name: 'session set-up (startChat → first message at Bob), median', value: round1(median(setups)), unit: 'ms', detail: `${SETUPS} set-ups through both cores and both Conversation Servers; Bob accepts at once` },
      { name: 'session set-up (startChat → first message at Bob), p99', value: round1(percentile(setups, 99)), unit: 'ms', detail: `${SETUPS} set-ups; max ${round1(Math.max(...setups))} ms` },
      { name: '1 MB messages through the agents, to Bob’s listener', value: round1(largeMib / median(big.received)), unit: 'MiB/s', detail: largeDetail },
      { name: '1 MB messages through the agents, until the IMDNs are back', value: round1(largeMib / median(big.delivered)), unit: 'MiB/s', detail: largeDetail },
    ];
    const here = fileURLToPath(new URL('.', import.meta.url));
    const out = join(here, 'results');
    const ceilings = msrpCeilings(out);
    // How much of raw MSRP (same payload sizes, no SIP, CPIM, IMDN or DeviceApi) the full path keeps.
    const direct = (name: string): number | undefined => ceilings?.rows.find((r) => r.name === name)?.value;
    const share = (row: Row | undefined, of: number | undefined): void => {
      if (row && of) row.detail += `; ${(row.value / of).toFixed(2)}× MSRP direct`;
    };
    share(rows[0], direct('MSRP direct, 100 B SEND'));
    share(rows[4], direct('MSRP direct, 1 MiB messages'));
    const beside = (ceilings?.rows ?? []).map((r) => ({ ...r, name: `${r.name} (msrp.bench.ts)`, detail: `${r.detail}; run ${ceilings?.date ?? ''}` }));

    const table = ['| measurement | value | unit | detail |', '| --- | ---: | --- | --- |', ...[...rows, ...beside].map((r) => `| ${r.name} | ${r.value} | ${r.unit} | ${r.detail} |`)].join('\n');
    console.log(table);
    if (!ceilings) console.log('\n(no bench/results/msrp.json: run `npx tsx bench/msrp.bench.ts` for the raw MSRP and net ceilings)');
    console.log(`\n1-minute load average at the start: ${load.toFixed(1)} on ${cpus().length} CPUs`);
    mkdirSync(out, { recursive: true });
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: load,
      rounds: ROUNDS,
      rows,
      setupMs: setups.map(round1),
      msrpBenchRows: beside,
    };
    writeFileSync(join(out, 'device.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await Promise.allSettled(agents.map((a) => a.close()));
    await lab.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
