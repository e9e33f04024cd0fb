import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import type { TransportLimits } from './transport-options';
import type { TransportProtocol } from './transport-types';
import { nextEvent, nextMessage, optionsRequest, rawRequest, recordEvents, until } from './transport-test-kit';

const open: SipTransport[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function layer(limits: Partial<TransportLimits>, protocols: TransportProtocol[] = ['tcp']): Promise<SipTransport> {
  const t = await createTransportLayer({ listeners: protocols.map((protocol) => ({ protocol })), limits });
  open.push(t);
  return t;
}

/** A raw TCP client; `closed` resolves when the server side closes it. */
async function rawClient(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  socket.on('error', () => undefined);
  socket.resume(); // consume what the server sends (a 400/513), so that its FIN is seen
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed };
}

describe('transport limits', () => {
  it('closes connections beyond maxConnections and reports them', async () => {
    const server = await layer({ maxConnections: 10 });
    const events = recordEvents(server);
    const { port } = server.listeningPoint('tcp')!;
    const clients = await Promise.all(Array.from({ length: 30 }, () => rawClient(port)));
    const closed = new Set<number>();
    clients.forEach((c, i) => void c.closed.then(() => closed.add(i)));
    await until(() => events.errors.filter((e) => /connection limit/.test(e.message)).length === 20, 'twenty refusals');
    await until(() => closed.size === 20, 'the twenty refused sockets closed by the server');
    expect(server.connectionCount()).toBe(10);
    // The admitted ones stay usable.
    const admitted = nextMessage(server);
    const survivor = clients.find((_, i) => !closed.has(i))!;
    survivor.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:1'));
    await admitted;
  });

  it('refuses an outgoing connection beyond maxConnections', async () => {
    const a = await layer({});
    const b = await layer({});
    const client = await layer({ maxConnections: 1 });
    await client.send(optionsRequest('SIP/2.0/TCP 127.0.0.1:1'), a.listeningPoint('tcp')!);
    await expect(client.send(optionsRequest('SIP/2.0/TCP 127.0.0.1:1'), b.listeningPoint('tcp')!))
      .rejects.toMatchObject({ code: 'connection-limit' });
    expect(client.connectionCount()).toBe(1);
  });

  it('refuses connections beyond maxHalfOpen while earlier ones have not sent a message', async () => {
    const server = await layer({ maxHalfOpen: 2 });
    const events = recordEvents(server);
    const { port } = server.listeningPoint('tcp')!;
    await Promise.all([1, 2, 3, 4].map(() => rawClient(port)));
    await until(() => events.errors.filter((e) => /half-open limit/.test(e.message)).length === 2, 'two half-open refusals');
    expect(server.halfOpenCount()).toBe(2);
  });

  it('reaps a half-open connection but keeps one that sent a message', async () => {
    const server = await layer({ halfOpenTimeoutMs: 80 });
    const { port } = server.listeningPoint('tcp')!;
    const talker = await rawClient(port);
    const arrived = nextMessage(server);
    talker.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:1'));
    await arrived;
    const silent = await rawClient(port);
    const [reaped] = await nextEvent(server, 'error', 3000, (e) => /half-open/.test(e.message));
    expect(reaped).toMatchObject({ code: 'timeout' });
    await silent.closed;
    expect(talker.socket.destroyed).toBe(false);
    expect(server.connectionCount()).toBe(1);
  });

  it('reaps a TLS connection that never starts its handshake', async () => {
    const server = await layer({ halfOpenTimeoutMs: 80 }, ['tls']);
    const silent = await rawClient(server.listeningPoint('tls')!.port);
    await silent.closed;
    await until(() => server.connectionCount() === 0, 'tls half-open reaped');
  });

  it('reaps a WebSocket connection that never completes its handshake', async () => {
    const server = await layer({ halfOpenTimeoutMs: 80 }, ['ws']);
    const silent = await rawClient(server.listeningPoint('ws')!.port);
    silent.socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and never finishes
    await silent.closed;
    await until(() => server.connectionCount() === 0, 'ws half-open reaped');
  });

  it('closes an idle flow and reports flowClosed', async () => {
    const server = await layer({ idleTimeoutMs: 80 });
    const client = await rawClient(server.listeningPoint('tcp')!.port);
    const arrived = nextMessage(server);
    client.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:1'));
    const { flowId } = await arrived;
    const [closedId] = await nextEvent(server, 'flowClosed');
    expect(closedId).toBe(flowId);
    await client.closed;
  });

  it('closes a stream that announces a message larger than maxMessageSize', async () => {
    const server = await layer({ maxMessageSize: 1000 });
    const client = await rawClient(server.listeningPoint('tcp')!.port);
    const error = nextEvent(server, 'error');
    client.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:1', 'x'.repeat(2000)));
    const answer = new Promise<string>((resolve) => client.socket.once('data', (d: Buffer) => resolve(d.toString())));
    const [reported] = await error;
    expect(reported).toMatchObject({ code: 'message-too-large' });
    expect(await answer).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    await client.closed;
  });

  it('closes a WebSocket that sends a frame larger than maxMessageSize', async () => {
    const server = await layer({ maxMessageSize: 1000 }, ['ws']);
    const ws = new WebSocket(`ws://127.0.0.1:${server.listeningPoint('ws')!.port}/`, ['sip']);
    ws.on('error', () => undefined);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.send(rawRequest('SIP/2.0/WS x.invalid', 'y'.repeat(2000)));
    expect(await closed).toBe(1009);
    await until(() => server.connectionCount() === 0, 'oversized ws closed');
  });

  it('refuses to send a message larger than maxMessageSize', async () => {
    const server = await layer({ maxMessageSize: 500 });
    await expect(server.send(optionsRequest('SIP/2.0/TCP 127.0.0.1:1', { body: 'z'.repeat(600) }), { protocol: 'tcp', host: '127.0.0.1', port: 9 }))
      .rejects.toMatchObject({ code: 'message-too-large' });
    expect(server.connectionCount()).toBe(0);
  });
});

