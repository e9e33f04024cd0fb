import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MsrpConnection } from './msrp-connection';
import { newLocalMsrpUri } from './msrp-ids';
import { MsrpSession } from './msrp-session';
import { msrpUriKey } from './msrp-uri';
import { checkWorkloadBody, mixedSizes, workloadBody } from './testing/workload';

/** Wire an MsrpConnection to a Node socket: the owner's side of the sans-I/O contract. */
function wire(socket: Socket, connection: MsrpConnection): void {
  socket.on('data', (data) => connection.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  socket.on('drain', () => connection.transportDrained());
  socket.on('close', () => connection.transportClosed());
  socket.on('error', () => undefined); // 'close' follows
}

function duplex(socket: Socket) {
  return { write: (bytes: Uint8Array) => socket.write(bytes), close: () => socket.destroy() };
}

describe('MsrpConnection over a real loopback TCP connection', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('delivers 10,000 messages of mixed sizes up to 1 MiB complete, in order and once', async () => {
    const sizes = mixedSizes(10_000, 7);
    const passiveUri = newLocalMsrpUri('127.0.0.1', 0);
    const passive = new MsrpSession({ localUri: passiveUri });
    const received: number[] = [];
    let corrupt = 0;
    const allArrived = new Promise<void>((resolve) => {
      passive.on('message', (m) => {
        const i = new DataView(m.body.buffer, m.body.byteOffset, 8).getFloat64(0);
        if (!checkWorkloadBody(m.body, i, sizes[i]!)) corrupt++;
        received.push(i);
        if (received.length === sizes.length) resolve();
      });
    });

    server = createServer((socket) => {
      sockets.push(socket);
      const conn = new MsrpConnection({ transport: duplex(socket), role: 'passive', resolveSession: (u) => (msrpUriKey(u) === msrpUriKey(passiveUri) ? passive : undefined) });
      wire(socket, conn);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');

    const socket = connect(address.port, '127.0.0.1');
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const activeConn = new MsrpConnection({ transport: duplex(socket), role: 'active' });
    wire(socket, activeConn);
    const active = new MsrpSession({ localUri: newLocalMsrpUri('127.0.0.1', socket.localPort ?? 0), remotePath: [passiveUri] });
    activeConn.attach(active);

    const outcomes: Array<Promise<{ ok: boolean }>> = [];
    for (let i = 0; i < sizes.length; i++) {
      if (active.needsDrain) await new Promise<void>((resolve) => active.once('drain', resolve));
      outcomes.push(active.send(workloadBody(i, sizes[i]!), 'application/octet-stream').done);
    }
    await allArrived;
    const done = await Promise.all(outcomes);

    expect(corrupt).toBe(0);
    expect(received).toEqual(sizes.map((_, i) => i));
    expect(done.every((d) => d.ok)).toBe(true);
    expect(activeConn.outstandingTransactions).toBe(0);
    activeConn.close();
  });
});
