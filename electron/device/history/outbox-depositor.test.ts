import { afterEach, describe, expect, it } from 'vitest';
import type { DepositResult, MessageInput } from '../../../protocol/store/store-types';
import { SqliteMessageStore } from '../../../server/store/sqlite-message-store';
import { OutboxDepositor, OutboxDepositorState, type DepositTarget } from './outbox-depositor';
import { historyPath, SqliteMessageHistory } from './sqlite-message-history';
import { StoreClientError } from './store-client';
import { chat, PEER, SELF, tempDataDir } from './testing/history-fixtures';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function setup(path = ':memory:') {
  const history = SqliteMessageHistory.open({ path, self: SELF, deposit: true });
  cleanup.push(() => history.close());
  history.saveConversation({ id: 'conv-1', peerUri: PEER, peerDisplayName: '', lastMessageText: null, updatedAt: 0, unreadCount: 0 });
  return history;
}

/** The real store behind a client that can lose acknowledgements or fail outright. */
function remote() {
  const store = SqliteMessageStore.open({ path: ':memory:' });
  cleanup.push(() => store.close());
  const plan: ('ok' | 'lose-ack' | 'down')[] = [];
  let calls = 0;
  const client: DepositTarget = {
    deposit: (messages: readonly MessageInput[]): Promise<DepositResult> => {
      calls++;
      const step = plan.shift() ?? 'ok';
      if (step === 'down') return Promise.reject(new StoreClientError(0, 'network', 'connection refused'));
      const result = store.deposit(SELF, messages);
      return step === 'lose-ack' ? Promise.reject(new StoreClientError(0, 'network', 'socket hang up')) : Promise.resolve(result);
    },
  };
  return { store, client, plan, calls: () => calls, ids: () => store.fetchAfter(SELF, 'conv-1').messages.map((m) => m.messageId) };
}

function depositor(history: SqliteMessageHistory, client: DepositTarget, clock: { now: number }) {
  const d = new OutboxDepositor({ history, client, now: () => clock.now, random: () => 0, baseDelayMs: 1000, maxDelayMs: 8000 });
  cleanup.push(() => d.stop());
  const states: string[] = [];
  d.on('stateChange', (to) => states.push(to));
  return { d, states };
}

describe('depositing the outbox', () => {
  it('deposits what the device sent and received as one batch and goes idle', async () => {
    const history = setup();
    const r = remote();
    const clock = { now: 1_000 };
    const { d, states } = depositor(history, r.client, clock);
    for (let i = 0; i < 5; i++) history.append(chat(i));
    await d.drain();
    expect(r.ids()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(r.calls()).toBe(1);
    expect(history.outboxSize()).toBe(0);
    expect(states).toEqual(['sending', 'idle']);
  });

  it('starts by itself when the history commits new entries', async () => {
    const history = setup();
    const r = remote();
    const { d } = depositor(history, r.client, { now: 1_000 });
    const idle = new Promise<void>((resolve) => d.on('stateChange', (to) => to === OutboxDepositorState.Idle && resolve()));
    history.append(chat(0));
    history.flush();
    await idle;
    expect(r.ids()).toEqual(['m0']);
  });

  it('retries after a lost acknowledgement without storing anything twice', async () => {
    const history = setup();
    const r = remote();
    const clock = { now: 1_000 };
    const { d } = depositor(history, r.client, clock);
    const outcomes: [number, number][] = [];
    d.on('deposited', (stored, duplicates) => outcomes.push([stored, duplicates]));
    history.append(chat(0));
    history.append(chat(1));
    r.plan.push('lose-ack');
    await d.drain();
    expect(d.state).toBe(OutboxDepositorState.Waiting);
    expect(r.ids()).toEqual(['m0', 'm1']); // the store has them, the device does not know
    expect(history.outboxSize()).toBe(2);
    clock.now = history.nextOutboxAttempt()!;
    await d.drain();
    expect(outcomes).toEqual([[0, 2]]);
    expect(r.ids()).toEqual(['m0', 'm1']);
    expect(history.outboxSize()).toBe(0);
  });

  it('backs off exponentially up to the cap while the store is down', async () => {
    const history = setup();
    const r = remote();
    const clock = { now: 0 };
    const { d } = depositor(history, r.client, clock);
    history.append(chat(0));
    r.plan.push('down', 'down', 'down', 'down', 'down');
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await d.drain();
      const next = history.nextOutboxAttempt()!;
      delays.push(next - clock.now);
      clock.now = next;
    }
    // base 1 s doubling, capped at 8 s, times the jitter floor of 0.5.
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
    await d.drain();
    expect(r.ids()).toEqual(['m0']);
  });

  it('resumes after a restart from the durable outbox', async () => {
    const tmp = tempDataDir();
    cleanup.push(tmp.remove);
    const path = historyPath(tmp.dir, SELF);
    const first = SqliteMessageHistory.open({ path, self: SELF, deposit: true });
    first.append(chat(0));
    first.append(chat(1));
    first.close(); // the app quits before depositing
    const history = setup(path);
    const r = remote();
    const { d } = depositor(history, r.client, { now: 1_000 });
    await d.drain();
    expect(r.ids()).toEqual(['m0', 'm1']);
  });

  it('deposits nothing once stopped, and refuses to start again', async () => {
    const history = setup();
    const r = remote();
    const { d } = depositor(history, r.client, { now: 1_000 });
    await d.stop();
    history.append(chat(0));
    history.flush();
    await d.drain();
    d.kick();
    expect(d.state).toBe(OutboxDepositorState.Stopped);
    expect(r.calls()).toBe(0);
    expect(history.outboxSize()).toBe(1);
  });
});

describe('a failing history', () => {
  it('is reported and retried later, never rejected into the void', async () => {
    const history = setup();
    const r = remote();
    const clock = { now: 1_000 };
    const { d } = depositor(history, r.client, clock);
    const errors: unknown[] = [];
    d.on('error', (e) => errors.push(e));
    history.append(chat(0));
    history.flush();
    const original = history.dueOutbox.bind(history);
    let broken = true;
    history.dueOutbox = (now, limit) => {
      if (broken) throw new Error('disk I/O error');
      return original(now, limit);
    };
    await d.drain();
    expect(String(errors[0])).toMatch(/disk I\/O error/);
    expect(d.state).toBe(OutboxDepositorState.Waiting);
    broken = false;
    await d.drain();
    expect(r.ids()).toEqual(['m0']);
  });
});
