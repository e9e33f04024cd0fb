import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCHES, DEFAULT_TIMEOUT_MS, formatSummary, parseArgs, planBenches, runBench, UsageError, type BenchOutcome, type BenchPlan } from './run';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Whether a process exists and is not a zombie (a killed child nobody has reaped yet is dead). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('bench runner: command line', () => {
  it('takes bench names and the options in any order', () => {
    expect(parseArgs(['msrp', '--timeout', '90', 'bench/device.bench.ts', '--no-install'])).toEqual({ names: ['msrp', 'bench/device.bench.ts'], timeoutMs: 90_000, list: false, install: false });
    expect(parseArgs(['--timeout=1.5', '--list'])).toEqual({ names: [], timeoutMs: 1500, list: true, install: true });
  });

  it('refuses a time limit that is not a positive number, and unknown options', () => {
    for (const bad of [['--timeout'], ['--timeout', '0'], ['--timeout=-3'], ['--timeout=soon'], ['--timeout=']]) {
      expect(() => parseArgs(bad)).toThrow(UsageError);
    }
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});

describe('bench runner: which benches, in which order', () => {
  const files = ['transfer.bench.ts', 'device.bench.ts', 'zeta.bench.ts', 'msrp.bench.ts', 'run.ts', 'README.md', 'alpha.bench.ts', 'sip-parse.bench.ts'];

  it('runs the known benches in their order (msrp before device), then new ones alphabetically', () => {
    const plans = planBenches('/b', files, { names: [] });

    expect(plans.map((p) => p.name)).toEqual(['sip-parse', 'msrp', 'device', 'transfer', 'alpha', 'zeta']);
    expect(plans[1]).toMatchObject({ file: '/b/msrp.bench.ts', timeoutMs: BENCHES.find((b) => b.name === 'msrp')!.timeoutMs });
    expect(plans[4]).toMatchObject({ file: '/b/alpha.bench.ts', timeoutMs: DEFAULT_TIMEOUT_MS, needs: [] });
  });

  it('picks benches by name, file name or path, keeps the run order and applies --timeout to each', () => {
    const plans = planBenches('/b', files, { names: ['bench/device.bench.ts', 'msrp', 'zeta.bench.ts'], timeoutMs: 5000 });

    expect(plans.map((p) => [p.name, p.timeoutMs])).toEqual([
      ['msrp', 5000],
      ['device', 5000],
      ['zeta', 5000],
    ]);
  });

  it('names the benches there are when asked for one that is not', () => {
    expect(() => planBenches('/b', files, { names: ['msrp', 'kamailio'] })).toThrow('no such bench: kamailio (there are: sip-parse, msrp, device, transfer, alpha, zeta)');
  });

  it('says that lab-core needs SIPp and can do without Kamailio, and renderer needs Chromium', () => {
    const needs = (name: string): string[] => BENCHES.find((b) => b.name === name)!.needs.map((n) => `${n.pkg}${n.optional ? '?' : ''}`);
    expect(needs('lab-core')).toEqual(['sip-tester', 'util-linux', 'kamailio?']);
    expect(needs('renderer')).toEqual(['chromium']);
  });
});

describe('bench runner: running benches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake bench: a small script, run the way the runner runs every bench. */
  function fake(name: string, body: string, timeoutMs = 60_000): BenchPlan {
    const file = join(dir, `${name}.bench.ts`);
    writeFileSync(file, body);
    return { name, file, timeoutMs, needs: [], note: 'fake' };
  }
  const quiet = { repoRoot: REPO, resultsDir: dir, stdout: (): void => undefined, stderr: (): void => undefined };
  const writes = (name: string): string =>
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, `${name}.json`))}, JSON.stringify({ gc: typeof globalThis.gc }));\n`;

  it('counts a bench that exits 0 with fresh results as a success, and gives it --expose-gc', async () => {
    const outcome = await runBench(fake('good', writes('good')), quiet);

    expect(outcome).toMatchObject({ name: 'good', status: 'ok', detail: 'results/good.json' });
    expect(JSON.parse(readFileSync(join(dir, 'good.json'), 'utf8'))).toEqual({ gc: 'function' });
  });

  it('fails a bench that exits 0 without writing results, writes broken JSON, exits non-zero or throws', async () => {
    writeFileSync(join(dir, 'stale.json'), '{}'); // an earlier run's figures do not count
    const [stale, broken, exits, throws] = await Promise.all([
      runBench(fake('stale', 'console.log("measured nothing");\n'), quiet),
      runBench(fake('broken', `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, 'broken.json'))}, '{"rows": [');\n`), quiet),
      runBench(fake('exits', 'console.error("setting up");\nconsole.error("no SIPp");\nprocess.exit(3);\n'), quiet),
      runBench(fake('throws', 'throw new Error("no lab today");\n'), quiet),
    ]);

    expect(stale).toMatchObject({ status: 'failed', detail: 'exited 0 but wrote no stale.json' });
    expect(broken).toMatchObject({ status: 'failed', detail: 'broken.json is not valid JSON' });
    expect(exits).toMatchObject({ status: 'failed', detail: 'exit code 3', tail: ['setting up', 'no SIPp'] });
    expect(throws).toMatchObject({ status: 'failed', detail: 'exit code 1' });
    expect(throws.tail.join('\n')).toContain('no lab today');
  });

  it('stops a bench at its time limit together with the processes it started', async () => {
    const pidFile = join(dir, 'hang.pid');
    const body = [
      "import { spawn } from 'node:child_process';",
      "import { writeFileSync } from 'node:fs';",
      "const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });",
      `writeFileSync(${JSON.stringify(pidFile)}, String(sleeper.pid));`,
      'setInterval(() => undefined, 1000);',
      '',
    ].join('\n');
    // The limit is only an upper bound for the bench to reach its hang; nothing here is timed.
    const outcome = await runBench(fake('hang', body, 5000), quiet);

    expect(outcome).toMatchObject({ status: 'timed out', detail: 'stopped after the 5 s limit' });
    expect(existsSync(pidFile)).toBe(true);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    // SIGKILL is asynchronous: give the kernel a moment (bounded) before calling the sleeper alive.
    for (let i = 0; i < 40 && alive(sleeper); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(sleeper)).toBe(false);
  });
});

describe('bench runner: summary', () => {
  it('lists every bench with its outcome and shows the stderr tail of the failed ones', () => {
    const outcomes: BenchOutcome[] = [
      { name: 'msrp', status: 'ok', detail: 'results/msrp.json', seconds: 61.4, tail: ['round 3/3'] },
      { name: 'lab-core', status: 'timed out', detail: 'stopped after the 15 min limit', seconds: 900, tail: ['Kamailio…'] },
    ];

    expect(formatSummary(outcomes)).toBe(
      [
        '## npm run bench: 1 of 2 wrote results, 1 failed (16 min 1 s)',
        '',
        '| bench | outcome | time | |',
        '| --- | --- | ---: | --- |',
        '| msrp | ✅ results | 1 min 1 s | results/msrp.json |',
        '| lab-core | ❌ timed out | 15 min | stopped after the 15 min limit |',
        '',
        'lab-core, last lines of its stderr:',
        '',
        '    Kamailio…',
        '',
        'Next: `npm run bench:report` puts the figures in README.md.',
        '',
      ].join('\n'),
    );
  });
});
