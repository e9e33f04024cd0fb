/**
 * System test of the proxy core over real loopback transports: a ProxyCore listening on UDP, TCP, TLS and WS
 * carries a whole INVITE dialog (INVITE/100/180/200, ACK, BYE/200) for every pair of transports, and forks
 * one INVITE to three user agents. Assertions read the bytes the far ends received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../server/sip/message/parse';
import { createRequest, type SipMessage, type SipRequest, type SipResponse } from '../server/sip/message/sip-message';
import { Dialog } from '../server/sip/dialog/dialog';
import { newCallId, newTag } from '../server/sip/dialog/identifiers';
import { UserAgent } from '../server/sip/dialog/user-agent';
import { ProxyCore } from '../server/sip/proxy/proxy-core';
import type { ProxyTarget } from '../server/sip/proxy/proxy-hooks';
import { parseVia } from '../server/sip/message/via';
import { TransactionLayer, type ServerTransaction } from '../server/sip/transaction/transaction-layer';
import { devCertificate } from '../server/sip/transport/dev-certificate';
import { createTransportLayer, type SipTransport } from '../server/sip/transport/sip-transport-layer';
import { until } from '../server/sip/transport/transport-test-kit';
import type { ReceivedMessage, TransportProtocol } from '../server/sip/transport/transport-types';

const PROTOCOLS = ['udp', 'tcp', 'tls', 'ws'] as const satisfies readonly TransportProtocol[];
/** Short timers, yet with Timers B and F (64·T1 = 3.2 s) well above a round trip on a loaded 2-core machine. */
const TIMERS = { t1: 50, t2: 200, t4: 250 };

/** A message as it was on the wire, parsed from the raw bytes (before the receiver stamped its Via). */
interface WireMessage {
  message: SipMessage;
  via: ReceivedMessage['source'];
  local: ReceivedMessage['local'];
}

function wireLog(transport: SipTransport): WireMessage[] {
  const log: WireMessage[] = [];
  transport.on('message', (r) => log.push({ message: parseMessage(r.raw), via: r.source, local: r.local }));
  return log;
}

function callIdOf(m: SipMessage): string | undefined {
  return m.headers.get('Call-ID');
}

function requestsIn(log: WireMessage[], callId: string, method: string): WireMessage[] {
  return log.filter((w) => callIdOf(w.message) === callId && w.message.type === 'request' && w.message.method === method);
}

function responsesIn(log: WireMessage[], callId: string): SipResponse[] {
  return log.map((w) => w.message).filter((m): m is SipResponse => m.type === 'response' && callIdOf(m) === callId);
}

let proxyTransport: SipTransport;
let uacTransport: SipTransport;
let uasTransport: SipTransport;
let proxy: ProxyCore;
let uacLayer: TransactionLayer;
let uasLayer: TransactionLayer;
let uac: UserAgent;
let uacWire: WireMessage[];
let uasWire: WireMessage[];
const proxyErrors: Error[] = [];

function portOf(transport: SipTransport, protocol: TransportProtocol): number {
  const point = transport.listeningPoint(protocol);
  if (!point) throw new Error(`no ${protocol} listening point`);
  return point.port;
}

/** The route URI the proxy puts in Record-Route for a transport. */
function proxyRoute(protocol: TransportProtocol): string {
  return `<sip:127.0.0.1:${portOf(proxyTransport, protocol)}${protocol === 'udp' ? '' : `;transport=${protocol}`};lr>`;
}

/** Target of user `mode.protocol` at the UAS (the lab's `locate`). */
function uasTarget(user: string): ProxyTarget {
  const [mode, protocol] = user.split('.') as [string, TransportProtocol];
  return { uri: `sip:${mode}@127.0.0.1:${portOf(uasTransport, protocol)};transport=${protocol}` };
}

