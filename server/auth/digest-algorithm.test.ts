import { describe, expect, it } from 'vitest';
import { computeDigestResponse, computeHa1, digestEquals, parseDigestAlgorithm } from './digest-algorithm';

describe('computeDigestResponse against published vectors', () => {
  it('matches the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    expect(
      computeDigestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  const rfc7616 = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('matches the RFC 7616 §3.9.1 MD5 example', () => {
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('matches the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('computes the RFC 2069 form when there is no qop', () => {
    // H(H(A1):nonce:H(A2)) with MD5; independent of nc/cnonce.
    const a = computeDigestResponse({ ...rfc7616, algorithm: 'MD5', qop: undefined, nc: undefined, cnonce: undefined });
    const b = computeDigestResponse({ ...rfc7616, algorithm: 'MD5', qop: undefined, nc: '00000009', cnonce: 'other' });
    expect(a).toBe(b);
    expect(a).not.toBe('8ca523f5e9506fed4657c9700eebdbec');
  });
});

describe('session algorithms', () => {
  it('fold nonce and cnonce into HA1 (RFC 7616 §3.4.2)', () => {
    const base = { username: 'u', realm: 'r', password: 'p', nonce: 'n', cnonce: 'c' };
    expect(computeHa1({ ...base, algorithm: 'MD5-sess' })).not.toBe(computeHa1({ ...base, algorithm: 'MD5' }));
    expect(computeHa1({ ...base, algorithm: 'MD5-sess' })).not.toBe(computeHa1({ ...base, algorithm: 'MD5-sess', cnonce: 'd' }));
  });

  it('refuse to compute without a cnonce', () => {
    expect(() => computeHa1({ algorithm: 'SHA-256-sess', username: 'u', realm: 'r', password: 'p', nonce: 'n' })).toThrow(/cnonce/);
  });
});

describe('parseDigestAlgorithm', () => {
  it('defaults to MD5, ignores case and refuses unknown names', () => {
    expect(parseDigestAlgorithm(undefined)).toBe('MD5');
    expect(parseDigestAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseDigestAlgorithm('sha-512-256-SESS')).toBe('SHA-512-256-sess');
    expect(parseDigestAlgorithm('SHA-1')).toBeUndefined();
  });
});

describe('digestEquals', () => {
  it('compares case-insensitively and refuses different lengths', () => {
    expect(digestEquals('ABCDEF', 'abcdef')).toBe(true);
    expect(digestEquals('abcdef', 'abcde0')).toBe(false);
    expect(digestEquals('abc', 'abcd')).toBe(false);
  });
});
