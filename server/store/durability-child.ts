/**
 * Child process of `durability.test.ts`. It opens a store and then either
 * - `direct`: deposits batches as fast as it can, printing `ack <n>` on stdout only after `deposit()` for
 *   batch n has returned; or
 * - `http`: serves the HTTP API on 127.0.0.1 (port 0) for user alice@a.example / password `pw` and prints
 *   `listening <port>`; the test deposits through it and counts the 200 answers as acknowledgements.
 * The test SIGKILLs it mid-burst and then checks that every acknowledged batch is in the database.
 *
 * Usage: node --import tsx server/store/durability-child.ts <db-path> <FULL|NORMAL> <batch-size> <direct|http>
 */
import { writeSync } from 'node:fs';
import { SqliteMessageStore } from './sqlite-message-store';
import { StoreHttpApi } from './store-http-api';
import { messages } from './test-fixtures';

const [path, mode, size, how] = process.argv.slice(2);
if (path === undefined || (mode !== 'FULL' && mode !== 'NORMAL') || (how !== 'direct' && how !== 'http')) {
  process.stderr.write('usage: durability-child.ts <db-path> <FULL|NORMAL> <batch-size> <direct|http>\n');
  process.exit(2);
}
const batchSize = Number(size ?? '20');
// Never outlive a test that forgot us.
setTimeout(() => process.exit(3), 60_000).unref();

const store = SqliteMessageStore.open({ path, synchronous: mode });

if (how === 'http') {
  const api = await StoreHttpApi.start({ store, realm: 'a.example', lookupUser: (aor) => (aor === 'sip:alice@a.example' ? { password: 'pw' } : undefined) });
  writeSync(1, `listening ${api.address.port}\n`);
  // Keep the process alive until killed (the 60 s guard above is unref'd).
  setInterval(() => undefined, 1_000);
} else {
  let n = 0;
  const burst = (): void => {
    for (let i = 0; i < 25 && n < 100_000; i++, n++) {
      store.deposit('sip:alice@a.example', messages(batchSize, { conversationId: `conv-${n % 3}`, prefix: `b${n}-m`, start: 0 }));
      writeSync(1, `ack ${n}\n`);
    }
    if (n < 100_000) setImmediate(burst);
    else store.close();
  };
  burst();
}
