import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeviceEventMap } from '../../api/device-api';
import { ChatService, normalizeUri, previewOf, type ChatEventName } from './chat-service';
import { encodeNotification, encodeTextMessage } from './chat-payload';
import { MemoryMessageHistory } from './message-history';
import { MsrpSocketTransport } from './msrp-socket-transport';
import { FakeSignalling, type FakeDialog } from './testing/fake-signalling';

const ALICE = { uri: 'sip:alice@a.example', displayName: 'Alice' };
const BOB = { uri: 'sip:bob@b.example', displayName: 'Bob' };
const endpoints: MsrpSocketTransport[] = [];

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

interface Side {
  chat: ChatService;
  signalling: FakeSignalling;
  endpoint: MsrpSocketTransport;
  events: Array<{ type: ChatEventName; payload: unknown }>;
  of<E extends ChatEventName>(type: E): DeviceEventMap[E][];
}

async function side(self: typeof ALICE, keepAliveMs = 0): Promise<Side> {
  const endpoint = await MsrpSocketTransport.listen();
  endpoints.push(endpoint);
  const signalling = new FakeSignalling(self);
  const chat = new ChatService({ self, transport: endpoint, history: new MemoryMessageHistory(), startInvite: signalling.startInvite, keepAliveMs });
  const events: Side['events'] = [];
  for (const type of ['conversationUpdated', 'message', 'messageStatus', 'incomingSession', 'sessionState', 'error'] as const) {
    chat.on(type, (payload) => events.push({ type, payload }));
  }
  const of = <E extends ChatEventName>(type: E): DeviceEventMap[E][] => events.filter((e) => e.type === type).map((e) => e.payload as DeviceEventMap[E]);
  return { chat, signalling, endpoint, events, of };
}

/**
 * The IMDN statuses a side saw. `sent` (MSRP's 200 for the last chunk) is left out: the delivery IMDN may come
 * in the same TCP read as that 200 and overtake it, and a status never moves back.
 */
function progress(s: Side): string[] {
  return s.of('messageStatus').map((x) => x.status).filter((x) => x !== 'sent');
}

/** Alice invites Bob; Bob's service gets the incoming dialog. */
async function invite(keepAliveMs = 0) {
  const alice = await side(ALICE, keepAliveMs);
  const bob = await side(BOB);
  const conversation = alice.chat.startChat(BOB.uri);
  const incoming: FakeDialog = alice.signalling.incomingFor();
  const session = bob.chat.handleIncoming(incoming)!;
  return { alice, bob, conversation, incoming, session, outgoing: alice.signalling.outgoing[0]!.dialog };
}

async function connected(keepAliveMs = 0) {
  const t = await invite(keepAliveMs);
  t.bob.chat.acceptSession(t.session.id);
  await vi.waitFor(() => expect(t.alice.of('sessionState').at(-1)?.state).toBe('active'));
  await vi.waitFor(() => expect(t.bob.of('sessionState').at(-1)?.state).toBe('active'));
  return t;
}

