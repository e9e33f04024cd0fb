import { describe, expect, it, vi } from 'vitest';
import { DeviceApiError, type DeviceCommands, type ShellCommands } from '../../electron/api/device-api';
import type { AccountInfo, ChatMessage, ConversationSummary, DeviceInfo } from '../../electron/api/payloads';
import { mergeMessages, nextStatus } from './conversations-slice';
import { moveCandidates, noCandidateReason } from './devices-slice';
import { commandDoubles, storeOverBridge } from './store-test-kit';

type Spy = ReturnType<typeof vi.fn<(...args: unknown[]) => Promise<unknown>>>;

const CONV: ConversationSummary = { id: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: 'hi', updatedAt: 10, unreadCount: 2, activeSessionId: 'sess-1' };
const DESKTOP: DeviceInfo = { instanceId: 'urn:uuid:d', name: 'Desktop', pubGruu: 'sip:alice@a.example;gr=urn:uuid:d', self: false, cpmCapable: true };
const PHONE: DeviceInfo = { instanceId: 'urn:uuid:p', name: 'Phone', pubGruu: 'sip:alice@a.example;gr=urn:uuid:p', self: false, cpmCapable: false };
const SELF: DeviceInfo = { instanceId: 'urn:uuid:s', name: 'Laptop', pubGruu: 'sip:alice@a.example;gr=urn:uuid:s', self: true, cpmCapable: true };

const message = (id: string, timestamp: number, status: ChatMessage['status'] = 'sent'): ChatMessage => ({
  id, conversationId: 'conv-1', direction: 'outgoing', senderUri: 'sip:alice@a.example', text: id, timestamp, status,
});

/** A store over a scripted agent (test double) and the shell's commands behind the real client and dispatcher. */
function setup(shell: Partial<ShellCommands> = {}) {
  const spies = commandDoubles<Spy>(() => vi.fn(async () => undefined));
  spies.listConversations.mockResolvedValue([CONV]);
  spies.listDevices.mockResolvedValue([SELF, DESKTOP]);
  spies.getMessages.mockResolvedValue({ messages: [message('m2', 2), message('m1', 1)], hasMore: true });
  spies.moveConversation.mockResolvedValue('t-1');
  const { store, emit, tick } = storeOverBridge(spies as unknown as DeviceCommands, { shell, clockStart: 1_000 });
  return { store, spies, emit, tick };
}

