/**
 * When a sent message is `failed` (RFC 4975 §7.1.2, PROFILE.md: MSRP 200s are hop by hop): the first hop (an
 * in-path Conversation Server's relay, here a bare MSRP peer playing it) answers 200, the message shows `sent`,
 * and a failure REPORT that comes back later (the server could not deliver it: the session ended) turns it
 * `failed`, unless the recipient already said it was delivered. A message whose session ends before its 200
 * is `failed` too. And a new incoming session on a conversation the device already had is announced.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeviceEventMap } from '../../api/device-api';
import { MsrpSession, type ReceivedMsrpMessage } from '../../../protocol/msrp/msrp-session';
import { CPM_ACCEPT_TYPES, CPM_ACCEPT_WRAPPED_TYPES } from '../../../protocol/sdp/msrp-sdp';
import { ChatService, type ChatEventName } from './chat-service';
import { encodeNotification } from './chat-payload';
import { MemoryMessageHistory } from './message-history';
import { MsrpSocketTransport } from './msrp-socket-transport';
import { FakeSignalling } from './testing/fake-signalling';

const ALICE = { uri: 'sip:alice@a.example', displayName: 'Alice' };
const BOB = { uri: 'sip:bob@b.example', displayName: 'Bob' };
const endpoints: MsrpSocketTransport[] = [];

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

/** Bob's device, and the first MSRP hop of its chat with Alice: a bare MSRP session playing CS B's relay. */
async function bobBehindARelay() {
  const device = await MsrpSocketTransport.listen();
  const server = await MsrpSocketTransport.listen();
  endpoints.push(device, server);
  const signalling = new FakeSignalling(BOB);
  const chat = new ChatService({ self: BOB, transport: device, history: new MemoryMessageHistory(), startInvite: signalling.startInvite, keepAliveMs: 0 });
  const events: Array<{ type: ChatEventName; payload: unknown }> = [];
  for (const type of ['messageStatus', 'sessionState', 'incomingSession'] as const) chat.on(type, (payload) => events.push({ type, payload }));
  const of = <E extends ChatEventName>(type: E): DeviceEventMap[E][] => events.filter((e) => e.type === type).map((e) => e.payload as DeviceEventMap[E]);
  const conversation = chat.startChat(ALICE.uri);
  const dialog = signalling.incomingFor();
  const local = server.newLocalUri();
  let relay: MsrpSession | undefined;
  dialog.answer({
    localEndpoint: () => ({ path: [local], acceptTypes: [...CPM_ACCEPT_TYPES], acceptWrappedTypes: [...CPM_ACCEPT_WRAPPED_TYPES] }),
    onNegotiated: (n) => {
      relay = new MsrpSession({ localUri: local, remotePath: n.remotePath });
      void server.bind(relay, n.setup);
    },
  });
  await vi.waitFor(() => expect(of('sessionState').at(-1)?.state).toBe('active'));
  const received: ReceivedMsrpMessage[] = [];
  relay!.on('message', (m) => received.push(m));
  return { chat, of, conversation, dialog, relay: relay!, received };
}

const statuses = (of: Awaited<ReturnType<typeof bobBehindARelay>>['of'], id: string): string[] => of('messageStatus').filter((s) => s.messageId === id).map((s) => s.status);