describe('ChatService: CPM sessions and IMDN bookkeeping', () => {
  it('a message goes pending → (sent) → delivered → displayed at the sender, and is shown once at the receiver', async () => {
    const t = await connected();
    const sent = t.alice.chat.sendMessage(t.conversation.id, 'hello');
    expect(sent.status).toBe('pending');
    await vi.waitFor(() => expect(t.bob.of('message')).toHaveLength(1));
    expect(t.bob.of('message')[0]).toMatchObject({ id: sent.id, direction: 'incoming', text: 'hello', senderUri: ALICE.uri, status: 'delivered' });
    await vi.waitFor(() => expect(progress(t.alice)).toEqual(['delivered']));
    expect(t.bob.chat.listConversations()[0]!.unreadCount).toBe(1);

    t.bob.chat.markDisplayed(t.conversation.id, sent.id);
    await vi.waitFor(() => expect(progress(t.alice)).toEqual(['delivered', 'displayed']));
    expect(t.bob.chat.listConversations()[0]!.unreadCount).toBe(0);
    expect(t.alice.chat.getMessages(t.conversation.id, { limit: 5 }).messages[0]!.status).toBe('displayed');
  });

  it('never moves a status back: a display IMDN overtaking the delivery one wins', async () => {
    const t = await connected();
    const sent = t.alice.chat.sendMessage(t.conversation.id, 'quick');
    await vi.waitFor(() => expect(t.alice.of('messageStatus').map((s) => s.status)).toContain('delivered'));
    const bobSession = t.bob.chat.session(t.session.id)!;
    const notify = (kind: 'delivery' | 'display') => encodeNotification({ from: BOB, to: ALICE, messageId: sent.id, dateTime: new Date().toISOString(), kind });
    await bobSession.send(notify('display'));
    await bobSession.send(notify('delivery'));
    await vi.waitFor(() => expect(progress(t.alice)).toEqual(['delivered', 'displayed']));
    await new Promise((r) => setTimeout(r, 50));
    expect(progress(t.alice)).toEqual(['delivered', 'displayed']);
  });

  it('shows a message sent twice with the same imdn.Message-ID once (RFC 5438 §6.3)', async () => {
    const t = await connected();
    const bytes = encodeTextMessage({ from: ALICE, to: BOB, text: 'once', messageId: 'dup-1' }).bytes;
    const aliceSession = t.alice.chat.session(t.alice.of('sessionState').at(-1)!.sessionId)!;
    expect((await aliceSession.send(bytes)).ok).toBe(true);
    expect((await aliceSession.send(bytes)).ok).toBe(true);
    const marker = t.alice.chat.sendMessage(t.conversation.id, 'after');
    await vi.waitFor(() => expect(t.bob.of('message').map((m) => m.id)).toContain(marker.id));
    expect(t.bob.of('message').map((m) => m.text)).toEqual(['once', 'after']);
  });

  it('queues messages sent before the callee answers and delivers them once the session is up', async () => {
    const t = await invite();
    const early = t.alice.chat.sendMessage(t.conversation.id, 'are you there?');
    expect(t.alice.of('sessionState').map((s) => s.state)).toEqual(['connecting']);
    expect(t.bob.of('incomingSession')[0]).toMatchObject({ conversationId: t.conversation.id, peerUri: ALICE.uri, peerDisplayName: 'Alice' });
    t.bob.chat.acceptSession(t.session.id);
    await vi.waitFor(() => expect(t.bob.of('message').map((m) => m.id)).toEqual([early.id]));
  });

  it('reuses the conversation and its live session when a chat with the same peer is started again', async () => {
    const t = await connected();
    const again = t.alice.chat.startChat('sip:bob@B.EXAMPLE;transport=ws');
    expect(again.id).toBe(t.conversation.id);
    expect(t.alice.signalling.outgoing).toHaveLength(1);
    expect(again.activeSessionId).not.toBeNull();
  });

  it('starts a new session in the same conversation when the old one ended, keeping the thread', async () => {
    const t = await connected();
    t.alice.chat.sendMessage(t.conversation.id, 'first');
    await vi.waitFor(() => expect(t.bob.of('message')).toHaveLength(1));
    t.bob.chat.endSession(t.session.id);
    await vi.waitFor(() => expect(t.alice.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'ended by the peer' }));
    expect(t.bob.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'ended on this device' });
    t.alice.chat.sendMessage(t.conversation.id, 'second');
    expect(t.alice.signalling.outgoing).toHaveLength(2);
    expect(t.alice.signalling.outgoing[1]!.options.conversationId).toBe(t.conversation.id);
    expect(t.alice.signalling.outgoing[1]!.options.contributionId).not.toBe(t.alice.signalling.outgoing[0]!.options.contributionId);
    const second = t.bob.chat.handleIncoming(t.alice.signalling.incomingFor(1))!;
    t.bob.chat.acceptSession(second.id);
    await vi.waitFor(() => expect(t.bob.of('message').map((m) => m.text)).toEqual(['first', 'second']));
    expect(t.bob.chat.getMessages(t.conversation.id, { limit: 10 }).messages.map((m) => m.text)).toEqual(['second', 'first']);
  });

  it('sends a display notification asked for while no session was up once a session carries the conversation again', async () => {
    const t = await connected();
    const m = t.alice.chat.sendMessage(t.conversation.id, 'read me later');
    await vi.waitFor(() => expect(t.bob.of('message')).toHaveLength(1));
    t.bob.chat.endSession(t.session.id);
    await vi.waitFor(() => expect(t.alice.of('sessionState').at(-1)?.state).toBe('ended'));
    t.bob.chat.markDisplayed(t.conversation.id, m.id);
    expect(t.alice.of('messageStatus').map((s) => s.status)).not.toContain('displayed');
    t.alice.chat.startChat(BOB.uri);
    t.bob.chat.acceptSession(t.bob.chat.handleIncoming(t.alice.signalling.incomingFor(1))!.id);
    await vi.waitFor(() => expect(t.alice.of('messageStatus').map((s) => s.status)).toContain('displayed'));
  });

  it('refuses an INVITE without a valid Conversation-ID with 400 and raises nothing', async () => {
    const alice = await side(ALICE);
    const bob = await side(BOB);
    alice.chat.startChat(BOB.uri);
    const incoming = alice.signalling.incomingFor(0, { 'Contribution-ID': 'c-1' });
    expect(bob.chat.handleIncoming(incoming)).toBeNull();
    expect(incoming.calls).toEqual(['reject 400']);
    expect(bob.events).toEqual([]);
    const bad = alice.signalling.incomingFor(0, { 'Conversation-ID': 'has spaces', 'Contribution-ID': 'c-1' });
    expect(bob.chat.handleIncoming(bad)).toBeNull();
  });

  it('refuses an INVITE that offers no usable MSRP stream with 488 (RFC 3261 §21.4.26)', async () => {
    const alice = await side(ALICE);
    const bob = await side(BOB);
    alice.chat.startChat(BOB.uri);
    const audio = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
    const voice = alice.signalling.incomingFor(0, undefined, audio);
    expect(bob.chat.handleIncoming(voice)).toBeNull();
    expect(voice.calls).toEqual(['reject 488']);
    const declined = alice.signalling.incomingFor(0, undefined, 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 0 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://127.0.0.1:1/abc;tcp\r\n');
    expect(bob.chat.handleIncoming(declined)).toBeNull();
    expect(declined.calls).toEqual(['reject 488']);
    expect(bob.events).toEqual([]);
  });

  it('declines with 603: the callee ends as declined, the caller fails with the status', async () => {
    const t = await invite();
    t.bob.chat.declineSession(t.session.id);
    expect(t.incoming.calls).toEqual(['reject 603']);
    expect(t.bob.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'declined' });
    expect(t.alice.of('sessionState').at(-1)).toMatchObject({ state: 'failed', cause: '603 Decline' });
    expect(() => t.bob.chat.acceptSession(t.session.id)).toThrow(/\[not-found\]/);
  });

  it('stops alerting when the caller cancels, telling "answered elsewhere" from a plain cancel (RFC 3326)', async () => {
    const a = await invite();
    a.incoming.cancelFromCaller('SIP ;cause=200 ;text="Call completed elsewhere"');
    expect(a.bob.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'answered on another device' });
    expect(a.bob.chat.liveSessions()).toEqual([]);
    expect(a.bob.chat.listConversations()[0]!.activeSessionId).toBeNull();
    const b = await invite();
    b.incoming.cancelFromCaller(null);
    expect(b.bob.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'cancelled by the caller' });
  });

  it('ends an active session whose MSRP connection is lost, and sends BYE', async () => {
    const t = await connected();
    t.incoming.other = null; // Bob's device dies: nothing it does reaches Alice any more
    await t.bob.endpoint.close();
    await vi.waitFor(() => expect(t.alice.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'MSRP connection lost' }));
    expect(t.outgoing.calls).toContain('terminate');
  });

  it('probes a live peer again and again, and ends the session with BYE once a probe gets no answer', async () => {
    const t = await connected(5);
    await vi.waitFor(() => expect(t.outgoing.probes).toBeGreaterThanOrEqual(3));
    expect(t.alice.of('sessionState').at(-1)?.state).toBe('active');
    t.outgoing.alive = false;
    await vi.waitFor(() => expect(t.alice.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'no answer from the peer' }));
    expect(t.outgoing.calls).toContain('terminate');
    const probes = t.outgoing.probes;
    await new Promise((r) => setTimeout(r, 30));
    expect(t.outgoing.probes).toBe(probes);
  });

  it('ends an active session when the stack reports an in-dialog request timed out', async () => {
    const t = await connected();
    t.outgoing.timeOut();
    expect(t.alice.of('sessionState').at(-1)).toMatchObject({ state: 'ended', cause: 'no answer from the peer' });
  });

  it('rejects commands on unknown conversations, messages and sessions with DeviceApi errors', async () => {
    const t = await connected();
    expect(() => t.alice.chat.sendMessage('nope', 'x')).toThrow('[not-found] no conversation nope');
    expect(() => t.alice.chat.markDisplayed(t.conversation.id, 'nope')).toThrow(/\[not-found\] no message nope/);
    expect(() => t.alice.chat.getMessages(t.conversation.id, { limit: 5, before: 'nope' })).toThrow(/\[invalid-argument\]/);
    expect(() => t.bob.chat.acceptSession(t.session.id)).toThrow(/\[invalid-state\] .* is active, not ringing/);
    expect(() => t.alice.chat.startChat('mailto:x@y')).toThrow(/\[invalid-argument\]/);
  });

  it('reports an unreadable payload as an error event and carries on', async () => {
    const t = await connected();
    const aliceSession = t.alice.chat.session(t.alice.of('sessionState').at(-1)!.sessionId)!;
    await aliceSession.send(new TextEncoder().encode('this is not CPIM'));
    await vi.waitFor(() => expect(t.bob.of('error')[0]).toMatchObject({ code: 'invalid-argument', conversationId: t.conversation.id }));
    const m = t.alice.chat.sendMessage(t.conversation.id, 'still fine');
    await vi.waitFor(() => expect(t.bob.of('message').map((x) => x.id)).toEqual([m.id]));
  });
});

