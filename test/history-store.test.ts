/**
 * History continuity against the lab's real Message Stores over HTTP (PROFILE.md "History continuity"):
 * a device's outbox deposits, a new device of the same user fetches the whole conversation, a deposit
 * repeated after a lost acknowledgement stores nothing twice, and nobody reads or writes another user's
 * history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../electron/api/payloads';
import { DeviceHistory } from '../electron/device/history/device-history';
import { StoreClient, StoreClientError } from '../electron/device/history/store-client';
import { chat, tempDataDir } from '../electron/device/history/testing/history-fixtures';
import { LabNetwork } from '../server/lab/lab-network';
import { message } from '../server/store/test-fixtures';

const ALICE = 'sip:alice@a.example';
const BOB = 'sip:bob@b.example';
const CID = 'alice-bob-chat';

let lab: LabNetwork;
const cleanup: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  lab = await LabNetwork.start();
});
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  await lab.close();
});

const storeOf = (domain: string): string => {
  const d = lab.description.domains.find((x) => x.domain === domain);
  if (!d) throw new Error(`no ${domain}`);
  return d.store;
};
const passwordOf = (uri: string): string => lab.description.users.find((u) => u.uri === uri)?.password ?? '';
const client = (user: string, domain: string, password = passwordOf(`sip:${user}@${domain}`), store = storeOf(domain)): StoreClient =>
  new StoreClient({ baseUrl: store, username: `${user}@${domain}`, password });

/** One of Alice's devices, with its own data folder and a clock the test moves. */
function aliceDevice(options: { fetch?: typeof fetch } = {}): { dh: DeviceHistory; clock: { now: number } } {
  const tmp = tempDataDir();
  const clock = { now: Date.now() };
  const dh = DeviceHistory.open({
    dataDir: tmp.dir,
    self: ALICE,
    deposit: true,
    store: { baseUrl: storeOf('a.example'), username: 'alice@a.example', password: passwordOf(ALICE), ...(options.fetch ? { fetch: options.fetch } : {}) },
    depositor: { now: () => clock.now, random: () => 0 },
  });
  cleanup.push(async () => {
    await dh.close();
    tmp.remove();
  });
  dh.history.saveConversation({ id: CID, peerUri: BOB, peerDisplayName: 'Bob', lastMessageText: null, updatedAt: 0, unreadCount: 0 });
  return { dh, clock };
}

const talk = (from: number, to: number): ChatMessage[] =>
  Array.from({ length: to - from }, (_, i) => chat(from + i, { conversationId: CID, senderUri: (from + i) % 2 === 0 ? ALICE : BOB }));

describe('the lab', () => {
  it('runs a Message Store per domain on loopback and names it in its description', () => {
    expect(lab.description.domains.map((d) => d.store)).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    expect(storeOf('a.example')).not.toBe(storeOf('b.example'));
  });
});

describe('history that follows the conversation', () => {
  it('deposits from one device and gives a new device of the same user the whole conversation, in order', async () => {
    const laptop = aliceDevice();
    for (const m of talk(0, 30)) laptop.dh.history.append(m);
    await laptop.dh.depositor!.drain();
    expect(laptop.dh.history.outboxSize()).toBe(0);

    const desktop = aliceDevice();
    const fetched = await desktop.dh.start();
    expect(fetched).toHaveLength(30);
    const page = desktop.dh.history.page(CID, { limit: 100 });
    expect(page.messages.map((m) => m.id)).toEqual(talk(0, 30).map((m) => m.id).reverse());
    expect(page.messages.slice(0, 2)).toEqual([talk(29, 30)[0], { ...talk(28, 29)[0], status: 'sent' }]);
    expect(desktop.dh.history.conversation(CID)).toMatchObject({ peerUri: BOB, lastMessageText: 'message 29' });

    // What reached the laptop during a hand-over is deposited later; the desktop fetches it once, in place.
    for (const m of talk(30, 33)) laptop.dh.history.append(m);
    await laptop.dh.depositor!.drain();
    expect((await desktop.dh.syncConversation(CID)).map((m) => m.id)).toEqual(['m30', 'm31', 'm32']);
    expect(await desktop.dh.syncConversation(CID)).toEqual([]);
    expect(desktop.dh.history.page(CID, { limit: 100 }).messages).toHaveLength(33);
  });

  it('does not duplicate a deposit repeated after a lost acknowledgement', async () => {
    let lose = true;
    const losing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (lose && init?.method === 'POST' && res.ok) {
        lose = false;
        await res.arrayBuffer();
        throw new TypeError('fetch failed: socket hang up');
      }
      return res;
    };
    const phone = aliceDevice({ fetch: losing });
    const errors: unknown[] = [];
    phone.dh.depositor!.on('error', (e) => errors.push(e));
    for (const m of talk(100, 105)) phone.dh.history.append({ ...m, conversationId: 'lost-ack' });
    await phone.dh.depositor!.drain();
    expect(errors).toHaveLength(1);
    expect(phone.dh.history.outboxSize()).toBe(5);
    phone.clock.now = phone.dh.history.nextOutboxAttempt()!;
    const outcomes: [number, number][] = [];
    phone.dh.depositor!.on('deposited', (stored, duplicates) => outcomes.push([stored, duplicates]));
    await phone.dh.depositor!.drain();
    expect(outcomes).toEqual([[0, 5]]);
    const stored = await client('alice', 'a.example').fetchAfter('lost-ack');
    expect(stored.messages.map((m) => m.messageId)).toEqual(['m100', 'm101', 'm102', 'm103', 'm104']);
  });
});

describe('nobody else reads or writes Alice’s history', () => {
  beforeAll(async () => {
    await client('alice', 'a.example').deposit([message({ conversationId: 'private', messageId: 'p1', body: 'for Alice only' })]);
  });

  it('answers another user of the same domain as if the conversation did not exist', async () => {
    const carol = client('carol', 'a.example');
    const err = await carol.fetchAfter('private').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreClientError);
    expect(err).toMatchObject({ status: 404 });
    expect((await carol.listConversations()).conversations).toEqual([]);
  });

  it('refuses a deposit in Alice’s name from someone else with 403', async () => {
    await expect(client('carol', 'a.example').deposit([message({ conversationId: 'planted' })], { owner: ALICE })).rejects.toMatchObject({ status: 403 });
    await expect(client('alice', 'a.example').fetchAfter('planted')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a wrong password, and Alice’s credentials at another domain’s store, with 401', async () => {
    await expect(client('alice', 'a.example', 'guess').fetchAfter('private')).rejects.toMatchObject({ status: 401 });
    await expect(client('alice', 'a.example', passwordOf(ALICE), storeOf('b.example')).fetchAfter('private')).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a forged conversation id with 400', async () => {
    await expect(client('alice', 'a.example').fetchAfter('../private')).rejects.toMatchObject({ status: 400, reason: expect.stringMatching(/conversationId is malformed/) });
    await expect(client('alice', 'a.example').deposit([message({ conversationId: 'a b' })])).rejects.toMatchObject({ status: 400 });
  });
});
