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
});