describe('ChatService: the far side of a move (PROFILE.md, remote party)', () => {
  const T_AT_BOB = 'fake-call;local-tag=callee-tag;remote-tag=caller-tag';

  /** alice's Laptop chats with bob; alice's Desktop sends INVITE J continuing it, with these headers. */
  async function continuation(headers: Record<string, string>, graceMs?: number) {
    const laptop = await side(ALICE);
    const desktop = await side(ALICE);
    const bob = await side(BOB);
    const bobChat = graceMs === undefined ? bob.chat : new ChatService({ self: BOB, transport: bob.endpoint, history: new MemoryMessageHistory(), startInvite: bob.signalling.startInvite, keepAliveMs: 0, continuationGraceMs: graceMs });
    const events: DeviceEventMap['incomingSession'][] = [];
    bobChat.on('incomingSession', (e) => events.push(e));
    const conversation = laptop.chat.startChat(BOB.uri);
    const first = bobChat.handleIncoming(laptop.signalling.incomingFor())!;
    bobChat.acceptSession(first.id);
    await vi.waitFor(() => expect(first.state).toBe('active'));
    desktop.chat.join({ target: `${BOB.uri};gr=fake`, conversationId: conversation.id, peerUri: BOB.uri, peerDisplayName: 'Bob', extraHeaders: [] });
    const join = desktop.signalling.outgoing[0]!;
    const incoming = desktop.signalling.incomingFor(0, {
      'Conversation-ID': conversation.id,
      'Contribution-ID': join.options.contributionId,
      'P-Asserted-Identity': '<sip:alice@a.example>',
      ...headers,
    });
    const second = bobChat.handleIncoming(incoming);
    return { laptop, desktop, bob, bobChat, conversation, first, second, incoming, prompts: events, oldDialog: laptop.signalling.outgoing[0]!.dialog };
  }

  it('accepts a continuation without prompting, sends only on it at once, and still takes the old session\'s messages until its BYE', async () => {
    const c = await continuation({ 'Target-Dialog': T_AT_BOB });
    expect(c.second).not.toBeNull();
    expect(c.prompts).toHaveLength(1); // the first session only
    expect(c.incoming.calls).toContain('answer');
    expect(c.bobChat.carrier(c.conversation.id)).toBe(c.second);
    const toDesktop = c.bobChat.sendMessage(c.conversation.id, 'to the new device');
    await vi.waitFor(() => expect(c.desktop.of('message').map((m) => m.id)).toContain(toDesktop.id));
    expect(c.laptop.of('message').filter((m) => m.direction === 'incoming')).toEqual([]);
    // The old device still sends until it releases T: taken, shown once.
    const late = c.laptop.chat.sendMessage(c.conversation.id, 'sent during the move');
    await vi.waitFor(() => expect(c.bobChat.getMessages(c.conversation.id, { limit: 10 }).messages.map((m) => m.id)).toContain(late.id));
    expect(c.bobChat.continuationOf(c.first.id)?.state).toBe('superseded');
    c.oldDialog.terminate(); // A-D1's BYE
    await vi.waitFor(() => expect(c.first.state).toBe('ended'));
    expect(c.bobChat.continuationOf(c.first.id)).toBeUndefined();
    expect(c.second!.state).toBe('active');
  });

  it('ends the old dialog itself when its BYE never comes (the grace time)', async () => {
    const c = await continuation({ 'Target-Dialog': T_AT_BOB }, 30);
    await vi.waitFor(() => expect(c.first.state).toBe('ended'));
    expect(c.first.sip.established).toBe(false);
    expect(c.second!.state).not.toBe('ended');
  });

  it.each([
    ['names no live dialog of ours', { 'Target-Dialog': 'other-call;local-tag=callee-tag;remote-tag=caller-tag' }, 'reject 481'],
    ['comes from another user', { 'Target-Dialog': T_AT_BOB, 'P-Asserted-Identity': '<sip:carol@a.example>' }, 'reject 403'],
    ['carries no asserted identity', { 'Target-Dialog': T_AT_BOB, 'P-Asserted-Identity': '' }, 'reject 403'],
    ['has a malformed Target-Dialog', { 'Target-Dialog': 'fake-call;local-tag=x' }, 'reject 400'],
  ])('refuses an INVITE whose Target-Dialog %s, and the first session goes on', async (_what, headers, call) => {
    const c = await continuation(headers);
    expect(c.second).toBeNull();
    expect(c.incoming.calls).toEqual([call]);
    expect(c.bobChat.carrier(c.conversation.id)).toBe(c.first);
    expect(c.first.state).toBe('active');
  });

  it('keeps a moved conversation read-only and says where it went, until a session carries it here again', async () => {
    const t = await connected();
    t.alice.chat.markMoved(t.conversation.id, 'Desktop');
    expect(() => t.alice.chat.sendMessage(t.conversation.id, 'x')).toThrow('[invalid-state] this conversation moved to Desktop; continue it there');
    expect(t.alice.chat.movedTo(t.conversation.id)).toBe('Desktop');
    t.alice.chat.startChat(BOB.uri);
    expect(t.alice.chat.movedTo(t.conversation.id)).toBeUndefined();
  });
});

