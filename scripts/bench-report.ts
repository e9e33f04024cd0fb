/**
 * The README's benchmark figures: `npm run bench:report` (= `tsx scripts/bench-report.ts`).
 *
 * Reads every `bench/results/<name>.json` that `npm run bench` left behind and rewrites the part of README.md
 * between `<!-- bench:begin -->` and `<!-- bench:end -->` with one compact table per area: what was measured
 * (median, with p99 or a ratio where the bench has them), the target from the issue beside it, and whether it is
 * met; under each table, the run it comes from (date, CPUs, 1-minute load average). Nothing outside the markers
 * changes. If the README has no markers yet, they are added at the end of its "## Benchmarks" section.
 *
 * Options: `--check` (write nothing; exit 1 if the README is out of date), `--results <dir>`, `--readme <file>`.
 *
 * The output depends on the results files only (no clock, no locale), so running it twice changes nothing. A
 * results file that is missing, unreadable or lacks a figure shows as such in its row; it never stops the report.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Opens the generated part of the README. */
export const BEGIN_MARKER = '<!-- bench:begin -->';
/** Closes the generated part of the README. */
export const END_MARKER = '<!-- bench:end -->';

/** One `bench/results/<name>.json` as read from disk: its parsed JSON, or why it could not be read. */
export type LoadedResult =
  | { readonly ok: true; readonly json: unknown }
  /** `error` goes into the README (stable wording); `detail` (the parser's message) is for the console. */
  | { readonly ok: false; readonly error: string; readonly detail?: string };

/** Results by bench name (the file name without `.json`, e.g. `sip-parse`). */
export type ResultSet = ReadonlyMap<string, LoadedResult>;

/**
 * How a measurement compares with its target: `met`, `not met`, `unclear` (this run cannot tell, e.g. a rate
 * search that ran out of time on both sides of the bar), `missing` (no figure) or `info` (no target).
 */
export type Verdict = 'met' | 'not met' | 'unclear' | 'missing' | 'info';

/** What a row found in its results file. */
interface Reading {
  /** The measured figure as shown. */
  readonly text: string;
  /** The number compared with the target (when the target decides the verdict). */
  readonly value?: number;
  /** A verdict decided by the row itself (overrides the comparison with the target). */
  readonly verdict?: Verdict;
}

/** A target from the issue. */
interface Target {
  /** As shown, e.g. `≥ 20,000 msg/s`. */
  readonly text: string;
  /** Whether a measured value meets it. */
  readonly holds: (value: number) => boolean;
}

/** One row of an area's table. */
interface RowSpec {
  /** What is measured. */
  readonly measure: string;
  /** The bench whose results the row reads. */
  readonly source: string;
  readonly target?: Target;
  /** The figure, or undefined when the results file lacks it. */
  readonly read: (json: unknown) => Reading | undefined;
  /** Shown when `read` finds nothing (default: `not in <source>.json`). */
  readonly absent?: string;
}

/** One table of the report. */
interface AreaSpec {
  readonly title: string;
  readonly rows: readonly RowSpec[];
}

