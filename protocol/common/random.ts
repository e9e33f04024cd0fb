/**
 * Random identifiers from the platform CSPRNG (`globalThis.crypto.getRandomValues`, available in Node 20
 * and in browsers).
 */

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` random bytes. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/** Random bytes fetched 4 KiB at a time: one CSPRNG call serves hundreds of identifiers (MSRP needs one per chunk). */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function pooledRandomByte(): number {
  if (poolAt === pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

/**
 * A random alphanumeric token carrying at least `bits` bits of entropy (62 symbols ≈ 5.95 bits each;
 * rejection sampling keeps the distribution uniform).
 */
export function randomAlphanumeric(bits: number): string {
  const length = Math.ceil(bits / Math.log2(ALPHANUM.length));
  let out = '';
  while (out.length < length) {
    const b = pooledRandomByte();
    if (b >= 248) continue; // 248 = 4 × 62: reject to stay uniform
    out += ALPHANUM[b % 62];
  }
  return out;
}

/** Lower-case hex of `bytes` random bytes. */
export function randomHex(bytes: number): string {
  let out = '';
  for (const b of randomBytes(bytes)) out += b.toString(16).padStart(2, '0');
  return out;
}

/** A random RFC 4122 version 4 UUID (lower case). */
export function randomUuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