describe('normalizeUri', () => {
  it.each([
    ['sip:bob@B.Example;transport=ws', 'sip:bob@b.example'],
    ['<SIPS:Bob@b.example?subject=x>', 'sips:Bob@b.example'],
    ['tel:+4930123', 'tel:+4930123'],
  ])('%s → %s', (input, expected) => expect(normalizeUri(input)).toBe(expected));

  it.each(['bob@b.example', 'sip:', 'sip:@b.example', 'http://x'])('refuses %s', (input) => {
    expect(() => normalizeUri(input)).toThrow(/\[invalid-argument\]/);
  });
});

describe('previewOf: the conversation list preview', () => {
  it('keeps a text of exactly the preview length whole', () => {
    expect(previewOf('abcde', 5)).toBe('abcde');
  });

  it('cuts a longer text to length - 1 code points and an ellipsis', () => {
    expect(previewOf('abcdef', 5)).toBe('abcd…');
  });

  it('counts code points, not UTF-16 units, and never splits a surrogate pair', () => {
    const emoji = '😀😁😂😃😄';
    expect(previewOf(emoji, 5)).toBe(emoji); // 10 UTF-16 units, 5 code points
    expect(previewOf(`${emoji}😅`, 5)).toBe('😀😁😂😃…');
  });

  it('previews a 1 MB text by its first code points', () => {
    expect(previewOf('x'.repeat(1_000_000), 120)).toBe(`${'x'.repeat(119)}…`);
  });
});
