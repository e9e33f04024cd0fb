import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationListResponse, MessagePageResponse } from '../../../protocol/store/store-wire';
import { SqliteMessageStore } from '../../../server/store/sqlite-message-store';
import { message } from '../../../server/store/test-fixtures';
import { HistorySync } from './history-sync';
import { SqliteMessageHistory } from './sqlite-message-history';
import { StoreClientError } from './store-client';
import { SELF } from './testing/history-fixtures';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

/** The real store behind the two reads the sync makes, shaped as the HTTP API answers them. */
function remote() {
  const store = SqliteMessageStore.open({ path: ':memory:' });
  cleanup.push(() => store.close());
  const fetches: (string | undefined)[] = [];
  const client = {
    fetchAfter: (cid: string, o: { after?: string; limit?: number } = {}): Promise<MessagePageResponse> => {
      fetches.push(o.after);
      if (!store.hasConversation(SELF, cid)) return Promise.reject(new StoreClientError(404, 'not-found', 'no such conversation'));
      const page = store.fetchAfter(SELF, cid, { ...(o.after !== undefined ? { after: Number(o.after) } : {}), ...(o.limit !== undefined ? { limit: o.limit } : {}) });
      return Promise.resolve({ conversationId: cid, messages: page.messages, cursor: page.cursor === null ? null : String(page.cursor), hasMore: page.hasMore });
    },
    listConversations: (o: { before?: string; limit?: number } = {}): Promise<ConversationListResponse> => {
      const list = store.listConversations(SELF, { ...(o.before !== undefined ? { before: Number(o.before) } : {}), limit: o.limit ?? 100 });
      const last = list[list.length - 1];
      return Promise.resolve({ conversations: list, cursor: list.length === (o.limit ?? 100) && last ? String(last.activity) : null });
    },
  };
  const deposit = (cid: string, from: number, to: number): void => {
    store.deposit(SELF, Array.from({ length: to - from }, (_, i) => message({ conversationId: cid, messageId: `${cid}-${from + i}`, dateTime: new Date(Date.UTC(2026, 0, 1) + (from + i) * 1000).toISOString() })));
  };
  return { client, deposit, fetches };
}

function local(): SqliteMessageHistory {
  const h = SqliteMessageHistory.open({ path: ':memory:', self: SELF });
  cleanup.push(() => h.close());
  return h;
}

describe('syncing a conversation from the Message Store', () => {
  it('fetches the whole conversation page by page, then only what came after its cursor', async () => {
    const r = remote();
    const history = local();
    const sync = new HistorySync({ history, client: r.client, pageSize: 10 });
    r.deposit('c', 0, 25);
    expect(await sync.syncConversation('c')).toHaveLength(25);
    expect(r.fetches).toEqual([undefined, '10', '20']);
    r.deposit('c', 25, 28);
    expect((await sync.syncConversation('c')).map((m) => m.id)).toEqual(['c-25', 'c-26', 'c-27']);
    expect(r.fetches.slice(3)).toEqual(['25']);
    expect(history.page('c', { limit: 100 }).messages).toHaveLength(28);
  });

  it('yields nothing for a conversation the store does not have', async () => {
    const sync = new HistorySync({ history: local(), client: remote().client });
    await expect(sync.syncConversation('unknown')).resolves.toEqual([]);
  });

  it('runs one sync per conversation at a time, a second caller sharing the first', async () => {
    const r = remote();
    const sync = new HistorySync({ history: local(), client: r.client });
    r.deposit('c', 0, 3);
    const [a, b] = await Promise.all([sync.syncConversation('c'), sync.syncConversation('c')]);
    expect(a).toBe(b);
    expect(r.fetches).toHaveLength(1);
  });

  it('brings a new device every conversation of its user', async () => {
    const r = remote();
    const history = local();
    r.deposit('x', 0, 2);
    r.deposit('y', 0, 3);
    await new HistorySync({ history, client: r.client }).syncAll();
    expect(history.conversations().map((c) => c.id).sort()).toEqual(['x', 'y']);
    expect(history.page('y', { limit: 10 }).messages.map((m) => m.id)).toEqual(['y-2', 'y-1', 'y-0']);
  });

  it('passes on a failure other than 404, keeping what it merged before', async () => {
    const r = remote();
    const history = local();
    r.deposit('c', 0, 15);
    let n = 0;
    const flaky = { ...r.client, fetchAfter: (cid: string, o?: { after?: string; limit?: number }) => (n++ === 1 ? Promise.reject(new StoreClientError(503, 'unavailable', 'busy')) : r.client.fetchAfter(cid, o)) };
    await expect(new HistorySync({ history, client: flaky, pageSize: 10 }).syncConversation('c')).rejects.toMatchObject({ status: 503 });
    expect(history.page('c', { limit: 100 }).messages).toHaveLength(10);
    expect(history.storeCursor('c')).toBe('10');
  });
});
