import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import { asRequest, nextMessage, optionsRequest, responseTo, statusOf } from './transport-test-kit';
import { devCertificate } from './dev-certificate';
import { topVia } from './via-routing';
import type { TransportProtocol } from './transport-types';

/** Whether this machine can bind TCP on ::1 (checked, not assumed). */
function loopback6Available(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

const open: SipTransport[] = [];
let available = false;

beforeAll(async () => {
  available = await loopback6Available();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('IPv6 loopback', () => {
  it('is available on this machine (every test below relies on it)', () => {
    // If this fails, ::1 cannot be bound here: the IPv6 tests below then fail for that reason, not a bug.
    expect(available).toBe(true);
  });

  it.each<TransportProtocol>(['udp', 'tcp', 'tls', 'ws', 'wss'])('carries a request and its response over %s on ::1', async (protocol) => {
    const cert = await devCertificate();
    const make = async (): Promise<SipTransport> => {
      const t = await createTransportLayer({ listeners: [{ protocol, host: '::1' }], tls: cert, tlsClient: { ca: cert.cert } });
      open.push(t);
      return t;
    };
    const server = await make();
    const client = await make();
    const point = server.listeningPoint(protocol)!;
    expect(point.host).toBe('::1');

    const arriving = nextMessage(server);
    await client.send(optionsRequest(client.listeningPoint(protocol)!), point);
    const received = await arriving;
    expect(received.source.host).toBe('::1');
    // The sent-by is [::1] and so is the source: only rport (requested) is filled, with received (RFC 3581 §4).
    const via = topVia(received.message);
    expect(via.host).toBe('[::1]');
    expect(via.rport).toBe(received.source.port);
    expect(via.received).toBe('::1');

    const answer = nextMessage(client);
    await server.sendResponse(responseTo(asRequest(received.message)), received.flowId);
    expect(statusOf((await answer).message)).toBe(200);
  });
});
