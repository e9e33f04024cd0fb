import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import { asRequest, nextEvent, nextMessage, optionsRequest, rawRequest, recordEvents, responseTo, statusOf, until } from './transport-test-kit';
import { devCertificate } from './dev-certificate';
import { bodyText } from '../message/sip-message';
import { topVia } from './via-routing';

const open: SipTransport[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function wsLayer(protocol: 'ws' | 'wss' = 'ws'): Promise<SipTransport> {
  const cert = await devCertificate();
  const t = await createTransportLayer({ listeners: [{ protocol }], tls: cert, tlsClient: { ca: cert.cert } });
  open.push(t);
  return t;
}

/** A bare WebSocket client, like a browser or JsSIP would open. */
function browser(port: number, protocols: string[] = ['sip']): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, protocols);
  ws.on('error', () => undefined);
  clients.push(ws);
  return ws;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextFrame(ws: WebSocket): Promise<{ text: string; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ text: data.toString(), binary })));
}

describe('SIP over WebSocket (RFC 7118)', () => {
  it('refuses a handshake without the "sip" subprotocol with 400', async () => {
    const server = await wsLayer();
    const events = recordEvents(server);
    const ws = browser(server.listeningPoint('ws')!.port, ['chat']);
    await expect(opened(ws)).rejects.toThrow('HTTP 400');
    await until(() => server.connectionCount() === 0, 'refused connection closed');
    expect(events.errors.some((e) => /subprotocol/.test(e.message))).toBe(true);
  });

  it('refuses a handshake with no subprotocol at all', async () => {
    const server = await wsLayer();
    const ws = browser(server.listeningPoint('ws')!.port, []);
    await expect(opened(ws)).rejects.toThrow('HTTP 400');
  });

  it('takes one SIP message per frame, text or binary, and stamps received/rport on a .invalid Via', async () => {
    const server = await wsLayer();
    const ws = browser(server.listeningPoint('ws')!.port);
    await opened(ws);
    expect(ws.protocol).toBe('sip');

    const first = nextMessage(server);
    ws.send(rawRequest('SIP/2.0/WS df7jal23ls0d.invalid', 'text frame'));
    const a = await first;
    expect(bodyText(a.message)).toBe('text frame');
    const via = topVia(a.message);
    expect(via.received).toBe('127.0.0.1');
    expect(via.rport).toBe(a.source.port);

    const second = nextMessage(server);
    ws.send(Buffer.from(rawRequest('SIP/2.0/WS df7jal23ls0d.invalid', 'binary frame')), { binary: true });
    const b = await second;
    expect(bodyText(b.message)).toBe('binary frame');
    expect(b.flowId).toBe(a.flowId);
  });

  it('answers over the same WebSocket, in a text frame', async () => {
    const server = await wsLayer();
    const ws = browser(server.listeningPoint('ws')!.port);
    await opened(ws);
    const arriving = nextMessage(server);
    ws.send(rawRequest('SIP/2.0/WS df7jal23ls0d.invalid'));
    const received = await arriving;
    const frame = nextFrame(ws);
    await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    const { text, binary } = await frame;
    expect(binary).toBe(false);
    expect(text.startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
  });

  it('reaches a client only through its WebSocket flow, and not once it is gone', async () => {
    const server = await wsLayer();
    const ws = browser(server.listeningPoint('ws')!.port);
    await opened(ws);
    const register = nextMessage(server);
    ws.send(rawRequest('SIP/2.0/WS df7jal23ls0d.invalid'));
    const { flowId, source } = await register;

    const frame = nextFrame(ws);
    await server.send(optionsRequest(server.listeningPoint('ws')!), { ...source, flowId: flowId! });
    expect((await frame).text.startsWith('OPTIONS sip:bob@example.test SIP/2.0\r\n')).toBe(true);

    const closedFlow = nextEvent(server, 'flowClosed');
    ws.close();
    const [closedId] = await closedFlow;
    expect(closedId).toBe(flowId);
    await expect(server.send(optionsRequest(server.listeningPoint('ws')!), { ...source, flowId: flowId! }))
      .rejects.toMatchObject({ code: 'flow-not-found' });
  });

  it('opens outgoing WebSocket connections with the sip subprotocol (layer to layer)', async () => {
    const server = await wsLayer();
    const client = await wsLayer();
    const arriving = nextMessage(server);
    const sent = await client.send(optionsRequest('SIP/2.0/WS client.invalid'), server.listeningPoint('ws')!);
    const received = await arriving;
    const answer = nextMessage(client);
    await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    const response = await answer;
    expect(statusOf(response.message)).toBe(200);
    expect(response.flowId).toBe(sent.flowId);
  });

  it('sends a message with a non-UTF-8 body in a binary frame', async () => {
    const server = await wsLayer();
    const ws = browser(server.listeningPoint('ws')!.port);
    await opened(ws);
    const arriving = nextMessage(server);
    ws.send(rawRequest('SIP/2.0/WS df7jal23ls0d.invalid'));
    const { flowId, source } = await arriving;
    const request = optionsRequest(server.listeningPoint('ws')!);
    request.body = new Uint8Array([0xc3, 0x28, 0xff]);
    const frame = nextFrame(ws);
    await server.send(request, { ...source, flowId: flowId! });
    expect((await frame).binary).toBe(true);
  });

  it('answers a plain HTTP request with 426 and keeps nothing open', async () => {
    const server = await wsLayer();
    const { port } = server.listeningPoint('ws')!;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(426);
    await res.text();
    await until(() => server.connectionCount() === 0, 'HTTP connection closed');
  });
});

describe('SIP over secure WebSocket', () => {
  it('carries a request and its response over wss', async () => {
    const server = await wsLayer('wss');
    const client = await wsLayer('wss');
    const arriving = nextMessage(server);
    const sent = await client.send(optionsRequest('SIP/2.0/WSS client.invalid'), server.listeningPoint('wss')!);
    const received = await arriving;
    expect(received.source.protocol).toBe('wss');
    const answer = nextMessage(client);
    await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    expect((await answer).flowId).toBe(sent.flowId);
  });

  it('serves a browser-style wss client', async () => {
    const cert = await devCertificate();
    const server = await wsLayer('wss');
    const ws = new WebSocket(`wss://127.0.0.1:${server.listeningPoint('wss')!.port}/`, ['sip'], { ca: cert.cert });
    ws.on('error', () => undefined);
    clients.push(ws);
    await opened(ws);
    const arriving = nextMessage(server);
    ws.send(rawRequest('SIP/2.0/WSS x.invalid', 'over tls'));
    expect(bodyText((await arriving).message)).toBe('over tls');
  });
});
