/**
 * Running SIPp (Debian `sip-tester`, /usr/bin/sipp) from tests and benchmarks: one {@link SippProcess} per SIPp,
 * started with every file it writes (statistics, errors) in a work directory, ended by the caller or by its own
 * `-timeout`, and all of them killable at once by {@link stopAllSipp} (a test's afterAll).
 *
 * A SippProcess is a small state machine:
 *
 *     start() ──> running ──(SIPp exits)──────────> exited
 *                    │                                 ^
 *                    └──(stop(): SIGTERM, then KILL)───┘
 *
 * `done` resolves once, when it has exited, with the exit code, the final statistics and the start of the error
 * log; it never rejects (a SIPp that could not start resolves with `exitCode: null` and the reason in `errors`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { creationSeconds, parseSippStats, type SippStats } from './sipp-stats';

/** Where Debian's sip-tester installs SIPp. */
export const SIPP_BINARY = '/usr/bin/sipp';

/** Socket buffer size SIPp asks for (`-buff_size`), bytes. */
export const SIPP_SOCKET_BUFFER = 1 << 20;

/** What one SIPp run does. */
export interface SippOptions {
  /** A name for its files in `workDir` (`<name>.stat.csv`, `<name>.errors.log`, `<name>.screen.log`). */
  name: string;
  /** Directory for SIPp's files (also its working directory). */
  workDir: string;
  /** Scenario XML file. */
  scenario: string;
  /** `host:port` to send to (a UAC); absent for a UAS. */
  remote?: string;
  /** Local address (`-i`); default 127.0.0.1. */
  localHost?: string;
  /** Local SIP port (`-p`); default: one the system chose a moment before. */
  localPort?: number;
  /** Stop after this many calls (`-m`). */
  calls: number;
  /** Calls started per second (`-r`), UAC only. */
  rate?: number;
  /** Most calls at once (`-l`). */
  limit?: number;
  /** The `[service]` keyword (`-s`), e.g. the callee's user. */
  service?: string;
  /** Injection file (`-inf`), for `[fieldN]`. */
  injectionFile?: string;
  /** Extra `[keyword]` values (`-key name value`). */
  keys?: Readonly<Record<string, string>>;
  /** Digest credentials for a plain `[authentication]` (`-au`, `-ap`). */
  auth?: { user: string; password: string };
  /** `<pause/>` length in ms (`-d`). */
  pauseMs?: number;
  /** SIPp gives up (and fails) after this many seconds (`-timeout … -timeout_error`). */
  timeoutSeconds: number;
  /** Run SIPp on this CPU only (`taskset -c`), for benchmarks. */
  cpu?: number;
  /** The SIPp executable; default {@link SIPP_BINARY}. */
  binary?: string;
}

/** How a SIPp run ended. */
export interface SippResult {
  /** SIPp's exit code (0: every call succeeded; 1: some failed; 255: fatal), null when killed or not started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Final counters; undefined when SIPp wrote none (it did not start, or was killed with SIGKILL). */
  stats: SippStats | undefined;
  /** The start of SIPp's error log and stderr, for failure messages. */
  errors: string;
  /** CPU time SIPp used (user + system), seconds, as last sampled (every 200 ms) before it exited. */
  cpuSeconds: number;
  /** The samples behind it: ms since start → CPU seconds so far. */
  cpuSamples: CpuSample[];
  /** Seconds SIPp took to create all its calls (see {@link creationSeconds}); undefined if it never did. */
  creationSeconds: number | undefined;
  /** Wall time from start to exit, seconds. */
  wallSeconds: number;
  /** When it started (`performance.now()` of this process), to put several runs on one clock. */
  startedAtMs: number;
}

/** One CPU sample of a process. */
export interface CpuSample {
  /** ms since the process started. */
  atMs: number;
  /** CPU seconds used so far. */
  cpuSeconds: number;
}

/** States of a {@link SippProcess}. */
export enum SippState {
  Running = 'running',
  Exited = 'exited',
}

const TRANSITIONS: Readonly<Record<SippState, readonly SippState[]>> = {
  [SippState.Running]: [SippState.Exited],
  [SippState.Exited]: [],
};

const running = new Set<SippProcess>();

