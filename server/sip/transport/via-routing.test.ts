import { describe, expect, it } from 'vitest';
import { createRequest, createResponse } from '../message/sip-message';
import type { Endpoint, ReceivedMessage } from './transport-types';
import { responseDestination, responseTarget, stampReceivedVia, topVia } from './via-routing';

function requestWithVia(...vias: string[]) {
  return createRequest('OPTIONS', 'sip:x@example.test', vias.map((value) => ({ name: 'Via', value })));
}

function responseWithVia(via: string) {
  return createResponse(200, 'OK', [{ name: 'Via', value: via }]);
}

const udpFrom = (host: string, port: number): Endpoint => ({ protocol: 'udp', host, port });

describe('the topmost Via', () => {
  it('is read from the first line of a list', () => {
    const via = topVia(requestWithVia('SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bK776;rport, SIP/2.0/UDP b.test;branch=z9hG4bK2'));
    expect(via).toMatchObject({ transport: 'TCP', host: '[2001:db8::9]', port: 5070, branch: 'z9hG4bK776', rport: null });
  });

  it.each(['SIP/2.0 host', 'SIP/2.0/UDP [::1', 'SIP/2.0/UDP host:99999', 'SIP/2.0/UDP host junk'])(
    'rejects %j as a bad message',
    (text) => {
      expect(() => topVia(requestWithVia(text))).toThrow(expect.objectContaining({ code: 'bad-message', message: expect.stringMatching(/malformed topmost Via/) }));
    },
  );
});

describe('receive-side Via processing (RFC 3261 §18.2.1, RFC 3581)', () => {
  it('adds received when the sent-by is a domain name', () => {
    const r = requestWithVia('SIP/2.0/UDP pc33.example.test;branch=z9hG4bK1');
    stampReceivedVia(r, udpFrom('192.0.2.1', 5060));
    expect(r.headers.first('Via')).toBe('SIP/2.0/UDP pc33.example.test;branch=z9hG4bK1;received=192.0.2.1');
  });

  it('adds nothing when the sent-by address is the source and rport is absent', () => {
    const r = requestWithVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1');
    stampReceivedVia(r, udpFrom('192.0.2.1', 40000));
    expect(r.headers.first('Via')).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1');
  });

  it('treats two spellings of one IPv6 address as the same', () => {
    const r = requestWithVia('SIP/2.0/TCP [0:0:0:0:0:0:0:1]:5060;branch=z9hG4bK1');
    stampReceivedVia(r, { protocol: 'tcp', host: '::1', port: 5060 });
    expect(topVia(r).received).toBeUndefined();
  });

  it('fills an empty rport and then always adds received (RFC 3581 §4)', () => {
    const r = requestWithVia('SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1');
    stampReceivedVia(r, udpFrom('192.0.2.1', 40001));
    expect(r.headers.first('Via')).toBe('SIP/2.0/UDP 192.0.2.1:5060;rport=40001;branch=z9hG4bK1;received=192.0.2.1');
  });

  it('sets received and rport on a WebSocket .invalid Via (RFC 7118)', () => {
    const r = requestWithVia('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1');
    stampReceivedVia(r, { protocol: 'wss', host: '203.0.113.7', port: 51234 });
    expect(topVia(r)).toMatchObject({ received: '203.0.113.7', rport: 51234 });
  });

  it('touches only the topmost Via value and keeps the others in order', () => {
    const r = requestWithVia('SIP/2.0/UDP a.example.test;branch=z9hG4bK1, SIP/2.0/UDP b.example.test;branch=z9hG4bK2', 'SIP/2.0/UDP c.example.test;branch=z9hG4bK3');
    stampReceivedVia(r, udpFrom('192.0.2.9', 5060));
    expect(r.headers.values('Via')).toEqual([
      'SIP/2.0/UDP a.example.test;branch=z9hG4bK1;received=192.0.2.9',
      'SIP/2.0/UDP b.example.test;branch=z9hG4bK2',
      'SIP/2.0/UDP c.example.test;branch=z9hG4bK3',
    ]);
  });

  it('rejects a request without Via', () => {
    expect(() => stampReceivedVia(requestWithVia(), udpFrom('192.0.2.1', 5060))).toThrow(/no Via/);
  });
});

describe('where a response goes (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it.each([
    ['to received and rport over UDP', 'SIP/2.0/UDP host.test:5062;rport=40001;received=192.0.2.1', { protocol: 'udp', host: '192.0.2.1', port: 40001 }],
    ['to received and the sent-by port without rport', 'SIP/2.0/UDP host.test:5062;received=192.0.2.1', { protocol: 'udp', host: '192.0.2.1', port: 5062 }],
    ['to maddr when present', 'SIP/2.0/UDP 192.0.2.1;maddr=239.255.255.1;ttl=1', { protocol: 'udp', host: '239.255.255.1', port: 5060 }],
    ['to the default port of the transport (5061 for TLS)', 'SIP/2.0/TLS [2001:db8::1]', { protocol: 'tls', host: '2001:db8::1', port: 5061 }],
    ['over a reliable transport to the sent-by port, whatever rport says', 'SIP/2.0/TCP h.test:5070;rport=40001;received=192.0.2.1', { protocol: 'tcp', host: '192.0.2.1', port: 5070 }],
  ])('goes %s', (_case, via, expected) => {
    expect(responseDestination(responseWithVia(`${via};branch=z9hG4bK1`))).toEqual(expected);
  });

  it.each([
    ['a domain name it would have to resolve', 'SIP/2.0/UDP host.test', /RFC 3263/],
    ['a transport it does not speak', 'SIP/2.0/SCTP 192.0.2.1', /SCTP/],
  ])('refuses %s', (_case, via, error) => {
    expect(() => responseDestination(responseWithVia(`${via};branch=z9hG4bK1`))).toThrow(error);
  });
});

describe('where the responses to a received request go (one rule for transactions and sendResponse)', () => {
  /** A request as the transport delivers it: top Via stamped (§18.2.1) from `source`. */
  function received(via: string, source: Endpoint, flowId?: string): ReceivedMessage {
    const message = requestWithVia(via);
    stampReceivedVia(message, source);
    const r: ReceivedMessage = { message, raw: new Uint8Array(0), source, local: { ...source, host: '127.0.0.1', port: 5060 } };
    if (flowId !== undefined) r.flowId = flowId;
    return r;
  }

  it('takes the flow of a reliable transport, whatever the Via says', () => {
    const source: Endpoint = { protocol: 'tcp', host: '203.0.113.5', port: 40000 };
    expect(responseTarget(received('SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bK1', source, 'flow-7')))
      .toEqual({ protocol: 'tcp', host: '203.0.113.5', port: 40000, flowId: 'flow-7' });
  });

  it('over UDP answers the source address, and the source port only when the client asked with rport', () => {
    const source = udpFrom('203.0.113.5', 40000);
    expect(responseTarget(received('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport', source))).toEqual({ protocol: 'udp', host: '203.0.113.5', port: 40000 });
    expect(responseTarget(received('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1', source))).toEqual({ protocol: 'udp', host: '203.0.113.5', port: 5070 });
    expect(responseTarget(received('SIP/2.0/UDP client.example.test;branch=z9hG4bK1', source))).toEqual({ protocol: 'udp', host: '203.0.113.5', port: 5060 });
  });
});
