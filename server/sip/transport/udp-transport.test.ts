import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import { asRequest, nextEvent, nextMessage, optionsRequest, rawRequest, recordEvents, responseTo, statusOf } from './transport-test-kit';
import { bodyText } from '../message/sip-message';
import { serializeMessage } from '../message/serialize';
import { topVia } from './via-routing';

const open: SipTransport[] = [];
const sockets: Socket[] = [];

async function layer(): Promise<SipTransport> {
  const t = await createTransportLayer({ listeners: [{ protocol: 'udp' }] });
  open.push(t);
  return t;
}

function rawUdp(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    sockets.push(s);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('SIP over UDP', () => {
  it('sends a request and gets the response back to received/rport (RFC 3261 §18.2.2, RFC 3581 §4)', async () => {
    const server = await layer();
    const client = await layer();
    const clientPoint = client.listeningPoint('udp')!;
    // The client claims a sent-by port nobody listens on; rport makes the response come back to the source port.
    const request = optionsRequest(`SIP/2.0/UDP 127.0.0.1:9`);
    const arriving = nextMessage(server);
    await client.send(request, server.listeningPoint('udp')!);
    const received = await arriving;
    expect(received.flowId).toBeUndefined();
    expect(received.source).toEqual(clientPoint);
    const via = topVia(received.message);
    expect(via.rport).toBe(clientPoint.port);
    expect(via.received).toBe('127.0.0.1');

    const answer = nextMessage(client);
    await server.sendResponse(responseTo(asRequest(received.message)));
    expect(statusOf((await answer).message)).toBe(200);
  });

  it('carries UTF-8 bodies byte for byte', async () => {
    const server = await layer();
    const peer = await rawUdp();
    const text = rawRequest('SIP/2.0/UDP 127.0.0.1:5999', 'Grüße 👋');
    const arriving = nextMessage(server);
    peer.send(Buffer.from(text), server.listeningPoint('udp')!.port, '127.0.0.1');
    const received = await arriving;
    expect(bodyText(received.message)).toBe('Grüße 👋');
    expect(Buffer.from(received.raw).toString()).toBe(text);
  });

  it('reports a bad datagram and keeps serving', async () => {
    const server = await layer();
    const events = recordEvents(server);
    const peer = await rawUdp();
    const port = server.listeningPoint('udp')!.port;
    const error = nextEvent(server, 'error');
    peer.send(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a]), port, '127.0.0.1');
    const [reported, context] = await error;
    expect(reported).toMatchObject({ code: 'bad-message' });
    expect(context?.source?.port).toBe(peer.address().port);

    const good = nextMessage(server);
    peer.send(Buffer.from(rawRequest('SIP/2.0/UDP 127.0.0.1:5999', 'still here')), port, '127.0.0.1');
    expect(bodyText((await good).message)).toBe('still here');
    expect(events.messages).toHaveLength(1);
  });

  it('answers a request it cannot parse with 400 to the datagram\'s source', async () => {
    const server = await layer();
    const peer = await rawUdp();
    const reply = new Promise<string>((resolve) => peer.once('message', (m: Buffer) => resolve(m.toString())));
    // Content-Length claims more body than the datagram holds (RFC 3261 §18.3: discard... and say why).
    const broken = rawRequest('SIP/2.0/UDP 127.0.0.1:5999', 'short').replace('Content-Length: 5', 'Content-Length: 50');
    peer.send(Buffer.from(broken), server.listeningPoint('udp')!.port, '127.0.0.1');
    expect(await reply).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
  });

  it('ignores CRLF keep-alive datagrams silently', async () => {
    const server = await layer();
    const events = recordEvents(server);
    const peer = await rawUdp();
    const port = server.listeningPoint('udp')!.port;
    peer.send(Buffer.from('\r\n\r\n'), port, '127.0.0.1');
    const good = nextMessage(server);
    peer.send(Buffer.from(rawRequest('SIP/2.0/UDP 127.0.0.1:5999', 'after')), port, '127.0.0.1');
    await good;
    expect(events.errors).toEqual([]);
    expect(events.messages).toHaveLength(1);
  });

  it('sends a message serialized beforehand exactly as it would send the message', async () => {
    const server = await layer();
    const client = await layer();
    const request = optionsRequest(client.listeningPoint('udp')!, { body: 'kept as bytes' });
    const arriving = nextMessage(server);
    const bytes = serializeMessage(request);
    await client.sendSerialized(bytes, server.listeningPoint('udp')!);
    const received = await arriving;
    expect(Buffer.from(received.raw).equals(Buffer.from(bytes))).toBe(true);
    expect(bodyText(received.message)).toBe('kept as bytes');
  });

  it('refuses serialized bytes over its message size limit, like any message', async () => {
    const client = await createTransportLayer({ listeners: [{ protocol: 'udp' }], limits: { maxMessageSize: 1000 } });
    open.push(client);
    const bytes = serializeMessage(optionsRequest(client.listeningPoint('udp')!, { body: 'x'.repeat(2000) }));
    await expect(client.sendSerialized(bytes, { protocol: 'udp', host: '127.0.0.1', port: 9 })).rejects.toMatchObject({ code: 'message-too-large' });
  });

  it('refuses a message larger than a datagram can carry', async () => {
    const client = await createTransportLayer({ listeners: [{ protocol: 'udp' }], limits: { maxMessageSize: 200_000 } });
    open.push(client);
    const big = optionsRequest(client.listeningPoint('udp')!, { body: 'x'.repeat(70_000) });
    await expect(client.send(big, { protocol: 'udp', host: '127.0.0.1', port: 9 })).rejects.toMatchObject({ code: 'message-too-large' });
  });

  it('refuses to send to an IPv6 target without an IPv6 UDP listening point', async () => {
    const client = await layer();
    await expect(client.send(optionsRequest(client.listeningPoint('udp')!), { protocol: 'udp', host: '::1', port: 5060 }))
      .rejects.toMatchObject({ code: 'no-listener' });
  });

  it('refuses a target that is not an IP literal', async () => {
    const client = await layer();
    await expect(client.send(optionsRequest(client.listeningPoint('udp')!), { protocol: 'udp', host: 'example.com', port: 5060 }))
      .rejects.toMatchObject({ code: 'invalid-target' });
  });
});