describe('conversations', () => {
  it('pages history newest-first from getMessages and keeps it oldest-first, asking for older pages by id', async () => {
    const { store, spies } = setup();
    store.getState().select('conv-1');
    await vi.waitFor(() => expect(store.getState().histories['conv-1']?.messages.map((m) => m.id)).toEqual(['m1', 'm2']));
    expect(spies.getMessages).toHaveBeenLastCalledWith('conv-1', { limit: 100 });
    spies.getMessages.mockResolvedValueOnce({ messages: [message('m0', 0)], hasMore: false });
    await store.getState().loadOlder('conv-1');
    expect(spies.getMessages).toHaveBeenLastCalledWith('conv-1', { before: 'm1', limit: 100 });
    expect(store.getState().histories['conv-1']).toMatchObject({ hasMore: false, loading: false });
    expect(store.getState().histories['conv-1']?.messages.map((m) => m.id)).toEqual(['m0', 'm1', 'm2']);
    await store.getState().loadOlder('conv-1');
    expect(spies.getMessages).toHaveBeenCalledTimes(2);
  });

  it('drops a duplicate message and never moves a status backwards', async () => {
    const { store, emit } = setup();
    store.getState().select('conv-1');
    await vi.waitFor(() => expect(store.getState().histories['conv-1']?.messages).toHaveLength(2));
    emit('message', message('m3', 3));
    emit('message', message('m3', 3));
    emit('messageStatus', { conversationId: 'conv-1', messageId: 'm3', status: 'displayed', at: 5 });
    emit('messageStatus', { conversationId: 'conv-1', messageId: 'm3', status: 'delivered', at: 4 });
    const history = store.getState().histories['conv-1']!;
    expect(history.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(history.messages[2]!.status).toBe('displayed');
  });

  it('keeps the composer text problem readable when sending fails', async () => {
    const { store, spies } = setup();
    spies.sendMessage.mockRejectedValueOnce(new DeviceApiError('invalid-state', 'no live session'));
    await expect(store.getState().send('conv-1', 'hello')).resolves.toBe(false);
    expect(store.getState().composerError).toBe('no live session');
  });

  it('orders statuses by progress, with failure only before delivery', () => {
    expect(nextStatus('sent', 'delivered')).toBe('delivered');
    expect(nextStatus('displayed', 'delivered')).toBe('displayed');
    expect(nextStatus('delivered', 'failed')).toBe('delivered');
    expect(nextStatus('pending', 'failed')).toBe('failed');
    expect(mergeMessages([message('b', 2)], [message('c', 3), message('a', 1)]).map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('the move picker candidates', () => {
  it('lists the other devices, online first, and explains why one cannot be chosen', () => {
    const candidates = moveCandidates([SELF, PHONE, DESKTOP], { [DESKTOP.instanceId]: DESKTOP, 'urn:uuid:o': { ...DESKTOP, instanceId: 'urn:uuid:o', name: 'Old PC' } });
    expect(candidates.map((c) => [c.device.name, c.online, c.available, c.reason])).toEqual([
      ['Desktop', true, true, null],
      ['Phone', true, false, 'cannot take chats (no CPM support)'],
      ['Old PC', false, false, 'offline'],
    ]);
    expect(noCandidateReason(candidates, true)).toBeNull();
    expect(noCandidateReason(moveCandidates([SELF]), true)).toBe('None of your other devices is online.');
    expect(noCandidateReason(moveCandidates([SELF, PHONE]), true)).toBe('None of your online devices can take chats.');
    expect(noCandidateReason(candidates, false)).toMatch(/Only a live chat/);
  });
});

describe('a move from this device (source)', () => {
  it('follows the progress events to "moved", then makes the thread read-only with a marker', async () => {
    const { store, spies, emit } = setup();
    await store.getState().move('conv-1', DESKTOP);
    expect(spies.moveConversation).toHaveBeenCalledWith('conv-1', 'urn:uuid:d');
    for (const phase of ['accepted', 'joining', 'replaced'] as const) {
      emit('transferProgress', { transferId: 't-1', conversationId: 'conv-1', role: 'source', phase, statusCode: null });
      expect(store.getState().moves['conv-1']?.phase).toBe(phase);
    }
    expect(store.getState().movedAway['conv-1']).toBeUndefined();
    emit('transferProgress', { transferId: 't-1', conversationId: 'conv-1', role: 'source', phase: 'completed', statusCode: 200 });
    expect(store.getState().movedAway['conv-1']).toEqual({ deviceName: 'Desktop', at: 1_000 });
    expect(store.getState().markers['conv-1']).toEqual([{ at: 1_000, text: 'Moved to Desktop' }]);
  });

  it('ignores progress of another transfer and keeps the chat here on decline', async () => {
    const { store, emit } = setup();
    await store.getState().move('conv-1', DESKTOP);
    emit('transferProgress', { transferId: 't-other', conversationId: 'conv-1', role: 'source', phase: 'completed', statusCode: 200 });
    expect(store.getState().movedAway['conv-1']).toBeUndefined();
    emit('transferProgress', { transferId: 't-1', conversationId: 'conv-1', role: 'source', phase: 'declined', statusCode: 603 });
    expect(store.getState().moves['conv-1']).toMatchObject({ phase: 'declined', statusCode: 603, description: null });
    expect(store.getState().movedAway['conv-1']).toBeUndefined();
  });

  it("keeps the agent's own words for how the move ended, when it gives them", async () => {
    const { store, emit } = setup();
    await store.getState().move('conv-1', DESKTOP);
    const last = { transferId: 't-1', conversationId: 'conv-1', role: 'source', phase: 'failed', statusCode: 491, description: 'The move was refused (491 Request Pending)' };
    emit('transferProgress', last as Parameters<typeof emit<'transferProgress'>>[1]);
    expect(store.getState().moves['conv-1']).toMatchObject({ phase: 'failed', description: 'The move was refused (491 Request Pending)' });
  });

  it('reports a refused move command as a failure with its reason', async () => {
    const { store, spies } = setup();
    spies.moveConversation.mockRejectedValueOnce(new DeviceApiError('invalid-state', 'no live session to move'));
    await store.getState().move('conv-1', DESKTOP);
    expect(store.getState().moves['conv-1']).toMatchObject({ phase: 'failed', error: 'no live session to move' });
  });
});

describe('a move to this device (target)', () => {
  const JOIN = { joinId: 'j-1', conversationId: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', sourceDeviceName: 'Laptop', expiresAt: 61_000 };

  it('accepting opens the conversation and loads its history again once the move completes', async () => {
    const { store, spies, emit } = setup();
    emit('joinRequest', JOIN);
    expect(store.getState().joinRequests).toHaveLength(1);
    await store.getState().acceptJoin('j-1');
    expect(spies.acceptJoin).toHaveBeenCalledWith('j-1');
    expect(store.getState().selectedId).toBe('conv-1');
    expect(store.getState().joinRequests).toHaveLength(0);
    const before = spies.getMessages.mock.calls.length;
    emit('transferProgress', { transferId: 't-9', conversationId: 'conv-1', role: 'target', phase: 'completed', statusCode: 200 });
    await vi.waitFor(() => expect(spies.getMessages.mock.calls.length).toBeGreaterThan(before));
    expect(store.getState().markers['conv-1']?.[0]?.text).toBe('Moved here from Laptop');
  });

  it('drops the prompt when the move was answered elsewhere (OS notification), and still reloads the history', async () => {
    const { store, spies, emit } = setup();
    emit('joinRequest', JOIN);
    emit('transferProgress', { transferId: 't-9', conversationId: 'conv-1', role: 'target', phase: 'requested', statusCode: null });
    expect(store.getState().joinRequests).toHaveLength(1);
    emit('transferProgress', { transferId: 't-9', conversationId: 'conv-1', role: 'target', phase: 'joining', statusCode: null });
    expect(store.getState().joinRequests).toHaveLength(0);
    emit('transferProgress', { transferId: 't-9', conversationId: 'conv-1', role: 'target', phase: 'completed', statusCode: 200 });
    await vi.waitFor(() => expect(spies.getMessages).toHaveBeenCalledWith('conv-1', { limit: 100 }));
    expect(store.getState().markers['conv-1']?.[0]?.text).toBe('Moved here from Laptop');
    expect(spies.acceptJoin).not.toHaveBeenCalled();
  });

  it('declining answers the agent; an expired prompt goes away by itself', async () => {
    const { store, spies, emit } = setup();
    emit('joinRequest', JOIN);
    emit('joinRequest', { ...JOIN, joinId: 'j-2', expiresAt: 500_000 });
    await store.getState().declineJoin('j-2');
    expect(spies.declineJoin).toHaveBeenCalledWith('j-2');
    store.getState().expireJoinRequests(61_000);
    expect(store.getState().joinRequests).toEqual([]);
  });
});

describe('the account and its settings', () => {
  const ACCOUNT: AccountInfo = {
    uri: 'sip:alice@a.example', displayName: 'Alice', deviceName: 'Laptop', instanceId: 'urn:uuid:s', pubGruu: null,
    websocketUrl: 'wss://127.0.0.1:7443', transferServiceUri: 'sip:cpm-transfer@a.example', registration: 'registering',
  };

  it('shows the auto-accept switch as the shell saved it when the account loads', async () => {
    const { store, spies } = setup();
    spies.getAccount.mockResolvedValue({ ...ACCOUNT, autoAccept: true });
    await store.getState().loadAccount();
    expect(store.getState().autoAccept).toBe(true);
  });

  it('leaves the switch alone when the shell does not say, and follows a later sign-in that does', async () => {
    const { store, spies } = setup();
    spies.getAccount.mockResolvedValue(ACCOUNT);
    await store.getState().loadAccount();
    expect(store.getState().autoAccept).toBe(false);
    spies.signIn.mockResolvedValue({ ...ACCOUNT, autoAccept: true });
    await store.getState().signIn({ uri: ACCOUNT.uri, displayName: '', deviceName: 'Laptop', password: 'p', websocketUrl: ACCOUNT.websocketUrl });
    expect(store.getState().autoAccept).toBe(true);
  });

  it('signs in through the shell’s tryLocally and reads its account and setting back', async () => {
    const tryLocally = vi.fn(async (deviceName: string) => ({ ...ACCOUNT, deviceName, autoAccept: true }));
    const { store, spies } = setup({ tryLocally });
    expect(store.getState().canTryLocally).toBe(true);
    await expect(store.getState().tryLocally('Desktop')).resolves.toBe(true);
    expect(tryLocally).toHaveBeenCalledWith('Desktop');
    expect(store.getState()).toMatchObject({ account: { deviceName: 'Desktop' }, autoAccept: true, signingIn: false, signInError: null });
    expect(spies.listDevices).toHaveBeenCalled();
  });

  it('shows why when the shell cannot start the local lab', async () => {
    const { store } = setup();
    await expect(store.getState().tryLocally('Desktop')).resolves.toBe(false);
    expect(store.getState()).toMatchObject({ account: null, signingIn: false, signInError: 'tryLocally is not available in this app shell' });
  });
});
