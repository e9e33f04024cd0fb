/**
 * Transfer benchmark: `npx tsx bench/transfer.bench.ts` (`MOVES=n` moves per mode pair, default 200;
 * `BUDGET_S=s` seconds per pair, default 150; `PAIRS=proxy/proxy,in-path/proxy` to pick pairs).
 *
 * The move on loopback, per pair of Conversation Server modes: alice's chat with bob moves back and forth
 * between her Laptop and Desktop (auto-accepted) while bob sends every 10 ms and alice every 25 ms on
 * whichever device holds it. Per move:
 * - move time: the move command → the target's session up and the source released (the later of the two);
 * - interruption: the largest delivery delay (bob's send → first arrival on one of alice's devices) of bob's
 *   messages sent during the move, minus the median delay of those sent outside every move.
 * Medians and p99 per pair; also what the final holder lost, got twice or out of order. Prints a markdown
 * table and writes bench/results/transfer.json and transfer.md. The lab's SIP trace stays off.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import { LabNetwork } from '../server/lab/lab-network';
import {
  allMessages,
  arrivals,
  ChatLoad,
  deliveryReport,
  instanceOf,
  median,
  setUpChat,
  waitUntil,
  type ChatSetup,
  type Party,
} from '../electron/device/testing/transfer-scenario';

const MOVES = Number(process.env.MOVES ?? 200);
const BUDGET_MS = Number(process.env.BUDGET_S ?? 150) * 1000;
const ALL_PAIRS: Array<[ConversationMode, ConversationMode]> = [
  ['proxy', 'proxy'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['in-path', 'in-path'],
];
const PAIRS = process.env.PAIRS
  ? ALL_PAIRS.filter(([a, b]) => process.env.PAIRS!.split(',').includes(`${a}/${b}`))
  : ALL_PAIRS;

interface Stats {
  median: number;
  p99: number;
}

interface Row {
  modeA: ConversationMode;
  modeB: ConversationMode;
  moves: number;
  failedMoves: number;
  moveMs: Stats;
  interruptionMs: Stats;
  sent: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function stats(values: readonly number[]): Stats {
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { median: r(median(values)), p99: r(percentile(values, 99)) };
}

/** The monotonic time of the first event of a party matching `match` after index `from`. */
async function eventAt(party: Party, from: number, match: (e: Party['events'][number]) => boolean): Promise<number> {
  const event = await waitUntil(`${party.name}: event`, () => party.events.slice(from).find(match), 30_000);
  return event.at;
}

async function runPair(modeA: ConversationMode, modeB: ConversationMode): Promise<Row> {
  const lab = await LabNetwork.start({ modeA, modeB });
  let setup: ChatSetup | undefined;
  try {
    setup = await setUpChat(lab);
    const { laptop, desktop, bob, conversationId } = setup;
    const load = new ChatLoad(setup);
    load.start();
    await new Promise((r) => setTimeout(r, 300));
    const windows: Array<[number, number]> = [];
    const moveMs: number[] = [];
    let failedMoves = 0;
    const began = performance.now();
    let holder = laptop;
    for (let i = 0; i < MOVES && performance.now() - began < BUDGET_MS; i++) {
      const target = holder === laptop ? desktop : laptop;
      const sourceMark = holder.events.length;
      const targetMark = target.events.length;
      const started = performance.now();
      const transferId = await holder.agent.moveConversation(conversationId, instanceOf(target));
      const final = await holder.until('transferProgress', (p) => p.transferId === transferId && ['completed', 'declined', 'timed-out', 'failed'].includes(p.phase), 30_000);
      if (final.phase !== 'completed') {
        failedMoves++;
        continue;
      }
      const released = await eventAt(holder, sourceMark, (e) => e.type === 'transferProgress' && e.payload.transferId === transferId && e.payload.phase === 'completed');
      const joined = await eventAt(target, targetMark, (e) => e.type === 'transferProgress' && e.payload.role === 'target' && e.payload.phase === 'replaced');
      const finished = Math.max(released, joined);
      moveMs.push(finished - started);
      windows.push([started, finished]);
      holder = target;
      // Let the chat run between moves, as a user would (and give the source's BYE time to land).
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    load.stop();
    const alice = load.sent.filter((m) => m.sender === 'alice');
    await waitUntil(
      'the last messages',
      async () => deliveryReport(load.sent, await allMessages(holder, conversationId)).lost === 0 && deliveryReport(alice, await allMessages(bob, conversationId)).lost === 0,
      20_000,
    ).catch(() => undefined);

    const arrived = arrivals([laptop, desktop]);
    const during = (at: number): [number, number] | undefined => windows.find(([a, b]) => at >= a && at <= b);
    const outside: number[] = [];
    const worst = new Map<[number, number], number>();
    for (const s of load.sent) {
      if (s.sender !== 'bob') continue;
      const at = arrived.get(s.id);
      if (at === undefined) continue;
      const w = during(s.at);
      if (w) worst.set(w, Math.max(worst.get(w) ?? 0, at - s.at));
      else outside.push(at - s.at);
    }
    const base = median(outside);
    const interruptions = windows.map((w) => Math.max(0, (worst.get(w) ?? base) - base));
    const atBob = deliveryReport(alice, await allMessages(bob, conversationId));
    const atHolder = deliveryReport(load.sent, await allMessages(holder, conversationId));
    return {
      modeA,
      modeB,
      moves: moveMs.length,
      failedMoves,
      moveMs: stats(moveMs),
      interruptionMs: stats(interruptions),
      sent: load.sent.length,
      lost: atHolder.lost + atBob.lost,
      duplicated: atHolder.duplicated + atBob.duplicated,
      outOfOrder: atHolder.outOfOrder + atBob.outOfOrder,
    };
  } finally {
    if (setup) await Promise.allSettled([setup.laptop.close(), setup.desktop.close(), setup.bob.close()]);
    await lab.close();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const [a, b] of PAIRS) {
    process.stderr.write(`CS A ${a}, CS B ${b}: up to ${MOVES} moves…\n`);
    rows.push(await runPair(a, b));
  }
  const lines = [
    '| CS A | CS B | moves | move time median / p99 (ms) | interruption median / p99 (ms) | messages | lost | duplicated | out of order |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.modeA} | ${r.modeB} | ${r.moves}${r.failedMoves ? ` (+${r.failedMoves} failed)` : ''} | ${r.moveMs.median} / ${r.moveMs.p99} | ${r.interruptionMs.median} / ${r.interruptionMs.p99} | ${r.sent} | ${r.lost} | ${r.duplicated} | ${r.outOfOrder} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const result = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: Math.round(loadavg()[0]! * 100) / 100, movesPerPair: MOVES, rows };
  writeFileSync(join(dir, 'transfer.json'), `${JSON.stringify(result, null, 2)}\n`);
  const heading = `# Transfer bench (${result.date}, node ${result.node}, ${result.cpus} CPUs, load ${result.loadAverage})\n\nUp to ${MOVES} moves per pair, Laptop ⇄ Desktop, bob every 10 ms, alice every 25 ms.\n\n`;
  writeFileSync(join(dir, 'transfer.md'), `${heading}${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`transfer bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
