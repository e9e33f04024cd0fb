import { afterEach, describe, expect, it } from 'vitest';
import { messageStoreSink } from './message-sink';
import { SqliteMessageStore } from './sqlite-message-store';
import { message } from './test-fixtures';

const ALICE = 'sip:alice@a.example';
let store: SqliteMessageStore;
afterEach(() => store.close());

describe('a Conversation Server recording what it relays', () => {
  it('stores a message relayed twice (a replay to the transfer target) once', () => {
    store = SqliteMessageStore.open({ path: ':memory:' });
    const sink = messageStoreSink(store);
    sink.record(ALICE, [message({ messageId: 'm1' })]);
    sink.record(ALICE, [message({ messageId: 'm1' }), message({ messageId: 'm2' })]);
    expect(store.fetchAfter(ALICE, 'conv-1').messages.map((m) => m.messageId)).toEqual(['m1', 'm2']);
  });

  it('reports bad input to its error handler instead of throwing into the relay', () => {
    store = SqliteMessageStore.open({ path: ':memory:' });
    const errors: unknown[] = [];
    const sink = messageStoreSink(store, (e) => errors.push(e));
    expect(() => sink.record(ALICE, [message({ conversationId: '../etc' })])).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/conversationId is malformed/);
    expect(store.listConversations(ALICE)).toEqual([]);
  });

  it('tells a transfer how far the conversation goes: the cursor after its newest message, as the store pages', () => {
    store = SqliteMessageStore.open({ path: ':memory:' });
    const sink = messageStoreSink(store);
    sink.record(ALICE, [message({ messageId: 'm1' }), message({ messageId: 'm2' }), message({ messageId: 'm3' })]);
    sink.record(ALICE, [message({ messageId: 'm2' })]); // a replay does not move it
    const cursor = sink.cursor?.(ALICE, 'conv-1');
    expect(cursor).toBe('3');
    // What a device fetching after that cursor gets: nothing; the store held exactly this much.
    expect(store.fetchAfter(ALICE, 'conv-1', { after: Number(cursor) }).messages).toEqual([]);
    sink.record(ALICE, [message({ messageId: 'm4' })]);
    expect(sink.cursor?.(ALICE, 'conv-1')).toBe('4');
  });

  it('has no cursor for a conversation the store does not have, nor for another owner’s', () => {
    store = SqliteMessageStore.open({ path: ':memory:' });
    const sink = messageStoreSink(store);
    sink.record(ALICE, [message({ messageId: 'm1' })]);
    expect(sink.cursor?.(ALICE, 'conv-other')).toBeUndefined();
    expect(sink.cursor?.('sip:bob@b.example', 'conv-1')).toBeUndefined();
  });

  it('answers bad input or a closed store with no cursor, reporting it, instead of throwing into the transfer', () => {
    store = SqliteMessageStore.open({ path: ':memory:' });
    const errors: unknown[] = [];
    const sink = messageStoreSink(store, (e) => errors.push(e));
    expect(sink.cursor?.(ALICE, '../etc')).toBeUndefined();
    expect(String(errors[0])).toMatch(/conversationId is malformed/);
    store.close();
    expect(sink.cursor?.(ALICE, 'conv-1')).toBeUndefined();
    expect(errors).toHaveLength(2);
    store = SqliteMessageStore.open({ path: ':memory:' }); // for afterEach
  });
});