/** The machine a results file was measured on, whichever way its bench recorded it. */
export interface RunInfo {
  readonly date?: string;
  readonly cpus?: number;
  /** The 1-minute load average. */
  readonly load?: number;
  readonly node?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading untrusted JSON

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path` (object keys and array indexes), or undefined where the shape differs. */
function field(value: unknown, ...path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = (current as unknown[])[key];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function records(value: unknown): ReadonlyArray<Readonly<Record<string, unknown>>> {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The first element of the array at `list` whose `key` string starts with `prefix`. */
function named(json: unknown, list: string, key: string, prefix: string): Readonly<Record<string, unknown>> | undefined {
  return records(field(json, list)).find((row) => text(row[key])?.startsWith(prefix) === true);
}

/** The `value` of the row named `prefix` in `list` (rows of `{ name | measurement, value, unit, detail }`). */
function valueOf(json: unknown, list: string, key: string, prefix: string): number | undefined {
  return finite(named(json, list, key, prefix)?.value);
}

/** A load average recorded as a number or as `os.loadavg()`'s triple: its 1-minute figure. */
function oneMinuteLoad(value: unknown): number | undefined {
  return finite(value) ?? finite(field(value, 0));
}

/** The run a results file describes, from any of the shapes the benches write. */
export function runInfo(json: unknown): RunInfo {
  return {
    date: text(field(json, 'date')),
    cpus: finite(field(json, 'cpus')) ?? finite(field(json, 'machine', 'cpus')),
    load:
      oneMinuteLoad(field(json, 'loadAverage')) ??
      oneMinuteLoad(field(json, 'loadAverageAtEnd')) ??
      oneMinuteLoad(field(json, 'machine', 'loadavg')) ??
      oneMinuteLoad(field(json, 'loadavg')),
    node: text(field(json, 'node')) ?? text(field(json, 'machine', 'node')),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting (locale-free, so that the output is the same everywhere)

function grouped(integer: number): string {
  const digits = String(Math.abs(integer)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return integer < 0 ? `-${digits}` : digits;
}

/** A measured number with as many digits as it deserves: `20,000`, `375`, `26.4`, `2.08`, `0.11`. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  // Thresholds on the rounded figure, so that 999.9 shows as 1,000 and 99.97 as 100.
  const magnitude = Math.abs(value);
  if (magnitude >= 999.5) return grouped(Math.round(value));
  if (magnitude >= 99.95) return String(Math.round(value));
  if (magnitude >= 9.995) return value.toFixed(1);
  if (magnitude >= 0.9995) return value.toFixed(2);
  if (magnitude === 0) return '0';
  return value.toPrecision(2);
}

/** A ratio: `22.8×`, `0.47×`. */
function ratio(value: number): string {
  return `${value >= 9.995 ? value.toFixed(1) : value.toFixed(2)}×`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function ms(value: number): string {
  return `${formatNumber(value)} ms`;
}

/** `2026-11-26T21:44:21.857Z` → `2026-11-26 21:44 UTC`. */
function shortDate(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** A table cell: no pipes or line breaks from the data. */
function cell(value: string): string {
  return value.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

// ---------------------------------------------------------------------------------------------------------------
// Targets

const atLeast = (bar: number, shown: string): Target => ({ text: `≥ ${shown}`, holds: (v) => v >= bar });
const below = (bar: number, shown: string): Target => ({ text: `< ${shown}`, holds: (v) => v < bar });
const atMost = (bar: number, shown: string): Target => ({ text: `≤ ${shown}`, holds: (v) => v <= bar });

/** A `{ median, p99 }` pair as `26.4 ms · p99 273 ms`, compared on the median. */
function medianP99(median: number | undefined, p99: number | undefined): Reading | undefined {
  if (median === undefined) return undefined;
  return { text: p99 === undefined ? ms(median) : `${ms(median)} · p99 ${ms(p99)}`, value: median };
}

// ---------------------------------------------------------------------------------------------------------------
// The areas

function parseRatioRow(measure: string, checkedKey: string, lazyKey?: string): RowSpec {
  return {
    measure,
    source: 'sip-parse',
    target: atLeast(1, '1× JsSIP'),
    read: (json) => {
      const value = finite(field(json, 'ratios', checkedKey));
      if (value === undefined) return undefined;
      const lazy = lazyKey === undefined ? undefined : finite(field(json, 'ratios', lazyKey));
      return { text: lazy === undefined ? ratio(value) : `${ratio(value)} (lazy parse ${ratio(lazy)})`, value };
    },
  };
}

const sipParse: AreaSpec = {
  title: 'SIP message layer vs JsSIP 3.13 (same messages, same process)',
  rows: [
    parseRatioRow('parse INVITE with SDP, fully checked, ours ÷ JsSIP', 'INVITE with SDP parse (checked / JsSIP)', 'INVITE with SDP parse (lazy / JsSIP)'),
    parseRatioRow('parse REGISTER, fully checked, ours ÷ JsSIP', 'REGISTER parse (checked / JsSIP)', 'REGISTER parse (lazy / JsSIP)'),
    parseRatioRow('serialize INVITE with SDP to bytes, ours ÷ JsSIP', 'INVITE with SDP serialize (ours / JsSIP)'),
    parseRatioRow('serialize REGISTER to bytes, ours ÷ JsSIP', 'REGISTER serialize (ours / JsSIP)'),
  ],
};

/** A rate search of bench/sipp/rate-search.ts as recorded in lab-core.json. */
interface RateSearch {
  readonly passed: number | undefined;
  readonly failed: number | undefined;
  readonly converged: boolean;
}

function rateSearch(json: unknown, lab: boolean, scenario: string): RateSearch | undefined {
  const found = records(field(json, 'searches')).find((s) => s.scenario === scenario && (s.server === 'lab core') === lab);
  if (!found) return undefined;
  return { passed: finite(found.highestPassed), failed: finite(found.lowestFailed), converged: found.end === 'converged' };
}

function rateText(search: RateSearch): string {
  if (search.passed === undefined) return 'no rate passed';
  return `${search.converged ? '' : '≥ '}${formatNumber(search.passed)}/s`;
}

/**
 * Lab core ÷ Kamailio from two rate searches. Each server's limit lies in [highest passed, lowest failed), so
 * the ratio lies in [lab low ÷ Kamailio high, lab high ÷ Kamailio low); the verdict is `unclear` when the bar
 * falls inside that interval (unless both searches converged, where the ratio of the passes is the figure).
 */
function labVersusKamailio(scenario: string, bar: number): (json: unknown) => Reading | undefined {
  return (json) => {
    const lab = rateSearch(json, true, scenario);
    const kamailio = rateSearch(json, false, scenario);
    if (!lab) return undefined;
    if (!kamailio) return { text: `${rateText(lab)}; Kamailio not measured`, verdict: 'missing' };
    const compared = `${rateText(lab)} vs Kamailio ${rateText(kamailio)}`;
    if (lab.passed === undefined || kamailio.passed === undefined) return { text: compared, verdict: 'unclear' };
    if (lab.converged && kamailio.converged) {
      const point = lab.passed / kamailio.passed;
      return { text: `${compared}: ${ratio(point)}`, value: point };
    }
    const low = lab.passed / (kamailio.failed ?? Number.POSITIVE_INFINITY);
    const high = (lab.failed ?? Number.POSITIVE_INFINITY) / kamailio.passed;
    const range = !Number.isFinite(high) ? `≥ ${ratio(low)}` : low === 0 ? `< ${ratio(high)}` : `${low.toFixed(2)}–${ratio(high)}`;
    const verdict: Verdict = low >= bar ? 'met' : high <= bar ? 'not met' : 'unclear';
    return { text: `${compared}: ${range}`, verdict };
  };
}

function cpuPerAttempt(scenario: string): (json: unknown) => Reading | undefined {
  return (json) => {
    const pick = (lab: boolean): number | undefined =>
      finite(records(field(json, 'searches')).find((s) => s.scenario === scenario && (s.server === 'lab core') === lab)?.cpuPerAttemptUsAt200);
    const lab = pick(true);
    const kamailio = pick(false);
    if (lab === undefined) return undefined;
    if (kamailio === undefined) return { text: `${formatNumber(lab)} µs` };
    return { text: `${formatNumber(lab)} µs vs Kamailio ${formatNumber(kamailio)} µs (${ratio(lab / kamailio)} as much)` };
  };
}

const labCore: AreaSpec = {
  title: 'Lab SIP/IP core vs Kamailio 5.6 (SIPp over UDP, server and SIPp on one CPU each)',
  rows: [
    { measure: 'REGISTER with digest: highest rate with no failure', source: 'lab-core', target: atLeast(0.5, '0.5× Kamailio'), read: labVersusKamailio('registration', 0.5) },
    { measure: 'proxied call (INVITE with digest … BYE): highest rate', source: 'lab-core', target: atLeast(0.5, '0.5× Kamailio'), read: labVersusKamailio('session', 0.5) },
    { measure: 'server CPU per REGISTER at 200/s', source: 'lab-core', read: cpuPerAttempt('registration') },
    { measure: 'server CPU per call at 200/s', source: 'lab-core', read: cpuPerAttempt('session') },
    {
      measure: 'heap per registered contact',
      source: 'lab-core',
      target: below(2048, '2 KiB'),
      read: (json) => {
        const bytes = finite(field(json, 'heap', 'bytesPerContact'));
        return bytes === undefined ? undefined : { text: `${kib(bytes)} (${grouped(Math.round(bytes))} B)`, value: bytes };
      },
    },
    {
      measure: 'reg-event NOTIFY latency (registrar change → NOTIFY at the watcher)',
      source: 'reg-notify',
      target: below(20, '20 ms'),
      // bench/reg-notify.bench.ts writes `notifyLatencyMs: { median, p99 }`.
      read: (json) => medianP99(finite(field(json, 'notifyLatencyMs', 'median')), finite(field(json, 'notifyLatencyMs', 'p99'))),
      absent: 'reg-notify.json has no notifyLatencyMs',
    },
  ],
};

/** A msrp.json / device.json row by name. */
const row = (json: unknown, prefix: string): number | undefined => valueOf(json, 'rows', 'name', prefix);

const msrpPath: AreaSpec = {
  title: 'MSRP and the CPM path (device to device on loopback)',
  rows: [
    {
      measure: 'raw MSRP, 100 B SEND, endpoint to endpoint',
      source: 'msrp',
      target: atLeast(20_000, '20,000 msg/s'),
      read: (json) => {
        const value = row(json, 'MSRP direct, 100 B SEND');
        return value === undefined ? undefined : { text: `${formatNumber(value)} msg/s`, value };
      },
    },
    {
      measure: 'raw MSRP, 1 MiB messages, share of the `net` echo ceiling',
      source: 'msrp',
      target: atLeast(0.5, '0.5× ceiling'),
      read: (json) => {
        const msrp = row(json, 'MSRP direct, 1 MiB messages');
        const ceiling = row(json, 'net echo (ceiling), 64 KiB writes');
        if (msrp === undefined || ceiling === undefined || ceiling <= 0) return undefined;
        return { text: `${ratio(msrp / ceiling)} (${formatNumber(msrp)} of ${formatNumber(ceiling)} MiB/s)`, value: msrp / ceiling };
      },
    },
    {
      measure: 'full CPM path, DeviceApi to DeviceApi (CPIM, IMDN, history)',
      source: 'device',
      target: atLeast(5000, '5,000 msg/s'),
      read: (json) => {
        const value = row(json, 'CPM path, messages to Bob');
        if (value === undefined) return undefined;
        const imdn = row(json, 'CPM path, messages until every delivery IMDN');
        return { text: `${formatNumber(value)} msg/s${imdn === undefined ? '' : ` (${formatNumber(imdn)} with the IMDNs back)`}`, value };
      },
    },
    {
      measure: '1 MB messages through the DeviceAgents',
      source: 'device',
      read: (json) => {
        const value = row(json, '1 MB messages through the agents, to Bob');
        if (value === undefined) return undefined;
        const ceiling = valueOf(json, 'msrpBenchRows', 'name', 'net echo (ceiling), 64 KiB writes');
        return { text: `${formatNumber(value)} MiB/s${ceiling ? ` (${ratio(value / ceiling)} ceiling)` : ''}` };
      },
    },
    {
      measure: 'session set-up, startChat → first message at the peer',
      source: 'device',
      target: below(20, '20 ms'),
      read: (json) => medianP99(row(json, 'session set-up (startChat → first message at Bob), median'), row(json, 'session set-up (startChat → first message at Bob), p99')),
    },
  ],
};

/** A conversation.json pair result. */
function pairResult(json: unknown, modeA: string, modeB: string): Readonly<Record<string, unknown>> | undefined {
  return records(field(json, 'results')).find((r) => r.modeA === modeA && r.modeB === modeB);
}

function relayRatio(key: 'workerSmall' | 'workerLarge'): (json: unknown) => Reading | undefined {
  return (json) => {
    const value = finite(field(json, 'relayRatios', key));
    return value === undefined ? undefined : { text: ratio(value), value };
  };
}

/**
 * A Conversation Server's own heap per open session in one mode (conversation.json `servers`: each pair's slope
 * minus the baseline of the same phones with no server in the path): the largest of that mode's figures, the
 * others beside it.
 */
function serverHeap(mode: 'in-path' | 'proxy'): (json: unknown) => Reading | undefined {
  return (json) => {
    const figures = records(field(json, 'servers')).flatMap((r) => {
      const bytes = finite(r.bytesPerSession);
      return r.mode === mode && bytes !== undefined ? [{ bytes, which: typeof r.which === 'string' ? r.which : '' }] : [];
    });
    if (figures.length === 0) return undefined;
    const worst = figures.reduce((max, f) => (f.bytes > max.bytes ? f : max));
    const others = figures.filter((f) => f !== worst).map((f) => `${formatNumber(f.bytes)} B ${f.which}`);
    return { text: `${formatNumber(worst.bytes)} B (${worst.which}${others.length > 0 ? `; ${others.join(', ')}` : ''})`, value: worst.bytes };
  };
}

const PAIRS = [
  ['in-path', 'in-path'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['proxy', 'proxy'],
] as const;

const conversationServer: AreaSpec = {
  title: 'Conversation Server: MSRP relay and sessions',
  rows: [
    { measure: 'relay ÷ direct, 100 B SEND (relay in its own thread)', source: 'msrp', target: atLeast(0.7, '0.7× direct'), read: relayRatio('workerSmall') },
    { measure: 'relay ÷ direct, 1 MiB messages (relay in its own thread)', source: 'msrp', target: atLeast(0.7, '0.7× direct'), read: relayRatio('workerLarge') },
    {
      measure: 'heap per in-path session (each server, its own share)',
      source: 'conversation',
      target: below(20_000, '20 KB'),
      read: serverHeap('in-path'),
    },
    {
      measure: 'heap per proxy-mode session (each server, its own share)',
      source: 'conversation',
      target: below(4_000, '4 KB'),
      read: serverHeap('proxy'),
    },
    {
      measure: 'session set-ups per second (slowest mode pair, CS A/CS B)',
      source: 'conversation',
      target: atLeast(200, '200/s'),
      read: (json) => {
        const rates = PAIRS.flatMap(([a, b]) => {
          const value = finite(pairResult(json, a, b)?.setupsPerSecond);
          return value === undefined ? [] : [{ pair: `${a}/${b}`, value }];
        });
        if (rates.length === 0) return undefined;
        const slowest = rates.reduce((min, r) => (r.value < min.value ? r : min));
        const fastest = rates.reduce((max, r) => (r.value > max.value ? r : max));
        return { text: `${formatNumber(slowest.value)}/s ${slowest.pair} (fastest ${formatNumber(fastest.value)}/s ${fastest.pair})`, value: slowest.value };
      },
    },
  ],
};

const storeRow = (json: unknown, prefix: string): number | undefined => valueOf(json, 'rows', 'name', prefix);

const messageStore: AreaSpec = {
  title: 'Message Store (SQLite, 100,000-message conversation)',
  rows: [
    {
      measure: 'deposits, store API, synchronous=FULL, batches of 100',
      source: 'store',
      target: atLeast(20_000, '20,000/s'),
      read: (json) => {
        const value = storeRow(json, 'deposit, store API, synchronous=FULL');
        if (value === undefined) return undefined;
        const http = storeRow(json, 'deposit, HTTP API, synchronous=FULL');
        return { text: `${formatNumber(value)}/s${http === undefined ? '' : ` (HTTP API ${formatNumber(http)}/s)`}`, value };
      },
    },
    {
      measure: 'newest page (50), store API',
      source: 'store',
      target: below(10, '10 ms'),
      read: (json) => medianP99(storeRow(json, 'newest page, store API, median'), storeRow(json, 'newest page, store API, p99')),
    },
    {
      measure: 'newest page (50), HTTP API',
      source: 'store',
      target: below(10, '10 ms'),
      read: (json) => medianP99(storeRow(json, 'newest page, HTTP API, median'), storeRow(json, 'newest page, HTTP API, p99')),
    },
  ],
};

function transferRow(json: unknown, modeA: string, modeB: string): Readonly<Record<string, unknown>> | undefined {
  return records(field(json, 'rows')).find((r) => r.modeA === modeA && r.modeB === modeB);
}

function transferRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  for (const [what, key, inPath, proxy] of [
    ['move time', 'moveMs', 30, 60],
    ['interruption', 'interruptionMs', 5, 50],
  ] as const) {
    for (const [a, b] of PAIRS) {
      const bar = a === 'in-path' ? inPath : proxy;
      rows.push({
        measure: `${what}, mover's CS ${a}, peer's CS ${b}`,
        source: 'transfer',
        target: below(bar, `${bar} ms`),
        read: (json) => {
          const found = transferRow(json, a, b);
          return medianP99(finite(field(found, key, 'median')), finite(field(found, key, 'p99')));
        },
      });
    }
  }
  rows.push({
    measure: 'messages lost / duplicated / out of order, all pairs',
    source: 'transfer',
    target: { text: 'none', holds: (v) => v === 0 },
    read: (json) => {
      const found = records(field(json, 'rows'));
      if (found.length === 0) return undefined;
      const sum = (key: string): number => found.reduce((total, r) => total + (finite(r[key]) ?? 0), 0);
      const [lost, duplicated, outOfOrder, sent, moves, failed] = ['lost', 'duplicated', 'outOfOrder', 'sent', 'moves', 'failedMoves'].map(sum) as [number, number, number, number, number, number];
      const failures = failed ? ` (+${grouped(failed)} failed)` : '';
      return { text: `${lost} / ${duplicated} / ${outOfOrder} of ${grouped(sent)} messages over ${grouped(moves)} moves${failures}`, value: lost + duplicated + outOfOrder };
    },
  });
  return rows;
}

const transfer: AreaSpec = { title: 'Moving a live chat between devices (all four Conversation Server mode pairs)', rows: transferRows() };

const rendererMedian = (json: unknown, prefix: string): number | undefined => valueOf(json, 'medians', 'measurement', prefix);

const renderer: AreaSpec = {
  title: 'Renderer (headless Chromium, software rendering, 100,000-message conversation)',
  rows: [
    {
      measure: 'thread painted (click → first rows painted)',
      source: 'renderer',
      target: below(200, '200 ms'),
      read: (json) => {
        const value = rendererMedian(json, 'thread painted');
        return value === undefined ? undefined : { text: ms(value), value };
      },
    },
    {
      measure: 'scrolling the history: p95 frame time (trace, frames back to back)',
      source: 'renderer',
      target: atMost(16.7, '16.7 ms'),
      read: (json) => {
        const value = rendererMedian(json, 'scroll: p95 frame time');
        return value === undefined ? undefined : { text: ms(value), value };
      },
    },
    {
      measure: 'scrolling the history at 60 Hz: frames that missed a vsync',
      source: 'renderer',
      read: (json) => {
        const value = rendererMedian(json, 'scroll at 60 Hz: missed frames');
        return value === undefined ? undefined : { text: grouped(Math.round(value)) };
      },
    },
    {
      measure: 'scrolling the history: long tasks (≥ 50 ms)',
      source: 'renderer',
      target: { text: 'none', holds: (v) => v === 0 },
      read: (json) => {
        const count = rendererMedian(json, 'scroll at 60 Hz: long tasks');
        if (count === undefined) return undefined;
        const longest = rendererMedian(json, 'scroll at 60 Hz: longest main-thread task');
        return { text: `${grouped(Math.round(count))}${longest === undefined ? '' : ` (longest task ${ms(longest)})`}`, value: count };
      },
    },
    {
      measure: 'app ready (navigation → conversation list painted)',
      source: 'renderer',
      read: (json) => {
        const value = rendererMedian(json, 'app ready');
        return value === undefined ? undefined : { text: ms(value) };
      },
    },
  ],
};

const historyRow = (json: unknown, prefix: string): number | undefined => valueOf(json, 'results', 'measurement', prefix);

const history: AreaSpec = {
  title: 'Local history on the device (SQLite, 100,000-message conversation)',
  rows: [
    {
      measure: 'appends, batched as the chat service writes them',
      source: 'history',
      read: (json) => {
        const value = historyRow(json, 'append, batched');
        return value === undefined ? undefined : { text: `${formatNumber(value)} msg/s` };
      },
    },
    {
      measure: 'newest page (50)',
      source: 'history',
      read: (json) => {
        const found = medianP99(historyRow(json, 'newest page, median'), historyRow(json, 'newest page, p99'));
        return found && { text: found.text };
      },
    },
    {
      measure: 'restart: open + newest page',
      source: 'history',
      read: (json) => {
        const value = historyRow(json, 'restart: open + newest page');
        return value === undefined ? undefined : { text: ms(value) };
      },
    },
  ],
};

/** Every table of the report, in order. */
const AREAS: readonly AreaSpec[] = [sipParse, labCore, msrpPath, conversationServer, messageStore, transfer, renderer, history];

// ---------------------------------------------------------------------------------------------------------------
// Rendering

const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  met: '✅ met',
  'not met': '❌ not met',
  unclear: '❔ unclear',
  missing: '–',
  info: '',
};

/** One row's cells: measured text and verdict. */
function evaluate(spec: RowSpec, loaded: LoadedResult | undefined): { measured: string; verdict: Verdict } {
  if (!loaded) return { measured: `not run (\`npm run bench -- ${spec.source}\`)`, verdict: 'missing' };
  if (!loaded.ok) return { measured: `unreadable ${spec.source}.json`, verdict: 'missing' };
  let reading: Reading | undefined;
  try {
    reading = spec.read(loaded.json);
  } catch (error) {
    // A row reader only walks JSON; if it still throws, show that rather than stop the report.
    reading = { text: `cannot read: ${error instanceof Error ? error.message : String(error)}`, verdict: 'missing' };
  }
  if (!reading) return { measured: spec.absent ?? `not in ${spec.source}.json`, verdict: 'missing' };
  if (reading.verdict) return { measured: reading.text, verdict: reading.verdict };
  if (!spec.target) return { measured: reading.text, verdict: 'info' };
  if (reading.value === undefined) return { measured: reading.text, verdict: 'missing' };
  return { measured: reading.text, verdict: spec.target.holds(reading.value) ? 'met' : 'not met' };
}

