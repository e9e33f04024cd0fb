/**
 * `npm run bench`: every `bench/*.bench.ts`, one after another, each in its own process
 * (`node --import tsx --expose-gc`, so that heap benches can collect garbage) and its own process group, each
 * bounded in time. A bench that fails, times out or cannot start does not stop the others; at the end a summary
 * says which wrote `bench/results/<name>.json` and which did not, and the exit code is 1 if any did not.
 *
 *     npm run bench                          # all of them, in the order of BENCHES (30–45 minutes)
 *     npm run bench -- msrp device           # some of them (`msrp`, `msrp.bench.ts`, `bench/msrp.bench.ts`)
 *     npm run bench -- --list                # what each needs and its time limit
 *     npm run bench -- --timeout 120 store   # another time limit (seconds) for every bench of this run
 *     npm run bench -- --no-install lab-core # never apt-get a missing tool
 *
 * Before a bench that drives a system tool (SIPp, Kamailio, Chromium), a missing Debian package is installed
 * with apt-get when this runs as root, and named otherwise; a bench whose required tool is still missing is
 * reported as failed without being started (Kamailio is optional: without it lab-core measures the lab core
 * alone). Then `npm run bench:report` puts the figures in README.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A system tool a bench drives, and the Debian package that ships it. */
export interface SystemNeed {
  /** Absolute path of the binary. */
  readonly bin: string;
  readonly pkg: string;
  /** Without it the bench still runs (and says what it skipped). */
  readonly optional: boolean;
}

/** What the runner knows about one bench. */
export interface BenchInfo {
  readonly name: string;
  /** Time limit (ms) unless `--timeout` says otherwise. */
  readonly timeoutMs: number;
  readonly needs: readonly SystemNeed[];
  /** What it measures and needs, for `--list` and the README. */
  readonly note: string;
}

const MINUTE = 60_000;
const SIPP: SystemNeed = { bin: '/usr/bin/sipp', pkg: 'sip-tester', optional: false };
const TASKSET: SystemNeed = { bin: '/usr/bin/taskset', pkg: 'util-linux', optional: false };
const KAMAILIO: SystemNeed = { bin: '/usr/sbin/kamailio', pkg: 'kamailio', optional: true };
const CHROMIUM: SystemNeed = { bin: '/usr/bin/chromium', pkg: 'chromium', optional: false };

/**
 * The known benches, in the order they run: the cheap CPU-only ones first; `msrp` before `device` (which shows
 * msrp.json's `net` ceilings beside its own figures); the long load tests last. A `*.bench.ts` not listed here
 * still runs, after these, with {@link DEFAULT_TIMEOUT_MS}.
 */
export const BENCHES: readonly BenchInfo[] = [
  { name: 'sip-parse', timeoutMs: 5 * MINUTE, needs: [], note: 'SIP parse/serialize vs JsSIP, in process; about a minute' },
  { name: 'store', timeoutMs: 5 * MINUTE, needs: [], note: 'Message Store deposits and newest page (SQLite in a temp dir, HTTP on loopback)' },
  { name: 'history', timeoutMs: 5 * MINUTE, needs: [], note: "the device's SQLite history (temp dir)" },
  { name: 'msrp', timeoutMs: 10 * MINUTE, needs: [], note: 'MSRP direct and through the relay (worker thread), `net` echo ceiling; loopback' },
  { name: 'device', timeoutMs: 10 * MINUTE, needs: [], note: 'two DeviceAgents on the in-process lab: CPM path, set-up, 1 MB messages; reads msrp.json' },
  { name: 'conversation', timeoutMs: 15 * MINUTE, needs: [], note: 'four mode pairs: set-ups/s, throughput, heap per session (needs --expose-gc, given)' },
  { name: 'transfer', timeoutMs: 15 * MINUTE, needs: [], note: 'moves between devices, four mode pairs, up to 150 s each' },
  {
    name: 'lab-core',
    timeoutMs: 15 * MINUTE,
    needs: [SIPP, TASKSET, KAMAILIO],
    note: 'lab core vs Kamailio under SIPp, pinned to CPUs 0 and 1 (wants 2 CPUs); about 7 minutes',
  },
  { name: 'renderer', timeoutMs: 10 * MINUTE, needs: [CHROMIUM], note: 'the app in headless Chromium; builds the renderer with Vite when stale' },
];