/** The far-side user agent: `answer` rings then accepts, `busy` refuses, `ring` rings until CANCELled. */
function runUas(layer: TransactionLayer): void {
  const ua = new UserAgent(layer);
  const ringing = new Map<string, ServerTransaction>();
  layer.on('request', (tx, received) => {
    const request = tx.request;
    const mode = /^sip:([a-z]+)@/.exec(request.uri)?.[1];
    const contact = `<sip:${mode ?? 'uas'}@127.0.0.1:${received.local.port};transport=${received.local.protocol}>`;
    const tag = newTag();
    if (request.method === 'INVITE') {
      if (mode === 'busy') {
        ua.respond(tx, 486, { toTag: tag });
        return;
      }
      ua.respond(tx, 180, { toTag: tag, headers: [{ name: 'Contact', value: contact }] });
      if (mode === 'ring') ringing.set(request.headers.get('Call-ID') ?? '', tx);
      else ua.respond(tx, 200, { toTag: tag, headers: [{ name: 'Contact', value: contact }] });
      return;
    }
    if (request.method === 'CANCEL') {
      const invite = layer.findInviteServerTransaction(request);
      ua.respond(tx, invite ? 200 : 481, { toTag: tag });
      if (invite && invite.state === 'Proceeding') ua.respond(invite, 487, { toTag: tag });
      return;
    }
    ua.respond(tx, 200, { toTag: tag });
  });
}

beforeAll(async () => {
  const certificate = await devCertificate();
  const options = {
    listeners: PROTOCOLS.map((protocol) => ({ protocol, host: '127.0.0.1', port: 0 })),
    tls: { key: certificate.key, cert: certificate.cert },
    tlsClient: { ca: certificate.cert },
  };
  [proxyTransport, uacTransport, uasTransport] = await Promise.all([
    createTransportLayer(options), createTransportLayer(options), createTransportLayer(options),
  ]);
  uacWire = wireLog(uacTransport);
  uasWire = wireLog(uasTransport);
  proxy = new ProxyCore({
    transport: proxyTransport,
    timers: TIMERS,
    hooks: {
      locate: (request) => {
        const user = /^sip:([^@]+)@/.exec(request.uri)?.[1] ?? '';
        if (user === 'fork') return ['busy.udp', 'ring.tcp', 'answer.ws'].map(uasTarget);
        return [uasTarget(user)];
      },
    },
  });
  proxy.on('error', (e) => proxyErrors.push(e));
  uacLayer = new TransactionLayer(uacTransport, { timers: TIMERS });
  uasLayer = new TransactionLayer(uasTransport, { timers: TIMERS, autoTrying: false });
  uac = new UserAgent(uacLayer);
  runUas(uasLayer);
});

afterAll(async () => {
  proxy?.close();
  uacLayer?.close();
  uasLayer?.close();
  await Promise.all([uacTransport?.close(), uasTransport?.close(), proxyTransport?.close()]);
});

/** An INVITE from the UAC to `user` at the proxy, over `protocol`. */
function inviteTo(user: string, protocol: TransportProtocol): { invite: SipRequest; contact: string; callId: string } {
  const callId = newCallId('uac.test');
  const uri = `sip:${user}@127.0.0.1:${portOf(proxyTransport, protocol)};transport=${protocol}`;
  const contact = `<sip:alice@127.0.0.1:${portOf(uacTransport, protocol)};transport=${protocol}>`;
  const invite = createRequest('INVITE', uri);
  invite.headers.append('Max-Forwards', '70');
  invite.headers.append('From', `<sip:alice@a.example>;tag=${newTag()}`);
  invite.headers.append('To', `<sip:${user}@a.example>`);
  invite.headers.append('Call-ID', callId);
  invite.headers.append('CSeq', '1 INVITE');
  invite.headers.append('Contact', contact);
  return { invite, contact, callId };
}

const PAIRS = PROTOCOLS.flatMap((from) => PROTOCOLS.map((to) => [from, to] as const));