/** The line under a table naming the run(s) it comes from. */
function runLine(source: string, loaded: LoadedResult | undefined): string {
  if (!loaded) return `\`${source}\`: not run`;
  if (!loaded.ok) return `\`${source}\`: ${loaded.error}`;
  const info = runInfo(loaded.json);
  const parts = [
    info.date === undefined ? 'date not recorded' : shortDate(info.date),
    info.cpus === undefined ? 'CPUs not recorded' : `${info.cpus} CPU${info.cpus === 1 ? '' : 's'}`,
    info.load === undefined ? 'load not recorded' : `load ${info.load.toFixed(1)}`,
  ];
  if (info.node !== undefined) parts.push(`Node ${info.node}`);
  return `\`${source}\`: ${parts.join(', ')}`;
}

/** Counts of verdicts over the whole report. */
export interface ReportSummary {
  readonly met: number;
  readonly notMet: number;
  readonly unclear: number;
  readonly missing: number;
}

/** The generated markdown (without the markers) and its verdict counts. */
export function renderBenchSection(results: ResultSet): { markdown: string; summary: ReportSummary } {
  const counts = { met: 0, notMet: 0, unclear: 0, missing: 0 };
  const out: string[] = [
    'Generated by `npm run bench:report` from `bench/results/*.json` (written by `npm run bench`); do not edit by hand.',
    'Each table names the run it comes from: on a loaded machine compare ratios rather than absolute rates.',
    '✅ met · ❌ not met · ❔ this run cannot tell · – no figure. KiB = 1024 B.',
  ];
  for (const area of AREAS) {
    out.push('', `### ${area.title}`, '', '| measure | measured | target | |', '| --- | --- | --- | --- |');
    for (const spec of area.rows) {
      const { measured, verdict } = evaluate(spec, results.get(spec.source));
      if (verdict === 'met') counts.met++;
      else if (verdict === 'not met') counts.notMet++;
      else if (verdict === 'unclear') counts.unclear++;
      else if (verdict === 'missing' && spec.target) counts.missing++;
      out.push(`| ${cell(spec.measure)} | ${cell(measured)} | ${cell(spec.target?.text ?? '—')} | ${VERDICT_TEXT[verdict]} |`);
    }
    const sources = [...new Set(area.rows.map((r) => r.source))];
    out.push('', `<sub>${sources.map((s) => cell(runLine(s, results.get(s)))).join(' · ')}</sub>`);
  }
  return { markdown: `${out.join('\n')}\n`, summary: counts };
}

