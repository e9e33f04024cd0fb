/**
 * Random identifiers for requests and dialogs: tags (RFC 3261 §19.3: at least 32 bits of randomness),
 * branches (§8.1.1.7: unique over space and time, with the magic cookie) and Call-IDs (§8.1.1.4).
 * All come from the cryptographic random source, so that they cannot be guessed by a third party.
 */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from '../message/via';

/** A From/To tag: 64 random bits, hex. */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A Via branch: the RFC 3261 magic cookie and 96 random bits. */
export function newBranch(): string {
  return `${MAGIC_COOKIE}${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** A Call-ID: 128 random bits, hex, optionally `@host` (§8.1.1.4 recommends a host part). */
export function newCallId(host?: string): string {
  const id = randomBytes(16).toString('hex');
  return host === undefined ? id : `${id}@${host}`;
}