/** Time limit of a bench BENCHES does not know. */
export const DEFAULT_TIMEOUT_MS = 10 * MINUTE;
/** After SIGTERM, how long a timed-out bench's process group has before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** Lines of a failed bench's stderr shown in the summary. */
const TAIL_LINES = 12;

/** A command-line mistake (exit code 2). */
export class UsageError extends Error {}

/** The parsed command line. */
export interface RunOptions {
  readonly names: readonly string[];
  readonly timeoutMs?: number;
  readonly list: boolean;
  readonly install: boolean;
}

/** Parses `[--list] [--no-install] [--timeout <s>|--timeout=<s>] [name…]`. Throws {@link UsageError}. */
export function parseArgs(argv: readonly string[]): RunOptions {
  const names: string[] = [];
  let timeoutMs: number | undefined;
  let list = false;
  let install = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--list') list = true;
    else if (arg === '--no-install') install = false;
    else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const text = arg === '--timeout' ? argv[++i] : arg.slice('--timeout='.length);
      const seconds = Number(text);
      if (text === undefined || text === '' || !Number.isFinite(seconds) || seconds <= 0) {
        throw new UsageError(`--timeout needs a positive number of seconds, got ${JSON.stringify(text ?? '')}`);
      }
      timeoutMs = seconds * 1000;
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else names.push(arg);
  }
  return { names, timeoutMs, list, install };
}

/** One bench to run. */
export interface BenchPlan extends BenchInfo {
  /** Absolute path of its `*.bench.ts`. */
  readonly file: string;
}

/** `msrp`, `msrp.bench.ts` and `bench/msrp.bench.ts` all name the bench `msrp`. */
function benchName(arg: string): string {
  const base = arg.replace(/\\/g, '/').split('/').pop() ?? arg;
  return base.replace(/\.bench\.ts$/, '').replace(/\.ts$/, '');
}

/**
 * The benches to run, in order: those of `files` (the `*.bench.ts` names in the bench folder) named in
 * `options.names`, or all of them. Throws {@link UsageError} for a name with no bench.
 */
