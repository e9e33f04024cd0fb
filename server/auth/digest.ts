/**
 * HTTP and SIP Digest access authentication: the server side (challenge, verify) and the client side
 * (answer a challenge), shared by the SIP registrar and the Message Store's HTTP API.
 *
 * Standards: RFC 7616 (HTTP Digest, obsoletes RFC 2617), RFC 3261 §22.4 (SIP's use of Digest: the same
 * computation, `uri` is the Request-URI, 401 `WWW-Authenticate` / 407 `Proxy-Authenticate`), RFC 8760
 * (SHA-256 and SHA-512/256 in SIP). Only `qop=auth` is offered and accepted.
 *
 * The server is stateless per challenge: nonces carry their issue time signed with an HMAC
 * (`digest-nonce.ts`). Its only memory is the bounded nonce-count tracker for replay protection.
 *
 * ```
 *  client                                  server
 *    | request (no credentials)              |
 *    |-------------------------------------->| verify → missing
 *    |   401 WWW-Authenticate: Digest …      | challenges()
 *    |<--------------------------------------|
 *    | request + Authorization: Digest …     |
 *    |-------------------------------------->| verify → ok (nc recorded)
 *    |   2xx                                 |
 *    |   … later, nonce too old …            | verify → stale-nonce
 *    |   401 …, stale=true                   | challenges({ stale: true }): retry without asking the user
 * ```
 */
import { createHmac, randomBytes } from 'node:crypto';
import { AuthParamsError, formatAuthHeader, parseAuthHeader, type AuthParamOut, type AuthParams } from '../../protocol/digest/auth-params';
import type { DigestChallenge } from '../../protocol/digest/digest-challenge';
import {
  DIGEST_HEX_LENGTH,
  digestResponseFromHashes,
  hashOf,
  isSessionAlgorithm,
  parseDigestAlgorithm,
  type DigestAlgorithm,
} from '../../protocol/digest/digest-computation';
import { DigestResponder as PortableDigestResponder } from '../../protocol/digest/digest-responder';
import { NonceSigner } from './digest-nonce';
import { digestEquals, nodeDigestHash } from './node-digest-hash';
import { NonceCountTracker } from './nonce-count-tracker';

// The I/O-free half lives in protocol/digest (shared with the device); re-exported here for server code.
export { computeDigestResponse, computeHa1, DIGEST_ALGORITHMS, parseDigestAlgorithm } from '../../protocol/digest/digest-computation';
export type { DigestAlgorithm, DigestHash, DigestInput } from '../../protocol/digest/digest-computation';
export { parseDigestChallenges, selectDigestChallenge } from '../../protocol/digest/digest-challenge';
export type { DigestChallenge } from '../../protocol/digest/digest-challenge';
export { AuthParamsError, formatAuthHeader, parseAuthHeader, quoteString } from '../../protocol/digest/auth-params';
export type { AuthParams, AuthParamOut } from '../../protocol/digest/auth-params';
export { digestEquals, nodeDigestHash } from './node-digest-hash';

/** Parsed `Authorization` / `Proxy-Authorization` Digest credentials (RFC 7616 §3.4). */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/** Thrown by `parseDigestCredentials` with the reason the header was refused. */
export class DigestCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestCredentialsError';
  }
}

const MAX_FIELD = 1024;

/** `^[0-9a-f]{n}$` for each algorithm's digest length, compiled once rather than for every request. */
const HEX_DIGEST_PATTERNS = new Map<DigestAlgorithm, RegExp>();

function hexDigestPattern(algorithm: DigestAlgorithm): RegExp {
  let pattern = HEX_DIGEST_PATTERNS.get(algorithm);
  if (pattern === undefined) {
    pattern = new RegExp(`^[0-9a-f]{${DIGEST_HEX_LENGTH[algorithm]}}$`);
    HEX_DIGEST_PATTERNS.set(algorithm, pattern);
  }
  return pattern;
}

/**
 * Parse an `Authorization` or `Proxy-Authorization` value holding Digest credentials. Throws
 * `DigestCredentialsError` on malformed input, a scheme other than Digest, missing or oversize
 * parameters, an unsupported algorithm or qop, `userhash=true` (not supported), or a badly formed nc.
 */