describe('ProxyCore over UDP, TCP, TLS and WS', () => {
  it.each(PAIRS)('carries an INVITE dialog from %s to %s with its Via and Record-Route on the wire', async (inbound, outbound) => {
    const { invite, contact, callId } = inviteTo(`answer.${outbound}`, inbound);
    const final = await uac.sendRequest(invite);
    expect(final.status).toBe(200);

    // What the UAS got: the proxy's Via on top, the UAC's below it with received/rport, the Record-Route(s).
    const [atUas] = requestsIn(uasWire, callId, 'INVITE');
    expect(atUas?.via.protocol).toBe(outbound);
    const vias = atUas!.message.headers.values('Via');
    expect(vias).toHaveLength(2);
    const proxyVia = parseVia(vias[0]!);
    expect(proxyVia.transport).toBe(outbound.toUpperCase());
    expect(`${proxyVia.host}:${proxyVia.port ?? ''}`).toBe(`127.0.0.1:${portOf(proxyTransport, outbound)}`);
    expect(proxyVia.branch).toMatch(/^z9hG4bK/);
    const uacVia = parseVia(vias[1]!);
    expect(uacVia.transport).toBe(inbound.toUpperCase());
    expect(uacVia.received).toBe('127.0.0.1');
    expect(uacVia.rport).toEqual(expect.any(Number));
    if (inbound === 'udp') expect(uacVia.rport).toBe(portOf(uacTransport, 'udp'));
    const expectedRoutes = inbound === outbound ? [proxyRoute(outbound)] : [proxyRoute(outbound), proxyRoute(inbound)];
    expect(atUas!.message.headers.values('Record-Route')).toEqual(expectedRoutes);
    expect(atUas!.message.headers.get('Max-Forwards')).toBe('69');

    // What the UAC got: 100 from the proxy (again for each INVITE retransmission over UDP), then 180 and 200
    // with only its own Via left.
    const back = responsesIn(uacWire, callId);
    expect([...new Set(back.map((r) => r.status))]).toEqual([100, 180, 200]);
    const ok = back.find((r) => r.status === 200)!;
    expect(ok.headers.values('Via')).toHaveLength(1);
    expect(ok.headers.values('Record-Route')).toEqual(expectedRoutes);

    // ACK and BYE follow the route set back through the proxy, which strips its own Route values.
    const dialog = Dialog.fromUac(invite, final, contact);
    expect(dialog.routeSet).toEqual([...expectedRoutes].reverse());
    expect(await uac.sendAck(dialog.createAck(1))).toBe(true);
    const bye = await uac.sendRequest(dialog.createRequest('BYE'));
    expect(bye.status).toBe(200);
    await until(() => requestsIn(uasWire, callId, 'ACK').length === 1, 'the ACK at the UAS');
    for (const method of ['ACK', 'BYE']) {
      const [w] = requestsIn(uasWire, callId, method);
      expect(w?.via.protocol).toBe(outbound);
      expect(w?.message.headers.has('Route')).toBe(false);
      expect(w?.message.headers.values('Via')).toHaveLength(2);
    }
  });

  it('forks to three user agents: the 486 is not forwarded, the ringing one gets CANCEL, the 200 comes back', async () => {
    const { invite, contact, callId } = inviteTo('fork', 'tcp');
    const final = await uac.sendRequest(invite);
    expect(final.status).toBe(200);
    await until(() => requestsIn(uasWire, callId, 'CANCEL').length === 1, 'the CANCEL to the ringing branch');
    const [cancel] = requestsIn(uasWire, callId, 'CANCEL');
    expect(cancel?.via.protocol).toBe('tcp');
    expect((cancel?.message as SipRequest).uri).toMatch(/^sip:ring@/);
    // Over UDP the 486 and its ACK may be retransmitted (Timers G and A of a late peer): count transports, not ACKs.
    const ackTransports = (): string[] => [...new Set(requestsIn(uasWire, callId, 'ACK').map((w) => w.via.protocol))].sort();
    await until(() => ackTransports().length === 2, 'the proxy ACKing the 486 and the 487', 10_000);
    expect(ackTransports()).toEqual(['tcp', 'udp']);
    const statuses = responsesIn(uacWire, callId).map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses.filter((s) => s >= 300)).toEqual([]);
    const dialog = Dialog.fromUac(invite, final, contact);
    expect(dialog.remoteTarget).toMatch(/^sip:answer@127\.0\.0\.1:\d+;transport=ws$/);
    await uac.sendAck(dialog.createAck(1));
    expect((await uac.sendRequest(dialog.createRequest('BYE'))).status).toBe(200);
  });

  it('leaves no transaction, response context or connection behind', async () => {
    await until(() => proxy.layer.size() + proxy.contextCount() + uacLayer.size() + uasLayer.size() === 0, 'every transaction to end', 10_000);
    await Promise.all([uacTransport.close(), uasTransport.close()]);
    await until(() => proxyTransport.connectionCount() === 0, 'the proxy to see every connection closed');
    expect(proxyErrors).toEqual([]);
  });
});
