import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BEGIN_MARKER,
  END_MARKER,
  formatNumber,
  loadResults,
  renderBenchSection,
  replaceBenchSection,
  runInfo,
  writeBenchReport,
  type LoadedResult,
} from './bench-report';

const FIXTURES = fileURLToPath(new URL('./bench-report-fixtures/', import.meta.url));
const RESULTS = join(FIXTURES, 'results');

const temps: string[] = [];
function tempReadme(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  temps.push(dir);
  const path = join(dir, 'README.md');
  writeFileSync(path, content);
  return path;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The line of the report whose first cell is `measure`. */
function rowOf(markdown: string, measure: string): string {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${measure} |`));
  if (line === undefined) throw new Error(`no row "${measure}" in the report`);
  return line;
}

function section(results: Record<string, unknown>): string {
  const set = new Map<string, LoadedResult>(Object.entries(results).map(([name, json]) => [name, { ok: true, json }]));
  return renderBenchSection(set).markdown;
}

describe('bench-report: README rewrite', () => {
  it('rewrites the section between the markers from a fixture results folder exactly, and nothing else', () => {
    const before = readFileSync(join(FIXTURES, 'README.before.md'), 'utf8');
    const readme = tempReadme(before);

    const outcome = writeBenchReport({ resultsDir: RESULTS, readmePath: readme });

    const after = readFileSync(readme, 'utf8');
    expect(after).toBe(readFileSync(join(FIXTURES, 'README.expected.md'), 'utf8'));
    expect(outcome).toEqual({ changed: true, summary: { met: 19, notMet: 5, unclear: 1, missing: 7 } });
    // Byte for byte the same outside the markers.
    const outside = (text: string): [string, string] => [text.slice(0, text.indexOf(BEGIN_MARKER)), text.slice(text.indexOf(END_MARKER))];
    expect(outside(after)).toEqual(outside(before));
    expect(after).not.toContain('stale figures');
  });

  it('changes nothing when run a second time, and --check then finds the README up to date', () => {
    const readme = tempReadme(readFileSync(join(FIXTURES, 'README.before.md'), 'utf8'));
    writeBenchReport({ resultsDir: RESULTS, readmePath: readme });
    const once = readFileSync(readme, 'utf8');

    expect(writeBenchReport({ resultsDir: RESULTS, readmePath: readme }).changed).toBe(false);
    expect(writeBenchReport({ resultsDir: RESULTS, readmePath: readme, check: true }).changed).toBe(false);
    expect(readFileSync(readme, 'utf8')).toBe(once);
  });

  it('with --check reports a stale README without writing it', () => {
    const before = readFileSync(join(FIXTURES, 'README.before.md'), 'utf8');
    const readme = tempReadme(before);

    expect(writeBenchReport({ resultsDir: RESULTS, readmePath: readme, check: true }).changed).toBe(true);
    expect(readFileSync(readme, 'utf8')).toBe(before);
  });

  it('adds the markers at the end of the "## Benchmarks" section when the README has none', () => {
    const readme = '# x\n\n## Benchmarks\n\nRun with `npm run bench`.\n\n## License\n\nMIT\n';

    const updated = replaceBenchSection(readme, 'TABLES\n');

    expect(updated).toBe(`# x\n\n## Benchmarks\n\nRun with \`npm run bench\`.\n\n${BEGIN_MARKER}\nTABLES\n${END_MARKER}\n\n## License\n\nMIT\n`);
    expect(replaceBenchSection(updated, 'NEWER\n')).toBe(updated.replace('TABLES', 'NEWER'));
  });

  it('does not take a comment line in a code block for the next heading', () => {
    const readme = '## Benchmarks\n\n```sh\n# all of them\nnpm run bench\n```\n\n## Next\n';

    expect(replaceBenchSection(readme, 'T\n')).toBe(`## Benchmarks\n\n\`\`\`sh\n# all of them\nnpm run bench\n\`\`\`\n\n${BEGIN_MARKER}\nT\n${END_MARKER}\n\n## Next\n`);
  });

  it('adds the markers at the end of the file when "## Benchmarks" is the last section', () => {
    expect(replaceBenchSection('# x\n\n## Benchmarks\n\nSoon.', 'T\n')).toBe(`# x\n\n## Benchmarks\n\nSoon.\n\n${BEGIN_MARKER}\nT\n${END_MARKER}\n`);
  });

  it('refuses a README with an unpaired, repeated or reversed marker, or with nowhere to put them', () => {
    expect(() => replaceBenchSection(`## Benchmarks\n${BEGIN_MARKER}\n`, 'T\n')).toThrow(/expected one .* found 1 and 0/);
    expect(() => replaceBenchSection(`${BEGIN_MARKER}${END_MARKER}${BEGIN_MARKER}${END_MARKER}`, 'T\n')).toThrow(/found 2 and 2/);
    expect(() => replaceBenchSection(`${END_MARKER}\n${BEGIN_MARKER}\n`, 'T\n')).toThrow(/comes before/);
    expect(() => replaceBenchSection('# x\n\n## Benchmarking notes\n', 'T\n')).toThrow(/nor a "## Benchmarks" section/);
  });
});

