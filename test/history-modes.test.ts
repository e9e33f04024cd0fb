/**
 * History that follows the conversation (PROFILE.md "History continuity"), end to end on the lab, in every
 * pair of Conversation Server modes: DeviceAgents with their SQLite history in their own data folders,
 * depositing into their domain's Message Store when their Conversation Server is a proxy, while an in-path
 * Conversation Server writes what it relays. Alice (a.example) and Bob (b.example) chat both ways; then
 * each user's store holds every message exactly once, a device restarted on its data folder shows the same
 * history, and a new device of the same user fetches the whole conversation, with each message's delivery
 * state (IMDN, RFC 5438) as the user's other device saw it. Last, a deposit repeated after a lost
 * acknowledgement stores nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, MessagePage } from '../electron/api/payloads';
import { DEFAULT_CHUNK_SIZE } from '../protocol/msrp/msrp-chunker';
import type { DepositResult } from '../protocol/store/store-types';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import { LabNetwork } from '../server/lab/lab-network';
import { eventually, readPages, startHistoryAgent, storedConversation, storedConversations, type HistoryAgent, type HistoryAgentOptions } from './helpers/history-agent';
import { waitFor } from './helpers/lab-device';

const ALICE = 'sip:alice@a.example';
const BOB = 'sip:bob@b.example';

/** Messages per chat; every third one is Bob's. */
const CHAT_LENGTH = 30;
/** Which message is the long one (Bob's, so that both directions cross a relay with it). */
const LONG_AT = 14;
/** Several MSRP chunks of multi-byte UTF-8 (a chunk boundary falls inside a character), over several lines. */
const LONG_TEXT = Array.from({ length: 160 }, (_, i) => `line ${i}: ünïcödé ✓ 😀 across chunks`).join('\n');
/** `getMessages` page size: the 30 messages take four pages. */
const PAGE = 8;

