/**
 * Message Store benchmark: `npx tsx bench/store.bench.ts`.
 *
 * Measures deposit throughput (batches of 100 messages) through the store API directly and through the HTTP API
 * (Digest-authenticated, nonce reused), for synchronous=FULL (the default) and NORMAL, and the latency of fetching
 * the newest page (50 messages) of a 100,000-message conversation. Prints a markdown table and writes
 * bench/results/store.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessageInput } from '../server/store/message-store';
import { SqliteMessageStore } from '../server/store/sqlite-message-store';
import { StoreClient } from '../electron/device/history/store-client';
import { StoreHttpApi } from '../server/store/store-http-api';
import { message, tempDir } from '../server/store/test-fixtures';

const OWNER = 'sip:alice@a.example';
const BATCH = 100;
const BIG = 100_000;
const PAGE = 50;

interface Row {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

function batch(conversationId: string, n: number): MessageInput[] {
  return Array.from({ length: BATCH }, (_, i) =>
    message({ conversationId, messageId: `m${n * BATCH + i}`, body: `benchmark message ${n * BATCH + i} — some typical chat text of modest length` }),
  );
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function latencies(samples: number[]): { median: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const tmp = tempDir('cpm-store-bench-');
  try {
    // Warm the JIT so that the first measured mode is not penalised.
    const warm = SqliteMessageStore.open({ path: ':memory:' });
    for (let n = 0; n < 100; n++) warm.deposit(OWNER, batch('warm', n));
    warm.close();
    for (const mode of ['FULL', 'NORMAL'] as const) {
      const store = SqliteMessageStore.open({ path: join(tmp.dir, `direct-${mode}.db`), synchronous: mode });
      const batches = BIG / BATCH;
      const t0 = performance.now();
      for (let n = 0; n < batches; n++) store.deposit(OWNER, batch('big', n));
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ name: `deposit, store API, synchronous=${mode}`, value: Math.round((batches * BATCH) / seconds), unit: 'msg/s', detail: `${batches} batches of ${BATCH}` });

      if (mode === 'FULL') {
        // The 100,000-message conversation now exists: time the newest page.
        for (let i = 0; i < 50; i++) store.fetchBefore(OWNER, 'big', { limit: PAGE }); // warm-up
        const samples: number[] = [];
        for (let i = 0; i < 2000; i++) {
          const t = performance.now();
          const page = store.fetchBefore(OWNER, 'big', { limit: PAGE });
          samples.push(performance.now() - t);
          if (page.messages[0]?.seq !== BIG) throw new Error('newest page is wrong');
        }
        const l = latencies(samples);
        rows.push({ name: 'newest page, store API, median', value: l.median, unit: 'ms', detail: `${PAGE} of ${BIG} messages, 2000 samples` });
        rows.push({ name: 'newest page, store API, p99', value: l.p99, unit: 'ms', detail: `${PAGE} of ${BIG} messages, 2000 samples` });

        const api = await StoreHttpApi.start({ store, realm: 'a.example', lookupUser: (aor) => (aor === OWNER ? { password: 'pw' } : undefined) });
        const client = new StoreClient({ baseUrl: api.url, username: 'alice@a.example', password: 'pw' });
        try {
          const httpBatches = 200;
          const t1 = performance.now();
          for (let n = 0; n < httpBatches; n++) await client.deposit(batch('http', n));
          const httpSeconds = (performance.now() - t1) / 1000;
          rows.push({ name: 'deposit, HTTP API, synchronous=FULL', value: Math.round((httpBatches * BATCH) / httpSeconds), unit: 'msg/s', detail: `${httpBatches} batches of ${BATCH}, sequential, one client` });
          for (let i = 0; i < 20; i++) await client.fetchNewest('big', { limit: PAGE });
          const httpSamples: number[] = [];
          for (let i = 0; i < 500; i++) {
            const t = performance.now();
            await client.fetchNewest('big', { limit: PAGE });
            httpSamples.push(performance.now() - t);
          }
          const h = latencies(httpSamples);
          rows.push({ name: 'newest page, HTTP API, median', value: h.median, unit: 'ms', detail: `${PAGE} of ${BIG} messages, 500 samples` });
          rows.push({ name: 'newest page, HTTP API, p99', value: h.p99, unit: 'ms', detail: `${PAGE} of ${BIG} messages, 500 samples` });
        } finally {
          await api.close();
        }
      }
      store.close();
    }
  } finally {
    tmp.remove();
  }

  const fmt = (r: Row): string => (r.unit === 'ms' ? r.value.toFixed(3) : r.value.toLocaleString('en-US'));
  const table = ['| measurement | value | unit | detail |', '| --- | ---: | --- | --- |', ...rows.map((r) => `| ${r.name} | ${fmt(r)} | ${r.unit} | ${r.detail} |`)].join('\n');
  process.stdout.write(`${table}\n`);
  const resultsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
  mkdirSync(resultsDir, { recursive: true });
  const out = { benchmark: 'store', date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: loadavg(), tmpdir: tmp.dir, rows };
  writeFileSync(join(resultsDir, 'store.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
