import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../../../protocol/common/bytes';
import { MsrpEndpointError } from '../../../../protocol/msrp/msrp-connection-pool';
import { newLocalMsrpUri } from '../../../../protocol/msrp/msrp-ids';
import { MsrpSession, type ReceivedMsrpMessage } from '../../../../protocol/msrp/msrp-session';
import { formatMsrpUri } from '../../../../protocol/msrp/msrp-uri';
import type { ChatMediaTransport } from '../msrp-transport';
import { MsrpEndpoint, type MsrpEndpointOptions } from './msrp-endpoint';

const open: MsrpEndpoint[] = [];
const rawSockets: Socket[] = [];
const rawServers: Server[] = [];

afterEach(async () => {
  for (const s of rawSockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((e) => e.close()));
  await Promise.all(rawServers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function endpoint(options?: MsrpEndpointOptions): Promise<MsrpEndpoint> {
  const e = new MsrpEndpoint(options);
  open.push(e);
  await e.listen();
  return e;
}

function collect(session: MsrpSession): ReceivedMsrpMessage[] {
  const out: ReceivedMsrpMessage[] = [];
  session.on('message', (m) => out.push(m));
  return out;
}

function nextMessage(session: MsrpSession): Promise<string> {
  return new Promise((resolve) => session.once('message', (m) => resolve(new TextDecoder().decode(m.body))));
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    rawSockets.push(s);
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed && socket.readyState === 'closed' ? resolve() : socket.once('close', () => resolve())));
}

/** An active device and a passive device with one bound session each. */
async function pair(options?: MsrpEndpointOptions) {
  const caller = await endpoint(options);
  const callee = await endpoint(options);
  const callerUri = caller.newLocalUri();
  const calleeUri = callee.newLocalUri();
  const [passive, active] = await Promise.all([
    callee.openSession({ localUri: calleeUri, remotePath: [callerUri], setup: 'passive' }),
    caller.openSession({ localUri: callerUri, remotePath: [calleeUri], setup: 'active' }),
  ]);
  return { caller, callee, active, passive, callerUri, calleeUri };
}

describe('MsrpEndpoint on loopback', () => {
  it('binds an active and a passive session with the bodiless SEND and carries messages both ways', async () => {
    const t = await pair();
    expect(t.active.state).toBe('active');
    expect(t.passive.state).toBe('active');
    const atCallee = nextMessage(t.passive);
    t.active.send(utf8('hello Bob'), 'text/plain');
    expect(await atCallee).toBe('hello Bob');
    const atCaller = nextMessage(t.active);
    t.passive.send(utf8('hi Alice'), 'text/plain');
    expect(await atCaller).toBe('hi Alice');
  });

  it('shares one connection between sessions to the same peer (RFC 4975 §5.4)', async () => {
    const caller = await endpoint();
    const callee = await endpoint();
    const sessions = await Promise.all(
      [1, 2, 3].map(async () => {
        const a = caller.newLocalUri();
        const b = callee.newLocalUri();
        const [passive, active] = await Promise.all([
          callee.openSession({ localUri: b, remotePath: [a], setup: 'passive' }),
          caller.openSession({ localUri: a, remotePath: [b], setup: 'active' }),
        ]);
        return { active, passive };
      }),
    );
    expect(caller.connectionCount).toBe(1);
    expect(callee.connectionCount).toBe(1);
    const got = sessions.map((s) => collect(s.passive));
    await Promise.all(sessions.map((s, i) => s.active.send(utf8(`to session ${i}`), 'text/plain').done));
    expect(got.map((g) => g.map((m) => new TextDecoder().decode(m.body)))).toEqual([['to session 0'], ['to session 1'], ['to session 2']]);
  });

  it('closes a shared active connection when its last session ends', async () => {
    const t = await pair();
    const lost: string[] = [];
    t.callee.on('sessionLost', (_s, reason) => lost.push(reason));
    t.active.close();
    await new Promise<void>((resolve) => t.passive.on('stateChange', (s) => s === 'closed' && resolve()));
    expect(t.caller.connectionCount).toBe(0);
    expect(lost).toEqual(['connection closed']);
  });

  it('reports a session whose connection dropped as lost, so the chat layer can end it', async () => {
    const t = await pair();
    const lost = new Promise<[MsrpSession, string]>((resolve) => t.caller.on('sessionLost', (s, r) => resolve([s, r])));
    await t.callee.close();
    const [session, reason] = await lost;
    expect(session).toBe(t.active);
    expect(reason).toBe('connection closed');
    expect(t.active.state).toBe('closed');
  });

  it('does not report a session its owner closed as lost', async () => {
    const t = await pair();
    const lost: MsrpSession[] = [];
    t.caller.on('sessionLost', (s) => lost.push(s));
    t.callee.on('sessionLost', () => undefined);
    t.active.close();
    await new Promise<void>((resolve) => t.passive.on('stateChange', (s) => s === 'closed' && resolve()));
    expect(lost).toEqual([]);
  });

  it('lets the passive side queue a message before the peer connects, sent once it binds', async () => {
    const caller = await endpoint();
    const callee = await endpoint();
    const callerUri = caller.newLocalUri();
    const expected = callee.createSession({ localUri: callee.newLocalUri(), remotePath: [callerUri], setup: 'passive' });
    expected.session.send(utf8('queued before the peer came'), 'text/plain');
    // The queued message can overtake the 200 to the binding SEND: listen before any I/O.
    const active = caller.createSession({ localUri: callerUri, remotePath: [expected.session.localUri], setup: 'active' });
    const first = nextMessage(active.session);
    expect(await active.bound).toBe(active.session);
    expect(await expected.bound).toBe(expected.session);
    expect(await first).toBe('queued before the peer came');
  });

  it('binds sessions the chat layer made, listeners first: a message sent in the binding exchange is not lost', async () => {
    const caller = await endpoint();
    const callee = await endpoint();
    const callerUri = caller.newLocalUri();
    const calleeUri = callee.newLocalUri();
    const passive = new MsrpSession({ localUri: calleeUri, remotePath: [callerUri] });
    const got = collect(passive);
    const active = new MsrpSession({ localUri: callerUri, remotePath: [calleeUri] });
    active.send(utf8('first words'), 'text/plain'); // becomes the binding SEND itself
    const transports: ChatMediaTransport[] = [callee, caller]; // the chat layer's interface, as is
    await Promise.all([transports[0]!.bind(passive, 'passive'), transports[1]!.bind(active, 'active')]);
    expect(got.map((m) => new TextDecoder().decode(m.body))).toEqual(['first words']); // emitted while it bound
    expect([passive.state, active.state]).toEqual(['active', 'active']);
  });

  it('rejects binding a session that is not idle, or with no remote path to connect to, and closes it', async () => {
    const e = await endpoint();
    const noPath = new MsrpSession({ localUri: e.newLocalUri() });
    await expect(e.bind(noPath, 'active')).rejects.toThrow('needs the remote path');
    expect(noPath.state).toBe('closed');
    const closedAlready = new MsrpSession({ localUri: e.newLocalUri(), remotePath: [newLocalMsrpUri('127.0.0.1', 9)] });
    closedAlready.close();
    await expect(e.bind(closedAlready, 'active')).rejects.toThrow(TypeError);
  });

  it('gives up waiting for a passive peer with a timeout error and forgets the session', async () => {
    const e = await endpoint();
    const uri = e.newLocalUri();
    const attempt = e.openSession({ localUri: uri, setup: 'passive', waitMs: 50 });
    await expect(attempt).rejects.toMatchObject({ name: 'MsrpEndpointError', code: 'timeout' });
    await expect(attempt).rejects.toThrow(formatMsrpUri(uri));
    expect(e.waitingSessionCount).toBe(0);
  });

  it('refuses a second wait for the same local URI', async () => {
    const e = await endpoint();
    const uri = e.newLocalUri();
    const first = e.openSession({ localUri: uri, setup: 'passive', waitMs: 5_000 });
    await expect(e.openSession({ localUri: uri, setup: 'passive' })).rejects.toThrow(TypeError);
    await e.close();
    await expect(first).rejects.toMatchObject({ code: 'closed' });
  });

  it('fails an active session with connect-failed when nobody listens', async () => {
    const probe = await endpoint();
    const port = probe.listenAddress!.port;
    await probe.close();
    const e = await endpoint();
    const attempt = e.openSession({ localUri: e.newLocalUri(), remotePath: [newLocalMsrpUri('127.0.0.1', port)], setup: 'active' });
    await expect(attempt).rejects.toMatchObject({ code: 'connect-failed' });
    expect(e.connectionCount).toBe(0);
  });

  it('fails an active session as refused when the peer answers its binding SEND with 481', async () => {
    const callee = await endpoint();
    const caller = await endpoint();
    const nobody = callee.newLocalUri(); // no session waits for this URI
    const attempt = caller.openSession({ localUri: caller.newLocalUri(), remotePath: [nobody], setup: 'active' });
    await expect(attempt).rejects.toMatchObject({ code: 'refused' });
    await expect(attempt).rejects.toThrow(/481/);
  });

  it('times out an active session whose binding SEND is never answered', async () => {
    const silent = createServer((s) => {
      rawSockets.push(s);
      s.on('error', () => undefined);
    });
    rawServers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const e = await endpoint();
    const attempt = e.openSession({ localUri: e.newLocalUri(), remotePath: [newLocalMsrpUri('127.0.0.1', port)], setup: 'active', waitMs: 100 });
    await expect(attempt).rejects.toMatchObject({ code: 'timeout' });
    expect(e.connectionCount).toBe(0);
  });

  it('closes an accepted connection that binds no session within the binding timeout', async () => {
    const e = await endpoint({ limits: { bindingTimeoutMs: 50 } });
    const errors: string[] = [];
    e.on('peerError', (err) => errors.push(err.message));
    const s = await rawConnect(e.listenAddress!.port);
    await closed(s);
    expect(e.connectionCount).toBe(0);
    expect(errors.join('\n')).toMatch(/no MSRP session bound/);
  });

  it('refuses connections beyond maxConnections and beyond maxUnboundConnections', async () => {
    const e = await endpoint({ limits: { maxConnections: 3, maxUnboundConnections: 2 } });
    const refusals: string[] = [];
    e.on('peerError', (err) => refusals.push(err.message));
    const first = await rawConnect(e.listenAddress!.port);
    const second = await rawConnect(e.listenAddress!.port);
    const third = await rawConnect(e.listenAddress!.port);
    await closed(third);
    expect(first.destroyed || second.destroyed).toBe(false);
    expect(refusals).toEqual(['connection refused: the limit of 2 connections without a session is reached']);
  });

  it('closes a connection whose chunk exceeds maxChunkBytes and keeps serving others', async () => {
    const t = await pair({ limits: { maxChunkBytes: 1024 } });
    const errors: string[] = [];
    t.callee.on('peerError', (err) => errors.push(err.message));
    const s = await rawConnect(t.callee.listenAddress!.port);
    s.write(`MSRP abcd1234 SEND\r\nTo-Path: ${formatMsrpUri(t.calleeUri)}\r\nFrom-Path: msrp://127.0.0.1:9/x;tcp\r\nContent-Type: text/plain\r\n\r\n${'x'.repeat(4096)}`);
    await closed(s);
    expect(errors.join('\n')).toMatch(/exceeds 1024 bytes/);
    const next = nextMessage(t.passive);
    t.active.send(utf8('still here'), 'text/plain');
    expect(await next).toBe('still here');
  });

  it('leaves no socket open after close()', async () => {
    const t = await pair();
    const raw = await rawConnect(t.callee.listenAddress!.port);
    await Promise.all([t.caller.close(), t.callee.close()]);
    await closed(raw);
    expect(t.caller.connectionCount + t.callee.connectionCount).toBe(0);
    await expect(rawConnect(t.callee.listenAddress!.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(t.caller.openSession({ localUri: t.callerUri, remotePath: [t.calleeUri], setup: 'active' })).rejects.toBeInstanceOf(MsrpEndpointError);
  });
});
