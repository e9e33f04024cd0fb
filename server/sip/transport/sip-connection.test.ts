import { afterEach, describe, expect, it } from 'vitest';
import { createServer, connect, Socket, type Server } from 'node:net';
import { ConnectionState, SipConnection, checkConnectionTransition, type ConnectionTimers } from './sip-connection';
import type { MessageChannel } from './message-channel';
import { TransportError } from './transport-error';

const timers: ConnectionTimers = { connectTimeoutMs: 0, halfOpenTimeoutMs: 0, idleTimeoutMs: 0, closeGraceMs: 200 };
const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A connected socket pair over loopback: [client side, server side]. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect({ host: '127.0.0.1', port });
  const serverSide = await accepted;
  sockets.push(client, serverSide);
  return [client, serverSide];
}

/** A channel that records writes. */
class RecordingChannel implements MessageChannel {
  readonly written: string[] = [];
  ended = false;
  constructor(private readonly socket: Socket) {}
  async write(bytes: Uint8Array): Promise<void> {
    this.written.push(Buffer.from(bytes).toString());
  }
  end(): void {
    this.ended = true;
    this.socket.end();
  }
}

function connection(socket: Socket, direction: 'inbound' | 'outbound', t: Partial<ConnectionTimers> = {}): SipConnection {
  return new SipConnection({
    id: `tcp-test-${direction}`,
    protocol: 'tcp',
    direction,
    socket,
    remote: { protocol: 'tcp', host: '127.0.0.1', port: 5060 },
    timers: { ...timers, ...t },
  });
}

function states(c: SipConnection): string[] {
  const seen: string[] = [];
  c.on('stateChange', (to, from) => seen.push(`${from}->${to}`));
  return seen;
}

describe('the connection state machine', () => {
  it('allows exactly the moves of its diagram', () => {
    expect(() => checkConnectionTransition(ConnectionState.Accepted, ConnectionState.Established)).not.toThrow();
    expect(() => checkConnectionTransition(ConnectionState.Connecting, ConnectionState.Closed)).not.toThrow();
    expect(() => checkConnectionTransition(ConnectionState.Established, ConnectionState.Accepted)).toThrow(/illegal transition established -> accepted/);
    expect(() => checkConnectionTransition(ConnectionState.Closing, ConnectionState.Established)).toThrow(/illegal/);
    expect(() => checkConnectionTransition(ConnectionState.Closed, ConnectionState.Closing)).toThrow(/illegal/);
  });

  it('an inbound connection is half-open until its first complete message', async () => {
    const [, serverSide] = await socketPair();
    const c = connection(serverSide, 'inbound');
    const seen = states(c);
    const messages: string[] = [];
    c.on('message', (raw) => messages.push(Buffer.from(raw).toString()));
    expect(c.state).toBe(ConnectionState.Accepted);
    expect(c.halfOpen).toBe(true);
    c.sink.activity(); // a keep-alive is not a message
    expect(c.halfOpen).toBe(true);
    c.sink.message(new TextEncoder().encode('OPTIONS …'));
    expect(c.state).toBe(ConnectionState.Established);
    expect(messages).toEqual(['OPTIONS …']);
    expect(seen).toEqual(['accepted->established']);
    c.destroy();
    await c.closed();
  });

  it('an outbound send waits for the connection to come up', async () => {
    const [clientSide] = await socketPair();
    const c = connection(clientSide, 'outbound');
    const channel = new RecordingChannel(clientSide);
    c.attach(channel);
    const sending = c.send(new TextEncoder().encode('REGISTER'));
    await new Promise((r) => setImmediate(r));
    expect(channel.written).toEqual([]);
    c.sink.open();
    await sending;
    expect(channel.written).toEqual(['REGISTER']);
    c.destroy();
    await c.closed();
  });

  it('closes in order and refuses sends afterwards', async () => {
    const [clientSide, serverSide] = await socketPair();
    serverSide.on('end', () => serverSide.end());
    const c = connection(clientSide, 'outbound');
    const seen = states(c);
    const channel = new RecordingChannel(clientSide);
    c.attach(channel);
    c.sink.open();
    c.close();
    expect(c.state).toBe(ConnectionState.Closing);
    expect(channel.ended).toBe(true);
    await c.closed();
    expect(seen).toEqual(['connecting->established', 'established->closing', 'closing->closed']);
    await expect(c.send(new Uint8Array([1]))).rejects.toMatchObject({ code: 'flow-not-found' });
  });

  it('rejects waiting sends when a connect times out', async () => {
    const never = new Socket(); // never connected
    const c = connection(never, 'outbound', { connectTimeoutMs: 30 });
    c.attach(new RecordingChannel(never));
    await expect(c.send(new Uint8Array([1]))).rejects.toMatchObject({ code: 'timeout' });
    expect(c.state).toBe(ConnectionState.Closed);
  });

  it('reports a fatal channel fault while connecting as connect-failed and closes', async () => {
    const [clientSide] = await socketPair();
    const c = connection(clientSide, 'outbound');
    c.attach(new RecordingChannel(clientSide));
    const faults: TransportError[] = [];
    c.on('fault', (e) => faults.push(e));
    const sending = c.send(new Uint8Array([1]));
    c.sink.fault(new TransportError('bad-message', 'handshake refused'), true);
    await expect(sending).rejects.toMatchObject({ code: 'connect-failed' });
    expect(faults.map((f) => f.code)).toEqual(['connect-failed']);
    c.destroy();
    await c.closed();
  });
});
