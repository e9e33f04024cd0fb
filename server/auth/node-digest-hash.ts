/**
 * The `node:crypto` side of Digest: the hash that `protocol/digest` takes injected, and the constant-time
 * comparison the server verifies responses with.
 */
import { hash as oneShotHash, timingSafeEqual } from 'node:crypto';
import type { DigestHash, DigestHashName } from '../../protocol/digest/digest-computation';

const NODE_HASH: Readonly<Record<DigestHashName, string>> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** H(data) with `node:crypto`, the data encoded as UTF-8, as lower-case hex (RFC 7616 §3.4.2). */
export const nodeDigestHash: DigestHash = (hash, data) => oneShotHash(NODE_HASH[hash], data, 'hex'); // one call, no Hash object

/** Constant-time comparison of two hex digests (case-insensitive); false when lengths differ. */
export function digestEquals(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
