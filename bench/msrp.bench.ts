/**
 * MSRP benchmark: `npx tsx bench/msrp.bench.ts` (`ROUNDS=n` to change the number of rounds; `ONLY=directSmall,workerSmall`
 * to run some measurements only, e.g. under a profiler, which then writes no results file).
 *
 * Device to device on loopback: MSRP SEND throughput with 100-byte bodies (messages/s) and with 1 MiB
 * messages (chunks of 2 KiB doubling up to 256 KiB, the session default; MiB/s), directly between two device endpoints in one process, and through the
 * in-path Conversation Server relay (device → server leg → server leg → device), with the relay once in
 * the devices' thread and once in a worker thread (the server is its own process in production, so that
 * is the fair comparison), beside a bare Node `net` echo as the ceiling. The paths are measured in
 * interleaved rounds, so that load from elsewhere on the machine hits them alike; medians after a warm-up.
 * Where Linux tells a thread's CPU time (`/proc/thread-self/schedstat`), the 100 B runs also report the CPU
 * per message of the thread that ran both devices (direct) and of the relay's thread, and how long the relay
 * thread waited for a CPU: figures that other load on the machine hardly moves. With the pipeline full, the
 * relay's rate on an idle machine approaches direct × (direct CPU ÷ relay CPU) per message.
 * Prints a markdown table and writes bench/results/msrp.json. (Session set-up time and the full CPM path
 * come with the DeviceAgent.)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MsrpEndpoint } from '../electron/device/chat/msrp/msrp-endpoint';
import type { MsrpSession } from '../protocol/msrp/msrp-session';
import { formatMsrpUri, parseMsrpUri } from '../protocol/msrp/msrp-uri';
import { MsrpRelay } from '../server/conversation/in-path/msrp/msrp-relay';
import { MsrpServerEndpoint } from '../server/conversation/in-path/msrp/msrp-server-endpoint';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
/** Measurement names to run (see `main`); all when unset. */
const ONLY = process.env.ONLY?.split(',').map((name) => name.trim()).filter((name) => name !== '');
const SMALL_COUNT = 50_000;
const SMALL_SIZE = 100;
const LARGE_COUNT = 32;
const LARGE_SIZE = 1024 * 1024;
const MIB = 1024 * 1024;

