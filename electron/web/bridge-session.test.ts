import { describe, expect, it } from 'vitest';
import { DeviceApiError } from '../api/device-api';
import type { AccountInfo } from '../api/payloads';
import { BridgeSession, BridgeSessionState, CLOSE_CODES, type BridgeSocketPort } from './bridge-session';
import { createFakeDevice } from './testing/fake-device';

/** A socket double: what the session sent and how it closed it. */
function fakeSocket(): BridgeSocketPort & { sent: unknown[]; closedWith: [number, string] | null; buffered: number } {
  const socket = {
    sent: [] as unknown[],
    closedWith: null as [number, string] | null,
    buffered: 0,
    send: (text: string) => socket.sent.push(JSON.parse(text)),
    close: (code: number, reason: string) => {
      socket.closedWith = [code, reason];
    },
    bufferedAmount: () => socket.buffered,
  };
  return socket;
}

const ACCOUNT: AccountInfo = {
  uri: 'sip:alice@a.example', displayName: '', deviceName: 'Laptop', instanceId: 'urn:uuid:00000000-0000-4000-8000-000000000001',
  pubGruu: null, websocketUrl: 'ws://127.0.0.1:5080', transferServiceUri: 'sip:cpm-transfer@a.example', registration: 'registering',
};

/** Lets the dispatcher's promises settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: { maxInFlight?: number; maxBufferedBytes?: number } = {}) {
  const device = createFakeDevice();
  const socket = fakeSocket();
  const session = new BridgeSession({ deviceId: 'alice-laptop', device: device.api, socket, ...options });
  const states: string[] = [];
  session.on('stateChange', (s, p) => states.push(`${p}→${s}`));
  return { device, socket, session, states };
}

describe('a page driving its device over the bridge', () => {
  it('dispatches a valid command with its checked arguments and answers with the result', async () => {
    const { device, socket, session } = setup();
    device.script('startChat', (uri) => ({ id: 'c-1', peerUri: uri }));
    session.receive(JSON.stringify({ id: 1, channel: 'cpm:command:startChat', args: ['sip:bob@b.example'] }));
    await settle();
    expect(device.calls).toEqual([{ name: 'startChat', args: ['sip:bob@b.example'] }]);
    expect(socket.sent).toEqual([{ id: 1, ok: true, value: { id: 'c-1', peerUri: 'sip:bob@b.example' } }]);
  });

  it('passes tryLocally to the shell’s commands, and refuses it where the shell offers none', async () => {
    const device = createFakeDevice();
    const socket = fakeSocket();
    const asked: string[] = [];
    const tryLocally = async (name: string): Promise<AccountInfo> => {
      asked.push(name);
      return { ...ACCOUNT, deviceName: name };
    };
    const session = new BridgeSession({ deviceId: 'alice-laptop', device: device.api, shell: { tryLocally }, socket });
    session.receive(JSON.stringify({ id: 1, channel: 'cpm:command:tryLocally', args: ['Phone'] }));
    const bare = setup();
    bare.session.receive(JSON.stringify({ id: 2, channel: 'cpm:command:tryLocally', args: ['Phone'] }));
    await settle();
    expect(asked).toEqual(['Phone']);
    expect(device.calls).toEqual([]);
    expect(socket.sent).toEqual([{ id: 1, ok: true, value: { ...ACCOUNT, deviceName: 'Phone' } }]);
    expect(bare.socket.sent).toEqual([{ id: 2, ok: false, error: '[invalid-state] tryLocally is not available in this app shell' }]);
  });

  it('refuses invalid arguments with an invalid-argument error frame, and the device never sees them', async () => {
    const { device, socket, session } = setup();
    session.receive(JSON.stringify({ id: 2, channel: 'cpm:command:sendMessage', args: ['c-1', '   '] }));
    session.receive(JSON.stringify({ id: 3, channel: 'cpm:command:startChat', args: ['https://evil.example'] }));
    session.receive(JSON.stringify({ id: 4, channel: 'cpm:command:listDevices', args: ['extra'] }));
    session.receive(JSON.stringify({ id: 5, channel: 'cpm:command:__proto__', args: [] }));
    await settle();
    expect(device.calls).toEqual([]);
    expect(socket.sent).toEqual([
      { id: 2, ok: false, error: '[invalid-argument] sendMessage.text: must not be blank' },
      { id: 3, ok: false, error: expect.stringMatching(/^\[invalid-argument\] startChat\.uri: must be a sip:, sips: or tel: URI/) },
      { id: 4, ok: false, error: '[invalid-argument] listDevices: takes 0 arguments, got 1' },
      { id: 5, ok: false, error: '[invalid-argument] cpm:command:__proto__ is not a DeviceApi command channel' },
    ]);
  });

  it('answers a malformed frame with its id when it has one, else with an error event', async () => {
    const { socket, session } = setup();
    session.receive(JSON.stringify({ id: 9, channel: 'cpm:command:listDevices' }));
    session.receive('not json');
    session.receive('', true);
    await settle();
    expect(socket.sent).toEqual([
      { id: 9, ok: false, error: '[invalid-argument] bridge: the frame has no "args" (an array)' },
      { event: 'cpm:event:error', payload: { code: 'invalid-argument', message: 'bridge: the frame is not JSON; the frame was ignored', conversationId: null } },
      { event: 'cpm:event:error', payload: { code: 'invalid-argument', message: 'a binary frame was ignored (the bridge takes JSON text frames only)', conversationId: null } },
    ]);
  });

  it('passes the device’s own error code through and calls a crash internal', async () => {
    const { device, socket, session } = setup();
    device.script('listDevices', () => {
      throw new DeviceApiError('not-signed-in', 'sign in first');
    });
    device.script('listConversations', () => {
      throw new TypeError('cannot read x of undefined');
    });
    session.receive(JSON.stringify({ id: 1, channel: 'cpm:command:listDevices', args: [] }));
    session.receive(JSON.stringify({ id: 2, channel: 'cpm:command:listConversations', args: [] }));
    await settle();
    expect(socket.sent).toEqual([
      { id: 1, ok: false, error: '[not-signed-in] sign in first' },
      { id: 2, ok: false, error: '[internal] cannot read x of undefined' },
    ]);
    expect(session.state).toBe(BridgeSessionState.Open);
  });

  it('forwards every device event to the page as an event frame', () => {
    const { device, socket } = setup();
    device.emit('registrationState', { state: 'registered', cause: null, pubGruu: 'sip:alice@a.example;gr=urn:uuid:1', expiresAt: 1 });
    device.emit('devices', []);
    expect(socket.sent).toEqual([
      { event: 'cpm:event:registrationState', payload: { state: 'registered', cause: null, pubGruu: 'sip:alice@a.example;gr=urn:uuid:1', expiresAt: 1 } },
      { event: 'cpm:event:devices', payload: [] },
    ]);
  });

  it('refuses commands beyond the in-flight limit until earlier ones are answered', async () => {
    const { device, socket, session } = setup({ maxInFlight: 2 });
    const release: (() => void)[] = [];
    device.script('listDevices', () => new Promise<unknown[]>((resolve) => release.push(() => resolve([]))));
    for (const id of [1, 2, 3]) session.receive(JSON.stringify({ id, channel: 'cpm:command:listDevices', args: [] }));
    await settle();
    expect(session.pendingCommands).toBe(2);
    expect(socket.sent).toEqual([{ id: 3, ok: false, error: '[invalid-state] bridge: more than 2 commands are waiting; retry when some are answered' }]);
    for (const r of release) r();
    await settle();
    session.receive(JSON.stringify({ id: 4, channel: 'cpm:command:listDevices', args: [] }));
    await settle();
    expect(socket.sent.slice(1)).toEqual([{ id: 1, ok: true, value: [] }, { id: 2, ok: true, value: [] }]);
    expect(device.calls).toHaveLength(3);
  });
});

describe('the life of a bridge session', () => {
  it('open → closing → closed on close(): stops listening to the device and drops late replies', async () => {
    const { device, socket, session, states } = setup();
    let answer: (v: unknown[]) => void = () => undefined;
    device.script('listDevices', () => new Promise<unknown[]>((resolve) => (answer = resolve)));
    session.receive(JSON.stringify({ id: 1, channel: 'cpm:command:listDevices', args: [] }));
    await settle();
    expect(device.listenerCount()).toBe(10);
    session.close();
    expect(socket.closedWith).toEqual([CLOSE_CODES.goingAway, 'the shell is stopping']);
    expect(device.listenerCount()).toBe(0);
    answer([]);
    device.emit('devices', []);
    session.receive(JSON.stringify({ id: 2, channel: 'cpm:command:listDevices', args: [] }));
    await settle();
    expect(socket.sent).toEqual([]);
    session.socketClosed();
    expect(states).toEqual(['open→closing', 'closing→closed']);
  });

  it('open → closed when the page goes away', () => {
    const { device, session, states } = setup();
    session.socketClosed();
    session.socketClosed();
    expect(states).toEqual(['open→closed']);
    expect(device.listenerCount()).toBe(0);
  });

  it('disconnects a page that stops reading instead of buffering without bound', () => {
    const { device, socket, session } = setup({ maxBufferedBytes: 1000 });
    socket.buffered = 1001;
    device.emit('devices', []);
    expect(socket.sent).toEqual([]);
    expect(socket.closedWith).toEqual([CLOSE_CODES.policyViolation, 'the page is not reading its frames']);
    expect(session.state).toBe(BridgeSessionState.Closing);
  });
});

describe('results that JSON cannot carry', () => {
  it('answers [internal] instead of failing when a result has a cycle', async () => {
    const { device, socket, session } = setup();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    device.script('getAccount', () => cyclic);
    session.receive(JSON.stringify({ id: 1, channel: 'cpm:command:getAccount', args: [] }));
    await settle();
    expect(socket.sent).toEqual([{ id: 1, ok: false, error: expect.stringMatching(/^\[internal\] bridge: the result cannot be sent as JSON/) }]);
    expect(session.pendingCommands).toBe(0);
  });
});
