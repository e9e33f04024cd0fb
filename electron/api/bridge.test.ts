import { describe, expect, it, vi, type Mock } from 'vitest';
import { createCommandDispatcher, createDeviceApiClient, createEventSender, type DeviceApiTransport } from './bridge';
import { COMMAND_CHANNELS, EVENT_CHANNELS, commandForChannel, eventForChannel } from './channels';
import { DEVICE_COMMAND_NAMES, DEVICE_EVENT_NAMES, DeviceApiError, type DeviceCommandName, type DeviceCommands } from './device-api';
import type { ConversationSummary } from './payloads';

const CONVERSATION: ConversationSummary = {
  id: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: null,
  updatedAt: 1, unreadCount: 0, activeSessionId: null,
};

type Spy = Mock<(...args: unknown[]) => Promise<unknown>>;
type FakeAgent = DeviceCommands & { readonly [K in DeviceCommandName]: Spy };

/** An agent whose every command is a spy; startChat answers with a conversation. */
function fakeAgent(): FakeAgent {
  const agent: Partial<Record<DeviceCommandName, Spy>> = {};
  for (const name of DEVICE_COMMAND_NAMES) agent[name] = vi.fn(async () => undefined);
  agent.startChat = vi.fn(async () => CONVERSATION);
  return agent as unknown as FakeAgent;
}

/** Client and dispatcher wired back to back through an in-memory transport, as preload + ipcMain would be. */
function loopback(agent: DeviceCommands) {
  const dispatch = createCommandDispatcher(agent);
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const invoke = vi.fn((channel: string, args: unknown[]) => dispatch(channel, args));
  const transport: DeviceApiTransport = {
    invoke,
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return () => set.delete(listener);
    },
  };
  const send = createEventSender((channel, payload) => listeners.get(channel)?.forEach((l) => l(payload)));
  const raw = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l(payload));
  return { transport, invoke, send, raw };
}

describe('channels', () => {
  it('gives every command and event its own channel and maps channels back to names', () => {
    expect(new Set(COMMAND_CHANNELS).size).toBe(DEVICE_COMMAND_NAMES.length);
    expect(new Set(EVENT_CHANNELS).size).toBe(DEVICE_EVENT_NAMES.length);
    expect(COMMAND_CHANNELS.map(commandForChannel)).toEqual(DEVICE_COMMAND_NAMES);
    expect(EVENT_CHANNELS.map(eventForChannel)).toEqual(DEVICE_EVENT_NAMES);
  });

  it('does not mistake an event channel, an unknown name or an inherited property for a command', () => {
    expect(commandForChannel('cpm:event:message')).toBeUndefined();
    expect(commandForChannel('cpm:command:format')).toBeUndefined();
    expect(commandForChannel('cpm:command:toString')).toBeUndefined();
    expect(eventForChannel(42)).toBeUndefined();
  });
});

describe('DeviceApi client and dispatcher', () => {
  it('carries a command and its result across the transport on the command channel', async () => {
    const agent = fakeAgent();
    const { transport, invoke } = loopback(agent);
    const api = createDeviceApiClient(transport);
    await expect(api.startChat('sip:bob@b.example')).resolves.toEqual(CONVERSATION);
    expect(invoke).toHaveBeenCalledWith('cpm:command:startChat', ['sip:bob@b.example']);
    expect(agent.startChat).toHaveBeenCalledWith('sip:bob@b.example');
  });

  it('exposes exactly the command list plus on()', () => {
    const api = createDeviceApiClient(loopback(fakeAgent()).transport);
    expect(Object.keys(api).sort()).toEqual([...DEVICE_COMMAND_NAMES, 'on'].sort());
  });

  it('rejects a bad call on the client side without touching the transport', async () => {
    const { transport, invoke } = loopback(fakeAgent());
    const api = createDeviceApiClient(transport);
    const error = await api.sendMessage('conv-1', '').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceApiError);
    expect(error).toMatchObject({ code: 'invalid-argument', detail: 'sendMessage.text: must not be empty' });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('has the dispatcher refuse bad arguments and unknown channels itself (a compromised renderer)', async () => {
    const agent = fakeAgent();
    const dispatch = createCommandDispatcher(agent);
    await expect(dispatch('cpm:command:endSession', [])).rejects.toMatchObject({ code: 'invalid-argument', detail: 'endSession: takes 1 argument (sessionId), got 0' });
    await expect(dispatch('cpm:command:__proto__', [])).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(dispatch('shell:openExternal', ['x'])).rejects.toThrow('shell:openExternal is not a DeviceApi command channel');
    expect(agent.endSession).not.toHaveBeenCalled();
  });

  it('keeps the error code of an agent failure across a transport that only keeps the message', async () => {
    const agent = fakeAgent();
    agent.endSession.mockRejectedValue(new DeviceApiError('not-found', 'no session sess-9'));
    const dispatch = createCommandDispatcher(agent);
    // Electron's ipcRenderer.invoke rejects with a plain Error carrying only the message.
    const lossy: DeviceApiTransport = {
      invoke: (channel, args) => dispatch(channel, args).catch((e: Error) => Promise.reject(new Error(`Error invoking remote method '${channel}': ${e.message}`))),
      subscribe: () => () => undefined,
    };
    const error = await createDeviceApiClient(lossy).endSession('sess-9').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not-found', detail: 'no session sess-9' });
  });

  it('reports an unexpected agent exception as internal, with its message', async () => {
    const agent = fakeAgent();
    agent.listDevices.mockRejectedValue(new TypeError('boom'));
    const api = createDeviceApiClient(loopback(agent).transport);
    await expect(api.listDevices()).rejects.toMatchObject({ code: 'internal', detail: 'boom' });
  });

  it('delivers valid events to listeners and stops after unsubscribe', () => {
    const { transport, send } = loopback(fakeAgent());
    const api = createDeviceApiClient(transport);
    const seen: unknown[] = [];
    const off = api.on('conversationUpdated', (c) => seen.push(c.id));
    send('conversationUpdated', CONVERSATION);
    off();
    send('conversationUpdated', CONVERSATION);
    expect(seen).toEqual(['conv-1']);
  });

  it('drops a malformed event and reports why', () => {
    const { transport, raw } = loopback(fakeAgent());
    const onInvalidEvent = vi.fn();
    const api = createDeviceApiClient(transport, { onInvalidEvent });
    const listener = vi.fn();
    api.on('sessionState', listener);
    raw('cpm:event:sessionState', { sessionId: 's', conversationId: 'c', state: 'exploded', cause: null });
    expect(listener).not.toHaveBeenCalled();
    expect(onInvalidEvent).toHaveBeenCalledWith('sessionState', expect.stringMatching(/^sessionState\.state: must be one of/));
  });

  it('refuses to subscribe to an event that does not exist', () => {
    const api = createDeviceApiClient(loopback(fakeAgent()).transport);
    expect(() => api.on('nope' as 'message', () => undefined)).toThrow('on: nope is not a DeviceApi event');
  });
});