interface Row {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

interface Path {
  sender: MsrpSession;
  receiver: MsrpSession;
  close(): Promise<void>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Two device endpoints, the caller connecting to the callee (proxy mode's direct path). */
async function directPath(): Promise<Path> {
  const caller = new MsrpEndpoint();
  const callee = new MsrpEndpoint();
  await caller.listen();
  await callee.listen();
  const a = caller.newLocalUri();
  const b = callee.newLocalUri();
  const [receiver, sender] = await Promise.all([
    callee.openSession({ localUri: b, remotePath: [a], setup: 'passive' }),
    caller.openSession({ localUri: a, remotePath: [b], setup: 'active' }),
  ]);
  return { sender, receiver, close: async () => void (await Promise.all([caller.close(), callee.close()])) };
}

/** Two devices connected to an in-path server that relays between its two legs. */
async function relayPath(): Promise<Path & { relay: MsrpRelay }> {
  const server = new MsrpServerEndpoint();
  await server.listen();
  const devices = [new MsrpEndpoint(), new MsrpEndpoint()];
  const legs = await Promise.all(
    devices.map(async (device) => {
      await device.listen();
      const uri = device.newLocalUri();
      const leg = server.expectLeg({ remotePath: [uri] });
      const session = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
      await leg.bound;
      return { device: session, server: leg.session };
    }),
  );
  const [a, b] = legs as [(typeof legs)[0], (typeof legs)[0]];
  const relay = new MsrpRelay({ legA: a.server, legB: b.server, readControl: server });
  return {
    sender: a.device,
    receiver: b.device,
    relay,
    close: async () => {
      relay.close();
      await Promise.all([server.close(), ...devices.map((d) => d.close())]);
    },
  };
}

/** Requests from the main thread to the relay worker, and its answers. */
type WorkerRequest = { op: 'legs'; devices: [string, string] } | { op: 'cpu' } | { op: 'close' };
type WorkerAnswer =
  | { op: 'legs'; legs: [string, string] }
  | { op: 'ready' }
  | { op: 'cpu'; cpu: ThreadCpu | undefined }
  | { op: 'closed' }
  | { op: 'error'; message: string };

/** The calling thread's time on a CPU and waiting for one, in ns (Linux `schedstat`); undefined elsewhere. */
interface ThreadCpu {
  runNs: number;
  waitNs: number;
}

function threadCpu(): ThreadCpu | undefined {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait) ? undefined : { runNs: run, waitNs: wait };
  } catch {
    return undefined;
  }
}

/** The relay worker: a Conversation Server MSRP endpoint and relay in their own thread. */
async function relayWorker(): Promise<void> {
  const port = parentPort!;
  const server = new MsrpServerEndpoint();
  await server.listen();
  let relay: MsrpRelay | undefined;
  port.on('message', (request: WorkerRequest) => {
    if (request.op === 'cpu') {
      port.postMessage({ op: 'cpu', cpu: threadCpu() } satisfies WorkerAnswer);
      return;
    }
    void (async () => {
      if (request.op === 'close') {
        relay?.close();
        await server.close();
        port.postMessage({ op: 'closed' } satisfies WorkerAnswer);
        port.close();
        return;
      }
      const legs = request.devices.map((uri) => server.expectLeg({ remotePath: [parseMsrpUri(uri)] }));
      port.postMessage({ op: 'legs', legs: [formatMsrpUri(legs[0]!.session.localUri), formatMsrpUri(legs[1]!.session.localUri)] } satisfies WorkerAnswer);
      const [a, b] = await Promise.all(legs.map((l) => l.bound));
      relay = new MsrpRelay({ legA: a!, legB: b!, readControl: server });
      port.postMessage({ op: 'ready' } satisfies WorkerAnswer);
    })().catch((e: unknown) => port.postMessage({ op: 'error', message: String(e) } satisfies WorkerAnswer));
  });
}

/** Two devices in this thread connected to a relay in a worker thread, whose CPU time `relayCpu` tells. */
async function workerRelayPath(): Promise<Path & { relayCpu(): Promise<ThreadCpu | undefined> }> {
  // Workers do not inherit tsx's loader: register it in the worker, then load this file there.
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true });
  const next = (): Promise<WorkerAnswer> =>
    new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        worker.off('message', onMessage);
        reject(error);
      };
      const onMessage = (answer: WorkerAnswer): void => {
        worker.off('error', onError);
        if (answer.op === 'error') reject(new Error(answer.message));
        else resolve(answer);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
  const devices = [new MsrpEndpoint(), new MsrpEndpoint()] as const;
  await Promise.all(devices.map((d) => d.listen()));
  const uris = devices.map((d) => d.newLocalUri());
  const legsAnswer = next();
  worker.postMessage({ op: 'legs', devices: [formatMsrpUri(uris[0]!), formatMsrpUri(uris[1]!)] } satisfies WorkerRequest);
  const answer = await legsAnswer;
  if (answer.op !== 'legs') throw new Error(`unexpected ${answer.op} from the relay worker`);
  const ready = next();
  const [sender, receiver] = await Promise.all(
    devices.map((d, i) => d.openSession({ localUri: uris[i]!, remotePath: [parseMsrpUri(answer.legs[i]!)], setup: 'active' })),
  );
  await ready;
  return {
    sender: sender!,
    receiver: receiver!,
    relayCpu: async () => {
      const answer = next();
      worker.postMessage({ op: 'cpu' } satisfies WorkerRequest);
      const got = await answer;
      return got.op === 'cpu' ? got.cpu : undefined;
    },
    close: async () => {
      const closed = next();
      worker.postMessage({ op: 'close' } satisfies WorkerRequest);
      await closed;
      await Promise.all(devices.map((d) => d.close()));
      await worker.terminate();
    },
  };
}

