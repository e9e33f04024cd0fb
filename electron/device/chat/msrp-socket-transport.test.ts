import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../../protocol/common/bytes';
import { MsrpSession, MsrpSessionState, type ReceivedMsrpMessage } from '../../../protocol/msrp/msrp-session';
import { MsrpSocketTransport, type MsrpSocketTransportOptions } from './msrp-socket-transport';

const open: MsrpSocketTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function transport(options?: MsrpSocketTransportOptions): Promise<MsrpSocketTransport> {
  const t = await MsrpSocketTransport.listen(options);
  open.push(t);
  return t;
}

/** A caller (active) and a callee (passive) session, not yet bound, each knowing the other's URI. */
async function pair(options?: MsrpSocketTransportOptions) {
  const caller = await transport(options);
  const callee = await transport(options);
  const callerUri = caller.newLocalUri();
  const calleeUri = callee.newLocalUri();
  const active = new MsrpSession({ localUri: callerUri, remotePath: [calleeUri] });
  const passive = new MsrpSession({ localUri: calleeUri, remotePath: [callerUri] });
  return { caller, callee, active, passive };
}

function collect(session: MsrpSession): ReceivedMsrpMessage[] {
  const got: ReceivedMsrpMessage[] = [];
  session.on('message', (m) => got.push(m));
  return got;
}

const text = (m: ReceivedMsrpMessage): string => new TextDecoder().decode(m.body);

describe('MsrpSocketTransport on loopback', () => {
  it('binds an active and a passive session and carries messages both ways', async () => {
    const t = await pair();
    const atCallee = collect(t.passive);
    const atCaller = collect(t.active);
    await Promise.all([t.callee.bind(t.passive, 'passive'), t.caller.bind(t.active, 'active')]);
    expect(t.active.state).toBe(MsrpSessionState.Active);
    expect(t.passive.state).toBe(MsrpSessionState.Active);
    await t.active.send(utf8('hello'), 'text/plain').done;
    await t.passive.send(utf8('hi'), 'text/plain').done;
    expect(atCallee.map(text)).toEqual(['hello']);
    expect(atCaller.map(text)).toEqual(['hi']);
  });

  it('loses nothing the passive side sends the moment it is bound (same TCP read as the 200)', async () => {
    const t = await pair();
    const atCaller = collect(t.active);
    t.passive.on('stateChange', (state) => {
      if (state === MsrpSessionState.Active) for (let i = 0; i < 5; i++) t.passive.send(utf8(`early ${i}`), 'text/plain');
    });
    await Promise.all([t.callee.bind(t.passive, 'passive'), t.caller.bind(t.active, 'active')]);
    await expect.poll(() => atCaller.map(text)).toEqual(['early 0', 'early 1', 'early 2', 'early 3', 'early 4']);
  });

  it('shares one connection between sessions to the same peer (RFC 4975 §5.4)', async () => {
    const caller = await transport();
    const callee = await transport();
    const bindings: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      const a = caller.newLocalUri();
      const b = callee.newLocalUri();
      const active = new MsrpSession({ localUri: a, remotePath: [b] });
      const passive = new MsrpSession({ localUri: b, remotePath: [a] });
      bindings.push(callee.bind(passive, 'passive'), caller.bind(active, 'active'));
    }
    await Promise.all(bindings);
    expect(caller.connectionCount).toBe(1);
    expect(callee.connectionCount).toBe(1);
  });

  it('closes a passive session nobody binds, and rejects its bind', async () => {
    const t = await transport({ bindTimeoutMs: 50 });
    const session = new MsrpSession({ localUri: t.newLocalUri() });
    await expect(t.bind(session, 'passive')).rejects.toThrow(/no peer bound MSRP session msrp:\/\/127\.0\.0\.1:/);
    expect(session.state).toBe(MsrpSessionState.Closed);
  });

  it('rejects an active bind when nobody listens, closing the session', async () => {
    const t = await transport();
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const session = new MsrpSession({ localUri: t.newLocalUri(), remotePath: [{ scheme: 'msrp', host: '127.0.0.1', port, sessionId: 'x'.repeat(20), transport: 'tcp', params: [] }] });
    await expect(t.bind(session, 'active')).rejects.toThrow(/not bound/);
    expect(session.state).toBe(MsrpSessionState.Closed);
  });

  it('refuses to bind a session twice, or on a closed transport', async () => {
    const t = await pair();
    await Promise.all([t.callee.bind(t.passive, 'passive'), t.caller.bind(t.active, 'active')]);
    await expect(t.caller.bind(t.active, 'active')).rejects.toThrow('the MSRP session is active, not idle');
    await t.caller.close();
    const late = new MsrpSession({ localUri: t.caller.newLocalUri() });
    await expect(t.caller.bind(late, 'passive')).rejects.toThrow('the MSRP transport is closed');
  });

  it('closes a connection once its last session is gone, and the peer’s session sees the loss', async () => {
    const t = await pair({ idleCloseMs: 20 });
    await Promise.all([t.callee.bind(t.passive, 'passive'), t.caller.bind(t.active, 'active')]);
    t.active.close();
    await expect.poll(() => t.caller.connectionCount).toBe(0);
    await expect.poll(() => t.passive.state).toBe(MsrpSessionState.Closed);
    expect(t.passive.closeInfo?.cause).toBe('connection-lost');
  });

  it('drops a connection from a peer that never binds anything', async () => {
    const t = await transport({ bindTimeoutMs: 50 });
    const socket = net.connect(t.address.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(t.connectionCount).toBe(0);
  });
});
