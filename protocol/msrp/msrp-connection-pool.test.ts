import { describe, expect, it } from 'vitest';
import { utf8 } from '../common/bytes';
import { MsrpConnectionPool, MsrpPoolState } from './msrp-connection-pool';
import { newLocalMsrpUri } from './msrp-ids';
import type { MsrpSocket, MsrpSocketHandler } from './msrp-socket';
import { formatMsrpUri } from './msrp-uri';

/** An in-memory socket: records writes and pause state; the test feeds it bytes. */
class FakeSocket implements MsrpSocket {
  readonly label = '192.0.2.1:5555';
  handler: MsrpSocketHandler | undefined;
  destroyed = false;
  paused = false;
  written: string[] = [];
  write(bytes: Uint8Array): boolean {
    this.written.push(new TextDecoder().decode(bytes));
    return true;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.handler?.closed();
  }
  pauseReading(): void {
    this.paused = true;
  }
  resumeReading(): void {
    this.paused = false;
  }
  listen(handler: MsrpSocketHandler): void {
    this.handler = handler;
  }
  feed(text: string): void {
    this.handler?.data(utf8(text));
  }
}

const bindingSend = (to: string, from: string): string =>
  `MSRP tid00001 SEND\r\nTo-Path: ${to}\r\nFrom-Path: ${from}\r\nMessage-ID: mid00001\r\nByte-Range: 1-0/0\r\n-------tid00001$\r\n`;

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setImmediate(r));
  expect(condition()).toBe(true);
}

