/**
 * Interop: JsSIP 3.13's own Digest code (what the desktop client speaks) answering our challenges.
 */
import { createRequire } from 'node:module';
import { parse as parseJsSipHeader } from 'jssip/lib/Grammar';
import { describe, expect, it } from 'vitest';
import { DigestAuthenticator } from './digest';

interface JsSipDigestAuthentication {
  authenticate(request: { method: string; ruri: string; body?: string }, challenge: unknown, cnonce?: string | null): boolean;
  toString(): string;
}
type JsSipDigestConstructor = new (credentials: { username: string; password: string }) => JsSipDigestAuthentication;

const require = createRequire(import.meta.url);
const DigestAuthentication = require('jssip/lib/DigestAuthentication') as JsSipDigestConstructor;

const lookup = (username: string): string | undefined => (username === 'alice' ? 'wonderland' : undefined);

describe('JsSIP answering our challenge', () => {
  it('parses the challenge and is accepted for REGISTER, then again with nc=2 on the same nonce', () => {
    const server = new DigestAuthenticator({ realm: 'a.example' });
    const challenge: unknown = parseJsSipHeader(server.challenges()[0]!, 'WWW_Authenticate');
    expect(challenge).toMatchObject({ realm: 'a.example', qop: ['auth'], algorithm: 'MD5' });
    const jssip = new DigestAuthentication({ username: 'alice', password: 'wonderland' });
    const request = { method: 'REGISTER', ruri: 'sip:a.example' };
    expect(jssip.authenticate(request, challenge)).toBe(true);
    const first = jssip.toString();
    expect(server.verify({ method: 'REGISTER', uri: 'sip:a.example', authorization: [first] }, lookup)).toMatchObject({ ok: true, username: 'alice' });
    expect(jssip.authenticate(request, challenge)).toBe(true);
    const second = jssip.toString();
    expect(second).toContain('nc=00000002');
    expect(server.verify({ method: 'REGISTER', uri: 'sip:a.example', authorization: [second] }, lookup).ok).toBe(true);
    expect(server.verify({ method: 'REGISTER', uri: 'sip:a.example', authorization: [first] }, lookup)).toMatchObject({ ok: false, reason: 'replay' });
  });

  it('reads stale=true from our re-challenge', () => {
    const server = new DigestAuthenticator({ realm: 'a.example' });
    expect(parseJsSipHeader(server.challenges({ stale: true })[0]!, 'WWW_Authenticate')).toMatchObject({ stale: true });
  });

  it('is refused with a wrong password', () => {
    const server = new DigestAuthenticator({ realm: 'a.example' });
    const jssip = new DigestAuthentication({ username: 'alice', password: 'wrong' });
    jssip.authenticate({ method: 'INVITE', ruri: 'sip:bob@b.example' }, parseJsSipHeader(server.challenges()[0]!, 'WWW_Authenticate'));
    expect(server.verify({ method: 'INVITE', uri: 'sip:bob@b.example', authorization: [jssip.toString()] }, lookup)).toMatchObject({ reason: 'bad-credentials' });
  });
});
