/**
 * MSRP benchmark: `npx tsx bench/msrp.bench.ts` (`ROUNDS=n` to change the number of rounds; `ONLY=directSmall,workerSmall`
 * to run some measurements only, e.g. under a profiler, which then writes no results file).
 *
 * Device to device on loopback: MSRP SEND throughput with 100-byte bodies (messages/s) and with 1 MiB
 * messages (chunks of 2 KiB doubling up to 256 KiB, the session default; MiB/s), directly between two device endpoints in one process, and through the
 * in-path Conversation Server relay (device → server leg → server leg → device), with the relay once in
 * the devices' thread (devices and relay in a worker of their own, so that their heap stays apart from the
 * thread that runs the other paths' devices) and once in a worker thread (the server is its own process in
 * production, so that is the fair comparison), beside a bare Node `net` echo as the ceiling. The paths are measured in
 * interleaved rounds, so that load from elsewhere on the machine hits them alike; medians after a warm-up.
 * Two ceilings for the relay, both in the same worker: a bare `net` relay (socket to socket, no MSRP: this thread →
 * worker → this thread, 100 B and 64 KiB writes), and the two devices talking MSRP end to end through a bare TCP
 * proxy there (a relay's two hops, none of its MSRP work: what a relay in that thread could do at best).
 * Where Linux tells a thread's CPU time (`/proc/thread-self/schedstat`), the runs also report the CPU per
 * message (100 B) and per MiB (1 MiB messages) of the thread that ran both devices (direct), of the devices'
 * thread and the relay's thread, and how long each waited for a CPU: figures that other load on the machine
 * hardly moves. With the pipeline full, the relay's rate on an idle machine approaches direct × (direct CPU ÷
 * the busier thread's CPU) when the two threads run side by side, and direct × (direct CPU ÷ their sum) when
 * they take turns.
 * On 2 CPUs the two busy threads of a relay run also wait behind V8's garbage-collector helper threads; to see
 * how much, compare with `node --single-threaded-gc --import tsx bench/msrp.bench.ts` (the flags of a run are
 * recorded in the results as `execArgv`).
 * Prints a markdown table and writes bench/results/msrp.json. (Session set-up time and the full CPM path
 * come with the DeviceAgent.)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MsrpEndpoint } from '../electron/device/chat/msrp/msrp-endpoint';
import type { MsrpSession } from '../protocol/msrp/msrp-session';
import { formatMsrpUri, parseMsrpUri } from '../protocol/msrp/msrp-uri';
import { MsrpRelay } from '../server/conversation/in-path/msrp/msrp-relay';
import { MsrpServerEndpoint } from '../server/conversation/in-path/msrp/msrp-server-endpoint';
import { applyConversationServerV8Flags } from '../server/conversation/v8-tuning';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
/** Measurement names to run (see `main`); all when unset. */
const ONLY = process.env.ONLY?.split(',').map((name) => name.trim()).filter((name) => name !== '');
const SMALL_COUNT = 50_000;
const SMALL_SIZE = 100;
/**
 * 1 MiB messages per round: 128 MiB, a fifth of a second or so. Shorter rounds (32 MiB were used until November
 * 2026) let one slow moment of a shared machine decide a round: the relay's ratio then ranged over 0.5–0.85 between
 * runs of the same code.
 */
const LARGE_COUNT = 128;
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

/**
 * Two device endpoints whose connection passes a TCP proxy (in the relay worker): the callee's URI names the
 * proxy's port, so the caller connects there, and the proxy joins it to the callee. MSRP end to end, a relay's
 * two hops, none of a relay's MSRP work: what an MSRP relay in that thread could do at best.
 */