/** One SIPp process. */
export class SippProcess extends EventEmitter<{ stateChange: [from: SippState, to: SippState] }> {
  private current = SippState.Running;
  private lastCpu = 0;
  private readonly samples: CpuSample[] = [];
  private readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private stderr = '';
  /** Resolves when SIPp has exited; never rejects. */
  readonly done: Promise<SippResult>;

  private constructor(readonly options: SippOptions) {
    super();
    const args = sippArguments(options);
    const binary = options.binary ?? SIPP_BINARY;
    const [command, argv] = options.cpu === undefined ? [binary, args] : ['taskset', ['-c', String(options.cpu), binary, ...args]];
    this.child = spawn(command, argv, { cwd: options.workDir, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 4000) this.stderr += chunk.toString('utf8');
    });
    running.add(this);
    // Sample CPU time while it runs: once SIPp has exited, /proc no longer has it.
    const sampler = setInterval(() => this.cpuSeconds(), 200);
    sampler.unref();
    this.done = new Promise((resolve) => {
      // A spawn failure emits 'error' (and, depending on the failure, 'close' too): finish exactly once.
      const finish = (code: number | null, signal: NodeJS.Signals | null, startError?: string): void => {
        if (this.current !== SippState.Running) return;
        running.delete(this);
        clearInterval(sampler);
        this.transition(SippState.Exited);
        resolve(this.result(code, signal, startError));
      };
      this.child.on('error', (error) => finish(null, null, `cannot run ${command}: ${error.message}\n`));
      this.child.on('close', (code, signal) => finish(code, signal));
    });
  }

  /**
   * Start SIPp; check `done` for how it ended. Without `localPort`, SIPp gets a port the system chose (SIPp's own
   * default is 5060 when that is free, which would clash with anything else on the machine).
   */
  static async start(options: SippOptions): Promise<SippProcess> {
    const localPort = options.localPort ?? (await freeUdpPort(options.localHost));
    return new SippProcess({ ...options, localPort });
  }

  /** The current state. */
  get state(): SippState {
    return this.current;
  }

  /** The process id (of taskset, which becomes SIPp), or undefined when it could not be spawned. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** CPU seconds SIPp has used so far (from /proc/<pid>/stat); the last sample once it has exited. */
  cpuSeconds(): number {
    if (this.current === SippState.Running && this.child.pid !== undefined) {
      const now = processCpuSeconds(this.child.pid);
      if (now !== undefined) {
        this.lastCpu = now;
        this.samples.push({ atMs: performance.now() - this.startedAt, cpuSeconds: now });
      }
    }
    return this.lastCpu;
  }

  /** Ask SIPp to stop (SIGTERM: it writes its final statistics), then SIGKILL after `graceMs`. */
  stop(graceMs = 2000): void {
    if (this.current !== SippState.Running) return;
    this.cpuSeconds();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.current === SippState.Running) this.child.kill('SIGKILL');
    }, graceMs);
    timer.unref();
  }

  private transition(to: SippState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`SippProcess: illegal transition ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', from, to);
  }

  private result(code: number | null, signal: NodeJS.Signals | null, startError: string | undefined): SippResult {
    const file = (suffix: string): string => join(this.options.workDir, `${this.options.name}.${suffix}`);
    let stats: SippStats | undefined;
    let created: number | undefined;
    let errors = startError ?? '';
    if (existsSync(file('stat.csv'))) {
      try {
        const csv = readFileSync(file('stat.csv'), 'utf8');
        stats = parseSippStats(csv);
        created = creationSeconds(csv, this.options.calls);
      } catch (error) {
        errors += `${error instanceof Error ? error.message : String(error)}\n`;
      }
    }
    if (existsSync(file('errors.log'))) errors += summarizeSippErrors(readFileSync(file('errors.log'), 'utf8'));
    errors += this.stderr.slice(0, 2000);
    return {
      exitCode: code,
      signal,
      stats,
      errors,
      cpuSeconds: this.lastCpu,
      cpuSamples: [...this.samples],
      creationSeconds: created,
      wallSeconds: (performance.now() - this.startedAt) / 1000,
      startedAtMs: this.startedAt,
    };
  }
}

/** SIPp's command line for `options` (without the binary). */
export function sippArguments(options: SippOptions): string[] {
  const args = ['-sf', options.scenario];
  if (options.remote !== undefined) args.push(options.remote);
  args.push('-i', options.localHost ?? '127.0.0.1', '-t', 'u1');
  if (options.localPort !== undefined) args.push('-p', String(options.localPort));
  args.push('-m', String(options.calls));
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.injectionFile !== undefined) args.push('-inf', options.injectionFile);
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, value);
  if (options.auth) args.push('-au', options.auth.user, '-ap', options.auth.password);
  if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
  args.push('-timeout', `${options.timeoutSeconds}s`, '-timeout_error');
  args.push('-trace_stat', '-stf', `${options.name}.stat.csv`, '-fd', '1');
  args.push('-trace_err', '-error_file', `${options.name}.errors.log`);
  args.push('-trace_screen', '-screen_file', `${options.name}.screen.log`);
  // SIPp's socket buffers default to 64 KB: a SIPp descheduled for a few tens of ms at a few hundred calls/s then
  // drops the ACKs and BYEs queued for it. Ask for 1 MB (the kernel caps it at net.core.rmem_max / wmem_max).
  args.push('-buff_size', String(SIPP_SOCKET_BUFFER));
  // The control socket defaults to UDP 8888 and up; let the system choose so that parallel SIPps never clash.
  args.push('-cp', '0', '-nostdin');
  return args;
}

/**
 * The gist of a SIPp error log: the first events that made calls fail, without the messages they quote, and a
 * count of the harmless "dead call" events (late retransmissions for calls already finished).
 */
export function summarizeSippErrors(log: string, maxEvents = 12): string {
  // Each event starts with a date, a time and an epoch; SIPp does not always start it on a new line.
  const events = log
    .split(/(?=\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\.\d+\t)/)
    .filter((chunk) => /^\d{4}-\d\d-\d\d\t/.test(chunk))
    .map((chunk) => chunk.split('\n', 1)[0] ?? '');
  const dead = events.filter((e) => e.includes('Dead call'));
  const others = events.filter((e) => !e.includes('Dead call'));
  const lines = others.slice(0, maxEvents).map((e) => e.replace(/^\S+\t\S+\t\S+ /, '').slice(0, 300));
  if (others.length > maxEvents) lines.push(`… and ${others.length - maxEvents} more`);
  if (dead.length > 0) lines.push(`(${dead.length} dead-call messages: late retransmissions, discarded)`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Stop every SIPp still running (for afterAll); resolves when all have exited. */
export async function stopAllSipp(): Promise<void> {
  const all = [...running];
  for (const sipp of all) sipp.stop(1000);
  await Promise.all(all.map((sipp) => sipp.done));
}

/**
 * The highest CPU share (0–1 per CPU) that processes used together over any `windowMs` window, from their samples
 * (each series as `cpuSamples` of a {@link SippResult}, on a common clock when `offsetsMs` aligns their starts).
 */
export function peakCpuShare(series: readonly (readonly CpuSample[])[], windowMs = 1000, offsetsMs: readonly number[] = []): number {
  const at = (samples: readonly CpuSample[], offset: number, t: number): number => {
    let value = 0;
    for (const s of samples) if (s.atMs + offset <= t) value = s.cpuSeconds;
    return value;
  };
  const times = series.flatMap((samples, i) => samples.map((s) => s.atMs + (offsetsMs[i] ?? 0))).sort((a, b) => a - b);
  const last = times[times.length - 1] ?? 0;
  let peak = 0;
  for (const t of times) {
    if (last - t < windowMs) break;
    const used = series.reduce((sum, samples, i) => sum + at(samples, offsetsMs[i] ?? 0, t + windowMs) - at(samples, offsetsMs[i] ?? 0, t), 0);
    peak = Math.max(peak, used / (windowMs / 1000));
  }
  return peak;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; undefined when it is gone. */
export function processCpuSeconds(pid: number, ticksPerSecond = 100): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) may contain spaces and parentheses: count fields after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / ticksPerSecond;
}

/**
 * A UDP port that was free on `host` a moment ago (bound to port 0, then released), for a peer whose port must be
 * known before it starts (a SIPp UAS whose Contact we register).
 */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
