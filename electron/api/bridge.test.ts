import { describe, expect, it, vi, type Mock } from 'vitest';
import { createCommandDispatcher, createDeviceApiClient, createEventSender, type DeviceApiTransport } from './bridge';
import { createInProcessTransport } from './in-process-transport';
import { COMMAND_CHANNELS, EVENT_CHANNELS, SHELL_COMMAND_CHANNELS, commandForChannel, eventForChannel, shellCommandForChannel } from './channels';
import {
  DEVICE_COMMAND_NAMES,
  DEVICE_EVENT_NAMES,
  DeviceApiError,
  SHELL_COMMAND_NAMES,
  type DeviceCommandName,
  type DeviceCommands,
  type ShellCommands,
} from './device-api';
import type { AccountInfo, ConversationSummary } from './payloads';

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
function loopback(agent: DeviceCommands, shell: Partial<ShellCommands> = {}) {
  const dispatch = createCommandDispatcher(agent, shell);
  const inner = createInProcessTransport(dispatch);
  const invoke = vi.fn((channel: string, args: unknown[]) => dispatch(channel, args));
  const transport: DeviceApiTransport = { invoke, subscribe: inner.subscribe };
  const send = createEventSender(inner.publish);
  return { transport, invoke, send, raw: inner.publish };
}

describe('channels', () => {
  it('gives every command and event its own channel and maps channels back to names', () => {
    expect(new Set(COMMAND_CHANNELS).size).toBe(DEVICE_COMMAND_NAMES.length);
    expect(new Set(EVENT_CHANNELS).size).toBe(DEVICE_EVENT_NAMES.length);
    expect(COMMAND_CHANNELS.map(commandForChannel)).toEqual(DEVICE_COMMAND_NAMES);
    expect(EVENT_CHANNELS.map(eventForChannel)).toEqual(DEVICE_EVENT_NAMES);
  });

  it('gives the shell commands channels of their own that are not agent command channels', () => {
    expect(SHELL_COMMAND_CHANNELS).toEqual(['cpm:command:tryLocally']);
    expect(SHELL_COMMAND_CHANNELS.map(shellCommandForChannel)).toEqual(SHELL_COMMAND_NAMES);
    expect(SHELL_COMMAND_CHANNELS.map(commandForChannel)).toEqual([undefined]);
    expect(COMMAND_CHANNELS.map(shellCommandForChannel).filter((n) => n !== undefined)).toEqual([]);
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

  it('exposes exactly the command list, the shell commands and on()', () => {
    const api = createDeviceApiClient(loopback(fakeAgent()).transport);
    expect(Object.keys(api).sort()).toEqual([...DEVICE_COMMAND_NAMES, ...SHELL_COMMAND_NAMES, 'on'].sort());
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

describe('shell commands over the bridge', () => {
  const ACCOUNT: AccountInfo = {
    uri: 'sip:alice@a.example', displayName: '', deviceName: 'Desktop', instanceId: 'urn:uuid:00000000-0000-4000-8000-000000000001',
    pubGruu: null, websocketUrl: 'ws://127.0.0.1:5080', transferServiceUri: 'sip:cpm-transfer@a.example', registration: 'registering',
  };

  it('sends tryLocally to the shell, not to the agent, and resolves with its account', async () => {
    const agent = fakeAgent();
    const tryLocally = vi.fn(async (_deviceName: string) => ACCOUNT);
    const { transport, invoke } = loopback(agent, { tryLocally });
    await expect(createDeviceApiClient(transport).tryLocally('Desktop')).resolves.toEqual(ACCOUNT);
    expect(invoke).toHaveBeenCalledWith('cpm:command:tryLocally', ['Desktop']);
    expect(tryLocally).toHaveBeenCalledWith('Desktop');
    expect(agent.signIn).not.toHaveBeenCalled();
  });

  it('answers a shell command the shell does not offer with invalid-state, naming it', async () => {
    const dispatch = createCommandDispatcher(fakeAgent());
    await expect(dispatch('cpm:command:tryLocally', ['Desktop'])).rejects.toMatchObject({ code: 'invalid-state', detail: 'tryLocally is not available in this app shell' });
  });

  it('validates shell command arguments on both sides before the shell sees them', async () => {
    const tryLocally = vi.fn(async () => ACCOUNT);
    const { transport, invoke } = loopback(fakeAgent(), { tryLocally });
    await expect(createDeviceApiClient(transport).tryLocally('')).rejects.toMatchObject({ code: 'invalid-argument', detail: 'tryLocally.deviceName: must not be empty' });
    expect(invoke).not.toHaveBeenCalled();
    const dispatch = createCommandDispatcher(fakeAgent(), { tryLocally });
    await expect(dispatch('cpm:command:tryLocally', [7])).rejects.toMatchObject({ code: 'invalid-argument', detail: 'tryLocally.deviceName: must be a string (got 7)' });
    expect(tryLocally).not.toHaveBeenCalled();
  });

  it('keeps the code of a shell failure', async () => {
    const tryLocally = vi.fn(async () => Promise.reject(new DeviceApiError('network', 'the lab did not start')));
    const api = createDeviceApiClient(loopback(fakeAgent(), { tryLocally }).transport);
    await expect(api.tryLocally('Laptop')).rejects.toMatchObject({ code: 'network', detail: 'the lab did not start' });
  });
});