async function proxiedPath(proxy: (to: number) => Promise<number>): Promise<Path> {
  const caller = new MsrpEndpoint();
  const callee = new MsrpEndpoint();
  await caller.listen();
  const { port } = await callee.listen();
  const a = caller.newLocalUri();
  const b = { ...callee.newLocalUri(), port: await proxy(port) };
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
type WorkerRequest =
  | { op: 'legs'; devices: [string, string] }
  | { op: 'bare' }
  | { op: 'proxy'; to: number }
  | { op: 'transfer'; count: number; size: number }
  | { op: 'cpu' }
  | { op: 'close' };
type WorkerAnswer =
  | { op: 'legs'; legs: [string, string] }
  | { op: 'transferred'; seconds: number }
  | { op: 'bare'; ports: [number, number] }
  | { op: 'proxy'; port: number }
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

/**
 * A bare `net` relay, the ceiling of any relay in this topology: what arrives on a connection to the first
 * port leaves, untouched, on the connection to the second (the receiver's), reading paused while that one
 * is full. Resolves with the two ports and a function that closes everything.
 */
async function bareRelay(): Promise<{ ports: [number, number]; close(): Promise<void> }> {
  let from: Socket | undefined;
  let to: Socket | undefined;
  const join = (): void => void (from && to && from.pipe(to));
  const servers = [
    createServer((s) => {
      s.setNoDelay(true);
      from = s;
      join();
    }),
    createServer((s) => {
      s.setNoDelay(true);
      to = s;
      join();
    }),
  ];
  const ports = await Promise.all(servers.map((server) => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)))));
  return {
    ports: [ports[0]!, ports[1]!],
    close: async () => {
      from?.destroy();
      to?.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((r) => server.close(() => r()))));
    },
  };
}

/**
 * A bare TCP proxy: each connection to its port is joined, byte for byte in both directions, to a new one to
 * `to`. Two MSRP devices talking through it pay for a relay's two hops and nothing of a relay's MSRP work.
 */
async function tcpProxy(to: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): Socket => {
    sockets.add(socket.setNoDelay(true));
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };
  const server = createServer((inner) => {
    const outer = track(connect(to, '127.0.0.1'));
    track(inner).pipe(outer).pipe(inner);
    const end = (): void => void (inner.destroy(), outer.destroy());
    inner.once('error', end).once('close', end);
    outer.once('error', end).once('close', end);
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The relay worker: a Conversation Server MSRP endpoint and relay in their own thread, a bare `net` relay and a TCP proxy. */
async function relayWorker(): Promise<void> {
  const port = parentPort!;
  const server = new MsrpServerEndpoint();
  await server.listen();
  let relay: MsrpRelay | undefined;
  let bare: Awaited<ReturnType<typeof bareRelay>> | undefined;
  let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
  port.on('message', (request: WorkerRequest) => {
    if (request.op === 'cpu') {
      port.postMessage({ op: 'cpu', cpu: threadCpu() } satisfies WorkerAnswer);
      return;
    }
    void (async () => {
      if (request.op === 'bare') {
        bare ??= await bareRelay();
        port.postMessage({ op: 'bare', ports: bare.ports } satisfies WorkerAnswer);
        return;
      }
      if (request.op === 'proxy') {
        proxy ??= await tcpProxy(request.to);
        port.postMessage({ op: 'proxy', port: proxy.port } satisfies WorkerAnswer);
        return;
      }
      if (request.op === 'close') {
        relay?.close();
        await bare?.close();
        await proxy?.close();
        await server.close();
        port.postMessage({ op: 'closed' } satisfies WorkerAnswer);
        port.close();
        return;
      }
      if (request.op !== 'legs') throw new Error(`the relay worker does not do ${request.op}`);
      const legs = request.devices.map((uri) => server.expectLeg({ remotePath: [parseMsrpUri(uri)] }));
      port.postMessage({ op: 'legs', legs: [formatMsrpUri(legs[0]!.session.localUri), formatMsrpUri(legs[1]!.session.localUri)] } satisfies WorkerAnswer);
      const [a, b] = await Promise.all(legs.map((l) => l.bound));
      relay = new MsrpRelay({ legA: a!, legB: b!, readControl: server });
      port.postMessage({ op: 'ready' } satisfies WorkerAnswer);
    })().catch((e: unknown) => port.postMessage({ op: 'error', message: String(e) } satisfies WorkerAnswer));
  });
}

/** The sender's and receiver's sockets of the bare relay in the worker thread. */
interface BarePath {
  sender: Socket;
  receiver: Socket;
}

/** What runs in a worker thread: the relay (and the ceilings), or the devices and a relay all in that thread. */
type WorkerRole = 'relay' | 'devices-and-relay';

/** Start this file in a worker thread in `role`; `next` resolves with its next answer (rejects on its errors). */
function startWorker(role: WorkerRole): { worker: Worker; next(): Promise<WorkerAnswer> } {
  // Workers do not inherit tsx's loader: register it in the worker, then load this file there.
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { role } satisfies { role: WorkerRole } });
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
  return { worker, next };
}

