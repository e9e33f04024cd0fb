/**
 * Random MSRP identifiers (RFC 4975 §7.1, §14.1): transaction ids and Message-IDs of at least 64 random
 * bits, session ids of at least 80 random bits (PROFILE.md), all within the `ident` grammar.
 */
import { randomAlphanumeric } from '../common/random';
import { compactString } from './msrp-strings';
import type { MsrpUri } from './msrp-uri';

/** A new transaction id: 72 random bits, 13 alphanumerics. */
export function newTransactionId(): string {
  return randomAlphanumeric(72);
}

/** A new MSRP Message-ID: 96 random bits, 17 alphanumerics. */
export function newMsrpMessageId(): string {
  return randomAlphanumeric(96);
}

/** A new session id for an MSRP URI: 96 random bits (PROFILE.md asks for at least 80). */
export function newSessionId(): string {
  return compactString(randomAlphanumeric(96)); // kept for the session's life
}

/** A fresh local URI `msrp://host:port/<new session id>;tcp` for a session. `host` is unbracketed. */
export function newLocalMsrpUri(host: string, port: number, scheme: 'msrp' | 'msrps' = 'msrp'): MsrpUri {
  return { scheme, host: host.toLowerCase(), port, sessionId: newSessionId(), transport: 'tcp', params: [] };
}
