import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import { asRequest, nextEvent, nextMessage, statusOf, optionsRequest, rawRequest, recordEvents, responseTo, until } from './transport-test-kit';
import { bodyText } from '../message/sip-message';

const open: SipTransport[] = [];
const sockets: Socket[] = [];

async function layer(limits = {}): Promise<SipTransport> {
  const t = await createTransportLayer({ listeners: [{ protocol: 'tcp' }], limits });
  open.push(t);
  return t;
}

function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('SIP over TCP', () => {
  it('delivers a request and routes the response back over the same connection', async () => {
    const server = await layer();
    const client = await layer();
    const target = server.listeningPoint('tcp')!;
    const request = optionsRequest(client.listeningPoint('tcp')!);

    const arriving = nextMessage(server);
    const sent = await client.send(request, target);
    const received = await arriving;

    expect(received.message.type).toBe('request');
    expect(received.flowId).toBeDefined();
    expect(received.source.port).toBe(sent.local.port);
    expect(received.local).toEqual(target);

    const answer = nextMessage(client);
    const reply = await server.send(responseTo(asRequest(received.message)), { ...received.source, flowId: received.flowId! });
    const response = await answer;
    expect(statusOf(response.message)).toBe(200);
    expect(response.flowId).toBe(sent.flowId);
    expect(reply.flowId).toBe(received.flowId);
    expect(client.connectionCount()).toBe(1);
    expect(server.connectionCount()).toBe(1);
  });

  it('reassembles a message split into 1-byte chunks', async () => {
    const server = await layer();
    const socket = await rawClient(server.listeningPoint('tcp')!.port);
    const text = rawRequest('SIP/2.0/TCP client.example.test:5070', 'héllo wörld');
    const bytes = Buffer.from(text);
    const arriving = nextMessage(server);
    for (const byte of bytes) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const received = await arriving;
    expect(bodyText(received.message)).toBe('héllo wörld');
    expect(Buffer.from(received.raw).equals(bytes)).toBe(true);
  });

  it('delivers several messages that arrive in one chunk, in order', async () => {
    const server = await layer();
    const events = recordEvents(server);
    const socket = await rawClient(server.listeningPoint('tcp')!.port);
    const three = ['one', 'two', 'three'].map((b, i) => rawRequest('SIP/2.0/TCP 127.0.0.1:5070', b, `c${i}@test`)).join('');
    socket.write(three);
    await until(() => events.messages.length === 3, 'three messages');
    expect(events.messages.map((m) => bodyText(m.message))).toEqual(['one', 'two', 'three']);
    expect(new Set(events.messages.map((m) => m.flowId)).size).toBe(1);
  });

  it('answers a CRLFCRLF keep-alive ping with a CRLF pong (RFC 5626 §3.5.1)', async () => {
    const server = await layer();
    const socket = await rawClient(server.listeningPoint('tcp')!.port);
    socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:5070'));
    await nextMessage(server);
    const pong = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write('\r\n\r\n');
    expect((await pong).toString()).toBe('\r\n');
  });

  it('answers 400 and closes the connection on a framing error', async () => {
    const server = await layer();
    const socket = await rawClient(server.listeningPoint('tcp')!.port);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const answer = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
    const error = nextEvent(server, 'error');
    // No Content-Length: a stream cannot be framed (RFC 3261 §18.3).
    socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:1', '').replace(/Content-Length: 0\r\n/, ''));
    const [reported] = await error;
    expect(reported).toMatchObject({ code: 'bad-message' });
    expect(await answer).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    await closed;
    await until(() => server.connectionCount() === 0, 'connection removed');
  });

  it('reuses the connection a peer opened when sending a request back to it (either direction)', async () => {
    const a = await layer();
    const b = await layer();
    const flowClosed = recordEvents(b);
    const toB = await a.send(optionsRequest(a.listeningPoint('tcp')!), b.listeningPoint('tcp')!);
    const atB = await nextMessage(b);

    // B sends a new request to A's address as seen on the socket: no new connection is opened.
    const arriving = nextMessage(a);
    const fromB = await b.send(optionsRequest(b.listeningPoint('tcp')!), { protocol: 'tcp', host: atB.source.host, port: atB.source.port });
    const atA = await arriving;
    expect(fromB.flowId).toBe(atB.flowId);
    expect(atA.flowId).toBe(toB.flowId);
    expect(a.connectionCount()).toBe(1);
    expect(b.connectionCount()).toBe(1);

    // And A's next request to B reuses its own connection.
    const again = await a.send(optionsRequest(a.listeningPoint('tcp')!), b.listeningPoint('tcp')!);
    expect(again.flowId).toBe(toB.flowId);

    await a.close();
    await until(() => flowClosed.flowsClosed.includes(atB.flowId!), 'flowClosed at B');
    expect(b.connectionCount()).toBe(0);
  });

  it('shares one connection between concurrent sends to a new peer', async () => {
    const server = await layer();
    const client = await layer();
    const events = recordEvents(server);
    const target = server.listeningPoint('tcp')!;
    const results = await Promise.all([1, 2, 3].map(() => client.send(optionsRequest(client.listeningPoint('tcp')!), target)));
    expect(new Set(results.map((r) => r.flowId)).size).toBe(1);
    await until(() => events.messages.length === 3, 'three requests');
    expect(server.connectionCount()).toBe(1);
  });

  it('delivers every message of a burst written at once, whole and in order', async () => {
    const server = await layer();
    const client = await layer();
    const events = recordEvents(server);
    const target = server.listeningPoint('tcp')!;
    await client.send(optionsRequest(client.listeningPoint('tcp')!, { callId: 'first' }), target);
    // Twenty writes in one turn of the event loop: the channel gathers them into one write to the socket.
    const callIds = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    await Promise.all(callIds.map((callId) => client.send(optionsRequest(client.listeningPoint('tcp')!, { callId }), target)));
    await until(() => events.messages.length === 21, 'the whole burst');
    expect(events.messages.slice(1).map((m) => m.message.headers.get('Call-ID'))).toEqual(callIds);
    expect(server.connectionCount()).toBe(1);
  });

  it('rejects a send on a flow that is gone', async () => {
    const client = await layer();
    await expect(client.send(optionsRequest('SIP/2.0/TCP 127.0.0.1:1'), { protocol: 'tcp', host: '127.0.0.1', port: 1, flowId: 'tcp-nope-1' }))
      .rejects.toMatchObject({ code: 'flow-not-found' });
  });

  it('rejects a send when nothing listens at the target', async () => {
    const probe = await layer();
    const port = probe.listeningPoint('tcp')!.port;
    await probe.close();
    const client = await layer();
    await expect(client.send(optionsRequest(client.listeningPoint('tcp')!), { protocol: 'tcp', host: '127.0.0.1', port }))
      .rejects.toMatchObject({ code: 'connect-failed' });
    expect(client.connectionCount()).toBe(0);
  });

  it('opens a new connection to received and the sent-by port when the request\'s flow is gone (RFC 3261 §18.2.2)', async () => {
    const server = await layer();
    const client = await layer();
    const clientPoint = client.listeningPoint('tcp')!;
    const arriving = nextMessage(server);
    await client.send(optionsRequest(clientPoint), server.listeningPoint('tcp')!);
    const received = await arriving;
    const gone = nextEvent(server, 'flowClosed');
    server.connection(received.flowId!)!.destroy();
    await gone;

    const answer = nextMessage(client);
    const sent = await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    const response = await answer;
    expect(statusOf(response.message)).toBe(200);
    expect(sent.flowId).not.toBe(received.flowId);
    expect(response.local).toEqual(clientPoint); // arrived on the client's listening point
  });

  it('traces every message in both directions with its endpoints and flow', async () => {
    const traced: string[] = [];
    const server = await createTransportLayer({
      listeners: [{ protocol: 'tcp' }],
      trace: (direction, bytes, { remote, flowId }) => traced.push(`${direction} ${Buffer.from(bytes).toString().split('\r\n')[0]} ${remote.host} ${flowId ?? '-'}`),
    });
    open.push(server);
    const client = await layer();
    const arriving = nextMessage(server);
    await client.send(optionsRequest(client.listeningPoint('tcp')!), server.listeningPoint('tcp')!);
    const received = await arriving;
    await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    expect(traced).toEqual([
      `in OPTIONS sip:bob@example.test SIP/2.0 127.0.0.1 ${received.flowId}`,
      `out SIP/2.0 200 OK 127.0.0.1 ${received.flowId}`,
    ]);
  });
});