/**
 * The devices and the in-path relay all in one worker thread of their own, not in this thread, which runs the
 * other paths' devices: with this path here too, the devices' thread of the worker-relay runs needed 1.4–1.6
 * instead of ≈1.0 ms per MiB (November 2026; why is not settled). `transfer` runs `transfer()` there and
 * resolves with its seconds.
 */
async function inThreadRelayPath(): Promise<{ transfer(count: number, size: number): Promise<number>; close(): Promise<void> }> {
  const { worker, next } = startWorker('devices-and-relay');
  const ask = async (request: WorkerRequest): Promise<WorkerAnswer> => {
    const answer = next();
    worker.postMessage(request);
    return answer;
  };
  const ready = await next();
  if (ready.op !== 'ready') throw new Error(`unexpected ${ready.op} from the devices' worker`);
  return {
    transfer: async (count, size) => {
      const got = await ask({ op: 'transfer', count, size });
      if (got.op !== 'transferred') throw new Error(`unexpected ${got.op} from the devices' worker`);
      return got.seconds;
    },
    close: async () => {
      await ask({ op: 'close' });
      await worker.terminate();
    },
  };
}

/** The worker side of `inThreadRelayPath`. */
async function devicesAndRelayWorker(): Promise<void> {
  const port = parentPort!;
  const path = await relayPath();
  port.on('message', (request: WorkerRequest) => {
    void (async () => {
      if (request.op === 'transfer') {
        port.postMessage({ op: 'transferred', seconds: await transfer(path, request.count, request.size) } satisfies WorkerAnswer);
      } else if (request.op === 'close') {
        await path.close();
        port.postMessage({ op: 'closed' } satisfies WorkerAnswer);
        port.close();
      } else throw new Error(`the devices' worker does not do ${request.op}`);
    })().catch((e: unknown) => port.postMessage({ op: 'error', message: String(e) } satisfies WorkerAnswer));
  });
  port.postMessage({ op: 'ready' } satisfies WorkerAnswer);
}

/** Two devices in this thread connected to a relay in a worker thread, whose CPU time `relayCpu` tells. */
async function workerRelayPath(): Promise<Path & { relayCpu(): Promise<ThreadCpu | undefined>; bare(): Promise<BarePath>; proxy(to: number): Promise<number> }> {
  const { worker, next } = startWorker('relay');
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
    bare: async () => {
      const answer = next();
      worker.postMessage({ op: 'bare' } satisfies WorkerRequest);
      const got = await answer;
      if (got.op !== 'bare') throw new Error(`unexpected ${got.op} from the relay worker`);
      const connected = (port: number): Promise<Socket> =>
        new Promise((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => resolve(socket)).once('error', reject);
          socket.setNoDelay(true);
        });
      return { sender: await connected(got.ports[0]), receiver: await connected(got.ports[1]) };
    },
    proxy: async (to) => {
      const answer = next();
      worker.postMessage({ op: 'proxy', to } satisfies WorkerRequest);
      const got = await answer;
      if (got.op !== 'proxy') throw new Error(`unexpected ${got.op} from the relay worker`);
      return got.port;
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

/** Through the bare relay: writes `count` buffers of `size` bytes and waits for every byte at the receiver. */
async function bareRelayed(path: BarePath, count: number, size: number): Promise<number> {
  const buffer = Buffer.alloc(size, 0x61);
  let arrived = 0;
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => {
    const onData = (d: Buffer): void => {
      arrived += d.length;
      if (arrived < count * size) return;
      path.receiver.off('data', onData);
      resolve();
    };
    path.receiver.on('data', onData);
  });
  for (let i = 0; i < count; i++) {
    if (!path.sender.write(buffer)) await new Promise<void>((r) => path.sender.once('drain', () => r()));
  }
  await done;
  return (performance.now() - t0) / 1000;
}

