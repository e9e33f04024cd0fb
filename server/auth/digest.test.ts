import { describe, expect, it } from 'vitest';
import {
  computeDigestResponse,
  DigestAuthenticator,
  DigestResponder,
  DigestCredentialsError,
  nodeDigestHash,
  parseDigestChallenges,
  parseDigestCredentials,
  selectDigestChallenge,
  type DigestAlgorithm,
} from './digest';

const users: Record<string, string> = { 'alice@a.example': 'wonderland', bob: 'builder' };
const lookup = (username: string): string | undefined => users[username];

function setup(algorithms: DigestAlgorithm[] = ['MD5'], start = 1_700_000_000_000) {
  let now = start;
  const server = new DigestAuthenticator({ realm: 'a.example', algorithms, secret: new Uint8Array(32).fill(1), now: () => now });
  const advance = (ms: number): void => {
    now += ms;
  };
  const session = (username = 'alice@a.example', password = 'wonderland', header?: string): DigestResponder => {
    const challenge = selectDigestChallenge(parseDigestChallenges([header ?? server.challenges()[0]!]));
    if (!challenge) throw new Error('no challenge');
    return new DigestResponder(challenge, username, password);
  };
  return { server, advance, session };
}

describe('a client answering our challenge', () => {
  it('is not told its nonce was forgotten when thousands of others were answered since it was challenged', () => {
    // 20,000 clients challenged and answering within the same second: far more than the tracker's count alone.
    const { server } = setup();
    const path = 'sip:a.example';
    const clients = Array.from({ length: 20_000 }, () => new DigestResponder(selectDigestChallenge(parseDigestChallenges(server.challenges()))!, 'bob', 'builder'));
    const first = clients[0]!;
    for (const c of clients.slice(1)) expect(server.verify({ method: 'REGISTER', uri: path, authorization: [c.authorize('REGISTER', path)] }, lookup).ok).toBe(true);
    expect(server.verify({ method: 'REGISTER', uri: path, authorization: [first.authorize('REGISTER', path)] }, lookup)).toMatchObject({ ok: true });
  });

  it.each<DigestAlgorithm>(['MD5', 'SHA-256', 'SHA-512-256', 'MD5-sess'])('is accepted with %s', (algorithm) => {
    const { server, session } = setup([algorithm]);
    const auth = session().authorize('REGISTER', 'sip:a.example');
    const result = server.verify({ method: 'REGISTER', uri: 'sip:a.example', authorization: [auth] }, lookup);
    expect(result).toMatchObject({ ok: true, username: 'alice@a.example', algorithm });
  });

  it('may reuse the nonce with increasing nc for later requests', () => {
    const { server, session } = setup();
    const s = session();
    for (const path of ['/v1/conversations', '/v1/messages', '/v1/conversations']) {
      expect(server.verify({ method: 'GET', uri: path, authorization: [s.authorize('GET', path)] }, lookup).ok).toBe(true);
    }
  });

  it('is accepted with an upper-case nc, which enters the hash as sent', () => {
    const { server } = setup();
    const challenge = parseDigestChallenges(server.challenges())[0]!;
    const fields = { algorithm: 'MD5' as const, username: 'bob', realm: 'a.example', nonce: challenge.nonce, uri: 'sip:a.example', qop: 'auth' as const, nc: '0000000A', cnonce: 'xyz' };
    const response = computeDigestResponse({ ...fields, password: 'builder', method: 'REGISTER' }, nodeDigestHash);
    const header = `Digest username="bob", realm="a.example", nonce="${challenge.nonce}", uri="sip:a.example", response="${response}", qop=auth, nc=0000000A, cnonce="xyz", opaque="${challenge.opaque!}"`;
    expect(server.verify({ method: 'REGISTER', uri: 'sip:a.example', authorization: [header] }, lookup)).toMatchObject({ ok: true, username: 'bob' });
  });

  it('picks the first challenge the server prefers among several (RFC 7616 §3.7)', () => {
    const { server } = setup(['SHA-256', 'MD5']);
    const challenges = parseDigestChallenges(server.challenges());
    expect(challenges.map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(selectDigestChallenge(challenges)?.algorithm).toBe('SHA-256');
    expect(selectDigestChallenge(challenges, ['MD5'])?.algorithm).toBe('MD5'); // what JsSIP can do
  });
});

describe('the challenge', () => {
  it('is written the way JsSIP and SIPp parse it: quoted qop, token algorithm, opaque, no stale by default', () => {
    const { server } = setup();
    const [value] = server.challenges();
    expect(value).toMatch(/^Digest realm="a\.example", qop="auth", algorithm=MD5, nonce="[A-Za-z0-9_-]+", opaque="[A-Za-z0-9_-]+"$/);
    expect(server.challenges({ stale: true })[0]).toMatch(/, stale=true$/);
  });

  it('carries a different nonce each time', () => {
    const { server } = setup();
    const [a] = parseDigestChallenges(server.challenges());
    const [b] = parseDigestChallenges(server.challenges());
    expect(a?.nonce).not.toBe(b?.nonce);
  });
});

describe('verification refuses', () => {
  it('a wrong password and an unknown user alike', () => {
    const { server, session } = setup();
    const wrong = server.verify({ method: 'GET', uri: '/', authorization: [session('alice@a.example', 'guess').authorize('GET', '/')] }, lookup);
    const unknown = server.verify({ method: 'GET', uri: '/', authorization: [session('mallory', 'x').authorize('GET', '/')] }, lookup);
    expect(wrong).toMatchObject({ ok: false, reason: 'bad-credentials', stale: false });
    expect(unknown).toMatchObject({ ok: false, reason: 'bad-credentials', stale: false });
  });

  it('a replayed request (same nonce and nc) with stale=true', () => {
    const { server, session } = setup();
    const auth = session().authorize('GET', '/');
    expect(server.verify({ method: 'GET', uri: '/', authorization: [auth] }, lookup).ok).toBe(true);
    expect(server.verify({ method: 'GET', uri: '/', authorization: [auth] }, lookup)).toMatchObject({ ok: false, reason: 'replay', stale: true });
  });

  it('an expired nonce with stale=true when the response is right, as bad credentials when it is not', () => {
    const { server, advance, session } = setup();
    const good = session();
    const bad = session('alice@a.example', 'nope');
    advance(300_001);
    expect(server.verify({ method: 'GET', uri: '/', authorization: [good.authorize('GET', '/')] }, lookup)).toMatchObject({ reason: 'stale-nonce', stale: true });
    expect(server.verify({ method: 'GET', uri: '/', authorization: [bad.authorize('GET', '/')] }, lookup)).toMatchObject({ reason: 'bad-credentials', stale: false });
  });

  it('credentials computed for another request target (RFC 7616 §3.4.6)', () => {
    const { server, session } = setup();
    const auth = session().authorize('GET', '/v1/conversations');
    expect(server.verify({ method: 'GET', uri: '/v1/conversations/other/messages', authorization: [auth] }, lookup)).toMatchObject({ reason: 'uri-mismatch' });
  });

  it('credentials computed for another method', () => {
    const { server, session } = setup();
    const auth = session().authorize('GET', '/x');
    expect(server.verify({ method: 'POST', uri: '/x', authorization: [auth] }, lookup)).toMatchObject({ reason: 'bad-credentials' });
  });

  it('a nonce this server did not issue', () => {
    const { server } = setup();
    const other = new DigestAuthenticator({ realm: 'a.example', secret: new Uint8Array(32).fill(2) });
    const challenge = selectDigestChallenge(parseDigestChallenges(other.challenges()))!;
    const auth = new DigestResponder(challenge, 'alice@a.example', 'wonderland').authorize('GET', '/').replace(/, opaque="[^"]*"/, '');
    expect(server.verify({ method: 'GET', uri: '/', authorization: [auth] }, lookup)).toMatchObject({ reason: 'invalid-nonce' });
  });

  it('an algorithm that was not offered', () => {
    const { server } = setup(['SHA-256']);
    const md5 = setup(['MD5']);
    const auth = md5.session().authorize('GET', '/');
    expect(server.verify({ method: 'GET', uri: '/', authorization: [auth] }, lookup)).toMatchObject({ reason: 'algorithm-not-offered' });
  });

  it('RFC 2069 credentials without qop', () => {
    const { server } = setup();
    const header = server.challenges()[0]!.replace('qop="auth", ', '');
    const auth = setup().session('alice@a.example', 'wonderland', header).authorize('GET', '/');
    expect(auth).not.toContain('nc=');
    expect(server.verify({ method: 'GET', uri: '/', authorization: [auth] }, lookup)).toMatchObject({ reason: 'qop-required' });
  });

  it('a changed opaque', () => {
    const { server, session } = setup();
    const auth = session().authorize('GET', '/').replace(/opaque="[^"]*"/, 'opaque="forged"');
    expect(server.verify({ method: 'GET', uri: '/', authorization: [auth] }, lookup)).toMatchObject({ reason: 'opaque-mismatch' });
  });

  it('no credentials, or credentials for another realm only', () => {
    const { server, session } = setup();
    expect(server.verify({ method: 'GET', uri: '/', authorization: [] }, lookup)).toMatchObject({ reason: 'missing' });
    const foreign = session().authorize('GET', '/').replace('realm="a.example"', 'realm="b.example"');
    expect(server.verify({ method: 'GET', uri: '/', authorization: ['Basic Zm9vOmJhcg==', foreign] }, lookup)).toMatchObject({ reason: 'missing' });
  });

  it('picks our realm among several credentials (RFC 3261 §22.3)', () => {
    const { server, session } = setup();
    const ours = session().authorize('INVITE', 'sip:bob@b.example');
    const foreign = 'Digest username="x", realm="b.example", nonce="n", uri="sip:bob@b.example", response="00000000000000000000000000000000"';
    expect(server.verify({ method: 'INVITE', uri: 'sip:bob@b.example', authorization: [foreign, ours] }, lookup).ok).toBe(true);
  });

  it('malformed headers with a reason and never throws on junk', () => {
    const { server } = setup();
    expect(server.verify({ method: 'GET', authorization: ['Digest username="alice'] }, lookup)).toMatchObject({ reason: 'malformed' });
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'Digest usernamrlcoq=",\\ \t\r\n\u0000é0123456789abcdef';
    for (let i = 0; i < 2000; i++) {
      let junk = 'Digest ';
      const len = Math.floor(rand() * 80);
      for (let j = 0; j < len; j++) junk += alphabet[Math.floor(rand() * alphabet.length)];
      expect(server.verify({ method: 'GET', uri: '/', authorization: [junk] }, lookup).ok).toBe(false);
    }
  });
});

describe('parseDigestCredentials', () => {
  it('reads the RFC 7616 §3.9.1 SHA-256 Authorization example', () => {
    const c = parseDigestCredentials(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect(c).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    });
  });

  it.each([
    ['another scheme', 'Basic Zm9vOmJhcg=='],
    ['a missing response', 'Digest username="a", realm="r", nonce="n", uri="/"'],
    ['a response of the wrong length', 'Digest username="a", realm="r", nonce="n", uri="/", response="abc"'],
    ['auth-int', 'Digest username="a", realm="r", nonce="n", uri="/", response="00000000000000000000000000000000", qop=auth-int, nc=00000001, cnonce="c"'],
    ['a bad nc', 'Digest username="a", realm="r", nonce="n", uri="/", response="00000000000000000000000000000000", qop=auth, nc=1, cnonce="c"'],
    ['qop without cnonce', 'Digest username="a", realm="r", nonce="n", uri="/", response="00000000000000000000000000000000", qop=auth, nc=00000001'],
    ['an unknown algorithm', 'Digest username="a", realm="r", nonce="n", uri="/", response="00000000000000000000000000000000", algorithm=SHA-1'],
    ['userhash', 'Digest username="a", realm="r", nonce="n", uri="/", response="00000000000000000000000000000000", userhash=true'],
    ['two sets of credentials', 'Digest username="a", Digest username="b"'],
  ])('refuses %s', (_name, value) => {
    expect(() => parseDigestCredentials(value)).toThrow(DigestCredentialsError);
  });
});