export function parseDigestCredentials(value: string): DigestCredentials {
  let parsed: AuthParams[];
  try {
    parsed = parseAuthHeader(value);
  } catch (error) {
    throw new DigestCredentialsError(error instanceof AuthParamsError ? error.message : 'unparsable credentials');
  }
  if (parsed.length !== 1) throw new DigestCredentialsError(`expected one set of credentials, found ${parsed.length}`);
  const [only] = parsed;
  if (only === undefined || only.scheme.toLowerCase() !== 'digest') throw new DigestCredentialsError('scheme is not Digest');
  const p = only.params;
  const algorithm = parseDigestAlgorithm(p.get('algorithm'));
  if (algorithm === undefined) throw new DigestCredentialsError(`unsupported algorithm ${p.get('algorithm') ?? ''}`);
  if (p.get('userhash')?.toLowerCase() === 'true') throw new DigestCredentialsError('userhash is not supported');
  if (p.has('username*')) throw new DigestCredentialsError('username* is not supported');
  const creds: DigestCredentials = {
    username: need(p, 'username'),
    realm: need(p, 'realm'),
    nonce: need(p, 'nonce'),
    uri: need(p, 'uri'),
    response: need(p, 'response').toLowerCase(),
    algorithm,
  };
  if (!hexDigestPattern(algorithm).test(creds.response)) {
    throw new DigestCredentialsError(`response is not a ${algorithm} digest`);
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) creds.opaque = opaque;
  const qop = p.get('qop');
  if (qop !== undefined) {
    // qop and nc enter the hash as sent, so they are kept verbatim.
    if (qop !== 'auth') throw new DigestCredentialsError(`unsupported qop ${qop}`);
    creds.qop = 'auth';
    const nc = need(p, 'nc');
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) throw new DigestCredentialsError('nc must be 8 hex digits');
    creds.nc = nc;
    creds.cnonce = need(p, 'cnonce');
  }
  return creds;
}

/** Why verification failed. */
export type DigestFailure =
  | 'missing' // no credentials for this realm
  | 'malformed' // credentials do not parse
  | 'realm-mismatch'
  | 'algorithm-not-offered'
  | 'qop-required' // we offered qop=auth; RFC 2069 style credentials are refused
  | 'uri-mismatch' // uri parameter differs from the request target (RFC 7616 §3.4.6)
  | 'opaque-mismatch'
  | 'invalid-nonce' // not issued by us
  | 'stale-nonce' // ours, correct response, but too old: answer with stale=true
  | 'bad-credentials' // unknown user or wrong password (indistinguishable to the client)
  | 'replay'; // nc already used with this nonce, or nonce forgotten: answer with stale=true

/** A parameter the credentials must carry, non-empty and of bounded length. */
function need(params: ReadonlyMap<string, string>, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === '') throw new DigestCredentialsError(`missing ${name}`);
  if (v.length > MAX_FIELD) throw new DigestCredentialsError(`${name} is too long`);
  return v;
}

/** Outcome of `DigestAuthenticator.verify`. */
export type DigestVerification =
  | { ok: true; username: string; algorithm: DigestAlgorithm; credentials: DigestCredentials }
  | { ok: false; reason: DigestFailure; detail: string; /** Send the next challenge with stale=true. */ stale: boolean };