/** Run `run`, adding to `samples` the CPU time a thread (read by `read`) spent meanwhile, when it can be read. */
async function withCpu(samples: ThreadCpu[], read: () => ThreadCpu | undefined | Promise<ThreadCpu | undefined>, run: () => Promise<number>): Promise<number> {
  const before = await read();
  const seconds = await run();
  const after = await read();
  if (measuring && before && after) samples.push({ runNs: after.runNs - before.runNs, waitNs: after.waitNs - before.waitNs });
  return seconds;
}

/** Median per message of CPU samples taken over `count` messages each (the warm-up's are not taken). */
function cpuPerMessage(rounds: readonly ThreadCpu[], count: number): ThreadCpu | undefined {
  if (rounds.length === 0) return undefined;
  return { runNs: median(rounds.map((c) => c.runNs)) / count, waitNs: median(rounds.map((c) => c.waitNs)) / count };
}

/** Whether runs are measured now (false during the warm-up). */
let measuring = false;

/**
 * Runs of each 1 MiB measurement in the warm-up (512 MiB). A relay path's first 1 MiB messages go up to three times
 * slower than its later ones, and it takes some 300–500 MiB to settle (November 2026, 32 MiB rounds: 0.13 s per round
 * at first, 0.03–0.04 s from about the fifteenth on; direct settles by its second round): what is measured is the
 * steady state, on every path alike.
 */
const LARGE_WARM_UP_RUNS = 4;

/**
 * Runs of each 1 MiB measurement per round: the 1 MiB paths take turns this many times in a round. A 1 MiB relay run's
 * ratio to the direct run beside it varies more from run to run (0.56–0.91 within one run of this bench, November
 * 2026) than a 100 B one's (0.69–0.78), so its median needs more samples.
 */
const LARGE_RUNS_PER_ROUND = 3;
/** Measured runs of each 1 MiB measurement. */
const LARGE_RUNS = ROUNDS * LARGE_RUNS_PER_ROUND;

/**
 * Warm up every measurement (once; the 1 MiB ones `LARGE_WARM_UP_RUNS` times), then run each once per round (the
 * 1 MiB ones `LARGE_RUNS_PER_ROUND` times, taking turns), interleaved; medians of the seconds.
 */
async function interleaved(runs: Record<string, () => Promise<number>>): Promise<{ medians: Record<string, number>; rounds: Record<string, number[]> }> {
  const samples: Record<string, number[]> = {};
  const selected = Object.entries(runs).filter(([name]) => !ONLY || ONLY.includes(name));
  if (selected.length === 0) throw new Error(`ONLY=${process.env.ONLY ?? ''} names none of ${Object.keys(runs).join(', ')}`);
  measuring = false;
  for (const [name, run] of selected) for (let i = name.endsWith('Large') ? LARGE_WARM_UP_RUNS : 1; i > 0; i--) await run();
  measuring = true;
  const small = selected.filter(([name]) => !name.endsWith('Large'));
  const large = selected.filter(([name]) => name.endsWith('Large'));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of small) (samples[name] ??= []).push(await run());
    for (let turn = 0; turn < LARGE_RUNS_PER_ROUND; turn++) for (const [name, run] of large) (samples[name] ??= []).push(await run());
  }
  return { medians: Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)])), rounds: samples };
}

