import { describe, expect, it } from 'vitest';
import { createRequest, createResponse } from '../message/sip-message';
import type { Endpoint } from './transport-types';
import { responseDestination, stampReceivedVia, topVia } from './via-routing';

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
  it('goes to received and rport over UDP', () => {
    expect(responseDestination(responseWithVia('SIP/2.0/UDP host.test:5062;rport=40001;received=192.0.2.1;branch=z9hG4bK1')))
      .toEqual({ protocol: 'udp', host: '192.0.2.1', port: 40001 });
  });

  it('goes to received and the sent-by port without rport', () => {
    expect(responseDestination(responseWithVia('SIP/2.0/UDP host.test:5062;received=192.0.2.1;branch=z9hG4bK1')))
      .toEqual({ protocol: 'udp', host: '192.0.2.1', port: 5062 });
  });

  it('goes to maddr when present', () => {
    expect(responseDestination(responseWithVia('SIP/2.0/UDP 192.0.2.1;maddr=239.255.255.1;ttl=1;branch=z9hG4bK1')))
      .toEqual({ protocol: 'udp', host: '239.255.255.1', port: 5060 });
  });

  it('uses the default port of the transport (5061 for TLS)', () => {
    expect(responseDestination(responseWithVia('SIP/2.0/TLS [2001:db8::1];branch=z9hG4bK1')))
      .toEqual({ protocol: 'tls', host: '2001:db8::1', port: 5061 });
  });

  it('ignores rport for a reliable transport: connections go to the sent-by port', () => {
    expect(responseDestination(responseWithVia('SIP/2.0/TCP h.test:5070;rport=40001;received=192.0.2.1;branch=z9hG4bK1')))
      .toEqual({ protocol: 'tcp', host: '192.0.2.1', port: 5070 });
  });

  it('refuses a domain name it would have to resolve', () => {
    expect(() => responseDestination(responseWithVia('SIP/2.0/UDP host.test;branch=z9hG4bK1'))).toThrow(/RFC 3263/);
  });

  it('refuses a transport it does not speak', () => {
    expect(() => responseDestination(responseWithVia('SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1'))).toThrow(/SCTP/);
  });
});
