/**
 * Stateless server nonces (RFC 7616 §3.3 and §5.4 suggest a time stamp plus a private key).
 *
 * ```
 * nonce = base64url( issued-at (8 bytes, ms since epoch, big-endian)
 *                  | random (8 bytes)
 *                  | HMAC-SHA-256(secret, "nonce" | realm | issued-at | random) truncated to 16 bytes )
 * ```
 * The server keeps nothing per nonce: it recomputes the HMAC to know the nonce is its own and reads the
 * issue time to know whether it is stale.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TIME_BYTES = 8;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;
/** Length of an encoded nonce (base64url without padding). */
export const NONCE_LENGTH = Math.ceil((NONCE_BYTES * 4) / 3);

/** What checking a nonce found. */
export type NonceCheck =
  | { valid: true; issuedAt: number; stale: boolean }
  | { valid: false; reason: string };

/** Issues and checks HMAC-signed nonces for one realm. */
export class NonceSigner {
  constructor(
    private readonly secret: Uint8Array,
    private readonly realm: string,
    private readonly lifetimeMs: number,
  ) {
    if (secret.length < 32) throw new Error('the nonce secret must be at least 32 bytes');
    if (!(lifetimeMs > 0)) throw new Error('the nonce lifetime must be positive');
  }

  /** A fresh nonce stamped with `now`. */
  issue(now: number): string {
    const body = Buffer.alloc(TIME_BYTES + RANDOM_BYTES);
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    randomBytes(RANDOM_BYTES).copy(body, TIME_BYTES);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /**
   * Check a nonce received in credentials: it must be ours (HMAC), not from the future, and is `stale` once
   * older than the lifetime.
   */
  check(nonce: string, now: number): NonceCheck {
    if (nonce.length !== NONCE_LENGTH || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { valid: false, reason: 'not a nonce of this server' };
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return { valid: false, reason: 'not a nonce of this server' };
    const body = raw.subarray(0, TIME_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(TIME_BYTES + RANDOM_BYTES), this.mac(body))) return { valid: false, reason: 'nonce signature mismatch' };
    const issuedAt = Number(body.readBigUInt64BE(0));
    // Allow a little skew between cluster members; a nonce from further ahead was not issued by us.
    if (issuedAt > now + 5_000) return { valid: false, reason: 'nonce issued in the future' };
    return { valid: true, issuedAt, stale: now - issuedAt > this.lifetimeMs };
  }

  private mac(body: Uint8Array): Buffer {
    return createHmac('sha256', this.secret).update('nonce\0').update(this.realm, 'utf8').update('\0').update(body).digest().subarray(0, MAC_BYTES);
  }
}
