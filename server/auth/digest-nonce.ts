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
import { hash as oneShotHash, randomFillSync, timingSafeEqual } from 'node:crypto';

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

const SHA256_BLOCK = 64;
/** Random bytes drawn from the system in blocks of this size, for nonces (one call per 512 nonces). */
const RANDOM_POOL = 4096;

/** Issues and checks HMAC-signed nonces for one realm. */
export class NonceSigner {
  /**
   * HMAC-SHA-256 (RFC 2104) as two one-shot hashes over buffers prepared once: `(K ⊕ ipad) | "nonce\0" | realm |
   * "\0" | body` and `(K ⊕ opad) | inner digest`. Only the body and the inner digest change per nonce, so there is
   * no Hmac object to create for each challenge and each check (`createHmac` cost more than the hashing).
   */
  private readonly inner: Buffer;
  private readonly outer: Buffer;
  private readonly bodyAt: number;
  private readonly random = Buffer.alloc(RANDOM_POOL);
  private randomAt = RANDOM_POOL;

  constructor(
    secret: Uint8Array,
    realm: string,
    private readonly lifetimeMs: number,
  ) {
    if (secret.length < 32) throw new Error('the nonce secret must be at least 32 bytes');
    if (!(lifetimeMs > 0)) throw new Error('the nonce lifetime must be positive');
    const key = Buffer.alloc(SHA256_BLOCK);
    // A key longer than the block is hashed first (RFC 2104 §2).
    Buffer.from(secret.length > SHA256_BLOCK ? oneShotHash('sha256', secret, 'buffer') : secret).copy(key);
    const label = Buffer.concat([Buffer.from('nonce\0'), Buffer.from(realm, 'utf8'), Buffer.from('\0')]);
    this.bodyAt = SHA256_BLOCK + label.length;
    this.inner = Buffer.alloc(this.bodyAt + TIME_BYTES + RANDOM_BYTES);
    this.outer = Buffer.alloc(SHA256_BLOCK + 32);
    for (let i = 0; i < SHA256_BLOCK; i++) {
      this.inner[i] = key[i]! ^ 0x36;
      this.outer[i] = key[i]! ^ 0x5c;
    }
    label.copy(this.inner, SHA256_BLOCK);
  }

  /** A fresh nonce stamped with `now`. */
  issue(now: number): string {
    const nonce = Buffer.allocUnsafe(NONCE_BYTES);
    nonce.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    if (this.randomAt + RANDOM_BYTES > RANDOM_POOL) {
      randomFillSync(this.random);
      this.randomAt = 0;
    }
    this.random.copy(nonce, TIME_BYTES, this.randomAt, this.randomAt + RANDOM_BYTES);
    this.random.fill(0, this.randomAt, this.randomAt + RANDOM_BYTES); // used bytes do not linger in memory
    this.randomAt += RANDOM_BYTES;
    this.mac(nonce.subarray(0, TIME_BYTES + RANDOM_BYTES)).copy(nonce, TIME_BYTES + RANDOM_BYTES);
    return nonce.toString('base64url');
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

  /** HMAC-SHA-256(secret, "nonce\0" | realm | "\0" | body), truncated to {@link MAC_BYTES}. */
  private mac(body: Uint8Array): Buffer {
    this.inner.set(body, this.bodyAt);
    oneShotHash('sha256', this.inner, 'buffer').copy(this.outer, SHA256_BLOCK);
    return oneShotHash('sha256', this.outer, 'buffer').subarray(0, MAC_BYTES);
  }
}
