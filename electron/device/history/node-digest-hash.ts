/** The device's Digest hash: `protocol/digest` takes it injected; WebCrypto has no MD5, `node:crypto` does. */
import { createHash } from 'node:crypto';
import type { DigestHash, DigestHashName } from '../../../protocol/digest/digest-computation';

const NODE_NAMES: Readonly<Record<DigestHashName, string>> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** H(data), UTF-8, lower-case hex (RFC 7616 §3.4.2). */
export const deviceDigestHash: DigestHash = (name, data) => createHash(NODE_NAMES[name]).update(data, 'utf8').digest('hex');