const PAIRS: Array<[ConversationMode, ConversationMode]> = [
  ['proxy', 'proxy'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['in-path', 'in-path'],
];

const folders: string[] = [];
async function dataFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cpm-history-modes-'));
  folders.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * Alice starts a chat with Bob; they exchange `CHAT_LENGTH` messages (each waited for at the other end),
 * then each displays the last one received, and each waits until all its own messages are displayed (so
 * that nothing changes any more). Returns the conversation id and the messages as sent, in order.
 */
async function chatBothWays(alice: HistoryAgent, bob: HistoryAgent): Promise<{ conversationId: string; sent: ChatMessage[] }> {
  const conversation = await alice.agent.startChat(BOB);
  const incoming = await bob.until('incomingSession', (s) => s.conversationId === conversation.id);
  await bob.agent.acceptSession(incoming.sessionId);
  await alice.until('sessionState', (s) => s.state === 'active');
  const sent: ChatMessage[] = [];
  for (let i = 0; i < CHAT_LENGTH; i++) {
    const [from, to] = i % 3 === 2 || i === LONG_AT ? [bob, alice] : [alice, bob];
    const message = await from.agent.sendMessage(conversation.id, i === LONG_AT ? LONG_TEXT : `${from.name} says ${i}`);
    await to.until('message', (m) => m.id === message.id);
    sent.push(message);
  }
  const last = (by: HistoryAgent): ChatMessage => sent.filter((m) => m.senderUri !== by.user).at(-1)!;
  await alice.agent.markDisplayed(conversation.id, last(alice).id);
  await bob.agent.markDisplayed(conversation.id, last(bob).id);
  for (const [sender, receiver] of [[alice, bob], [bob, alice]] as const) {
    for (const m of sent.filter((x) => x.senderUri === sender.user)) {
      await sender.until('messageStatus', (s) => s.messageId === m.id && s.status === 'displayed');
    }
    expect(receiver.of('message').filter((m) => m.senderUri === sender.user)).toHaveLength(sent.filter((x) => x.senderUri === sender.user).length);
  }
  return { conversationId: conversation.id, sent };
}

/** What the user's store should hold: every message, in the order sent, as the user's own or received. */
function expectedStore(user: string, sent: readonly ChatMessage[]): { messageId: string; direction: 'in' | 'out'; sender: string; body: string }[] {
  return sent.map((m) => ({ messageId: m.id, direction: m.senderUri === user ? 'out' : 'in', sender: m.senderUri, body: m.text }));
}

/** A page's messages without their delivery status (what a device learns of it depends on the store). */
const withoutStatus = (pages: readonly MessagePage[]): Omit<ChatMessage, 'status'>[] =>
  pages.flatMap((p) => p.messages).map(({ status: _status, ...rest }) => rest);

describe.each(PAIRS)('History that follows the conversation: CS A %s, CS B %s', (modeA, modeB) => {
  let lab: LabNetwork;
  const running: HistoryAgent[] = [];
  let alice: HistoryAgent;
  let bob: HistoryAgent;
  let conversationId: string;
  let sent: ChatMessage[];

  const start = async (user: string, name: string, options: HistoryAgentOptions): Promise<HistoryAgent> => {
    const agent = await startHistoryAgent(lab, user, name, options);
    running.push(agent);
    return agent;
  };
  const stop = async (agent: HistoryAgent): Promise<void> => {
    running.splice(running.indexOf(agent), 1);
    await agent.close();
  };

  beforeAll(async () => {
    lab = await LabNetwork.start({ modeA, modeB });
    [alice, bob] = await Promise.all([
      start(ALICE, 'Laptop', { dataDir: await dataFolder() }),
      start(BOB, 'Desk', { dataDir: await dataFolder() }),
    ]);
    expect([alice.deposits, bob.deposits]).toEqual([modeA === 'proxy', modeB === 'proxy']);
    ({ conversationId, sent } = await chatBothWays(alice, bob));
  });
  afterAll(async () => {
    await Promise.allSettled(running.splice(0).map((a) => a.close()));
    await lab?.close();
  });

  it('each user’s Message Store holds every message of the chat exactly once, in order', async () => {
    expect(Buffer.byteLength(LONG_TEXT, 'utf8')).toBeGreaterThan(3 * DEFAULT_CHUNK_SIZE);
    for (const user of [ALICE, BOB]) {
      const expected = expectedStore(user, sent);
      // Deposits and in-path records are written shortly after the message: wait (bounded) until all are there.
      // On a time-out, compare what is there, for a useful diff.
      const stored = await eventually(
        `${user}'s store to hold the chat`,
        async () => {
          const messages = await storedConversation(lab, user, conversationId);
          return messages.length >= expected.length ? messages : undefined;
        },
        10_000,
      ).catch(async () => storedConversation(lab, user, conversationId).catch(() => []));
      expect(stored.map(({ messageId, direction, sender, body }) => ({ messageId, direction, sender, body })), `${user}'s store`).toEqual(expected);
      expect(stored.every((m) => m.owner === user && m.conversationId === conversationId)).toBe(true);
      // Nothing recorded under another conversation either.
      expect((await storedConversations(lab, user)).map((c) => [c.conversationId, c.messageCount])).toEqual([[conversationId, CHAT_LENGTH]]);
    }
  });

  it('a device restarted on its data folder shows the same history, page by page', async () => {
    for (const [before, user, name] of [[alice, ALICE, 'Laptop'], [bob, BOB, 'Desk']] as const) {
      const pages = await readPages(before.agent, conversationId, PAGE);
      expect(pages.flatMap((p) => p.messages.map((m) => m.id))).toEqual(sent.map((m) => m.id).reverse());
      await stop(before);

      const after = await start(user, name, { dataDir: before.dataDir });
      expect(after.agent.instance).toBe(before.agent.instance);
      await after.startupSync; // it also fetched from the store: that must change nothing
      expect(await readPages(after.agent, conversationId, PAGE)).toEqual(pages);
      expect((await after.agent.listConversations()).map((c) => c.id)).toEqual([conversationId]);
      if (user === ALICE) alice = after;
      else bob = after;
    }
  });

  it('a new device of the same user fetches the whole conversation from the store and shows it in order', async () => {
    for (const [known, user, peer] of [[alice, ALICE, BOB], [bob, BOB, ALICE]] as const) {
      const fresh = await start(user, 'Phone', { dataDir: await dataFolder() });
      const fetched = await fresh.startupSync;
      expect(fetched.map((m) => m.id)).toEqual(sent.map((m) => m.id));
      const conversations = await fresh.agent.listConversations();
      expect(conversations).toMatchObject([{ id: conversationId, peerUri: peer }]);
      const pages = await readPages(fresh.agent, conversationId, PAGE);
      expect(withoutStatus(pages)).toEqual(withoutStatus(await readPages(known.agent, conversationId, PAGE)));
      expect(pages.flatMap((p) => p.messages).find((m) => m.id === sent[LONG_AT]!.id)?.text).toBe(LONG_TEXT);
      await stop(fresh);
    }
  });

  it('a new device of the same user shows each message’s delivery state as the user’s other device saw it (IMDN outcomes reach the store)', async () => {
    for (const [known, user] of [[alice, ALICE], [bob, BOB]] as const) {
      const fresh = await start(user, 'Tablet', { dataDir: await dataFolder() });
      await fresh.startupSync;
      const statuses = async (agent: HistoryAgent): Promise<string[]> =>
        (await readPages(agent.agent, conversationId, PAGE)).flatMap((p) => p.messages).map((m) => `${m.id} ${m.direction} ${m.status}`);
      expect(await statuses(fresh), `${user} in a ${user === ALICE ? modeA : modeB} domain`).toEqual(await statuses(known));
      await stop(fresh);
    }
  });
});

describe('A deposit repeated after a lost acknowledgement', () => {
  let lab: LabNetwork;
  const running: HistoryAgent[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.splice(0).map((a) => a.close()));
    await lab?.close();
  });

  it('is stored once: Alice’s laptop quits before any deposit is acknowledged and deposits everything again on restart', async () => {
    lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy' });
    // Every successful deposit reaches the store, but its answer is lost on the way back.
    const written = new Set<string>();
    const losing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST' && res.ok && typeof init.body === 'string') {
        for (const m of (JSON.parse(init.body) as { messages: { messageId: string }[] }).messages) written.add(m.messageId);
        await res.arrayBuffer();
        throw new TypeError('fetch failed: connection reset after the request was sent');
      }
      return res;
    };
    const dataDir = await dataFolder();
    const laptop = await startHistoryAgent(lab, ALICE, 'Laptop', { dataDir, fetch: losing, depositor: { baseDelayMs: 10, maxDelayMs: 40 } });
    running.push(laptop);
    const bob = await startHistoryAgent(lab, BOB, 'Desk', { dataDir: await dataFolder() });
    running.push(bob);
    const { conversationId, sent } = await chatBothWays(laptop, bob);

    // Everything was written to the store, nothing acknowledged: the outbox still holds every message.
    await waitFor('every message deposited at least once', () => sent.every((m) => written.has(m.id)));
    laptop.history.history.flush();
    expect(laptop.history.history.outboxSize()).toBe(sent.length);
    expect((await storedConversation(lab, ALICE, conversationId)).map((m) => m.messageId)).toEqual(sent.map((m) => m.id));

    running.splice(running.indexOf(laptop), 1);
    await laptop.close();

    // Restarted on the same folder: the outbox is deposited again; the store answers "duplicate" for each.
    const outcomes: DepositResult['outcomes'] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST' && res.ok) outcomes.push(...((await res.clone().json()) as DepositResult).outcomes);
      return res;
    };
    const restarted = await startHistoryAgent(lab, ALICE, 'Laptop', { dataDir, fetch: recording, depositor: { baseDelayMs: 10, maxDelayMs: 40 } });
    running.push(restarted);
    await waitFor('the outbox to empty', () => restarted.history.history.outboxSize() === 0);
    expect(new Set(outcomes.map((o) => o.messageId))).toEqual(new Set(sent.map((m) => m.id)));
    expect(outcomes.filter((o) => o.status !== 'duplicate')).toEqual([]);
    const stored = await storedConversation(lab, ALICE, conversationId);
    expect(stored.map((m) => m.messageId)).toEqual(sent.map((m) => m.id));
    expect((await storedConversations(lab, ALICE)).map((c) => [c.conversationId, c.messageCount])).toEqual([[conversationId, CHAT_LENGTH]]);
  });
});