describe('a sent message that a hop further on could not deliver', () => {
  it('shows sent on the first hop’s 200, then failed when that hop’s failure REPORT comes back (RFC 4975 §7.1.2)', async () => {
    const bob = await bobBehindARelay();
    const kept = bob.chat.sendMessage(bob.conversation.id, 'this one arrives');
    const lost = bob.chat.sendMessage(bob.conversation.id, 'this one is held, then the session ends');
    await vi.waitFor(() => expect(statuses(bob.of, lost.id)).toEqual(['sent']));
    expect(statuses(bob.of, kept.id)).toEqual(['sent']);
    // The relay gives up on the second message: a failure REPORT for its MSRP Message-ID, status 481.
    const second = bob.received[1]!;
    bob.relay.sendReport(second.messageId, { namespace: 0, code: 481, comment: 'Session ended before delivery' }, { start: 1, end: second.body.length, total: second.body.length });
    await vi.waitFor(() => expect(statuses(bob.of, lost.id)).toEqual(['sent', 'failed']));
    expect(bob.chat.getMessages(bob.conversation.id, { limit: 5 }).messages.find((m) => m.id === lost.id)?.status).toBe('failed');
    // The first message is untouched; a success REPORT changes nothing either.
    bob.relay.sendReport(bob.received[0]!.messageId, { namespace: 0, code: 200, comment: 'OK' }, { start: 1, end: 1, total: 1 });
    const marker = bob.chat.sendMessage(bob.conversation.id, 'marker');
    await vi.waitFor(() => expect(statuses(bob.of, marker.id)).toEqual(['sent']));
    expect(statuses(bob.of, kept.id)).toEqual(['sent']);
  });

  it('keeps a message the recipient said was delivered: a late failure REPORT does not undo the IMDN', async () => {
    const bob = await bobBehindARelay();
    const m = bob.chat.sendMessage(bob.conversation.id, 'delivered, then reported');
    await vi.waitFor(() => expect(bob.received).toHaveLength(1));
    bob.relay.send(encodeNotification({ from: ALICE, to: BOB, messageId: m.id, dateTime: new Date().toISOString(), kind: 'delivery' }), 'message/cpim');
    await vi.waitFor(() => expect(statuses(bob.of, m.id)).toContain('delivered'));
    bob.relay.sendReport(bob.received[0]!.messageId, { namespace: 0, code: 408, comment: 'Request Timeout' }, { start: 1, end: 1, total: 1 });
    const marker = bob.chat.sendMessage(bob.conversation.id, 'marker');
    await vi.waitFor(() => expect(statuses(bob.of, marker.id)).toEqual(['sent']));
    expect(statuses(bob.of, m.id)).not.toContain('failed');
  });

  it('a message whose session ends before its 200 is failed', async () => {
    const bob = await bobBehindARelay();
    // The relay stops answering: its device's connection is cut after the message left.
    const m = bob.chat.sendMessage(bob.conversation.id, 'never acknowledged');
    bob.relay.close();
    bob.dialog.terminate();
    await vi.waitFor(() => expect(statuses(bob.of, m.id)).toContain('failed'));
    expect(statuses(bob.of, m.id)).not.toContain('sent');
  });
});

describe('a new incoming session on a conversation the device already had', () => {
  it('is announced to onSessionResumed once active; a first session of a new conversation is not', async () => {
    const alice = await MsrpSocketTransport.listen();
    const bob = await MsrpSocketTransport.listen();
    endpoints.push(alice, bob);
    const aliceSignalling = new FakeSignalling(ALICE);
    const aliceChat = new ChatService({ self: ALICE, transport: alice, history: new MemoryMessageHistory(), startInvite: aliceSignalling.startInvite, keepAliveMs: 0 });
    const bobChat = new ChatService({ self: BOB, transport: bob, history: new MemoryMessageHistory(), startInvite: new FakeSignalling(BOB).startInvite, keepAliveMs: 0 });
    const resumed: string[] = [];
    const stop = bobChat.onSessionResumed((id) => resumed.push(id));

    const conversation = aliceChat.startChat(BOB.uri);
    const first = bobChat.handleIncoming(aliceSignalling.incomingFor())!;
    bobChat.acceptSession(first.id);
    await vi.waitFor(() => expect(bobChat.carrier(conversation.id)?.state).toBe('active'));
    expect(resumed).toEqual([]);

    bobChat.endSession(first.id);
    await vi.waitFor(() => expect(aliceChat.carrier(conversation.id)).toBeUndefined());
    aliceChat.sendMessage(conversation.id, 'a new session of the same conversation');
    const second = bobChat.handleIncoming(aliceSignalling.incomingFor(1))!;
    expect(resumed).toEqual([]); // ringing: not yet
    bobChat.acceptSession(second.id);
    await vi.waitFor(() => expect(resumed).toEqual([conversation.id]));

    stop();
    bobChat.endSession(second.id);
    await vi.waitFor(() => expect(aliceChat.carrier(conversation.id)).toBeUndefined());
    aliceChat.sendMessage(conversation.id, 'a third');
    bobChat.acceptSession(bobChat.handleIncoming(aliceSignalling.incomingFor(2))!.id);
    await vi.waitFor(() => expect(bobChat.carrier(conversation.id)?.state).toBe('active'));
    expect(resumed).toEqual([conversation.id]);
  });
});