/** Configuration of a Digest server. */
export interface DigestServerOptions {
  /** Protection space, e.g. the SIP domain (RFC 3261 §22.1). */
  realm: string;
  /** HMAC key for nonces, ≥ 32 bytes. Random per process when omitted (nonces then die with the process). */
  secret?: Uint8Array;
  /** Algorithms to offer, most preferred first (RFC 7616 §3.7). Default `['MD5']`, what JsSIP speaks. */
  algorithms?: readonly DigestAlgorithm[];
  /** How long a nonce stays fresh. Default 5 minutes. */
  nonceLifetimeMs?: number;
  /** How many nonces the replay tracker remembers whatever their age. Default 10,000. */
  replayCapacity?: number;
  /**
   * Beyond `replayCapacity`, nonces issued less than this long ago (ms) are still remembered, so that a client
   * answering its challenge within that time is never told its nonce was forgotten however busy the server is.
   * Default 32 s: 64·T1, the life of the client's REGISTER transaction (RFC 3261 §17.1.2.2, Timer F).
   */
  replayRetainMs?: number;
  /** Hard bound on the nonces remembered, whatever their age (memory: about 150 bytes each). Default 500,000. */
  replayMaxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** What the request being authenticated looked like. */
export interface DigestRequest {
  method: string;
  /**
   * The request target (HTTP path and query, or SIP Request-URI). When given, the `uri` parameter must equal it
   * exactly (RFC 7616 §3.4.6). Omit only where an intermediary may have rewritten the target.
   */
  uri?: string;
  /** Every `Authorization` (or `Proxy-Authorization`) header value on the request. */
  authorization: readonly string[];
}

/** Looks up a user's password for a realm; undefined for an unknown user. */
export type PasswordLookup = (username: string, realm: string) => string | undefined;

/**
 * A Digest server for one realm: issues challenges and verifies credentials.
 */
export class DigestAuthenticator {
  /** The realm challenged for. */
  readonly realm: string;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly nonces: NonceSigner;
  private readonly tracker: NonceCountTracker;
  private readonly opaque: string;
  private readonly now: () => number;
  private readonly lifetimeMs: number;
  private lastPrune = 0;
  private freshTemplates: [string, string][] | undefined;
  private staleTemplates: [string, string][] | undefined;
  /** H(A1) by algorithm, user, realm and password; H(A2) by algorithm, method and uri (see `expectedResponse`). */
  private readonly ha1s = new Map<string, string>();
  private readonly ha2s = new Map<string, string>();

