/**
 * Child process of `durability.test.ts`: opens a store and deposits batches as fast as it can, printing
 * `ack <n>` on stdout only after `deposit()` for batch n has returned. The test SIGKILLs it mid-burst and then
 * checks that every acknowledged batch is in the database.
 *
 * Usage: node --import tsx server/store/durability-child.ts <db-path> <FULL|NORMAL> <batch-size>
 */
import { writeSync } from 'node:fs';
import { SqliteMessageStore } from './sqlite-message-store';
import { messages } from './test-fixtures';

const [path, mode, size] = process.argv.slice(2);
if (path === undefined || (mode !== 'FULL' && mode !== 'NORMAL')) {
  process.stderr.write('usage: durability-child.ts <db-path> <FULL|NORMAL> <batch-size>\n');
  process.exit(2);
}
const batchSize = Number(size ?? '20');
// Never outlive a test that forgot us.
setTimeout(() => process.exit(3), 60_000).unref();

const store = SqliteMessageStore.open({ path, synchronous: mode });
writeSync(1, 'ready\n');
let n = 0;
function burst(): void {
  for (let i = 0; i < 25 && n < 100_000; i++, n++) {
    store.deposit('sip:alice@a.example', messages(batchSize, { conversationId: `conv-${n % 3}`, prefix: `b${n}-m`, start: 0 }));
    writeSync(1, `ack ${n}\n`);
  }
  if (n < 100_000) setImmediate(burst);
  else store.close();
}
burst();
