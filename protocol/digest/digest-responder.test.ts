import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseAuthHeader } from './auth-params';
import { parseDigestChallenges, selectDigestChallenge } from './digest-challenge';
import type { DigestHash, DigestHashName } from './digest-computation';
import { DigestResponder } from './digest-responder';

const NAMES: Record<DigestHashName, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
const hash: DigestHash = (h, data) => createHash(NAMES[h]).update(data, 'utf8').digest('hex');

// RFC 7616 §3.9.1: the challenge, and the SHA-256 Authorization it answers with.
const CHALLENGE =
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
const CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

function responder(accept?: Parameters<typeof selectDigestChallenge>[1]): DigestResponder {
  const challenge = selectDigestChallenge(parseDigestChallenges([CHALLENGE]), accept);
  if (!challenge) throw new Error('no challenge');
  return new DigestResponder(challenge, { username: 'Mufasa', password: 'Circle of Life' }, hash, CNONCE);
}

describe('answering the RFC 7616 §3.9.1 challenge', () => {
  it('prefers SHA-256 as the server listed it first and reproduces the published response', () => {
    const [credentials] = parseAuthHeader(responder().authorize('GET', '/dir/index.html'));
    expect(Object.fromEntries(credentials!.params)).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      qop: 'auth',
      nc: '00000001',
      cnonce: CNONCE,
    });
  });

  it('reproduces the MD5 response when only MD5 is acceptable (what JsSIP speaks)', () => {
    expect(responder(['MD5']).authorize('GET', '/dir/index.html')).toContain('response="8ca523f5e9506fed4657c9700eebdbec"');
  });

  it('counts nc up on the same nonce, changing the response each time', () => {
    const r = responder();
    const first = parseAuthHeader(r.authorize('GET', '/a'))[0]!.params;
    const second = parseAuthHeader(r.authorize('GET', '/a'))[0]!.params;
    expect([first.get('nc'), second.get('nc')]).toEqual(['00000001', '00000002']);
    expect(first.get('response')).not.toBe(second.get('response'));
    expect(r.nonceCount).toBe(2);
  });

  it('draws a fresh random cnonce when none is given', () => {
    const challenge = parseDigestChallenges([CHALLENGE])[0]!;
    const cnonce = (r: DigestResponder): string | undefined => parseAuthHeader(r.authorize('GET', '/'))[0]!.params.get('cnonce');
    const a = new DigestResponder(challenge, { username: 'u', password: 'p' }, hash);
    const b = new DigestResponder(challenge, { username: 'u', password: 'p' }, hash);
    expect(cnonce(a)).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(cnonce(a)).not.toBe(cnonce(b));
  });

  it('refuses a challenge offering only auth-int', () => {
    const [challenge] = parseDigestChallenges(['Digest realm="r", nonce="n", qop="auth-int"']);
    expect(() => new DigestResponder(challenge!, { username: 'u', password: 'p' }, hash)).toThrow(/qop/);
  });
});
