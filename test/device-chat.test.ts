/**
 * CPM chat between DeviceAgents on the lab network (both Conversation Servers in proxy mode): sessions across
 * the two domains both ways, forking to every device of the callee, IMDNs, several conversations at once,
 * conversations that outlive their sessions, and a graceful end.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../electron/api/payloads';
import type { ChatService } from '../electron/device/chat/chat-service';
import { useLabWithAgents, type LabAgent } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';

const suite = useLabWithAgents({ trace: true });

/** Agents probe their sessions' peers every 100 ms (in-dialog OPTIONS through both cores and Conversation
 * Servers): a probe that went unanswered would end a session and fail these tests. */
function agent(user: string, name: string, secure = false): Promise<LabAgent> {
  return suite.agent(user, name, { secure, sessionKeepAliveMs: 100 });
}

/** The agent's chat service (white box: the dialog identifiers are not part of the DeviceApi). */
function chatOf(a: LabAgent): ChatService {
  return a.agent.chatService!;
}

/** `from` starts a chat with `to`'s AOR, `to` accepts on `accepting`; resolves once both sides are active. */
async function connect(from: LabAgent, toUri: string, accepting: LabAgent): Promise<{ conversation: ConversationSummary; sessionId: string }> {
  const seen = accepting.of('incomingSession').length;
  const conversation = await from.agent.startChat(toUri);
  const incoming = await waitFor(`${accepting.name} alerted`, () => accepting.of('incomingSession')[seen]);
  expect(incoming.conversationId).toBe(conversation.id);
  await accepting.agent.acceptSession(incoming.sessionId);
  await from.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'active');
  await accepting.until('sessionState', (s) => s.sessionId === incoming.sessionId && s.state === 'active');
  return { conversation, sessionId: incoming.sessionId };
}