/**
 * Where the "## Benchmarks" section ends (the next heading of level 1 or 2, or the end of the text), or undefined
 * without such a section. Lines inside fenced code blocks are not headings.
 */
function benchmarksSectionEnd(readme: string): number | undefined {
  let offset = 0;
  let fenced = false;
  let inSection = false;
  for (const line of readme.split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced && /^#{1,2} /.test(line)) {
      if (inSection) return offset;
      inSection = /^## Benchmarks[ \t]*\r?$/.test(line);
    }
    offset += line.length + 1;
  }
  return inSection ? readme.length : undefined;
}

/**
 * `readme` with the text between the markers replaced by `section` (which should end with a newline). Without
 * markers, they are added at the end of the "## Benchmarks" section. Throws on a README with neither, or with
 * markers that are duplicated, unpaired or out of order.
 */
export function replaceBenchSection(readme: string, section: string): string {
  const begins = readme.split(BEGIN_MARKER).length - 1;
  const ends = readme.split(END_MARKER).length - 1;
  const body = section.endsWith('\n') ? section : `${section}\n`;
  if (begins === 1 && ends === 1) {
    const start = readme.indexOf(BEGIN_MARKER) + BEGIN_MARKER.length;
    const end = readme.indexOf(END_MARKER);
    if (end < start) throw new Error(`README: ${END_MARKER} comes before ${BEGIN_MARKER}`);
    return `${readme.slice(0, start)}\n${body}${readme.slice(end)}`;
  }
  if (begins !== 0 || ends !== 0) {
    throw new Error(`README: expected one ${BEGIN_MARKER} and one ${END_MARKER}, found ${begins} and ${ends}`);
  }
  const sectionEnd = benchmarksSectionEnd(readme);
  if (sectionEnd === undefined) throw new Error(`README has neither the ${BEGIN_MARKER} / ${END_MARKER} markers nor a "## Benchmarks" section to put them in`);
  const before = readme.slice(0, sectionEnd).replace(/\n*$/, '\n');
  const after = readme.slice(sectionEnd);
  return `${before}\n${BEGIN_MARKER}\n${body}${END_MARKER}\n${after ? `\n${after}` : ''}`;
}

