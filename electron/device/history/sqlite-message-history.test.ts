import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreInputError } from '../../../protocol/store/store-validation';
import type { StoredMessage } from '../../../protocol/store/store-types';
import { historyPath, SqliteMessageHistory } from './sqlite-message-history';
import { chat, PEER, SELF, tempDataDir } from './testing/history-fixtures';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

function openAt(path: string, options: { deposit?: boolean } = {}): SqliteMessageHistory {
  const h = SqliteMessageHistory.open({ path, self: SELF, ...options });
  cleanup.push(() => h.close());
  return h;
}

function fresh(options: { deposit?: boolean } = {}): { history: SqliteMessageHistory; path: string } {
  const tmp = tempDataDir();
  cleanup.push(tmp.remove);
  const path = historyPath(tmp.dir, SELF);
  return { history: openAt(path, options), path };
}

const record = { id: 'conv-1', peerUri: PEER, peerDisplayName: 'Bob', lastMessageText: 'message 2', updatedAt: 5, unreadCount: 1 };

function stored(i: number, overrides: Partial<StoredMessage> = {}): StoredMessage {
  const m = chat(i);
  const out = m.direction === 'outgoing';
  return {
    owner: SELF,
    conversationId: m.conversationId,
    messageId: m.id,
    sender: out ? SELF : PEER,
    recipient: out ? PEER : SELF,
    direction: out ? 'out' : 'in',
    dateTime: new Date(m.timestamp).toISOString(),
    contentType: 'text/plain;charset=utf-8',
    body: m.text,
    delivery: 'none',
    seq: i,
    storedAt: 0,
    deliveryAt: null,
    ...overrides,
  };
}

describe('a restarted device', () => {
  it('shows the same conversations and messages after closing and reopening its history', () => {
    const { history, path } = fresh();
    history.saveConversation(record);
    for (let i = 0; i < 5; i++) history.append(chat(i));
    history.setStatus('conv-1', 'm4', 'displayed');
    history.close();
    const again = openAt(path);
    expect(again.conversations()).toEqual([record]);
    expect(again.page('conv-1', { limit: 10 }).messages.map((m) => [m.id, m.status])).toEqual([
      ['m4', 'displayed'],
      ['m3', 'delivered'],
      ['m2', 'sent'],
      ['m1', 'delivered'],
      ['m0', 'sent'],
    ]);
    expect(again.get('conv-1', 'm3')).toEqual(chat(3));
  });

  it('keeps the history of each account in its own file under the data folder', () => {
    expect(historyPath('/data', 'sip:alice@a.example')).toBe('/data/history/sip%3Aalice%40a.example.sqlite');
    expect(historyPath('/data', 'sip:bob@b.example')).not.toBe(historyPath('/data', 'sip:alice@a.example'));
  });
});

describe('writes are batched off the path that answers the UI', () => {
  it('returns before writing, serves reads from the pending batch, and writes it as one batch', () => {
    const { history, path } = fresh();
    history.saveConversation(record);
    for (let i = 0; i < 3; i++) expect(history.append(chat(i))).toBe(true);
    expect(history.pendingWrites).toBe(4);
    const reader = new Database(path, { readonly: true });
    cleanup.push(() => reader.close());
    const count = (): number => reader.prepare<[], { n: number }>('SELECT count(*) AS n FROM messages').get()!.n;
    expect(count()).toBe(0);
    expect(history.get('conv-1', 'm1')).toEqual(chat(1));
    expect(history.conversation('conv-1')).toEqual(record);
    history.flush();
    expect(count()).toBe(3);
    expect(history.pendingWrites).toBe(0);
  });

  it('writes the batch by itself shortly after', () => {
    vi.useFakeTimers();
    cleanup.push(() => vi.useRealTimers());
    const { history, path } = fresh();
    history.append(chat(1));
    expect(history.pendingWrites).toBe(1);
    vi.advanceTimersByTime(5);
    expect(history.pendingWrites).toBe(0);
    const reader = new Database(path, { readonly: true });
    cleanup.push(() => reader.close());
    expect(reader.prepare('SELECT message_id FROM messages').pluck().all()).toEqual(['m1']);
  });

  it('writes at once when the pending batch is full', () => {
    vi.useFakeTimers();
    cleanup.push(() => vi.useRealTimers());
    const tmp = tempDataDir();
    cleanup.push(tmp.remove);
    const history = SqliteMessageHistory.open({ path: historyPath(tmp.dir, SELF), self: SELF, maxPending: 3, flushDelayMs: 1000 });
    cleanup.push(() => history.close());
    for (let i = 0; i < 3; i++) history.append(chat(i));
    vi.advanceTimersByTime(0);
    expect(history.pendingWrites).toBe(0);
  });
});