export function planBenches(benchDir: string, files: readonly string[], options: Pick<RunOptions, 'names' | 'timeoutMs'>): BenchPlan[] {
  const available = files.filter((f) => f.endsWith('.bench.ts')).map(benchName);
  const rank = (name: string): number => {
    const known = BENCHES.findIndex((b) => b.name === name);
    return known === -1 ? BENCHES.length : known;
  };
  const ordered = [...new Set(available)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  let chosen = ordered;
  if (options.names.length > 0) {
    const wanted = options.names.map(benchName);
    const unknown = wanted.filter((n) => !available.includes(n));
    if (unknown.length > 0) throw new UsageError(`no such bench: ${unknown.join(', ')} (there are: ${ordered.join(', ')})`);
    chosen = ordered.filter((n) => wanted.includes(n));
  }
  return chosen.map((name) => {
    const info = BENCHES.find((b) => b.name === name) ?? { name, timeoutMs: DEFAULT_TIMEOUT_MS, needs: [], note: 'not described in bench/run.ts' };
    return { ...info, timeoutMs: options.timeoutMs ?? info.timeoutMs, file: join(benchDir, `${name}.bench.ts`) };
  });
}

/** How one bench ended. */
export interface BenchOutcome {
  readonly name: string;
  /** `ok`: exited 0 and wrote fresh, valid results; anything else is a failure. */
  readonly status: 'ok' | 'failed' | 'timed out' | 'not started';
  /** Why, for a failure; the results file for a success. */
  readonly detail: string;
  readonly seconds: number;
  /** The last lines of its stderr. */
  readonly tail: readonly string[];
}

/** Where a bench leaves its figures and what the runner lets it do. */
export interface RunContext {
  /** The repository: the benches' working directory (and where `tsx` resolves from). */
  readonly repoRoot: string;
  readonly resultsDir: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the bench's stdout and stderr as they come (default: this process's). */
  readonly stdout?: (chunk: Buffer) => void;
  readonly stderr?: (chunk: Buffer) => void;
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to the process group led by `pid`; false if it is gone already. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The bench running now, so that Ctrl-C can stop its whole process group. */
let current: { pid: number } | undefined;

/**
 * Runs one bench in its own process group, bounded by its time limit (SIGTERM to the group, SIGKILL after a
 * grace period, so that SIPp, Kamailio or Chromium started by the bench go too). Never rejects.
 */
export function runBench(plan: BenchPlan, context: RunContext): Promise<BenchOutcome> {
  const resultsFile = join(context.resultsDir, `${plan.name}.json`);
  const before = mtimeOf(resultsFile);
  const started = Date.now();
  const tail: string[] = [];
  let partial = '';
  const keepTail = (chunk: Buffer): void => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines.filter((l) => l.trim() !== ''));
    tail.splice(0, Math.max(0, tail.length - TAIL_LINES));
  };
  return new Promise((resolveOutcome) => {
    let finished = false;
    const finish = (status: BenchOutcome['status'], detail: string): void => {
      // 'error' (could not spawn) may be followed by 'close': the first one decides.
      if (finished) return;
      finished = true;
      if (partial.trim() !== '') tail.push(partial);
      resolveOutcome({ name: plan.name, status, detail, seconds: (Date.now() - started) / 1000, tail: tail.slice(-TAIL_LINES) });
    };
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', plan.file], {
      cwd: context.repoRoot,
      env: context.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const limitTimer = setTimeout(() => {
      if (child.pid === undefined) return;
      timedOut = true;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    }, plan.timeoutMs);
    if (child.pid !== undefined) current = { pid: child.pid };
    child.stdout.on('data', (chunk: Buffer) => (context.stdout ?? ((c) => process.stdout.write(c)))(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      keepTail(chunk);
      (context.stderr ?? ((c) => process.stderr.write(c)))(chunk);
    });
    child.on('error', (error) => {
      clearTimeout(limitTimer);
      current = undefined;
      finish('not started', `could not start node: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(limitTimer);
      if (killTimer) clearTimeout(killTimer);
      // Whatever the bench left behind in its group (a SIPp it did not stop) goes with it.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      current = undefined;
      if (timedOut) return finish('timed out', `stopped after the ${formatSeconds(plan.timeoutMs / 1000)} limit`);
      if (code !== 0) return finish('failed', signal ? `killed by ${signal}` : `exit code ${code ?? '?'}`);
      const after = mtimeOf(resultsFile);
      if (after === undefined || after === before) return finish('failed', `exited 0 but wrote no ${plan.name}.json`);
      try {
        JSON.parse(readFileSync(resultsFile, 'utf8'));
      } catch {
        return finish('failed', `${plan.name}.json is not valid JSON`);
      }
      finish('ok', `results/${plan.name}.json`);
    });
  });
}

/** `42 s`, `7 min 3 s`. */
export function formatSeconds(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const rest = whole % 60;
  return `${Math.floor(whole / 60)} min${rest ? ` ${rest} s` : ''}`;
}

/** The final summary, in markdown. */
export function formatSummary(outcomes: readonly BenchOutcome[]): string {
  const ok = outcomes.filter((o) => o.status === 'ok').length;
  const failed = outcomes.length - ok;
  const total = outcomes.reduce((sum, o) => sum + o.seconds, 0);
  const lines = [
    `## npm run bench: ${ok} of ${outcomes.length} wrote results${failed ? `, ${failed} failed` : ''} (${formatSeconds(total)})`,
    '',
    '| bench | outcome | time | |',
    '| --- | --- | ---: | --- |',
    ...outcomes.map((o) => `| ${o.name} | ${o.status === 'ok' ? '✅ results' : `❌ ${o.status}`} | ${formatSeconds(o.seconds)} | ${o.detail} |`),
  ];
  for (const o of outcomes.filter((x) => x.status !== 'ok' && x.tail.length > 0)) {
    lines.push('', `${o.name}, last lines of its stderr:`, '', ...o.tail.map((l) => `    ${l}`));
  }
  lines.push('', ok > 0 ? 'Next: `npm run bench:report` puts the figures in README.md.' : 'No results were written.');
  return `${lines.join('\n')}\n`;
}

/**
 * Makes the system tools of `needs` present: as root (with apt-get) installs the missing Debian packages,
 * otherwise names them. Returns the required tools still missing.
 */
function ensureNeeds(needs: readonly SystemNeed[], install: boolean, log: (line: string) => void): SystemNeed[] {
  const missing = needs.filter((n) => !existsSync(n.bin));
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((n) => n.pkg))];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (install && root && existsSync('/usr/bin/apt-get')) {
    log(`installing ${packages.join(' ')} with apt-get…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', ...packages]]) {
      const result = spawnSync('apt-get', args, { stdio: 'inherit', env, timeout: 10 * MINUTE });
      if (result.status !== 0) {
        log(`apt-get ${args[0]} failed (${result.error?.message ?? `exit code ${result.status ?? '?'}`})`);
        break;
      }
    }
  } else {
    log(`missing: ${packages.join(' ')} (${install ? 'run as root to install, or ' : ''}apt-get install -y ${packages.join(' ')})`);
  }
  const still = missing.filter((n) => !existsSync(n.bin));
  for (const n of still.filter((x) => x.optional)) log(`${n.bin} missing: the bench runs without it`);
  return still.filter((n) => !n.optional);
}

function describePlan(plan: BenchPlan): string {
  const needs = plan.needs.length ? plan.needs.map((n) => `${n.pkg}${n.optional ? ' (optional)' : ''}`).join(', ') : 'nothing outside node_modules';
  return `${plan.name}: ${plan.note}; needs ${needs}; limit ${formatSeconds(plan.timeoutMs / 1000)}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const benchDir = fileURLToPath(new URL('.', import.meta.url));
  const repoRoot = resolve(benchDir, '..');
  const options = parseArgs(argv);
  const plans = planBenches(benchDir, readdirSync(benchDir), options);
  if (options.list) {
    for (const plan of plans) process.stdout.write(`${describePlan(plan)}\n`);
    return 0;
  }
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  let interrupted = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // Second time: no more waiting for the bench to clean up.
      if (current) signalGroup(current.pid, 'SIGKILL');
      process.exit(130);
    }
    interrupted = true;
    log(`${signal}: stopping ${current ? 'the running bench' : ''} (again to kill it at once)`);
    if (current) signalGroup(current.pid, 'SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const outcomes: BenchOutcome[] = [];
  for (const [i, plan] of plans.entries()) {
    if (interrupted) break;
    log(`▶ ${i + 1}/${plans.length} ${describePlan(plan)}`);
    const missing = ensureNeeds(plan.needs, options.install, log);
    const outcome =
      missing.length > 0
        ? { name: plan.name, status: 'not started' as const, detail: `missing ${missing.map((n) => `${n.bin} (${n.pkg})`).join(', ')}`, seconds: 0, tail: [] }
        : await runBench(plan, { repoRoot, resultsDir: join(benchDir, 'results') });
    outcomes.push(outcome);
    log(`${outcome.status === 'ok' ? '✔' : '✘'} ${plan.name}: ${outcome.status}, ${outcome.detail} (${formatSeconds(outcome.seconds)})`);
  }
  process.stdout.write(`\n${formatSummary(outcomes)}`);
  if (interrupted) return 130;
  return outcomes.every((o) => o.status === 'ok') ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}