/** Every `<name>.json` in `dir`, parsed (an unreadable file is recorded with its error, not thrown). */
export function loadResults(dir: string): Map<string, LoadedResult> {
  const results = new Map<string, LoadedResult>();
  if (!existsSync(dir)) return results;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const name = file.slice(0, -'.json'.length);
    try {
      results.set(name, { ok: true, json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      results.set(name, { ok: false, error: `${file} is not valid JSON (did its bench stop while writing it?)`, detail });
    }
  }
  return results;
}

/** What {@link writeBenchReport} did. */
export interface BenchReportOutcome {
  /** The README differed from the report (and, unless `check`, was rewritten). */
  readonly changed: boolean;
  readonly summary: ReportSummary;
}

/** Rewrites the README's benchmark section from the results folder; with `check`, only compares. */
export function writeBenchReport(options: { resultsDir: string; readmePath: string; check?: boolean }): BenchReportOutcome {
  const readme = readFileSync(options.readmePath, 'utf8');
  const { markdown, summary } = renderBenchSection(loadResults(options.resultsDir));
  const updated = replaceBenchSection(readme, markdown);
  const changed = updated !== readme;
  if (changed && !options.check) writeFileSync(options.readmePath, updated);
  return { changed, summary };
}

function main(argv: readonly string[]): number {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  let resultsDir = join(repo, 'bench', 'results');
  let readmePath = join(repo, 'README.md');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') check = true;
    else if ((arg === '--results' || arg === '--readme') && argv[i + 1] !== undefined) {
      const value = resolve(argv[++i]!);
      if (arg === '--results') resultsDir = value;
      else readmePath = value;
    } else {
      process.stderr.write(`bench-report: unknown argument ${JSON.stringify(arg)}\nusage: tsx scripts/bench-report.ts [--check] [--results <dir>] [--readme <file>]\n`);
      return 2;
    }
  }
  for (const [name, loaded] of loadResults(resultsDir)) {
    if (!loaded.ok) process.stderr.write(`bench-report: warning: ${name}: ${loaded.error}${loaded.detail ? ` (${loaded.detail})` : ''}\n`);
  }
  const { changed, summary } = writeBenchReport({ resultsDir, readmePath, check });
  const counts = `${summary.met} met, ${summary.notMet} not met, ${summary.unclear} unclear, ${summary.missing} without a figure`;
  if (check) {
    process.stdout.write(changed ? `${readmePath}: benchmark section is out of date (npm run bench:report)\n` : `${readmePath}: benchmark section is up to date (${counts})\n`);
    return changed ? 1 : 0;
  }
  process.stdout.write(`${readmePath}: benchmark section ${changed ? 'rewritten' : 'already up to date'} (${counts})\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench-report: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