describe('CPM chat between devices on the lab', () => {
  let alice: LabAgent;
  let bobDesk: LabAgent;
  let bobPhone: LabAgent;

  beforeAll(async () => {
    [alice, bobDesk, bobPhone] = await Promise.all([
      agent('sip:alice@a.example', 'Laptop'),
      agent('sip:bob@b.example', 'Desk'),
      agent('sip:bob@b.example', 'Phone', true),
    ]);
  });

  it('alerts both of Bob’s devices; the first to accept wins and the other stops alerting and keeps no session', async () => {
    const conversation = await alice.agent.startChat('sip:bob@b.example');
    const [onDesk, onPhone] = await Promise.all([bobDesk.until('incomingSession'), bobPhone.until('incomingSession')]);
    expect(onDesk.peerUri).toBe('sip:alice@a.example');
    expect(onPhone.conversationId).toBe(conversation.id);
    await bobPhone.agent.acceptSession(onPhone.sessionId);
    const aliceActive = await alice.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'active');
    const deskEnd = await bobDesk.until('sessionState', (s) => s.sessionId === onDesk.sessionId && s.state === 'ended');
    expect(deskEnd.cause).toMatch(/answered on another device|cancelled/);
    await expect(bobDesk.agent.acceptSession(onDesk.sessionId)).rejects.toThrow(/not-found/);
    expect((await bobDesk.agent.listConversations()).every((c) => c.activeSessionId === null)).toBe(true);
    expect((await bobPhone.agent.listConversations()).find((c) => c.id === conversation.id)?.activeSessionId).toBe(onPhone.sessionId);

    // One dialog, seen from both ends (what a transfer's Target-Dialog names, RFC 4538): same Call-ID, tags
    // swapped, and each side's remote target is the other's GRUU (PROFILE.md: every UA's Contact is its pub-gruu).
    const atAlice = chatOf(alice).session(aliceActive.sessionId)!.sip.dialog!;
    const atBob = chatOf(bobPhone).session(onPhone.sessionId)!.sip.dialog!;
    expect(atBob.callId).toBe(atAlice.callId);
    expect([atBob.localTag, atBob.remoteTag]).toEqual([atAlice.remoteTag, atAlice.localTag]);
    expect(atAlice.remoteTarget).toBe((await bobPhone.agent.getAccount())!.pubGruu);
    expect(atBob.remoteTarget).toBe((await alice.agent.getAccount())!.pubGruu);
  });

  it('carries messages both ways across the domains, and IMDNs mark Alice’s message delivered, then displayed', async () => {
    const [conversation] = await alice.agent.listConversations();
    const sent = await alice.agent.sendMessage(conversation!.id, 'hello Bob, from a.example');
    expect(sent.status).toBe('pending');
    const atBob = await bobPhone.until('message', (m) => m.id === sent.id);
    expect(atBob).toMatchObject({ direction: 'incoming', text: 'hello Bob, from a.example', senderUri: 'sip:alice@a.example', conversationId: conversation!.id });
    await alice.until('messageStatus', (s) => s.messageId === sent.id && s.status === 'delivered');
    expect(alice.of('messageStatus').some((s) => s.messageId === sent.id && s.status === 'displayed')).toBe(false);

    await bobPhone.agent.markDisplayed(conversation!.id, sent.id);
    await alice.until('messageStatus', (s) => s.messageId === sent.id && s.status === 'displayed');
    const page = await alice.agent.getMessages(conversation!.id, { limit: 10 });
    expect(page.messages.find((m) => m.id === sent.id)?.status).toBe('displayed');

    const reply = await bobPhone.agent.sendMessage(conversation!.id, 'hi Alice, from b.example');
    const atAlice = await alice.until('message', (m) => m.id === reply.id);
    expect(atAlice).toMatchObject({ direction: 'incoming', text: 'hi Alice, from b.example', senderUri: 'sip:bob@b.example' });
    await bobPhone.until('messageStatus', (s) => s.messageId === reply.id && s.status === 'delivered');
    // The Desk, which lost the race, got none of it.
    expect(bobDesk.of('message')).toEqual([]);
  });

  it('probes the live session in-dialog through both cores, and the peer answers', async () => {
    const answered = await waitFor('an answered in-dialog OPTIONS', () =>
      suite.lab.trace.entries({ methods: ['OPTIONS'] }).find((e) => e.status !== undefined && e.element === 'core A' && e.direction === 'out'),
    );
    expect(answered.status).not.toBe(408);
    expect(answered.status).not.toBe(481);
    expect(suite.lab.trace.entries({ methods: ['OPTIONS'] }).some((e) => e.element === 'core B')).toBe(true);
    expect(alice.of('sessionState').at(-1)?.state).toBe('active');
  });

  it('ends gracefully: Bob’s BYE ends Alice’s session with the peer as the cause, and the conversation stays', async () => {
    const [conversation] = await bobPhone.agent.listConversations();
    await bobPhone.agent.endSession(conversation!.activeSessionId!);
    const ended = await alice.until('sessionState', (s) => s.conversationId === conversation!.id && s.state === 'ended');
    expect(ended.cause).toBe('ended by the peer');
    const own = await bobPhone.until('sessionState', (s) => s.conversationId === conversation!.id && s.state === 'ended');
    expect(own.cause).toBe('ended on this device');
    expect((await alice.agent.listConversations()).map((c) => c.id)).toContain(conversation!.id);
  });

  it('a new session to the same peer, from either side, continues the same conversation and its thread', async () => {
    const [before] = await alice.agent.listConversations();
    // Bob's Desk knows the conversation from the alert it lost: its new session carries the same Conversation-ID.
    const { conversation } = await connect(bobDesk, 'sip:alice@a.example', alice);
    expect(conversation.id).toBe(before!.id);
    expect((await alice.agent.listConversations()).map((c) => c.id)).toEqual([before!.id]);
    const msg = await bobDesk.agent.sendMessage(conversation.id, 'from the Desk');
    await alice.until('message', (m) => m.id === msg.id);
    const thread = await alice.agent.getMessages(conversation.id, { limit: 50 });
    expect(thread.messages.map((m) => m.text)).toEqual(['from the Desk', 'hi Alice, from b.example', 'hello Bob, from a.example']);
    expect(thread.hasMore).toBe(false);
    await bobDesk.agent.endSession((await bobDesk.agent.listConversations())[0]!.activeSessionId!);
    await alice.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'ended' && alice.of('sessionState').filter((x) => x.state === 'ended').length >= 2);

    // Alice starts a chat with Bob again: the same conversation, alerting both of Bob's devices.
    const seenDesk = bobDesk.of('incomingSession').length;
    const seenPhone = bobPhone.of('incomingSession').length;
    const resumed = await alice.agent.startChat('sip:bob@b.example');
    expect(resumed.id).toBe(before!.id);
    const incoming = await waitFor('Bob’s Desk alerted again', () => bobDesk.of('incomingSession')[seenDesk]);
    await waitFor('Bob’s Phone alerted again', () => bobPhone.of('incomingSession')[seenPhone]);
    expect(incoming.conversationId).toBe(resumed.id);
    await bobDesk.agent.acceptSession(incoming.sessionId);
    const next = await alice.agent.sendMessage(resumed.id, 'back again');
    await bobDesk.until('message', (m) => m.id === next.id);
    const page = await alice.agent.getMessages(resumed.id, { limit: 2 });
    expect(page.messages.map((m) => m.text)).toEqual(['back again', 'from the Desk']);
    expect(page.hasMore).toBe(true);
    const older = await alice.agent.getMessages(resumed.id, { limit: 10, before: page.messages[1]!.id });
    expect(older.messages.map((m) => m.text)).toEqual(['hi Alice, from b.example', 'hello Bob, from a.example']);
  });

  it('holds several conversations at once: Alice with Bob and with Carol', async () => {
    const carol = await agent('sip:carol@a.example', 'Tablet');
    const { conversation: withCarol } = await connect(alice, 'sip:carol@a.example', carol);
    const bobConversation = (await alice.agent.listConversations()).find((c) => c.peerUri === 'sip:bob@b.example' && c.activeSessionId !== null);
    expect(bobConversation).toBeDefined();
    const toCarol = await alice.agent.sendMessage(withCarol.id, 'to Carol');
    const toBob = await alice.agent.sendMessage(bobConversation!.id, 'to Bob');
    await carol.until('message', (m) => m.id === toCarol.id);
    await bobDesk.until('message', (m) => m.id === toBob.id);
    expect(carol.of('message').some((m) => m.id === toBob.id)).toBe(false);
    expect(bobDesk.of('message').some((m) => m.id === toCarol.id)).toBe(false);
  });

  it('rejects bad commands with clear errors', async () => {
    await expect(alice.agent.startChat('not a uri')).rejects.toThrow(/\[invalid-argument\]/);
    await expect(alice.agent.sendMessage('no-such-conversation', 'x')).rejects.toThrow(/\[not-found\]/);
    await expect(alice.agent.acceptSession('no-such-session')).rejects.toThrow(/\[not-found\]/);
    await expect(alice.agent.moveConversation('c', 'urn:uuid:00000000-0000-4000-8000-000000000000')).rejects.toThrow(/\[invalid-state\]/);
  });
});
