import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BATCH } from './message-store';
import { StoreInputError } from '../../protocol/store/store-validation';
import { SqliteMessageStore } from './sqlite-message-store';
import { message, messages, tempDir } from './test-fixtures';

const ALICE = 'sip:alice@a.example';
const BOB = 'sip:bob@b.example';

let store: SqliteMessageStore;
let clock = 1_000;
beforeEach(() => {
  store = SqliteMessageStore.open({ path: ':memory:', now: () => clock++ });
});
afterEach(() => store.close());

describe('depositing', () => {
  it('stores a batch and numbers each conversation from 1 in arrival order', () => {
    const result = store.deposit(ALICE, [
      message({ messageId: 'a' }),
      message({ messageId: 'x', conversationId: 'conv-2' }),
      message({ messageId: 'b' }),
    ]);
    expect(result.stored).toBe(3);
    expect(result.outcomes.map((o) => [o.conversationId, o.messageId, o.seq])).toEqual([
      ['conv-1', 'a', 1],
      ['conv-2', 'x', 1],
      ['conv-1', 'b', 2],
    ]);
    const page = store.fetchAfter(ALICE, 'conv-1');
    expect(page.messages.map((m) => m.messageId)).toEqual(['a', 'b']);
    expect(page.messages[0]).toMatchObject({ owner: ALICE, sender: ALICE, recipient: BOB, direction: 'out', body: 'hello', delivery: 'none', deliveryAt: null });
  });

  it('is idempotent: the same batch again after a lost acknowledgement adds nothing', () => {
    const batch = messages(50);
    const first = store.deposit(ALICE, batch);
    const again = store.deposit(ALICE, batch);
    expect(again).toMatchObject({ stored: 0, duplicates: 50 });
    expect(again.outcomes.map((o) => o.seq)).toEqual(first.outcomes.map((o) => o.seq));
    expect(store.fetchAfter(ALICE, 'conv-1').messages).toHaveLength(50);
  });

  it('keeps the first copy when a message id repeats within one batch', () => {
    const result = store.deposit(ALICE, [message({ messageId: 'd', body: 'first' }), message({ messageId: 'd', body: 'second' })]);
    expect(result.outcomes.map((o) => o.status)).toEqual(['stored', 'duplicate']);
    expect(store.fetchAfter(ALICE, 'conv-1').messages.map((m) => m.body)).toEqual(['first']);
  });

  it('lets a re-deposit move the delivery state forward but never back', () => {
    store.deposit(ALICE, [message({ delivery: 'delivered' })]);
    store.deposit(ALICE, [message({ delivery: 'none' })]);
    expect(store.fetchAfter(ALICE, 'conv-1').messages[0]?.delivery).toBe('delivered');
    store.deposit(ALICE, [message({ delivery: 'displayed' })]);
    expect(store.fetchAfter(ALICE, 'conv-1').messages[0]?.delivery).toBe('displayed');
  });

  it('writes nothing when one message of the batch is invalid', () => {
    const batch = [...messages(3), message({ messageId: 'bad', dateTime: 'yesterday' })];
    expect(() => store.deposit(ALICE, batch)).toThrow(StoreInputError);
    expect(store.hasConversation(ALICE, 'conv-1')).toBe(false);
  });

  it('refuses an empty batch, an oversize batch and a malformed owner', () => {
    expect(() => store.deposit(ALICE, [])).toThrow(/empty/);
    expect(() => store.deposit(ALICE, messages(MAX_BATCH + 1))).toThrow(/at most/);
    expect(() => store.deposit('alice', [message()])).toThrow(/owner/);
  });

  it('stores SQL metacharacters, quotes, NUL and emoji in every field literally', () => {
    const nasty = message({
      conversationId: "c'--",
      messageId: "m'%_*`~!",
      sender: "sip:o'brien;--@a.example",
      recipient: 'sip:x@b.example;drop=table%20messages',
      contentType: 'text/plain; charset="utf-8"; x=\'; DROP TABLE messages; --',
      body: "'); DROP TABLE messages; -- \" \\ % _ \u0000 😀",
    });
    store.deposit(ALICE, [nasty]);
    const [stored] = store.fetchAfter(ALICE, "c'--").messages;
    expect(stored).toMatchObject(nasty);
    expect(store.listConversations(ALICE).map((c) => c.conversationId)).toEqual(["c'--"]);
  });
});

describe('fetching', () => {
  beforeEach(() => {
    for (let i = 0; i < 5; i++) store.deposit(ALICE, messages(10, { start: i * 10 }));
  });

  it('pages forward with a cursor until the end, in arrival order', () => {
    const seen: string[] = [];
    let after = 0;
    for (;;) {
      const page = store.fetchAfter(ALICE, 'conv-1', { after, limit: 7 });
      seen.push(...page.messages.map((m) => m.messageId));
      if (!page.hasMore) break;
      after = page.cursor!;
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `msg-${i}`));
  });

  it('returns the newest page newest first, then older pages', () => {
    const newest = store.fetchBefore(ALICE, 'conv-1', { limit: 3 });
    expect(newest.messages.map((m) => m.seq)).toEqual([50, 49, 48]);
    expect(newest).toMatchObject({ cursor: 48, hasMore: true });
    const older = store.fetchBefore(ALICE, 'conv-1', { before: newest.cursor!, limit: 3 });
    expect(older.messages.map((m) => m.seq)).toEqual([47, 46, 45]);
    expect(store.fetchBefore(ALICE, 'conv-1', { before: 3, limit: 5 })).toMatchObject({ cursor: 1, hasMore: false });
  });

  it('orders by arrival, not by the sender clock', () => {
    store.deposit(ALICE, [message({ conversationId: 'late', messageId: 'new', dateTime: '2026-11-26T21:00:00Z' })]);
    store.deposit(ALICE, [message({ conversationId: 'late', messageId: 'old', dateTime: '2020-01-01T00:00:00Z' })]);
    expect(store.fetchAfter(ALICE, 'late').messages.map((m) => m.messageId)).toEqual(['new', 'old']);
  });

  it('answers an unknown conversation with an empty page', () => {
    expect(store.fetchAfter(ALICE, 'nope')).toEqual({ messages: [], cursor: null, hasMore: false });
  });

  it('refuses bad cursors and limits', () => {
    expect(() => store.fetchAfter(ALICE, 'conv-1', { after: -1 })).toThrow(StoreInputError);
    expect(() => store.fetchAfter(ALICE, 'conv-1', { limit: 0 })).toThrow(StoreInputError);
    expect(() => store.fetchBefore(ALICE, 'conv-1', { limit: 501 })).toThrow(StoreInputError);
    expect(() => store.fetchBefore(ALICE, 'conv-1', { before: 1.5 })).toThrow(StoreInputError);
    expect(() => store.fetchAfter(ALICE, 'conv/1')).toThrow(StoreInputError);
  });
});

