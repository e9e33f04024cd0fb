import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import { asRequest, nextMessage, optionsRequest, rawRequest, recordEvents, responseTo, statusOf, until } from './transport-test-kit';
import { devCertificate, type DevCertificate } from './dev-certificate';
import { connect as tlsConnect } from 'node:tls';
import { bodyText } from '../message/sip-message';

const open: SipTransport[] = [];
let cert: DevCertificate;

beforeAll(async () => {
  cert = await devCertificate();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function tlsLayer(trustPeer: boolean): Promise<SipTransport> {
  const t = await createTransportLayer({
    listeners: [{ protocol: 'tls' }],
    tls: cert,
    tlsClient: trustPeer ? { ca: cert.cert } : {},
  });
  open.push(t);
  return t;
}

describe('SIP over TLS', () => {
  it('sends a request over a verified TLS connection and gets the response over the same flow', async () => {
    const server = await tlsLayer(true);
    const client = await tlsLayer(true);
    const arriving = nextMessage(server);
    const sent = await client.send(optionsRequest(client.listeningPoint('tls')!), server.listeningPoint('tls')!);
    const received = await arriving;
    expect(received.source.protocol).toBe('tls');

    const answer = nextMessage(client);
    await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    const response = await answer;
    expect(statusOf(response.message)).toBe(200);
    expect(response.flowId).toBe(sent.flowId);
  });

  it('refuses a server whose certificate it does not trust', async () => {
    const server = await tlsLayer(true);
    const client = await tlsLayer(false);
    await expect(client.send(optionsRequest(client.listeningPoint('tls')!), server.listeningPoint('tls')!))
      .rejects.toMatchObject({ code: 'connect-failed' });
    await until(() => client.connectionCount() === 0, 'failed connection removed');
  });

  it('frames a message sent over TLS in small records', async () => {
    const server = await tlsLayer(true);
    const { port } = server.listeningPoint('tls')!;
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert.cert });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    const arriving = nextMessage(server);
    const bytes = Buffer.from(rawRequest('SIP/2.0/TLS 127.0.0.1:5071', 'secret'));
    for (let i = 0; i < bytes.length; i += 7) socket.write(bytes.subarray(i, i + 7));
    expect(bodyText((await arriving).message)).toBe('secret');
    socket.destroy();
  });

  it('generates a development certificate when a TLS listener has none', async () => {
    const server = await createTransportLayer({ listeners: [{ protocol: 'tls' }] });
    open.push(server);
    const client = await tlsLayer(true); // trusts the shared development certificate
    const events = recordEvents(server);
    await client.send(optionsRequest(client.listeningPoint('tls')!), server.listeningPoint('tls')!);
    await until(() => events.messages.length === 1, 'request over the dev certificate');
  });
});