describe('bench-report: reading results', () => {
  it('records a truncated results file as unreadable instead of throwing, and reports its rows without a figure', () => {
    const history = loadResults(RESULTS).get('history');

    expect(history).toMatchObject({ ok: false, error: 'history.json is not valid JSON (did its bench stop while writing it?)' });
    expect(rowOf(renderBenchSection(loadResults(RESULTS)).markdown, 'newest page (50)')).toBe('| newest page (50) | unreadable history.json | — | – |');
  });

  it('reads the load average and CPU count in every shape the benches record them', () => {
    expect(runInfo({ loadAverage: 3.25, cpus: 2 })).toMatchObject({ load: 3.25, cpus: 2 });
    expect(runInfo({ loadAverage: [4, 3, 2] })).toMatchObject({ load: 4 });
    expect(runInfo({ loadAverageAtEnd: [5, 1, 1] })).toMatchObject({ load: 5 });
    expect(runInfo({ machine: { loadavg: [6, 1, 1], cpus: 8, node: 'v20' } })).toMatchObject({ load: 6, cpus: 8, node: 'v20' });
    expect(runInfo({ loadAverage: 'high', cpus: '2' })).toEqual({ date: undefined, cpus: undefined, load: undefined, node: undefined });
    expect(runInfo(null)).toEqual({ date: undefined, cpus: undefined, load: undefined, node: undefined });
  });

  it('shows a results file of the wrong shape as figures missing, not as a crash', () => {
    const markdown = section({ 'sip-parse': [1, 2, 3], transfer: { rows: 'none' }, store: { rows: [null, { name: 7 }] } });

    expect(rowOf(markdown, 'parse REGISTER, fully checked, ours ÷ JsSIP')).toContain('| not in sip-parse.json | ≥ 1× JsSIP | – |');
    expect(rowOf(markdown, 'messages lost / duplicated / out of order, all pairs')).toContain('not in transfer.json');
    expect(rowOf(markdown, 'deposits, store API, synchronous=FULL, batches of 100')).toContain('not in store.json');
  });
});

describe('bench-report: verdicts', () => {
  const search = (server: string, scenario: string, highestPassed: number, lowestFailed: number | undefined, end: string): Record<string, unknown> => ({
    server,
    scenario,
    highestPassed,
    lowestFailed,
    end,
  });
  const REGISTER = 'REGISTER with digest: highest rate with no failure';

  it('lab core vs Kamailio: a rate search cut short on both sides meets the bar only if its whole interval does', () => {
    const met = section({ 'lab-core': { searches: [search('lab core', 'registration', 3200, 4000, 'budget'), search('Kamailio 5.6', 'registration', 6000, 6400, 'budget')] } });
    const notMet = section({ 'lab-core': { searches: [search('lab core', 'registration', 1000, 1200, 'budget'), search('Kamailio 5.6', 'registration', 6400, 9600, 'budget')] } });
    const unclear = section({ 'lab-core': { searches: [search('lab core', 'registration', 3200, 4000, 'budget'), search('Kamailio 5.6', 'registration', 6400, 9600, 'budget')] } });
    const unbounded = section({ 'lab-core': { searches: [search('lab core', 'registration', 3200, undefined, 'generator-bound'), search('Kamailio 5.6', 'registration', 3200, 3300, 'converged')] } });

    expect(rowOf(met, REGISTER)).toContain('≥ 3,200/s vs Kamailio ≥ 6,000/s: 0.50–0.67× | ≥ 0.5× Kamailio | ✅ met |');
    expect(rowOf(notMet, REGISTER)).toContain('0.10–0.19× | ≥ 0.5× Kamailio | ❌ not met |');
    expect(rowOf(unclear, REGISTER)).toContain('0.33–0.63× | ≥ 0.5× Kamailio | ❔ unclear |');
    expect(rowOf(unbounded, REGISTER)).toContain('≥ 3,200/s vs Kamailio 3,200/s: ≥ 0.97× | ≥ 0.5× Kamailio | ✅ met |');
  });

  it('lab core vs a SIPp-bound Kamailio: only an upper bound, which can still decide "not met"', () => {
    const kamailio = search('Kamailio 5.6', 'registration', 3200, undefined, 'generator-bound');
    const unclear = section({ 'lab-core': { searches: [search('lab core', 'registration', 1600, 2400, 'budget'), kamailio] } });
    const notMet = section({ 'lab-core': { searches: [search('lab core', 'registration', 1000, 1200, 'converged'), kamailio] } });

    expect(rowOf(unclear, REGISTER)).toContain('| ≥ 1,600/s vs Kamailio ≥ 3,200/s: < 0.75× | ≥ 0.5× Kamailio | ❔ unclear |');
    expect(rowOf(notMet, REGISTER)).toContain('| 1,000/s vs Kamailio ≥ 3,200/s: < 0.38× | ≥ 0.5× Kamailio | ❌ not met |');
  });

  it('lab core without a Kamailio run has no verdict', () => {
    const markdown = section({ 'lab-core': { searches: [search('lab core', 'registration', 3000, 3100, 'converged')] } });

    expect(rowOf(markdown, REGISTER)).toBe(`| ${REGISTER} | 3,000/s; Kamailio not measured | ≥ 0.5× Kamailio | – |`);
  });

  it('a strict bar is not met by a figure equal to it, an inclusive one is', () => {
    const markdown = section({
      renderer: { medians: [{ measurement: 'thread painted (click → first rows painted)', value: 200 }, { measurement: 'scroll: p95 frame time', value: 16.7 }] },
    });

    expect(rowOf(markdown, 'thread painted (click → first rows painted)')).toContain('| 200 ms | < 200 ms | ❌ not met |');
    expect(rowOf(markdown, 'scrolling the history: p95 frame time (trace, frames back to back)')).toContain('| 16.7 ms | ≤ 16.7 ms | ✅ met |');
  });
});

describe('bench-report: numbers', () => {
  it('rounds to the digits a figure deserves, grouping thousands without a locale', () => {
    expect([20_000, 999.6, 375.4, 99.97, 26.44, 2.083, 0.0856, 0, -1234.6].map(formatNumber)).toEqual(['20,000', '1,000', '375', '100', '26.4', '2.08', '0.086', '0', '-1,235']);
  });

});
