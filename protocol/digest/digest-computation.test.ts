import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeDigestResponse, computeHa1, hashOf, parseDigestAlgorithm, type DigestHash, type DigestHashName } from './digest-computation';

const NAMES: Record<DigestHashName, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
const hash: DigestHash = (h, data) => createHash(NAMES[h]).update(data, 'utf8').digest('hex');

describe('computeDigestResponse against published vectors', () => {
  it('matches the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    expect(
      computeDigestResponse(
        {
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
        },
        hash,
      ),
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
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'MD5' }, hash)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('matches the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'SHA-256' }, hash)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('computes the RFC 2069 form when there is no qop', () => {
    // H(H(A1):nonce:H(A2)) with MD5; independent of nc/cnonce.
    const a = computeDigestResponse({ ...rfc7616, algorithm: 'MD5', qop: undefined, nc: undefined, cnonce: undefined }, hash);
    const b = computeDigestResponse({ ...rfc7616, algorithm: 'MD5', qop: undefined, nc: '00000009', cnonce: 'other' }, hash);
    expect(a).toBe(b);
    expect(a).not.toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('hands the injected hash the base hash name of every algorithm', () => {
    const seen = new Set<string>();
    const spy: DigestHash = (h, data) => {
      seen.add(h);
      return hash(h, data);
    };
    computeDigestResponse({ ...rfc7616, algorithm: 'SHA-512-256-sess' }, spy);
    expect([...seen]).toEqual(['SHA-512-256']);
    expect(hashOf('MD5-sess')).toBe('MD5');
  });
});

describe('session algorithms', () => {
  it('fold nonce and cnonce into HA1 (RFC 7616 §3.4.2)', () => {
    const base = { username: 'u', realm: 'r', password: 'p', nonce: 'n', cnonce: 'c' };
    expect(computeHa1({ ...base, algorithm: 'MD5-sess' }, hash)).not.toBe(computeHa1({ ...base, algorithm: 'MD5' }, hash));
    expect(computeHa1({ ...base, algorithm: 'MD5-sess' }, hash)).not.toBe(computeHa1({ ...base, algorithm: 'MD5-sess', cnonce: 'd' }, hash));
  });

  it('refuse to compute without a cnonce', () => {
    expect(() => computeHa1({ algorithm: 'SHA-256-sess', username: 'u', realm: 'r', password: 'p', nonce: 'n' }, hash)).toThrow(/cnonce/);
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
