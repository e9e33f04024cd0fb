/**
 * Latency of `reg` NOTIFYs after a registration change (issue "The lab network": target under 20 ms), on the
 * lab network on loopback: a watcher device of alice subscribes to her registrations; another device of alice
 * registers, then signs out, N times. For each change, the time from the registrar accepting it (the core's
 * location service reports the change, in this process) to the watcher's JsSIP receiving the NOTIFY that shows
 * it (same process, same clock). The path measured: core → third-party REGISTER → Conversation Server registry →
 * NOTIFY → core → WebSocket → device.
 *
 *   npx tsx bench/reg-notify.bench.ts [--changes N]
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseReginfo, unquoteParam } from '../protocol/reginfo/reginfo';
import { LabNetwork } from '../server/lab/lab-network';
import { startLabDevice, waitFor } from '../test/helpers/lab-device';

const here = dirname(fileURLToPath(import.meta.url));
const argIndex = process.argv.indexOf('--changes');
const CHANGES = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 40;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const lab = await LabNetwork.start();
  const core = lab.domain('a.example').core;
  const changedAt = new Map<string, number>(); // "<device>:<active|gone>" → time the registrar changed it
  core.location.onChange((changes) => {
    const now = performance.now();
    for (const c of changes) {
      const name = c.binding.deviceName ?? '';
      changedAt.set(`${name}:${c.binding.expiresAt === 0 ? 'gone' : 'active'}`, now);
    }
  });
  const watcher = startLabDevice({ lab, user: 'sip:alice@a.example', device: 'Watcher' });
  await watcher.registered;
  const seenAt = new Map<string, number>();
  const sub = watcher.ua.subscribe('sip:alice@a.example', 'reg', 'application/reginfo+xml', { expires: 600, contentType: 'application/reginfo+xml' });
  sub.on('notify', (_final, _request, body) => {
    const now = performance.now();
    if (!body) return;
    for (const r of parseReginfo(body).registrations) {
      for (const c of r.contacts) {
        const key = `${unquoteParam(c.params['+cpm.device-name']) ?? ''}:${c.state === 'active' ? 'active' : 'gone'}`;
        if (!seenAt.has(key)) seenAt.set(key, now);
      }
    }
  });
  sub.subscribe();
  await waitFor('the first NOTIFY', () => seenAt.size > 0, 10_000);

  const added: number[] = [];
  const removed: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const name = `Phone-${i}`;
    const phone = startLabDevice({ lab, user: 'sip:alice@a.example', device: name, instanceId: `urn:uuid:${randomUUID()}` });
    await phone.registered;
    await waitFor(`${name} listed`, () => seenAt.get(`${name}:active`), 10_000);
    added.push(seenAt.get(`${name}:active`)! - changedAt.get(`${name}:active`)!);
    phone.ua.unregister();
    await waitFor(`${name} gone`, () => seenAt.get(`${name}:gone`), 10_000);
    removed.push(seenAt.get(`${name}:gone`)! - changedAt.get(`${name}:gone`)!);
    phone.ua.stop();
  }
  sub.terminate();
  watcher.stop();
  await new Promise((r) => setTimeout(r, 200));
  await lab.close();

  const all = [...added, ...removed].sort((a, b) => a - b);
  const result = {
    bench: 'reg-notify',
    date: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: loadavg(),
    node: process.version,
    changes: all.length,
    notifyLatencyMs: { median: quantile(all, 0.5), p99: quantile(all, 0.99) },
    registered: { median: quantile([...added].sort((a, b) => a - b), 0.5) },
    unregistered: { median: quantile([...removed].sort((a, b) => a - b), 0.5) },
  };
  const out = join(here, 'results', 'reg-notify.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `| reg NOTIFY latency (registrar change → watcher) | median ${result.notifyLatencyMs.median.toFixed(2)} ms | p99 ${result.notifyLatencyMs.p99.toFixed(2)} ms | ${all.length} changes | load ${loadavg()[0]!.toFixed(1)} |\n`,
  );
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`reg-notify bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
