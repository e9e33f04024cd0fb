import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteMessageStore } from './sqlite-message-store';
import { tempDir } from './test-fixtures';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..');
const BATCH = 20;

/** Run the child until it has acknowledged `acks` batches, SIGKILL it, and return the acknowledged batch numbers. */
function runAndKill(path: string, mode: 'FULL' | 'NORMAL', acks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'durability-child.ts'), path, mode, String(BATCH)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let buffer = '';
    let stderr = '';
    let killed = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not acknowledge ${acks} batches in time; stderr: ${stderr}`));
    }, 20_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m && !killed) acked.push(Number(m[1]));
      }
      if (!killed && acked.length >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${String(_code)}); stderr: ${stderr}`));
      else resolve(acked);
    });
  });
}

describe('durability', () => {
  it.each(['FULL', 'NORMAL'] as const)('keeps every acknowledged deposit when the process is SIGKILLed mid-burst (synchronous=%s)', async (mode) => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'store.db');
      const acked = await runAndKill(path, mode, 200);
      expect(acked.length).toBeGreaterThanOrEqual(200);
      const store = SqliteMessageStore.open({ path });
      try {
        const stored = new Set<string>();
        for (const cid of ['conv-0', 'conv-1', 'conv-2']) {
          let after = 0;
          for (;;) {
            const page = store.fetchAfter('sip:alice@a.example', cid, { after, limit: 500 });
            for (const m of page.messages) stored.add(m.messageId);
            if (!page.hasMore) break;
            after = page.cursor!;
          }
        }
        const missing = acked.flatMap((n) => Array.from({ length: BATCH }, (_, i) => `b${n}-m${i}`)).filter((id) => !stored.has(id));
        expect(missing).toEqual([]);
        // Batches are atomic: no batch is half there.
        const perBatch = new Map<string, number>();
        for (const id of stored) {
          const batch = id.slice(0, id.indexOf('-'));
          perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
        }
        expect([...perBatch.values()].every((count) => count === BATCH)).toBe(true);
      } finally {
        store.close();
      }
    } finally {
      tmp.remove();
    }
  });
});
