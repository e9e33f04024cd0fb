import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteMessageStore } from './sqlite-message-store';
import { StoreClient } from '../../electron/device/history/store-client';
import { messages, tempDir } from './test-fixtures';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..');
const BATCH = 20;
const OWNER = 'sip:alice@a.example';

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** Start the child and call `onLine` for every stdout line; resolves when it has been killed by SIGKILL. */
function runChild(args: string[], onLine: (line: string, child: Child) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'durability-child.ts'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    let stderr = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child was not killed in time; stderr: ${stderr}`));
    }, 25_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) onLine(line, child);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${String(code)}); stderr: ${stderr}`));
      else resolve();
    });
  });
}

/** Every message id stored for the owner in conv-0..2. */
function storedIds(path: string): Set<string> {
  const store = SqliteMessageStore.open({ path });
  try {
    const ids = new Set<string>();
    for (const cid of ['conv-0', 'conv-1', 'conv-2']) {
      let after = 0;
      for (;;) {
        const page = store.fetchAfter(OWNER, cid, { after, limit: 500 });
        for (const m of page.messages) ids.add(m.messageId);
        if (!page.hasMore) break;
        after = page.cursor!;
      }
    }
    return ids;
  } finally {
    store.close();
  }
}

function expectAckedAndAtomic(stored: Set<string>, acked: number[]): void {
  const missing = acked.flatMap((n) => Array.from({ length: BATCH }, (_, i) => `b${n}-m${i}`)).filter((id) => !stored.has(id));
  expect(missing).toEqual([]);
  // Batches are atomic: none is half there.
  const perBatch = new Map<string, number>();
  for (const id of stored) {
    const batch = id.slice(0, id.indexOf('-'));
    perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
  }
  expect([...perBatch.entries()].filter(([, count]) => count !== BATCH)).toEqual([]);
}

describe('durability under SIGKILL', () => {
  it.each(['FULL', 'NORMAL'] as const)('keeps every deposit acknowledged by the store API (synchronous=%s)', async (mode) => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'store.db');
      const acked: number[] = [];
      let killed = false;
      await runChild([path, mode, String(BATCH), 'direct'], (line, child) => {
        const m = /^ack (\d+)$/.exec(line);
        if (m && !killed) acked.push(Number(m[1]));
        if (!killed && acked.length >= 200) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      expect(acked.length).toBeGreaterThanOrEqual(200);
      expectAckedAndAtomic(storedIds(path), acked);
    } finally {
      tmp.remove();
    }
  });

  it('keeps every deposit acknowledged with 200 by the HTTP API, with four clients depositing at once', async () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'store.db');
      const acked: number[] = [];
      let killed = false;
      await runChild([path, 'FULL', String(BATCH), 'http'], (line, child) => {
        const m = /^listening (\d+)$/.exec(line);
        if (!m) return;
        const client = new StoreClient({ baseUrl: `http://127.0.0.1:${m[1]}`, username: 'alice@a.example', password: 'pw' });
        let next = 0;
        const worker = async (): Promise<void> => {
          while (!killed) {
            const n = next++;
            try {
              await client.deposit(messages(BATCH, { conversationId: `conv-${n % 3}`, prefix: `b${n}-m`, start: 0 }));
            } catch {
              return; // the connection died with the child: not acknowledged
            }
            acked.push(n); // a 200 arrived, so the batch was committed, even if the kill is already under way
            if (acked.length >= 60) {
              killed = true;
              child.kill('SIGKILL');
            }
          }
        };
        for (let i = 0; i < 4; i++) void worker();
      });
      expect(acked.length).toBeGreaterThanOrEqual(60);
      expectAckedAndAtomic(storedIds(path), acked);
    } finally {
      tmp.remove();
    }
  });
});