/** Send `count` messages of `size` bytes, honouring back-pressure; resolves with the seconds until all arrived. */
async function transfer(path: Path, count: number, size: number): Promise<number> {
  const body = new Uint8Array(size).fill(0x61);
  let arrived = 0;
  let bytes = 0;
  const t0 = performance.now();
  const all = new Promise<void>((resolve) => {
    const onMessage = (m: { body: Uint8Array }): void => {
      arrived++;
      bytes += m.body.length;
      if (arrived === count) {
        path.receiver.off('message', onMessage);
        resolve();
      }
    };
    path.receiver.on('message', onMessage);
  });
  for (let i = 0; i < count; i++) {
    if (path.sender.needsDrain) await new Promise<void>((r) => path.sender.once('drain', r));
    path.sender.send(body, 'text/plain');
  }
  await all;
  if (bytes !== count * size) throw new Error(`received ${bytes} bytes, expected ${count * size}`);
  return (performance.now() - t0) / 1000;
}

/** The ceiling: a bare `net` echo. Writes `count` buffers of `size` bytes and waits for every byte back. */
async function echo(count: number, size: number): Promise<number> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const buffer = Buffer.alloc(size, 0x61);
  let back = 0;
  const t0 = performance.now();
  const done = new Promise<void>((resolve) =>
    socket.on('data', (d) => {
      back += d.length;
      if (back >= count * size) resolve();
    }),
  );
  for (let i = 0; i < count; i++) {
    if (!socket.write(buffer)) await new Promise<void>((r) => socket.once('drain', () => r()));
  }
  await done;
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return seconds;
}

/** Run `run`, adding to `samples` the CPU time a thread (read by `read`) spent meanwhile, when it can be read. */
async function withCpu(samples: ThreadCpu[], read: () => ThreadCpu | undefined | Promise<ThreadCpu | undefined>, run: () => Promise<number>): Promise<number> {
  const before = await read();
  const seconds = await run();
  const after = await read();
  if (before && after) samples.push({ runNs: after.runNs - before.runNs, waitNs: after.waitNs - before.waitNs });
  return seconds;
}

/** Median per message of CPU samples taken over `count` messages each, leaving out the warm-up round's. */
function cpuPerMessage(samples: readonly ThreadCpu[], count: number): ThreadCpu | undefined {
  const rounds = samples.slice(1);
  if (rounds.length === 0) return undefined;
  return { runNs: median(rounds.map((c) => c.runNs)) / count, waitNs: median(rounds.map((c) => c.waitNs)) / count };
}