describe('paging newest first', () => {
  it('walks a long thread page by page with the last id as cursor', () => {
    const { history } = fresh();
    for (let i = 0; i < 250; i++) history.append(chat(i));
    const seen: string[] = [];
    let before: string | undefined;
    const more: boolean[] = [];
    for (;;) {
      const page = history.page('conv-1', { limit: 100, ...(before !== undefined ? { before } : {}) });
      seen.push(...page.messages.map((m) => m.id));
      more.push(page.hasMore);
      if (!page.hasMore) break;
      before = page.messages[page.messages.length - 1]!.id;
    }
    expect(more).toEqual([true, true, false]);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `m${249 - i}`));
  });

  it('pages through messages that share one timestamp by arrival, none skipped or repeated', () => {
    const { history } = fresh();
    for (let i = 0; i < 30; i++) history.append(chat(i, { timestamp: 1_000_000 }));
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = history.page('conv-1', { limit: 7, ...(before !== undefined ? { before } : {}) });
      seen.push(...page.messages.map((m) => m.id));
      before = page.hasMore ? page.messages[page.messages.length - 1]!.id : undefined;
    } while (before !== undefined);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `m${29 - i}`));
  });

  it('orders by CPIM DateTime, so a message fetched late lands at its place', () => {
    const { history } = fresh();
    history.append(chat(1));
    history.append(chat(3));
    history.mergeFromStore('conv-1', [stored(2)], '7');
    expect(history.page('conv-1', { limit: 10 }).messages.map((m) => m.id)).toEqual(['m3', 'm2', 'm1']);
    expect(history.since('conv-1', 'm1').map((m) => m.id)).toEqual(['m2', 'm3']);
    expect(history.since('conv-1', undefined).map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('serves a page with one index range scan', () => {
    const { history, path } = fresh();
    history.append(chat(1));
    history.flush();
    const reader = new Database(path, { readonly: true });
    cleanup.push(() => reader.close());
    const plan = reader
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM messages WHERE conversation_id = ? AND (timestamp, seq) < (?, ?) ORDER BY timestamp DESC, seq DESC LIMIT ?')
      .all('conv-1', 1, 1, 10) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/SEARCH messages USING INDEX messages_by_time \(conversation_id=\? AND timestamp<\?\)/);
    expect(plan.map((p) => p.detail).join('\n')).not.toMatch(/TEMP B-TREE/);
  });

  it('refuses an unknown cursor and a bad limit with a clear error, and pages an unknown conversation as empty', () => {
    const { history } = fresh();
    history.append(chat(1));
    expect(() => history.page('conv-1', { before: 'nope', limit: 10 })).toThrow(/no message "nope" in conversation conv-1/);
    expect(() => history.page('conv-1', { limit: 0 })).toThrow(RangeError);
    expect(() => history.page('conv-1', { limit: 1.5 })).toThrow(RangeError);
    expect(history.page('other', { limit: 10 })).toEqual({ messages: [], hasMore: false });
  });
});

describe('merging by imdn.Message-ID', () => {
  it('refuses to append a message twice, before and after it is written', () => {
    const { history } = fresh();
    expect(history.append(chat(1))).toBe(true);
    expect(history.append(chat(1, { text: 'again' }))).toBe(false);
    history.flush();
    expect(history.append(chat(1, { text: 'again' }))).toBe(false);
    expect(history.since('conv-1', undefined)).toEqual([chat(1)]);
  });

  it('adds only what is new from the store, moves a status forward only, and is idempotent', () => {
    const { history } = fresh();
    history.append(chat(0, { status: 'displayed' }));
    history.append(chat(2, { status: 'pending' }));
    const page = [stored(0, { delivery: 'delivered' }), stored(1), stored(2, { delivery: 'delivered' })];
    expect(history.mergeFromStore('conv-1', page, '3').map((m) => m.id)).toEqual(['m1']);
    expect(history.mergeFromStore('conv-1', page, '3')).toEqual([]);
    expect(history.since('conv-1', undefined).map((m) => [m.id, m.status])).toEqual([
      ['m0', 'displayed'],
      ['m1', 'delivered'],
      ['m2', 'delivered'],
    ]);
    expect(history.storeCursor('conv-1')).toBe('3');
  });

  it('creates the conversation record of a conversation a new device has never seen', () => {
    const { history } = fresh();
    history.mergeFromStore('conv-1', [stored(0), stored(1)], '2');
    expect(history.conversations()).toEqual([
      { id: 'conv-1', peerUri: PEER, peerDisplayName: '', lastMessageText: 'message 1', updatedAt: chat(1).timestamp, unreadCount: 0 },
    ]);
  });

  it('refuses a page that mixes in another conversation, merging nothing of it', () => {
    const { history } = fresh();
    expect(() => history.mergeFromStore('conv-1', [stored(1), stored(2, { conversationId: 'other' })], '2')).toThrow(StoreInputError);
    expect(history.since('conv-1', undefined)).toEqual([]);
    expect(history.storeCursor('conv-1')).toBeNull();
  });

  it('refuses a malformed message from the network, merging nothing of its page', () => {
    const { history } = fresh();
    const bad = { ...stored(2), body: 42 } as unknown as StoredMessage;
    expect(() => history.mergeFromStore('conv-1', [stored(1), bad], '2')).toThrow(/messages\[1\]\.body must be a string/);
    expect(() => history.mergeFromStore('conv-1', [stored(1, { dateTime: 'yesterday' })], '2')).toThrow(/date-time/);
    expect(history.since('conv-1', undefined)).toEqual([]);
  });
});

