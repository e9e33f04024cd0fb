/**
 * The Digest computation itself (RFC 7616 §3.4.1–3.4.3; RFC 2617 §3.2.2 for MD5; RFC 8760 for SIP's use of
 * SHA-256 and SHA-512/256; RFC 3261 §22.4 for SIP's method and digest-uri).
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
import { createHash, timingSafeEqual } from 'node:crypto';

/** Algorithms of the IANA "HTTP Digest Hash Algorithms" registry (RFC 7616 §6.1) that we implement. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** Every supported algorithm, in the order a server would prefer them. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-512-256', 'SHA-256', 'MD5', 'SHA-512-256-sess', 'SHA-256-sess', 'MD5-sess'];

const NODE_HASH: Readonly<Record<DigestAlgorithm, string>> = {
  'MD5': 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-sess': 'sha512-256',
};

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

/** H(data) as lower-case hex, the data encoded as UTF-8 (RFC 7616 §3.4.2 with charset=UTF-8). */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(NODE_HASH[algorithm]).update(data, 'utf8').digest('hex');
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
export function computeHa1(input: Pick<DigestInput, 'algorithm' | 'username' | 'realm' | 'password' | 'nonce' | 'cnonce'>): string {
  const base = digestHash(input.algorithm, `${input.username}:${input.realm}:${input.password}`);
  if (!isSessionAlgorithm(input.algorithm)) return base;
  if (input.cnonce === undefined) throw new Error(`${input.algorithm} needs a cnonce`);
  return digestHash(input.algorithm, `${base}:${input.nonce}:${input.cnonce}`);
}

/** The `response` value (RFC 7616 §3.4.1). Throws when qop is set without nc and cnonce. */
export function computeDigestResponse(input: DigestInput): string {
  const ha1 = computeHa1(input);
  const ha2 = digestHash(input.algorithm, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return digestHash(input.algorithm, `${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined) throw new Error('qop=auth needs nc and cnonce');
  return digestHash(input.algorithm, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

/** Constant-time comparison of two hex digests (case-insensitive); false when lengths differ. */
export function digestEquals(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