/** Run every measurement once per round, interleaved, after one warm-up round; medians of the seconds. */
async function interleaved(runs: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  const selected = Object.entries(runs).filter(([name]) => !ONLY || ONLY.includes(name));
  if (selected.length === 0) throw new Error(`ONLY=${process.env.ONLY ?? ''} names none of ${Object.keys(runs).join(', ')}`);
  for (let round = -1; round < ROUNDS; round++) {
    for (const [name, run] of selected) {
      const seconds = await run();
      if (round >= 0) (samples[name] ??= []).push(seconds);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
}

async function main(): Promise<void> {
  const small = `${SMALL_COUNT} × ${SMALL_SIZE} B, median of ${ROUNDS}`;
  const large = `${LARGE_COUNT} × 1 MiB (chunks 2 KiB doubling to 256 KiB), median of ${ROUNDS}`;
  const load = loadavg()[0]!;
  const direct = await directPath();
  const inThread = await relayPath();
  const inWorker = await workerRelayPath();
  const directCpu: ThreadCpu[] = [];
  const relayCpu: ThreadCpu[] = [];
  const devicesCpu: ThreadCpu[] = [];
  let t: Record<string, number>;
  try {
    t = await interleaved({
      echoSmall: () => echo(SMALL_COUNT, SMALL_SIZE),
      echoLarge: () => echo(LARGE_COUNT * 16, 64 * 1024),
      directSmall: () => withCpu(directCpu, threadCpu, () => transfer(direct, SMALL_COUNT, SMALL_SIZE)),
      threadSmall: () => transfer(inThread, SMALL_COUNT, SMALL_SIZE),
      workerSmall: () => withCpu(devicesCpu, threadCpu, () => withCpu(relayCpu, () => inWorker.relayCpu(), () => transfer(inWorker, SMALL_COUNT, SMALL_SIZE))),
      directLarge: () => transfer(direct, LARGE_COUNT, LARGE_SIZE),
      threadLarge: () => transfer(inThread, LARGE_COUNT, LARGE_SIZE),
      workerLarge: () => transfer(inWorker, LARGE_COUNT, LARGE_SIZE),
    });
  } finally {
    await Promise.all([direct.close(), inThread.close(), inWorker.close()]);
  }
  const perSecond = (count: number, seconds: number | undefined): number => count / (seconds ?? NaN);
  const directSmall = perSecond(SMALL_COUNT, t.directSmall);
  const directLarge = perSecond(LARGE_COUNT, t.directLarge);
  const rows: Row[] = [
    { name: 'net echo (ceiling), 100 B writes', value: Math.round(perSecond(SMALL_COUNT, t.echoSmall)), unit: 'writes/s', detail: `${SMALL_COUNT} writes echoed, median of ${ROUNDS}` },
    { name: 'net echo (ceiling), 64 KiB writes', value: round1(perSecond(LARGE_COUNT, t.echoLarge)), unit: 'MiB/s', detail: `${LARGE_COUNT} MiB echoed, median of ${ROUNDS}` },
    { name: 'MSRP direct, 100 B SEND', value: Math.round(directSmall), unit: 'msg/s', detail: small },
    { name: 'MSRP direct, 1 MiB messages', value: round1(directLarge), unit: 'MiB/s', detail: large },
  ];
  const ratios: Record<string, number> = {};
  for (const [key, label] of [['worker', 'relay in a worker thread'], ['thread', 'relay in the devices\' thread']] as const) {
    const s = perSecond(SMALL_COUNT, t[`${key}Small`]);
    const l = perSecond(LARGE_COUNT, t[`${key}Large`]);
    ratios[`${key}Small`] = s / directSmall;
    ratios[`${key}Large`] = l / directLarge;
    rows.push({ name: `MSRP through the ${label}, 100 B SEND`, value: Math.round(s), unit: 'msg/s', detail: `${small}; ${ratio(s, directSmall)} of direct` });
    rows.push({ name: `MSRP through the ${label}, 1 MiB messages`, value: round1(l), unit: 'MiB/s', detail: `${large}; ${ratio(l, directLarge)} of direct` });
  }

  const directThread = cpuPerMessage(directCpu, SMALL_COUNT);
  const relayThread = cpuPerMessage(relayCpu, SMALL_COUNT);
  const devicesThread = cpuPerMessage(devicesCpu, SMALL_COUNT);
  if (directThread && relayThread && devicesThread) {
    const us = (ns: number): number => Math.round(ns / 10) / 100;
    rows.push({
      name: 'MSRP direct, 100 B SEND: CPU of the devices\' thread',
      value: us(directThread.runNs),
      unit: 'µs/msg',
      detail: `sender and receiver in one thread; waited ${us(directThread.waitNs)} µs/msg for a CPU; median of ${ROUNDS}`,
    });
    rows.push({
      name: 'MSRP through the relay in a worker thread, 100 B SEND: CPU of the relay thread',
      value: us(relayThread.runNs),
      unit: 'µs/msg',
      detail:
        `waited ${us(relayThread.waitNs)} µs/msg for a CPU; the devices' thread meanwhile ${us(devicesThread.runNs)} µs/msg; ` +
        `direct CPU ÷ the busier thread's ${(directThread.runNs / Math.max(relayThread.runNs, devicesThread.runNs)).toFixed(2)} ` +
        `(what the relay ÷ direct ratio approaches on an idle machine when the pipeline stays full); median of ${ROUNDS}`,
    });
  }
  const table = ['| measurement | value | unit | detail |', '| --- | ---: | --- | --- |', ...rows.filter((r) => Number.isFinite(r.value)).map((r) => `| ${r.name} | ${r.value} | ${r.unit} | ${r.detail} |`)].join('\n');
  console.log(table);
  console.log(`\n1-minute load average at the start: ${load.toFixed(1)} on ${cpus().length} CPUs`);
  if (ONLY) return;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  const result = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: load, rounds: ROUNDS, rows, relayRatios: { ...ratios, target: 0.7 } };
  writeFileSync(join(out, 'msrp.json'), `${JSON.stringify(result, null, 2)}\n`);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  void relayWorker();
}
