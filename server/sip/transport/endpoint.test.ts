import { describe, expect, it } from 'vitest';
import { formatEndpoint, normalizeIp, peerKey, sameAddress, validateEndpoint } from './endpoint';

describe('transport addresses', () => {
  it('normalizes IP literals', () => {
    expect(normalizeIp('[::1]')).toBe('::1');
    expect(normalizeIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(normalizeIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(normalizeIp('::ffff:192.0.2.5')).toBe('192.0.2.5');
    expect(normalizeIp('192.0.2.5')).toBe('192.0.2.5');
    expect(normalizeIp('example.com')).toBeUndefined();
  });

  it('compares addresses, not spellings', () => {
    expect(sameAddress('::1', '[0::1]')).toBe(true);
    expect(sameAddress('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(sameAddress('host.test', 'host.test')).toBe(false); // names are never "the same address"
  });

  it('pools by protocol, address and port', () => {
    expect(peerKey('tcp', '0:0::1', 5060)).toBe(peerKey('tcp', '::1', 5060));
    expect(peerKey('tcp', '::1', 5060)).not.toBe(peerKey('tls', '::1', 5060));
  });

  it('prints IPv6 in brackets', () => {
    expect(formatEndpoint({ protocol: 'wss', host: '::1', port: 443 })).toBe('wss:[::1]:443');
  });

  it('validates send targets', () => {
    expect(validateEndpoint({ protocol: 'TCP' as 'tcp', host: '[::1]', port: 5060 })).toEqual({ protocol: 'tcp', host: '::1', port: 5060 });
    expect(() => validateEndpoint({ protocol: 'udp', host: 'sip.example.com', port: 5060 })).toThrow(/not an IP literal/);
    expect(() => validateEndpoint({ protocol: 'udp', host: '127.0.0.1', port: 0 })).toThrow(/port 0/);
    expect(() => validateEndpoint({ protocol: 'quic' as 'udp', host: '127.0.0.1', port: 1 })).toThrow(/unknown transport protocol 'quic'/);
  });
});