describe('hostile input', () => {
  it('survives random bytes on every transport and still serves', async () => {
    const server = await layer({ halfOpenTimeoutMs: 2000 }, ['udp', 'tcp', 'tls', 'ws']);
    const events = recordEvents(server);
    const udp = createSocket('udp4');
    for (let i = 0; i < 20; i++) udp.send(randomBytes(1 + (i * 37) % 1400), server.listeningPoint('udp')!.port, '127.0.0.1');
    for (const protocol of ['tcp', 'tls', 'ws'] as const) {
      for (let i = 0; i < 5; i++) {
        const c = await rawClient(server.listeningPoint(protocol)!.port);
        c.socket.write(randomBytes(64 + i * 300));
        c.socket.write('\r\n\r\nINVITE  \r\nContent-Length: -5\r\n\r\n');
      }
    }
    await until(() => events.errors.length >= 20, 'errors reported for the garbage');
    // Still serving: a well-formed request over TCP arrives.
    const good = await rawClient(server.listeningPoint('tcp')!.port);
    const arrived = nextMessage(server);
    good.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:1', 'fine'));
    await arrived;
    udp.close();
  });

  it('survives a trace hook that throws, and reports it', async () => {
    const server = await createTransportLayer({
      listeners: [{ protocol: 'udp' }],
      trace: () => {
        throw new Error('trace broke');
      },
    });
    open.push(server);
    const events = recordEvents(server);
    const client = await layer({}, ['udp']);
    const arrived = nextMessage(server);
    await client.send(optionsRequest(client.listeningPoint('udp')!), server.listeningPoint('udp')!);
    await arrived;
    expect(events.errors.map((e) => e.message)).toEqual(['trace hook threw: trace broke']);
  });

  it('close() leaves no connection open on either side', async () => {
    const server = await layer({}, ['tcp', 'ws']);
    const client = await layer({}, ['tcp']);
    await client.send(optionsRequest('SIP/2.0/TCP 127.0.0.1:1'), server.listeningPoint('tcp')!);
    const rawOnes = await Promise.all([1, 2].map(() => rawClient(server.listeningPoint('ws')!.port)));
    await until(() => server.connectionCount() === 3, 'three connections at the server');
    await server.close();
    expect(server.connectionCount()).toBe(0);
    await Promise.all(rawOnes.map((c) => c.closed));
    await until(() => client.connectionCount() === 0, 'client saw the close');
    await expect(server.send(optionsRequest('SIP/2.0/TCP 127.0.0.1:1'), client.listeningPoint('tcp')!)).rejects.toMatchObject({ code: 'closed' });
  });
});
