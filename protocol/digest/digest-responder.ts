/**
 * A client's answer to one Digest challenge (RFC 7616 §3.4, RFC 3261 §22.4): successive `Authorization`
 * values with an increasing nonce count, so that later requests can be authorized pre-emptively with the same
 * nonce until the server answers `stale=true`. The hash is injected (see `DigestHash`).
 */
import { randomAlphanumeric } from '../common/random';
import { formatAuthHeader, type AuthParamOut } from './auth-params';
import type { DigestChallenge } from './digest-challenge';
import { computeDigestResponse, isSessionAlgorithm, type DigestHash } from './digest-computation';

/** Who answers the challenge. */
export interface DigestCredentialsInput {
  username: string;
  password: string;
}

/** Largest nonce count (8 hex digits, RFC 7616 §3.4). */
const MAX_NC = 0xffffffff;

/** Answers one challenge; one instance per nonce. */
export class DigestResponder {
  private nc = 0;
  private readonly cnonce: string;

  constructor(
    /** The challenge being answered. */
    readonly challenge: DigestChallenge,
    private readonly credentials: DigestCredentialsInput,
    private readonly hash: DigestHash,
    /** Client nonce; default 128 random bits. */
    cnonce?: string,
  ) {
    if (challenge.qop.length > 0 && !challenge.qop.includes('auth')) throw new Error(`no supported qop in ${challenge.qop.join(',')}`);
    this.cnonce = cnonce ?? randomAlphanumeric(128);
  }

  /** How many requests this responder has authorized (the last nc sent). */
  get nonceCount(): number {
    return this.nc;
  }

  /** The `Authorization` value for the next request (`uri`: the request target exactly as it will be sent). */
  authorize(method: string, uri: string): string {
    const { challenge, credentials } = this;
    const useQop = challenge.qop.includes('auth');
    if (useQop && this.nc >= MAX_NC) throw new Error('nonce count exhausted: answer a fresh challenge');
    const nc = useQop ? (++this.nc).toString(16).padStart(8, '0') : undefined;
    const response = computeDigestResponse(
      {
        algorithm: challenge.algorithm,
        username: credentials.username,
        realm: challenge.realm,
        password: credentials.password,
        method,
        uri,
        nonce: challenge.nonce,
        ...(useQop ? { qop: 'auth' as const, nc, cnonce: this.cnonce } : isSessionAlgorithm(challenge.algorithm) ? { cnonce: this.cnonce } : {}),
      },
      this.hash,
    );
    const params: AuthParamOut[] = [
      { name: 'username', value: credentials.username },
      { name: 'realm', value: challenge.realm },
      { name: 'nonce', value: challenge.nonce },
      { name: 'uri', value: uri },
      { name: 'algorithm', value: challenge.algorithm, token: true },
      { name: 'response', value: response },
    ];
    if (challenge.opaque !== undefined) params.push({ name: 'opaque', value: challenge.opaque });
    if (useQop && nc !== undefined) {
      params.push({ name: 'qop', value: 'auth', token: true }, { name: 'nc', value: nc, token: true }, { name: 'cnonce', value: this.cnonce });
    }
    return formatAuthHeader('Digest', params);
  }
}