describe('bad input', () => {
  it.each([
    ['a forged conversation id', { conversationId: '../etc' }, /conversationId is malformed/],
    ['an empty message id', { id: '' }, /message id is malformed/],
    ['a sender that is not a URI', { senderUri: 'bob' }, /senderUri is malformed/],
    ['a timestamp that is not epoch ms', { timestamp: Number.NaN }, /timestamp/],
    ['an unknown status', { status: 'lost' as 'sent' }, /not a message status/],
  ])('refuses %s with a clear error and stores nothing', (_name, overrides, reason) => {
    const { history } = fresh();
    expect(() => history.append(chat(1, overrides))).toThrow(reason);
    expect(history.pendingWrites).toBe(0);
  });

  it('refuses use after close', () => {
    const { history } = fresh();
    history.close();
    expect(() => history.append(chat(1))).toThrow(/closed/);
  });
});

describe('the deposit outbox (proxy mode)', () => {
  it('queues what is written, maps it for the store, and forgets it once acknowledged', () => {
    const { history } = fresh({ deposit: true });
    history.saveConversation(record);
    history.append(chat(0));
    history.append(chat(1));
    const due = history.dueOutbox(Date.now(), 10);
    expect(due.map((e) => e.message)).toEqual([
      { conversationId: 'conv-1', messageId: 'm0', sender: SELF, recipient: PEER, direction: 'out', dateTime: '2026-11-26T20:00:00.000Z', contentType: 'text/plain;charset=utf-8', body: 'message 0', delivery: 'none' },
      { conversationId: 'conv-1', messageId: 'm1', sender: PEER, recipient: SELF, direction: 'in', dateTime: '2026-11-26T20:00:01.000Z', contentType: 'text/plain;charset=utf-8', body: 'message 1', delivery: 'none' },
    ]);
    history.acknowledgeOutbox(due);
    expect(history.outboxSize()).toBe(0);
  });

  it('re-arms a message whose status moved on, and an old acknowledgement does not drop the new state', () => {
    const { history } = fresh({ deposit: true });
    history.saveConversation(record);
    history.append(chat(0));
    const [inFlight] = history.dueOutbox(Date.now(), 10);
    history.setStatus('conv-1', 'm0', 'delivered');
    history.flush();
    history.acknowledgeOutbox([inFlight!]);
    const [next] = history.dueOutbox(Date.now(), 10);
    expect(next?.message).toMatchObject({ messageId: 'm0', delivery: 'delivered' });
  });

  it('defers a failed entry until its next attempt', () => {
    const { history } = fresh({ deposit: true });
    history.append(chat(0));
    const due = history.dueOutbox(1000, 10);
    history.deferOutbox(due, 5000);
    expect(history.dueOutbox(4999, 10)).toEqual([]);
    expect(history.nextOutboxAttempt()).toBe(5000);
    expect(history.dueOutbox(5000, 10)).toMatchObject([{ attempts: 1 }]);
  });

  it('queues nothing when the device does not deposit (in-path: the Conversation Server writes)', () => {
    const { history } = fresh();
    history.append(chat(0));
    history.flush();
    expect(history.outboxSize()).toBe(0);
  });

  it('drops an entry the store would refuse and says why', () => {
    const { history } = fresh({ deposit: true });
    const errors: unknown[] = [];
    history.on('error', (e) => errors.push(e));
    history.append(chat(0, { text: 'x'.repeat(70_000) }));
    expect(history.dueOutbox(Date.now(), 10)).toEqual([]);
    expect(history.outboxSize()).toBe(0);
    expect(String(errors[0])).toMatch(/body exceeds/);
  });
});
