/**
 * The answer to a request the transport could not parse or frame: 400 Bad Request (RFC 3261 §21.4.1) or
 * 513 Message Too Large (§21.5.7), built from the header lines the parser did understand (RFC 4475 §3.1.2
 * expects elements to answer many malformed requests this way rather than drop them).
 *
 * A reply is only possible when the request's Via, From, To, Call-ID and CSeq survived (§8.2.6.2 copies
 * them into the response) and it is not an ACK (which is never answered, §17.2.1).
 */
import { randomBytes } from 'node:crypto';
import { createResponse, reasonPhrase, type SipResponse } from '../message/sip-message';
import { SipParseError } from '../message/parse-error';

const COPIED = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;

/** The response for an unparsable request, or undefined when none can or should be sent. */
export function badRequestReply(error: unknown): SipResponse | undefined {
  const parseError = findParseError(error);
  if (parseError?.isRequest !== true || parseError.method === 'ACK' || parseError.headers === undefined) return undefined;
  const headers = parseError.headers;
  if (COPIED.some((name) => !headers.has(name))) return undefined;
  const response = createResponse(parseError.status, reasonPhrase(parseError.status));
  for (const name of COPIED) for (const value of headers.getAll(name)) response.headers.append(name, value);
  const to = response.headers.get('To')!;
  // §8.2.6.2: a response to a request without a To tag carries one.
  if (!/;\s*tag\s*=/i.test(to)) response.headers.set('To', `${to};tag=${randomBytes(6).toString('hex')}`);
  // The reason, for people reading traces (RFC 3261 §20.43 Warning, code 399: miscellaneous).
  response.headers.append('Warning', `399 - "${parseError.reason.replace(/["\\\r\n]/g, ' ')}"`);
  return response;
}

/** The SipParseError behind an error (itself, or its `cause` chain). */
function findParseError(error: unknown): SipParseError | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e instanceof SipParseError) return e;
    e = e.cause;
  }
  return undefined;
}