describe('scoping per owner', () => {
  it('never shows one owner the messages of another, even with the same conversation and message ids', () => {
    store.deposit(ALICE, [message({ body: 'alice copy' })]);
    store.deposit(BOB, [message({ body: 'bob copy', direction: 'in' })]);
    expect(store.fetchAfter(ALICE, 'conv-1').messages.map((m) => m.body)).toEqual(['alice copy']);
    expect(store.fetchAfter(BOB, 'conv-1').messages.map((m) => m.body)).toEqual(['bob copy']);
    expect(store.hasConversation('sip:carol@a.example', 'conv-1')).toBe(false);
    expect(store.listConversations('sip:carol@a.example')).toEqual([]);
  });

  it('does not let an owner update the delivery state of another owner’s message', () => {
    store.deposit(BOB, [message()]);
    expect(store.updateDelivery(ALICE, [{ conversationId: 'conv-1', messageId: 'msg-1', state: 'displayed' }])).toBe(0);
    expect(store.fetchAfter(BOB, 'conv-1').messages[0]?.delivery).toBe('none');
  });
});

describe('listing conversations', () => {
  it('lists the most recently active first, each with its last message by arrival', () => {
    store.deposit(ALICE, messages(3, { conversationId: 'a' }));
    store.deposit(ALICE, messages(2, { conversationId: 'b' }));
    store.deposit(ALICE, [message({ conversationId: 'a', messageId: 'a-late', body: 'latest' })]);
    const list = store.listConversations(ALICE);
    expect(list.map((c) => [c.conversationId, c.messageCount, c.lastMessage.messageId])).toEqual([
      ['a', 4, 'a-late'],
      ['b', 2, 'msg-1'],
    ]);
    expect(store.listConversations(ALICE, { before: list[0]!.activity }).map((c) => c.conversationId)).toEqual(['b']);
  });

  it('is not reordered by a duplicate deposit', () => {
    store.deposit(ALICE, messages(1, { conversationId: 'a' }));
    store.deposit(ALICE, messages(1, { conversationId: 'b' }));
    store.deposit(ALICE, messages(1, { conversationId: 'a' }));
    expect(store.listConversations(ALICE).map((c) => c.conversationId)).toEqual(['b', 'a']);
  });
});

describe('delivery state from IMDN', () => {
  it('moves forward only and records when', () => {
    store.deposit(ALICE, [message()]);
    const update = (state: 'delivered' | 'displayed' | 'failed', at?: string): number =>
      store.updateDelivery(ALICE, [{ conversationId: 'conv-1', messageId: 'msg-1', state, ...(at ? { at } : {}) }]);
    expect(update('delivered', '2026-11-26T20:00:01Z')).toBe(1);
    expect(update('failed')).toBe(0);
    expect(update('displayed', '2026-11-26T20:00:05Z')).toBe(1);
    expect(update('delivered')).toBe(0);
    expect(store.fetchAfter(ALICE, 'conv-1').messages[0]).toMatchObject({ delivery: 'displayed', deliveryAt: '2026-11-26T20:00:05Z' });
  });

  it('skips unknown messages and refuses an unknown state', () => {
    expect(store.updateDelivery(ALICE, [{ conversationId: 'conv-1', messageId: 'ghost', state: 'delivered' }])).toBe(0);
    expect(() => store.updateDelivery(ALICE, [{ conversationId: 'conv-1', messageId: 'm', state: 'read' as 'displayed' }])).toThrow(StoreInputError);
  });
});

describe('the database file', () => {
  it('is in WAL mode and reopens with its data and its sequence', () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'store.db');
      const s = SqliteMessageStore.open({ path, synchronous: 'NORMAL' });
      s.deposit(ALICE, messages(3));
      s.close();
      const raw = new Database(path, { readonly: true });
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      raw.close();
      const again = SqliteMessageStore.open({ path });
      expect(again.fetchAfter(ALICE, 'conv-1').messages).toHaveLength(3);
      expect(again.deposit(ALICE, messages(1, { start: 3 })).outcomes[0]?.seq).toBe(4);
      again.close();
    } finally {
      tmp.remove();
    }
  });

  it('refuses use after close with a clear error', () => {
    const s = SqliteMessageStore.open({ path: ':memory:' });
    s.close();
    expect(() => s.fetchAfter(ALICE, 'conv-1')).toThrow(/closed/);
  });
});
