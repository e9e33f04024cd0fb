/**
 * Local history benchmark: `npx tsx bench/history.bench.ts`.
 *
 * On a device's SQLite history (WAL, synchronous=NORMAL, in a temp dir):
 * - append throughput as the chat service drives it: bursts of appends, each burst written as one batch;
 * - the cost of one `append` call on the path that answers the UI (the batch write excluded);
 * - opening a 100,000-message conversation after a restart (open + first page), and the newest-page and a
 *   deep-page latency in it (median, p99).
 * Prints a markdown table and writes bench/results/history.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyPath, SqliteMessageHistory } from '../electron/device/history/sqlite-message-history';
import { chat, SELF, tempDataDir } from '../electron/device/history/testing/history-fixtures';

const BIG = 100_000;
const BURST = 100;
const PAGE = 50;
const SAMPLES = 2000;

interface Result {
  measurement: string;
  value: number;
  unit: 'msg/s' | 'ms' | 'µs';
  detail: string;
}

/** Median and 99th percentile of samples (nearest rank). */
function summarize(samples: readonly number[]): { median: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { median: at(0.5), p99: at(0.99) };
}

function timeEach(n: number, run: (i: number) => void): number[] {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    run(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

function main(): void {
  const results: Result[] = [];
  const tmp = tempDataDir();
  const path = historyPath(tmp.dir, SELF);
  try {
    let history = SqliteMessageHistory.open({ path, self: SELF });
    history.saveConversation({ id: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: null, updatedAt: 0, unreadCount: 0 });
    const callTimes: number[] = [];
    const t0 = performance.now();
    for (let burst = 0; burst < BIG / BURST; burst++) {
      for (let i = burst * BURST; i < (burst + 1) * BURST; i++) {
        const m = chat(i);
        const t = performance.now();
        history.append(m);
        callTimes.push(performance.now() - t);
      }
      history.flush(); // what the flush timer does after a burst
    }
    const seconds = (performance.now() - t0) / 1000;
    results.push({ measurement: 'append, batched', value: Math.round(BIG / seconds), unit: 'msg/s', detail: `${BIG} messages in bursts of ${BURST}, one transaction per burst` });
    const calls = summarize(callTimes);
    results.push({ measurement: 'append call (UI path), median', value: calls.median * 1000, unit: 'µs', detail: `${BIG} calls, batch write excluded` });
    results.push({ measurement: 'append call (UI path), p99', value: calls.p99 * 1000, unit: 'µs', detail: `${BIG} calls, batch write excluded` });
    history.close();

    const tOpen = performance.now();
    history = SqliteMessageHistory.open({ path, self: SELF });
    const first = history.page('conv-1', { limit: PAGE });
    results.push({ measurement: 'restart: open + newest page', value: performance.now() - tOpen, unit: 'ms', detail: `${BIG}-message conversation, new connection (OS page cache warm)` });
    if (first.messages[0]?.id !== `m${BIG - 1}`) throw new Error('newest page is wrong');

    timeEach(100, () => history.page('conv-1', { limit: PAGE })); // warm-up
    const newest = summarize(timeEach(SAMPLES, () => history.page('conv-1', { limit: PAGE })));
    results.push({ measurement: 'newest page, median', value: newest.median, unit: 'ms', detail: `${PAGE} of ${BIG}, ${SAMPLES} samples` });
    results.push({ measurement: 'newest page, p99', value: newest.p99, unit: 'ms', detail: `${PAGE} of ${BIG}, ${SAMPLES} samples` });
    const deep = summarize(timeEach(SAMPLES, (i) => history.page('conv-1', { limit: PAGE, before: `m${1000 + ((i * 37) % (BIG - 2000))}` })));
    results.push({ measurement: 'page deep in history, median', value: deep.median, unit: 'ms', detail: `${PAGE} before a random message, ${SAMPLES} samples` });
    results.push({ measurement: 'page deep in history, p99', value: deep.p99, unit: 'ms', detail: `${PAGE} before a random message, ${SAMPLES} samples` });
    history.close();
  } finally {
    tmp.remove();
  }

  const shown = (r: Result): string => (r.unit === 'msg/s' ? r.value.toLocaleString('en-US') : r.value.toFixed(3));
  const lines = ['| measurement | value | unit | detail |', '| --- | ---: | --- | --- |'];
  for (const r of results) lines.push(`| ${r.measurement} | ${shown(r)} | ${r.unit} | ${r.detail} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const report = { benchmark: 'history', date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: loadavg(), results };
  writeFileSync(join(dir, 'history.json'), `${JSON.stringify(report, null, 2)}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
