/**
 * Random hex strings for tags, branches and Call-IDs (RFC 3261 §19.3: at least 32 bits of randomness for tags,
 * §8.1.1.7 for branches), drawn from a pooled buffer of cryptographically strong bytes: one `randomFillSync`
 * per 4 KiB rather than one per string, since the core makes several per message.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `bytes` random bytes as 2 × `bytes` lower-case hex digits (1 ≤ bytes ≤ 256). */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 256) throw new RangeError(`randomHex: bytes must be 1–256, got ${bytes}`);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return text;
}
