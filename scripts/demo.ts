/**
 * `npm run demo [-- --mode-a proxy|in-path] [--mode-b proxy|in-path] [--delay-ms N]`: the move, live.
 *
 * Starts the lab (two domains on loopback), alice on Laptop and Desktop (auto-accept on), bob on one device;
 * bob sends every 10 ms and Laptop every 25 ms while the chat is moved Laptop → Desktop. Prints the ladder of
 * the move from the lab's SIP trace, each row numbered against the seed's steps (flow 1 when Conversation
 * Server A is in-path, flow 2 otherwise), and, last, one JSON line:
 * `{"modeA","modeB","transferMs","interruptionMs","sent","received","lost","duplicated","outOfOrder"}`.
 *
 * transferMs: the move command → the target's session up and the source released. interruptionMs: the
 * largest delivery delay of bob's messages sent during the move minus the median delay outside it.
 * `received` counts the messages the device that ends up with the conversation holds, once each.
 */
import { performance } from 'node:perf_hooks';
import { isConversationMode, type ConversationMode } from '../server/conversation/conversation-mode';
import { LabNetwork } from '../server/lab/lab-network';
import { flowOfModes, matchFlow, numberLadder, type FlowElements } from '../electron/device/testing/seed-flows';
import {
  allMessages,
  arrivals,
  ChatLoad,
  deliveryReport,
  instanceOf,
  interruptionMs,
  setUpChat,
  waitUntil,
  type ChatSetup,
} from '../electron/device/testing/transfer-scenario';

/** The demo's command line. */
export interface DemoOptions {
  modeA: ConversationMode;
  modeB: ConversationMode;
  delayMs: number;
}

const USAGE = 'usage: npm run demo -- [--mode-a proxy|in-path] [--mode-b proxy|in-path] [--delay-ms <ms>]';

/** Parse the demo's arguments; throws an Error with the usage on bad input. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const options: DemoOptions = { modeA: 'proxy', modeB: 'proxy', delayMs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value\n${USAGE}`);
    i++;
    if (arg === '--mode-a' || arg === '--mode-b') {
      if (!isConversationMode(value)) throw new Error(`${arg} must be proxy or in-path (got ${JSON.stringify(value)})\n${USAGE}`);
      if (arg === '--mode-a') options.modeA = value;
      else options.modeB = value;
    } else if (arg === '--delay-ms') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 5_000) throw new Error(`--delay-ms must be an integer from 0 to 5000\n${USAGE}`);
      options.delayMs = n;
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return options;
}

const ELEMENTS: FlowElements = { source: 'Laptop', target: 'Desktop', far: 'Bob', coreA: 'core A', csA: 'CS A', coreB: 'core B', csB: 'CS B' };
const COLUMNS = ['Laptop', 'Desktop', 'core A', 'CS A', 'core B', 'CS B', 'Bob'];

async function main(options: DemoOptions): Promise<void> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const lab = await LabNetwork.start({ modeA: options.modeA, modeB: options.modeB, ...(options.delayMs ? { delayMs: options.delayMs } : {}) });
  let setup: ChatSetup | undefined;
  try {
    say(`lab up: CS A ${options.modeA}, CS B ${options.modeB}${options.delayMs ? `, ${options.delayMs} ms per hop` : ''}`);
    setup = await setUpChat(lab);
    const { laptop, desktop, bob, conversationId } = setup;
    say(`alice on Laptop and Desktop, bob on one device; Laptop and bob are chatting (${conversationId})`);
    const load = new ChatLoad(setup);
    load.start();
    await new Promise((r) => setTimeout(r, 500));

    lab.trace.clear();
    lab.trace.enable();
    const started = performance.now();
    say('moving the chat Laptop → Desktop …');
    const transferId = await laptop.agent.moveConversation(conversationId, instanceOf(desktop));
    const final = await laptop.until('transferProgress', (p) => p.transferId === transferId && ['completed', 'declined', 'timed-out', 'failed'].includes(p.phase), 30_000);
    const released = laptop.events.find((e) => e.type === 'transferProgress' && e.payload.transferId === transferId && e.payload.phase === final.phase)!.at;
    if (final.phase !== 'completed') throw new Error(`the move did not complete: ${final.description ?? final.phase}`);
    await desktop.until('transferProgress', (p) => p.role === 'target' && p.phase === 'replaced', 30_000);
    const joined = desktop.events.find((e) => e.type === 'transferProgress' && e.payload.role === 'target' && e.payload.phase === 'replaced')!.at;
    const finished = Math.max(released, joined);
    await new Promise((r) => setTimeout(r, 500));
    load.stop();
    // Let the last messages land and the target's history catch up with the Message Store.
    const alice = load.sent.filter((m) => m.sender === 'alice');
    await waitUntil(
      'the last messages',
      async () => deliveryReport(load.sent, await allMessages(desktop, conversationId)).lost === 0 && deliveryReport(alice, await allMessages(bob, conversationId)).lost === 0,
      15_000,
    ).catch(() => undefined);
    lab.trace.disable();

    const hops = lab.trace.hops().filter((h) => COLUMNS.includes(h.from) && COLUMNS.includes(h.to));
    const match = matchFlow(hops, ELEMENTS, flowOfModes(options.modeA, options.modeB).chains);
    say('');
    say(`the move, as the lab traced it (seed flow ${options.modeA === 'in-path' ? 1 : 2}; unnumbered rows: 100 Trying, 180 Ringing, ACK, relayed media legs):`);
    say(numberLadder(lab.trace.ladder({ elements: COLUMNS }), hops, match).trimEnd());
    for (const problem of match.problems) say(`note: ${problem}`);
    say('');

    const atBob = deliveryReport(alice, await allMessages(bob, conversationId));
    const atDesktop = deliveryReport(load.sent, await allMessages(desktop, conversationId));
    say(`bob received ${atBob.received}/${atBob.sent} of alice's messages; Desktop holds ${atDesktop.received}/${atDesktop.sent} of all messages`);
    const result = {
      modeA: options.modeA,
      modeB: options.modeB,
      transferMs: round(finished - started),
      interruptionMs: round(interruptionMs(load.sent, arrivals([laptop, desktop]), started, finished)),
      sent: atDesktop.sent,
      received: atDesktop.received,
      lost: atDesktop.lost + atBob.lost,
      duplicated: atDesktop.duplicated + atBob.duplicated,
      outOfOrder: atDesktop.outOfOrder + atBob.outOfOrder,
    };
    say(JSON.stringify(result));
  } finally {
    if (setup) await Promise.allSettled([setup.laptop.close(), setup.desktop.close(), setup.bob.close()]);
    await lab.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

const invokedDirectly = process.argv[1] !== undefined && /demo\.[cm]?[jt]s$/.test(process.argv[1]);
if (invokedDirectly) {
  let options: DemoOptions;
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  main(options).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
