/**
 * The Digest computation itself (RFC 7616 §3.4.1–3.4.3; RFC 2617 §3.2.2 for MD5; RFC 8760 for SIP's use of
 * SHA-256 and SHA-512/256; RFC 3261 §22.4 for SIP's method and digest-uri), with the hash function injected:
 * protocol/ cannot import `node:crypto`, and WebCrypto has no MD5. The server and the device pass a hash built
 * on `node:crypto`.
 *
 * ```
 * A1       = username ":" realm ":" password                    (plain algorithms)
 * A1       = H(username ":" realm ":" password) ":" nonce ":" cnonce   (-sess algorithms)
 * A2       = method ":" digest-uri                              (qop=auth, or no qop)
 * response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))   (qop=auth)
 * response = H(H(A1) ":" nonce ":" H(A2))                       (no qop, RFC 2069 compatibility)
 * ```
 * Only `qop=auth` is supported; `auth-int` (which covers the body) is not.
 */

/** Algorithms of the IANA "HTTP Digest Hash Algorithms" registry (RFC 7616 §6.1) that we implement. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** The hash functions under those algorithms. */
export type DigestHashName = 'MD5' | 'SHA-256' | 'SHA-512-256';

/**
 * H(data): the named hash of `data` encoded as UTF-8 (RFC 7616 §3.4.2 with charset=UTF-8), as lower-case hex.
 * Injected by the caller (e.g. `createHash(...).update(data, 'utf8').digest('hex')` under Node).
 */
export type DigestHash = (hash: DigestHashName, data: string) => string;

/** Every supported algorithm, in the order a server would prefer them. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-512-256', 'SHA-256', 'MD5', 'SHA-512-256-sess', 'SHA-256-sess', 'MD5-sess'];

/** Length in hex digits of each algorithm's output. */
export const DIGEST_HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  'MD5': 32,
  'MD5-sess': 32,
  'SHA-256': 64,
  'SHA-256-sess': 64,
  'SHA-512-256': 64,
  'SHA-512-256-sess': 64,
};

/** The algorithm named by an `algorithm` parameter (case-insensitive), or undefined when unsupported. */
export function parseDigestAlgorithm(name: string | undefined): DigestAlgorithm | undefined {
  if (name === undefined) return 'MD5'; // RFC 7616 §3.3: absent means MD5
  const lower = name.toLowerCase();
  return DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === lower);
}

/** True for the `-sess` variants, whose A1 includes the nonce and cnonce. */
export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

/** The hash function under an algorithm (`SHA-256-sess` → `SHA-256`). */
export function hashOf(algorithm: DigestAlgorithm): DigestHashName {
  return (isSessionAlgorithm(algorithm) ? algorithm.slice(0, -'-sess'.length) : algorithm) as DigestHashName;
}

/** Everything the response computation needs. */
export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  /** The request method (`REGISTER`, `GET`…); for `rspauth` it is the empty string (RFC 7616 §3.5). */
  method: string;
  /** The digest-uri exactly as sent in the `uri` parameter. */
  uri: string;
  nonce: string;
  /** Present with qop=auth. */
  qop?: 'auth';
  /** 8 hex digits, with qop. */
  nc?: string;
  /** Client nonce, with qop or with a -sess algorithm. */
  cnonce?: string;
}

/** H(A1) for the input, including the -sess step (RFC 7616 §3.4.2). */
export function computeHa1(input: Pick<DigestInput, 'algorithm' | 'username' | 'realm' | 'password' | 'nonce' | 'cnonce'>, hash: DigestHash): string {
  const h = hashOf(input.algorithm);
  const base = hash(h, `${input.username}:${input.realm}:${input.password}`);
  if (!isSessionAlgorithm(input.algorithm)) return base;
  if (input.cnonce === undefined) throw new Error(`${input.algorithm} needs a cnonce`);
  return hash(h, `${base}:${input.nonce}:${input.cnonce}`);
}

/** The `response` value (RFC 7616 §3.4.1). Throws when qop is set without nc and cnonce. */
export function computeDigestResponse(input: DigestInput, hash: DigestHash): string {
  const h = hashOf(input.algorithm);
  return digestResponseFromHashes(input, computeHa1(input, hash), hash(h, `${input.method}:${input.uri}`), hash);
}

/**
 * The `response` value from H(A1) (with its -sess step done) and H(A2) (RFC 7616 §3.4.1): a server that sees the
 * same user and request target again and again keeps those two and hashes only this last step.
 */
export function digestResponseFromHashes(input: Pick<DigestInput, 'algorithm' | 'nonce' | 'qop' | 'nc' | 'cnonce'>, ha1: string, ha2: string, hash: DigestHash): string {
  const h = hashOf(input.algorithm);
  if (input.qop === undefined) return hash(h, `${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined) throw new Error('qop=auth needs nc and cnonce');
  return hash(h, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}