  constructor(options: DigestServerOptions) {
    if (options.realm === '' || /["\\\x00-\x1f\x7f]/.test(options.realm)) throw new Error('realm must be non-empty printable text without quotes or backslashes');
    this.realm = options.realm;
    this.algorithms = options.algorithms ?? ['MD5'];
    if (this.algorithms.length === 0) throw new Error('at least one algorithm must be offered');
    const secret = options.secret ?? randomBytes(32);
    this.lifetimeMs = options.nonceLifetimeMs ?? 300_000;
    this.nonces = new NonceSigner(secret, this.realm, this.lifetimeMs);
    const capacity = options.replayCapacity ?? 10_000;
    this.tracker = new NonceCountTracker({
      capacity,
      retainMs: options.replayRetainMs ?? 32_000,
      maxEntries: Math.max(capacity, options.replayMaxEntries ?? 500_000),
    });
    this.now = options.now ?? Date.now;
    // A fixed opaque per realm and secret: the client must echo it (RFC 7616 §3.3); it carries no state.
    this.opaque = createHmac('sha256', secret).update('opaque\0').update(this.realm, 'utf8').digest().subarray(0, 16).toString('base64url');
  }

  /**
   * Header values for a 401 `WWW-Authenticate` (or 407 `Proxy-Authenticate`): one challenge per offered
   * algorithm, most preferred first, each with a fresh nonce, `qop="auth"` and the opaque.
   */
  challenges(options: { stale?: boolean } = {}): string[] {
    const now = this.now();
    // Everything but the nonce is the same in every challenge: formatted once per algorithm, the nonce (base64url,
    // nothing to escape) put in its place.
    const templates = options.stale ? (this.staleTemplates ??= this.templates(true)) : (this.freshTemplates ??= this.templates(false));
    return templates.map(([before, after]) => `${before}${this.nonces.issue(now)}${after}`);
  }

  /** Per offered algorithm, the challenge's text before and after its nonce. */
  private templates(stale: boolean): [string, string][] {
    const marker = 'NONCE';
    return this.algorithms.map((algorithm) => {
      const params: AuthParamOut[] = [
        { name: 'realm', value: this.realm },
        { name: 'qop', value: 'auth' },
        { name: 'algorithm', value: algorithm, token: true },
        { name: 'nonce', value: marker },
        { name: 'opaque', value: this.opaque },
      ];
      if (stale) params.push({ name: 'stale', value: 'true', token: true });
      const text = formatAuthHeader('Digest', params);
      const at = text.indexOf(`nonce="${marker}"`) + 'nonce="'.length;
      return [text.slice(0, at), text.slice(at + marker.length)];
    });
  }

  /**
   * Verify the credentials on a request. Credentials for other realms are ignored (RFC 3261 §22.3: a request
   * may carry several). Never throws on client input.
   */
  verify(request: DigestRequest, lookup: PasswordLookup): DigestVerification {
    const now = this.now();
    this.pruneNow(now);
    let credentials: DigestCredentials | undefined;
    let malformed: string | undefined;
    for (const header of request.authorization) {
      if (!/^\s*digest\b/i.test(header)) continue;
      try {
        const parsed = parseDigestCredentials(header);
        if (parsed.realm === this.realm) {
          credentials = parsed;
          break;
        }
      } catch (error) {
        malformed = error instanceof Error ? error.message : 'unparsable credentials';
      }
    }
    if (credentials === undefined) {
      if (malformed !== undefined) return fail('malformed', malformed);
      return fail('missing', `no Digest credentials for realm ${this.realm}`);
    }
    const c = credentials;
    if (!this.algorithms.includes(c.algorithm)) return fail('algorithm-not-offered', `${c.algorithm} was not offered`);
    if (c.qop === undefined || c.nc === undefined || c.cnonce === undefined) return fail('qop-required', 'credentials without qop=auth');
    if (request.uri !== undefined && c.uri !== request.uri) return fail('uri-mismatch', 'uri parameter does not match the request target');
    if (c.opaque !== undefined && c.opaque !== this.opaque) return fail('opaque-mismatch', 'opaque was not ours');
    const nonce = this.nonces.check(c.nonce, now);
    if (!nonce.valid) return fail('invalid-nonce', nonce.reason);

    const password = lookup(c.username, this.realm);
    // Compute even for unknown users so that timing does not reveal which users exist.
    const expected = this.expectedResponse(c, request.method, password ?? '\0unknown-user');
    if (!digestEquals(expected, c.response) || password === undefined) return fail('bad-credentials', 'wrong username or password');
    if (nonce.stale) return fail('stale-nonce', 'nonce expired', true);
    const verdict = this.tracker.accept(c.nonce, nonce.issuedAt, Number.parseInt(c.nc, 16), now);
    if (verdict !== 'fresh') return fail('replay', `nonce count ${verdict}`, true);
    return { ok: true, username: c.username, algorithm: c.algorithm, credentials: c };
  }

  /**
   * The response the credentials should carry (RFC 7616 §3.4.1). H(A1) without its -sess step and H(A2) repeat
   * from request to request (a user's password, a registrar's Request-URI): both are kept, in bounded tables.
   */
  private expectedResponse(c: DigestCredentials, method: string, password: string): string {
    const h = hashOf(c.algorithm);
    const a1 = `${h}\0${c.username}\0${c.realm}\0${password}`;
    let ha1 = this.ha1s.get(a1);
    if (ha1 === undefined) {
      ha1 = nodeDigestHash(h, `${c.username}:${c.realm}:${password}`);
      remember(this.ha1s, a1, ha1);
    }
    if (isSessionAlgorithm(c.algorithm)) ha1 = nodeDigestHash(h, `${ha1}:${c.nonce}:${c.cnonce ?? ''}`);
    const a2 = `${h}\0${method}:${c.uri}`;
    let ha2 = this.ha2s.get(a2);
    if (ha2 === undefined) {
      ha2 = nodeDigestHash(h, `${method}:${c.uri}`);
      remember(this.ha2s, a2, ha2);
    }
    return digestResponseFromHashes(c, ha1, ha2, nodeDigestHash);
  }

  private pruneNow(now: number): void {
    if (now - this.lastPrune < this.lifetimeMs / 4) return;
    this.lastPrune = now;
    this.tracker.prune(now - this.lifetimeMs);
  }
}

/** Entries a hash table of {@link DigestAuthenticator} holds before it starts over. */
const MAX_REMEMBERED_HASHES = 10_000;

function remember(table: Map<string, string>, key: string, value: string): void {
  if (table.size >= MAX_REMEMBERED_HASHES) table.clear();
  // The key is cut from a received message: a flat copy keeps that message collectable.
  table.set(JSON.parse(JSON.stringify(key)) as string, value);
}

function fail(reason: DigestFailure, detail: string, stale = false): DigestVerification {
  return { ok: false, reason, detail, stale };
}

/** `protocol/digest`'s `DigestResponder` with the `node:crypto` hash: `new DigestResponder(challenge, user, password)`. */
export class DigestResponder extends PortableDigestResponder {
  constructor(challenge: DigestChallenge, username: string, password: string, cnonce?: string) {
    super(challenge, { username, password }, nodeDigestHash, cnonce);
  }
}
