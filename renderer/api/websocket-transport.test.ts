import { describe, expect, it } from 'vitest';
import { createDeviceApiClient } from '../../electron/api/bridge';
import { BRIDGE_REFUSED_TEXT, bridgeUrl, CONNECTION_LOST_TEXT, createWebSocketTransport, parseShellFrame, type WebSocketLike } from './websocket-transport';
import { connectDeviceApi, resolveDeviceApi } from './device-api-source';

/** A WebSocket test double: records what is sent, lets the test open, answer and close it. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  private readonly listeners = new Map<string, Array<(event: { data: unknown }) => void>>();
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.fire('close');
  }
  addEventListener(type: string, listener: (event: { data: unknown }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  fire(type: string, data?: unknown): void {
    if (type === 'open') this.readyState = 1;
    for (const l of this.listeners.get(type) ?? []) l({ data });
  }
}

describe('the browser-shell bridge', () => {
  it('addresses /bridge on the page origin with the device and token', () => {
    expect(bridgeUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, 'alice laptop', 't&k')).toBe('ws://127.0.0.1:8080/bridge?device=alice+laptop&token=t%26k');
    expect(bridgeUrl({ protocol: 'https:', host: 'h' }, 'd', 't')).toMatch(/^wss:\/\/h\/bridge\?/);
  });

  it('queues commands until the socket opens, then matches replies by id', async () => {
    const socket = new FakeSocket();
    const api = createDeviceApiClient(createWebSocketTransport(socket));
    const result = api.markDisplayed('conv-1', 'm-1');
    expect(socket.sent).toEqual([]);
    socket.fire('open');
    expect(JSON.parse(socket.sent[0]!)).toEqual({ id: 1, channel: 'cpm:command:markDisplayed', args: ['conv-1', 'm-1'] });
    socket.fire('message', JSON.stringify({ id: 1, ok: true }));
    await expect(result).resolves.toBeUndefined();
  });

  it('turns an error reply back into a DeviceApiError with its code', async () => {
    const socket = new FakeSocket();
    socket.fire('open');
    const api = createDeviceApiClient(createWebSocketTransport(socket));
    const pending = api.listDevices();
    socket.fire('message', JSON.stringify({ id: 1, ok: false, error: '[not-signed-in] sign in first' }));
    await expect(pending).rejects.toMatchObject({ code: 'not-signed-in', detail: 'sign in first' });
  });

  it('delivers event frames and reports malformed frames without failing', () => {
    const problems: string[] = [];
    const socket = new FakeSocket();
    const api = createDeviceApiClient(createWebSocketTransport(socket, { onProtocolError: (p) => problems.push(p) }));
    const states: string[] = [];
    api.on('registrationState', (s) => states.push(s.state));
    socket.fire('message', JSON.stringify({ event: 'cpm:event:registrationState', payload: { state: 'registered', cause: null, pubGruu: null, expiresAt: null } }));
    socket.fire('message', '{nope');
    socket.fire('message', JSON.stringify({ id: 99, ok: true }));
    expect(states).toEqual(['registered']);
    expect(problems).toEqual(['bridge: ignored a frame that is not JSON', 'bridge: ignored a reply to unknown request 99']);
    expect(parseShellFrame(JSON.stringify({ id: 1 }))).toBe('reply 1 without ok: true or false');
  });

  it('rejects pending and later commands with a network error once the socket closes', async () => {
    const socket = new FakeSocket();
    const closes: { opened: boolean }[] = [];
    socket.fire('open');
    const api = createDeviceApiClient(createWebSocketTransport(socket, { onClose: (info) => closes.push(info) }));
    const pending = api.listConversations();
    socket.fire('close');
    socket.fire('error');
    await expect(pending).rejects.toMatchObject({ code: 'network', detail: CONNECTION_LOST_TEXT });
    await expect(api.listConversations()).rejects.toMatchObject({ code: 'network' });
    expect(closes).toEqual([{ opened: true }]);
  });

  it('says the link is not valid for this device when the socket closes before it ever opened', async () => {
    const socket = new FakeSocket();
    const closes: { opened: boolean }[] = [];
    const api = createDeviceApiClient(createWebSocketTransport(socket, { onClose: (info) => closes.push(info) }));
    const waiting = api.getAccount();
    socket.fire('close');
    await expect(waiting).rejects.toMatchObject({ code: 'network', detail: BRIDGE_REFUSED_TEXT });
    await expect(api.getAccount()).rejects.toMatchObject({ detail: BRIDGE_REFUSED_TEXT });
    expect(closes).toEqual([{ opened: false }]);
    expect(socket.sent).toEqual([]);
  });
});

describe('choosing the DeviceApi', () => {
  it('uses window.cpm from the preload when present, refusing something that is not the API', () => {
    const location = { protocol: 'file:', host: '', search: '' };
    expect(resolveDeviceApi({ cpm: { on: () => undefined }, location })).toEqual({ ok: false, problem: expect.stringContaining('not the DeviceApi') });
    const socket = new FakeSocket();
    const viaBridge = resolveDeviceApi({ location: { protocol: 'http:', host: '127.0.0.1:9', search: '?device=laptop&token=abc' }, openWebSocket: (url) => {
      expect(url).toBe('ws://127.0.0.1:9/bridge?device=laptop&token=abc');
      return socket;
    } });
    expect(viaBridge.ok && viaBridge.origin).toBe('browser-shell');
    const electron = resolveDeviceApi({ cpm: viaBridge.ok ? viaBridge.api : null, location });
    expect(electron.ok && electron.origin).toBe('electron');
  });

  it('explains what to do when there is neither a preload nor a bridge address', () => {
    const result = resolveDeviceApi({ location: { protocol: 'http:', host: 'x', search: '' } });
    expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('?device=') });
  });

  it('starts the app only once the bridge is open, and reports a refused page instead of a lost connection', async () => {
    const env = (socket: FakeSocket) => ({ location: { protocol: 'http:', host: '127.0.0.1:9', search: '?device=laptop&token=abc' }, openWebSocket: () => socket });
    const good = new FakeSocket();
    let settled = false;
    const connecting = connectDeviceApi(env(good)).then((source) => {
      settled = true;
      return source;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    good.fire('open');
    expect(await connecting).toMatchObject({ ok: true, origin: 'browser-shell' });

    const refused = new FakeSocket();
    const lost: string[] = [];
    const told: string[] = [];
    const result = connectDeviceApi(env(refused), { onConnectionLost: () => lost.push('lost'), onRefused: (p) => told.push(p) });
    refused.fire('error');
    refused.fire('close');
    expect(await result).toEqual({ ok: false, problem: BRIDGE_REFUSED_TEXT });
    expect(told).toEqual([BRIDGE_REFUSED_TEXT]);
    expect(lost).toEqual([]);
    await expect(connectDeviceApi({ location: { protocol: 'http:', host: 'x', search: '' } })).resolves.toMatchObject({ ok: false, problem: expect.stringContaining('?device=') });
  });
});
