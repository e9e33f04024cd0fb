import { describe, expect, it } from 'vitest';
import { FakeTransport } from '../transaction/fake-transport';
import { sampleRequest } from '../transaction/sample-messages';
import { ProxyAddresses } from './proxy-addresses';
import { adaptForStrictRouter, firstRouteUri, processReceivedRoutes } from './route-processing';

const addresses = new ProxyAddresses(new FakeTransport([
  { protocol: 'udp', host: '127.0.0.1', port: 5060 },
  { protocol: 'ws', host: '127.0.0.1', port: 8080 },
]));

describe('route processing (§16.4)', () => {
  it('removes every leading Route value of ours and keeps the rest', () => {
    const r = sampleRequest('BYE', { uri: 'sip:bob@192.0.2.9' });
    r.headers.append('Route', '<sip:127.0.0.1:8080;transport=ws;lr>, <sip:127.0.0.1;lr>');
    r.headers.append('Route', '<sip:192.0.2.70;lr>, <sip:127.0.0.1:5060;lr>');
    processReceivedRoutes(r, addresses);
    expect(r.headers.values('Route')).toEqual(['<sip:192.0.2.70;lr>', '<sip:127.0.0.1:5060;lr>']);
    expect(firstRouteUri(r)?.host).toBe('192.0.2.70');
  });

  it('does not take a foreign port on our host for ours', () => {
    const r = sampleRequest('BYE');
    r.headers.append('Route', '<sip:127.0.0.1:5070;lr>');
    processReceivedRoutes(r, addresses);
    expect(r.headers.values('Route')).toEqual(['<sip:127.0.0.1:5070;lr>']);
  });

  it('undoes strict routing: our URI as Request-URI gives way to the last Route value', () => {
    const r = sampleRequest('BYE', { uri: 'sip:127.0.0.1:5060' });
    r.headers.append('Route', '<sip:192.0.2.70;lr>, <sip:bob@192.0.2.9>');
    processReceivedRoutes(r, addresses);
    expect(r.uri).toBe('sip:bob@192.0.2.9');
    expect(r.headers.values('Route')).toEqual(['<sip:192.0.2.70;lr>']);
  });

  it('reformats for a strict next hop and leaves a loose one alone (§16.6 item 6)', () => {
    const loose = sampleRequest('BYE', { uri: 'sip:bob@192.0.2.9' });
    loose.headers.append('Route', '<sip:192.0.2.70;lr>');
    expect(adaptForStrictRouter(loose)).toBe(false);
    const strict = sampleRequest('BYE', { uri: 'sip:bob@192.0.2.9' });
    strict.headers.append('Route', '<sip:192.0.2.71>, <sip:192.0.2.72;lr>');
    expect(adaptForStrictRouter(strict)).toBe(true);
    expect(strict.uri).toBe('sip:192.0.2.71');
    expect(strict.headers.values('Route')).toEqual(['<sip:192.0.2.72;lr>', '<sip:bob@192.0.2.9>']);
  });

  it('throws on a malformed Route', () => {
    const r = sampleRequest('BYE');
    r.headers.append('Route', '<sip:127.0.0.1:5060;lr');
    expect(() => processReceivedRoutes(r, addresses)).toThrow();
  });
});
