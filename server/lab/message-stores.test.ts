import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreClient } from '../../electron/device/history/store-client';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { message } from '../store/test-fixtures';
import { MessageStores } from './message-stores';

const domains = [
  { domain: 'a.example', users: [{ user: 'alice', password: 'alice-pw' }] },
  { domain: 'b.example', users: [{ user: 'bob', password: 'bob-pw' }] },
];
let stores: MessageStores | undefined;
afterEach(async () => {
  await stores?.close();
  stores = undefined;
});

describe('the lab’s Message Stores', () => {
  it('serve each domain’s own users, writing to a file that close() removes', async () => {
    stores = await MessageStores.start({ domains });
    const alice = new StoreClient({ baseUrl: stores.url('a.example'), username: 'alice@A.EXAMPLE', password: 'alice-pw' });
    await alice.deposit([message()]);
    expect(stores.domain('a.example').store.hasConversation('sip:alice@a.example', 'conv-1')).toBe(true);
    const bobAtA = new StoreClient({ baseUrl: stores.url('a.example'), username: 'bob@b.example', password: 'bob-pw' });
    await expect(bobAtA.listConversations()).rejects.toMatchObject({ status: 401 });
    const dir = stores.directory;
    expect(readdirSync(dir)).toContain('a.example.sqlite');
    // The file a Conversation Server process is handed is the one the API writes to.
    expect(stores.file('a.example')).toBe(join(dir, 'a.example.sqlite'));
    expect(isAbsolute(stores.file('a.example'))).toBe(true);
    const other = SqliteMessageStore.open({ path: stores.file('a.example'), synchronous: 'NORMAL' });
    try {
      expect(other.hasConversation('sip:alice@a.example', 'conv-1')).toBe(true);
    } finally {
      other.close();
    }
    await stores.close();
    await stores.close();
    expect(existsSync(dir)).toBe(false);
  });

  it('hand an in-path Conversation Server a sink that writes into its domain’s store', async () => {
    stores = await MessageStores.start({ domains });
    stores.domain('b.example').sink.record('sip:bob@b.example', [message({ direction: 'in' })]);
    expect(stores.domain('b.example').store.fetchAfter('sip:bob@b.example', 'conv-1').messages).toHaveLength(1);
    expect(stores.domain('a.example').store.listConversations('sip:bob@b.example')).toEqual([]);
  });

  it('refuse an unknown domain with a clear error', async () => {
    stores = await MessageStores.start({ domains });
    expect(() => stores!.url('c.example')).toThrow(/no Message Store for c\.example/);
    expect(() => stores!.file('c.example')).toThrow(/no Message Store for c\.example/);
  });
});
