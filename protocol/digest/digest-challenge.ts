/**
 * The client's view of Digest challenges: parsing `WWW-Authenticate` / `Proxy-Authenticate` values
 * (RFC 7616 §3.3, RFC 3261 §22.4) and choosing the one to answer (RFC 7616 §3.7).
 */
import { parseAuthHeader } from './auth-params';
import { parseDigestAlgorithm, type DigestAlgorithm } from './digest-computation';

/** A parsed Digest challenge, as a client sees it. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** The qop options offered (`qop="auth,auth-int"` → ['auth', 'auth-int']); empty for RFC 2069 style. */
  qop: string[];
  opaque?: string;
  stale: boolean;
}

/**
 * Parse every Digest challenge in `WWW-Authenticate` / `Proxy-Authenticate` values, skipping other schemes
 * and Digest challenges with algorithms we do not implement. Throws `AuthParamsError` on malformed values.
 */
export function parseDigestChallenges(values: readonly string[]): DigestChallenge[] {
  const out: DigestChallenge[] = [];
  for (const value of values) {
    for (const challenge of parseAuthHeader(value)) {
      if (challenge.scheme.toLowerCase() !== 'digest') continue;
      const p = challenge.params;
      const realm = p.get('realm');
      const nonce = p.get('nonce');
      const algorithm = parseDigestAlgorithm(p.get('algorithm'));
      if (realm === undefined || nonce === undefined || algorithm === undefined) continue;
      const parsed: DigestChallenge = {
        realm,
        nonce,
        algorithm,
        qop: (p.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q !== ''),
        stale: p.get('stale')?.toLowerCase() === 'true',
      };
      const opaque = p.get('opaque');
      if (opaque !== undefined) parsed.opaque = opaque;
      out.push(parsed);
    }
  }
  return out;
}

/**
 * Pick the challenge to answer: the first (the server's preference, RFC 7616 §3.7) whose algorithm is in
 * `accept`, optionally restricted to one realm.
 */
export function selectDigestChallenge(
  challenges: readonly DigestChallenge[],
  accept: readonly DigestAlgorithm[] = ['SHA-512-256', 'SHA-256', 'MD5', 'SHA-512-256-sess', 'SHA-256-sess', 'MD5-sess'],
  realm?: string,
): DigestChallenge | undefined {
  return challenges.find((c) => accept.includes(c.algorithm) && (realm === undefined || c.realm === realm) && (c.qop.length === 0 || c.qop.includes('auth')));
}
