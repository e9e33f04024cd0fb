import { afterEach, describe, expect, it } from 'vitest';
import { MsrpEndpoint } from '../../../../electron/device/chat/msrp/msrp-endpoint';
import { utf8 } from '../../../../protocol/common/bytes';
import type { MsrpSession } from '../../../../protocol/msrp/msrp-session';
import { MsrpServerEndpoint } from './msrp-server-endpoint';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started<T extends { listen(): Promise<unknown>; close(): Promise<void> }>(e: T): Promise<T> {
  cleanups.push(() => e.close());
  await e.listen();
  return e;
}

function text(session: MsrpSession): Promise<string> {
  return new Promise((resolve) => session.once('message', (m) => resolve(new TextDecoder().decode(m.body))));
}

describe('MsrpServerEndpoint', () => {
  it('binds 50 legs of one device over one shared connection, each to its own session', async () => {
    const server = await started(new MsrpServerEndpoint());
    const device = await started(new MsrpEndpoint());
    const pairs = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const uri = device.newLocalUri();
        const leg = server.expectLeg({ remotePath: [uri] });
        const mine = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
        const bound = await leg.bound;
        bound.handleChunksWith(undefined); // no relay here: deliver whole messages
        return { leg: bound, mine };
      }),
    );
    expect(server.connectionCount).toBe(1);
    expect(device.connectionCount).toBe(1);
    expect(server.waitingSessionCount).toBe(0);
    const arrived = pairs.map((p) => text(p.leg));
    pairs.forEach((p, i) => p.mine.send(utf8(`leg ${i}`), 'text/plain'));
    expect(await Promise.all(arrived)).toEqual(pairs.map((_, i) => `leg ${i}`));
  });

  it('gives each leg a fresh URI on its listener, with at least 80 random bits', async () => {
    const server = await started(new MsrpServerEndpoint());
    const a = server.expectLeg();
    const b = server.expectLeg();
    expect(a.session.localUri.port).toBe(server.listenAddress!.port);
    expect(a.session.localUri.host).toBe('127.0.0.1');
    expect(a.session.localUri.sessionId).not.toBe(b.session.localUri.sessionId);
    expect(a.session.localUri.sessionId!.length * Math.log2(62)).toBeGreaterThanOrEqual(80);
  });

  it('lends the relay pause and resume of a leg\'s socket, and what was sent meanwhile arrives after the resume', async () => {
    const server = await started(new MsrpServerEndpoint());
    const device = await started(new MsrpEndpoint());
    const uri = device.newLocalUri();
    const leg = server.expectLeg({ remotePath: [uri] });
    const mine = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
    await leg.bound;
    leg.session.handleChunksWith(undefined); // no relay here: deliver whole messages
    expect(server.pauseReading(leg.session, 'relay')).toBe(true);
    expect(server.isReadingPaused(leg.session)).toBe(true);
    const got: string[] = [];
    leg.session.on('message', (m) => got.push(new TextDecoder().decode(m.body)));
    const done = mine.send(utf8('held back'), 'text/plain').done;
    server.resumeReading(leg.session, 'relay');
    expect(server.isReadingPaused(leg.session)).toBe(false);
    expect(await done).toMatchObject({ ok: true });
    expect(got).toEqual(['held back']);
  });

  it('holds what a device sends on a leg no relay serves yet', async () => {
    const server = await started(new MsrpServerEndpoint());
    const device = await started(new MsrpEndpoint());
    const uri = device.newLocalUri();
    const leg = server.expectLeg({ remotePath: [uri] });
    const messages: string[] = [];
    leg.session.on('message', (m) => messages.push(new TextDecoder().decode(m.body)));
    const mine = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
    expect(await mine.send(utf8('early'), 'text/plain').done).toMatchObject({ ok: true });
    expect(messages).toEqual([]);
    const chunks: string[] = [];
    leg.session.handleChunksWith((c) => (chunks.push(new TextDecoder().decode(c.body)), { status: 200 }));
    expect(chunks).toEqual(['early']);
  });

  it('refuses expectLeg before listen, and a second listen', async () => {
    const server = new MsrpServerEndpoint();
    cleanups.push(() => server.close());
    expect(() => server.expectLeg()).toThrow(TypeError);
    await server.listen();
    await expect(server.listen()).rejects.toMatchObject({ code: 'refused' });
  });

  it('closes every leg and connection, rejecting the legs still waiting', async () => {
    const server = await started(new MsrpServerEndpoint());
    const device = await started(new MsrpEndpoint());
    const uri = device.newLocalUri();
    const leg = server.expectLeg({ remotePath: [uri] });
    const mine = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
    const waiting = server.expectLeg();
    const lost = new Promise<string>((r) => device.on('sessionLost', (_s, reason) => r(reason)));
    await server.close();
    await expect(waiting.bound).rejects.toMatchObject({ code: 'closed' });
    expect(await lost).toBe('connection closed');
    expect(mine.state).toBe('closed');
    expect(server.connectionCount).toBe(0);
  });
});