describe('MsrpConnectionPool', () => {
  it('binds a waiting passive session to the connection whose first SEND names it', async () => {
    const pool = new MsrpConnectionPool();
    const local = newLocalMsrpUri('127.0.0.1', 7000);
    const peer = newLocalMsrpUri('127.0.0.1', 7001);
    const opened = pool.openSession({ localUri: local, remotePath: [peer], setup: 'passive' });
    const socket = new FakeSocket();
    expect(pool.accept(socket)).toBe(true);
    expect(pool.unboundConnectionCount).toBe(1);
    socket.feed(bindingSend(formatMsrpUri(local), formatMsrpUri(peer)));
    const session = await opened;
    expect(session.state).toBe('active');
    expect(socket.written.join('')).toMatch(/^MSRP tid00001 200 OK\r\n/);
    expect(pool.unboundConnectionCount).toBe(0);
    pool.close();
  });

  it('keeps up to maxOutstandingTransactions SENDs of a connection waiting for responses, then waits for one', async () => {
    const pool = new MsrpConnectionPool({ limits: { maxOutstandingTransactions: 5 } });
    expect(new MsrpConnectionPool().limits.maxOutstandingTransactions).toBe(1024);
    const local = newLocalMsrpUri('127.0.0.1', 7000);
    const peer = newLocalMsrpUri('127.0.0.1', 7001);
    const opened = pool.openSession({ localUri: local, remotePath: [peer], setup: 'passive' });
    const socket = new FakeSocket();
    pool.accept(socket);
    socket.feed(bindingSend(formatMsrpUri(local), formatMsrpUri(peer)));
    const session = await opened;
    socket.written = [];
    for (let i = 0; i < 8; i++) session.send(utf8(`message ${i}`), 'text/plain');
    const sends = (): string[] => socket.written.join('').match(/^MSRP \S+ SEND\r\n/gm) ?? [];
    expect(sends()).toHaveLength(5);
    const tid = /^MSRP (\S+) SEND/.exec(socket.written.join(''))![1]!;
    socket.feed(`MSRP ${tid} 200 OK\r\nTo-Path: ${formatMsrpUri(local)}\r\nFrom-Path: ${formatMsrpUri(peer)}\r\n-------${tid}$\r\n`);
    expect(sends()).toHaveLength(6); // one answered, one more sent
    pool.close();
  });

  it('answers 506 to a second connection naming a session bound to the first (RFC 4975 §7.3.1)', async () => {
    const pool = new MsrpConnectionPool();
    const local = newLocalMsrpUri('127.0.0.1', 7000);
    const peer = newLocalMsrpUri('127.0.0.1', 7001);
    const opened = pool.openSession({ localUri: local, remotePath: [peer], setup: 'passive' });
    const first = new FakeSocket();
    pool.accept(first);
    first.feed(bindingSend(formatMsrpUri(local), formatMsrpUri(peer)));
    const session = await opened;
    const second = new FakeSocket();
    pool.accept(second);
    second.feed(bindingSend(formatMsrpUri(local), formatMsrpUri(peer)));
    expect(second.written.join('')).toMatch(/^MSRP tid00001 506 Session Already Bound\r\n/);
    expect(session.state).toBe('active');
    expect(first.destroyed).toBe(false);
    pool.close();
  });

  it('answers 506 to an incoming connection naming a session we bound on our own connection', async () => {
    const dialed: FakeSocket[] = [];
    const pool = new MsrpConnectionPool({
      connect: () => {
        const socket = new FakeSocket();
        dialed.push(socket);
        return Promise.resolve(socket);
      },
    });
    const local = newLocalMsrpUri('127.0.0.1', 7000);
    const peer = newLocalMsrpUri('127.0.0.1', 7001);
    const opened = pool.openSession({ localUri: local, remotePath: [peer], setup: 'active' });
    await until(() => dialed[0]?.written.length === 1);
    const tid = /^MSRP (\S+) SEND/.exec(dialed[0]!.written[0]!)![1]!;
    dialed[0]!.feed(`MSRP ${tid} 200 OK\r\nTo-Path: ${formatMsrpUri(local)}\r\nFrom-Path: ${formatMsrpUri(peer)}\r\n-------${tid}$\r\n`);
    await opened;
    const incoming = new FakeSocket();
    pool.accept(incoming);
    incoming.feed(bindingSend(formatMsrpUri(local), formatMsrpUri(peer)));
    expect(incoming.written.join('')).toMatch(/^MSRP tid00001 506 /);
    pool.close();
  });

  it('pauses reading until every holder of a pause has resumed', async () => {
    const pool = new MsrpConnectionPool();
    const local = newLocalMsrpUri('127.0.0.1', 7000);
    const { session, bound } = pool.createSession({ localUri: local, setup: 'passive' });
    const socket = new FakeSocket();
    pool.accept(socket);
    socket.feed(bindingSend(formatMsrpUri(local), 'msrp://127.0.0.1:7001/peer;tcp'));
    await bound;
    expect(pool.pauseReading(session, 'relay A')).toBe(true);
    expect(pool.pauseReading(session, 'relay B')).toBe(true);
    pool.resumeReading(session, 'relay A');
    expect(socket.paused).toBe(true);
    pool.resumeReading(session, 'relay B');
    expect(socket.paused).toBe(false);
    pool.close();
  });

  it('reports no pause for a session without a connection', () => {
    const pool = new MsrpConnectionPool();
    const { session } = pool.createSession({ localUri: newLocalMsrpUri('127.0.0.1', 7000), setup: 'passive' });
    expect(pool.pauseReading(session, 'x')).toBe(false);
    pool.close();
  });

  it('closes every connection, rejects every wait and refuses new work once closed', async () => {
    const pool = new MsrpConnectionPool();
    const states: string[] = [];
    pool.on('stateChange', (s) => states.push(s));
    const waiting = pool.openSession({ localUri: newLocalMsrpUri('127.0.0.1', 7000), setup: 'passive' });
    const socket = new FakeSocket();
    pool.accept(socket);
    pool.close();
    await expect(waiting).rejects.toMatchObject({ code: 'closed' });
    expect(socket.destroyed).toBe(true);
    expect(pool.connectionCount).toBe(0);
    expect(states).toEqual([MsrpPoolState.Closed]);
    const late = new FakeSocket();
    expect(pool.accept(late)).toBe(false);
    expect(late.destroyed).toBe(true);
    await expect(pool.openSession({ localUri: newLocalMsrpUri('127.0.0.1', 7002), setup: 'passive' })).rejects.toMatchObject({ code: 'closed' });
  });

  it('rejects an active session when it has no way to connect', async () => {
    const pool = new MsrpConnectionPool();
    await expect(pool.openSession({ localUri: newLocalMsrpUri('127.0.0.1', 7000), remotePath: [newLocalMsrpUri('127.0.0.1', 7001)], setup: 'active' })).rejects.toMatchObject({
      code: 'connect-failed',
    });
    pool.close();
  });

  it('refuses nonsensical limits with a clear error', () => {
    expect(() => new MsrpConnectionPool({ limits: { maxConnections: 0 } })).toThrow('maxConnections must be a positive number');
  });
});