/**
 * The median over rounds of `path`'s rate ÷ `reference`'s in the same round (each round runs them back to back):
 * a paired comparison, which a machine that is slower for a while (a shared VM, another process) moves far less
 * than the ratio of the two medians.
 */
function pairedRatio(rounds: Record<string, number[]>, path: string, reference: string): number {
  const a = rounds[path];
  const b = rounds[reference];
  if (!a || !b || a.length !== b.length) return NaN;
  return median(a.map((seconds, i) => b[i]! / seconds));
}

async function main(): Promise<void> {
  // The relay worker stands for the Conversation Server process, which runs with these V8 flags; V8 flags hold for
  // the whole process, so every path's devices run with them too, alike.
  applyConversationServerV8Flags();
  const small = `${SMALL_COUNT} × ${SMALL_SIZE} B, median of ${ROUNDS}`;
  const large = `${LARGE_COUNT} × 1 MiB (chunks 2 KiB doubling to 256 KiB), median of ${LARGE_RUNS}`;
  const load = loadavg()[0]!;
  const direct = await directPath();
  const inThread = await inThreadRelayPath();
  const inWorker = await workerRelayPath();
  const bare = await inWorker.bare();
  const proxied = await proxiedPath((to) => inWorker.proxy(to));
  /** CPU samples per measurement: the devices' (this) thread, and the relay worker's when it has one. */
  const cpu: Record<string, { devices: ThreadCpu[]; relay: ThreadCpu[] }> = {};
  const sampled = (name: string, withRelay: boolean, run: () => Promise<number>): (() => Promise<number>) => {
    const samples = (cpu[name] = { devices: [], relay: [] });
    return () => withCpu(samples.devices, threadCpu, withRelay ? () => withCpu(samples.relay, () => inWorker.relayCpu(), run) : run);
  };
  let t: Record<string, number>;
  let rounds: Record<string, number[]>;
  try {
    ({ medians: t, rounds } = await interleaved({
      echoSmall: () => echo(SMALL_COUNT, SMALL_SIZE),
      echoLarge: () => echo(LARGE_COUNT * 16, 64 * 1024),
      bareSmall: sampled('bareSmall', true, () => bareRelayed(bare, SMALL_COUNT, SMALL_SIZE)),
      bareLarge: sampled('bareLarge', true, () => bareRelayed(bare, LARGE_COUNT * 16, 64 * 1024)),
      directSmall: sampled('directSmall', false, () => transfer(direct, SMALL_COUNT, SMALL_SIZE)),
      threadSmall: () => inThread.transfer(SMALL_COUNT, SMALL_SIZE),
      workerSmall: sampled('workerSmall', true, () => transfer(inWorker, SMALL_COUNT, SMALL_SIZE)),
      directLarge: sampled('directLarge', false, () => transfer(direct, LARGE_COUNT, LARGE_SIZE)),
      threadLarge: () => inThread.transfer(LARGE_COUNT, LARGE_SIZE),
      workerLarge: sampled('workerLarge', true, () => transfer(inWorker, LARGE_COUNT, LARGE_SIZE)),
      proxySmall: sampled('proxySmall', true, () => transfer(proxied, SMALL_COUNT, SMALL_SIZE)),
      proxyLarge: sampled('proxyLarge', true, () => transfer(proxied, LARGE_COUNT, LARGE_SIZE)),
    }));
  } finally {
    bare.sender.destroy();
    bare.receiver.destroy();
    await Promise.all([direct.close(), proxied.close()]);
    await Promise.all([inWorker.close(), inThread.close()]);
  }
  const perSecond = (count: number, seconds: number | undefined): number => count / (seconds ?? NaN);
  const directSmall = perSecond(SMALL_COUNT, t.directSmall);
  const directLarge = perSecond(LARGE_COUNT, t.directLarge);
  const echoLarge = perSecond(LARGE_COUNT, t.echoLarge);
  const bareSmall = perSecond(SMALL_COUNT, t.bareSmall);
  const bareLarge = perSecond(LARGE_COUNT, t.bareLarge);
  const rows: Row[] = [
    { name: 'net echo (ceiling), 100 B writes', value: Math.round(perSecond(SMALL_COUNT, t.echoSmall)), unit: 'writes/s', detail: `${SMALL_COUNT} writes echoed, median of ${ROUNDS}` },
    { name: 'net echo (ceiling), 64 KiB writes', value: round1(echoLarge), unit: 'MiB/s', detail: `${LARGE_COUNT} MiB echoed, median of ${LARGE_RUNS}` },
    {
      name: 'net relay in a worker thread (a relay\'s ceiling), 100 B writes',
      value: Math.round(bareSmall),
      unit: 'writes/s',
      detail: `${SMALL_COUNT} writes from this thread through a socket-to-socket pass-through in the worker back to this thread (the relay's two hops), median of ${ROUNDS}`,
    },
    {
      name: 'net relay in a worker thread (a relay\'s ceiling), 64 KiB writes',
      value: round1(bareLarge),
      unit: 'MiB/s',
      detail: `${LARGE_COUNT} MiB the same way; ${ratio(bareLarge, echoLarge)} of the net echo, ${ratio(bareLarge, directLarge)} of MSRP direct with 1 MiB messages; median of ${LARGE_RUNS}`,
    },
    { name: 'MSRP direct, 100 B SEND', value: Math.round(directSmall), unit: 'msg/s', detail: small },
    { name: 'MSRP direct, 1 MiB messages', value: round1(directLarge), unit: 'MiB/s', detail: large },
  ];
  const ratios: Record<string, number> = {};
  for (const [key, label] of [
    ['worker', 'relay in a worker thread'],
    ['thread', 'relay in the devices\' thread'],
    ['proxy', 'bare TCP proxy in a worker thread (the relay\'s ceiling)'],
  ] as const) {
    const s = perSecond(SMALL_COUNT, t[`${key}Small`]);
    const l = perSecond(LARGE_COUNT, t[`${key}Large`]);
    ratios[`${key}Small`] = pairedRatio(rounds, `${key}Small`, 'directSmall');
    ratios[`${key}Large`] = pairedRatio(rounds, `${key}Large`, 'directLarge');
    const of = (size: 'Small' | 'Large', rate: number, direct: number): string =>
      `${ratios[`${key}${size}`]!.toFixed(2)}× of direct (the median of each round's ratio; ${ratio(rate, direct)} between the medians)`;
    rows.push({ name: `MSRP through the ${label}, 100 B SEND`, value: Math.round(s), unit: 'msg/s', detail: `${small}; ${of('Small', s, directSmall)}` });
    rows.push({ name: `MSRP through the ${label}, 1 MiB messages`, value: round1(l), unit: 'MiB/s', detail: `${large}; ${of('Large', l, directLarge)}` });
  }
  rows.push(...cpuRows(cpu));
  const table = ['| measurement | value | unit | detail |', '| --- | ---: | --- | --- |', ...rows.filter((r) => Number.isFinite(r.value)).map((r) => `| ${r.name} | ${r.value} | ${r.unit} | ${r.detail} |`)].join('\n');
  console.log(table);
  console.log(`\n1-minute load average at the start: ${load.toFixed(1)} on ${cpus().length} CPUs`);
  if (ONLY) return;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    execArgv: process.execArgv,
    cpus: cpus().length,
    loadAverage: load,
    rounds: ROUNDS,
    largeRuns: LARGE_RUNS,
    rows,
    relayRatios: { ...ratios, target: 0.7 },
  };
  writeFileSync(join(out, 'msrp.json'), `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * The CPU rows: per 100 B message and per MiB, each thread's time on a CPU (and waiting for one). Two bounds
 * follow for the relay ÷ direct ratio: direct CPU ÷ the busier thread's, what it approaches when the relay's
 * thread and the devices' thread run side by side on the two CPUs, and direct CPU ÷ the two threads' sum,
 * what it is when they take turns on one CPU.
 */
function cpuRows(cpu: Record<string, { devices: ThreadCpu[]; relay: ThreadCpu[] }>): Row[] {
  const rows: Row[] = [];
  const per = (name: string, side: 'devices' | 'relay', count: number): ThreadCpu | undefined => {
    const samples = cpu[name]?.[side];
    return samples ? cpuPerMessage(samples, count) : undefined;
  };
  const sizes = [
    { key: 'Small', count: SMALL_COUNT, unit: 'µs/msg', scale: 1e3, what: '100 B SEND', bare: '100 B writes', runs: ROUNDS },
    { key: 'Large', count: LARGE_COUNT, unit: 'ms/MiB', scale: 1e6, what: '1 MiB messages', bare: '64 KiB writes', runs: LARGE_RUNS },
  ] as const;
  for (const size of sizes) {
    const fmt = (ns: number): number => Math.round((ns / size.scale) * 1000) / 1000;
    const direct = per(`direct${size.key}`, 'devices', size.count);
    const bareDevices = per(`bare${size.key}`, 'devices', size.count);
    const bareRelay = per(`bare${size.key}`, 'relay', size.count);
    if (direct) {
      rows.push({
        name: `MSRP direct, ${size.what}: CPU of the devices' thread`,
        value: fmt(direct.runNs),
        unit: size.unit,
        detail: `sender and receiver in one thread; waited ${fmt(direct.waitNs)} ${size.unit} for a CPU; median of ${size.runs}`,
      });
    }
    for (const [key, label] of [
      ['worker', 'the relay in a worker thread'],
      ['proxy', 'the bare TCP proxy in a worker thread'],
    ] as const) {
      const devices = per(`${key}${size.key}`, 'devices', size.count);
      const relay = per(`${key}${size.key}`, 'relay', size.count);
      if (!direct || !devices || !relay) continue;
      rows.push({
        name: `MSRP through ${label}, ${size.what}: CPU of the ${key === 'worker' ? 'relay' : 'proxy'} thread`,
        value: fmt(relay.runNs),
        unit: size.unit,
        detail:
          `waited ${fmt(relay.waitNs)} ${size.unit} for a CPU; the devices' thread meanwhile ${fmt(devices.runNs)} ${size.unit} (waited ${fmt(devices.waitNs)}); ` +
          `direct CPU ÷ the busier thread's ${(direct.runNs / Math.max(relay.runNs, devices.runNs)).toFixed(2)} (the relay ÷ direct ratio when both threads run side by side), ` +
          `÷ their sum ${(direct.runNs / (relay.runNs + devices.runNs)).toFixed(2)} (when they take turns); median of ${size.runs}`,
      });
    }
    if (bareDevices && bareRelay) {
      // Counted like the MSRP runs: per 100 B write, and per MiB (16 writes of 64 KiB).
      const unit = size.unit.replace('msg', 'write');
      rows.push({
        name: `net relay in a worker thread, ${size.bare}: CPU of the relay thread`,
        value: fmt(bareRelay.runNs),
        unit,
        detail: `waited ${fmt(bareRelay.waitNs)} ${unit} for a CPU; the sending and receiving thread meanwhile ${fmt(bareDevices.runNs)} ${unit} (waited ${fmt(bareDevices.waitNs)}); median of ${size.runs}`,
      });
    }
  }
  return rows;
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
} else if ((workerData as { role?: WorkerRole } | undefined)?.role === 'devices-and-relay') {
  void devicesAndRelayWorker();
} else {
  void relayWorker();
}
