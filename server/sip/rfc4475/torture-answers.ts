/**
 * What wire tests check about the answers to torture and fuzz messages, whatever element answered: that a
 * final response carries what RFC 3261 §8.2.6.2 says it must copy from the request, and the ACK that ends an
 * INVITE server transaction after a non-2xx final response (§17.1.1.3).
 */
import { parseNameAddr } from '../message/name-addr';
import { parseMessage } from '../message/parse';
import { createRequest, type SipMessage, type SipRequest, type SipResponse } from '../message/sip-message';

/** The message, or undefined when it does not parse (torture files may not). */
export function tryParseMessage(bytes: Uint8Array): SipMessage | undefined {
  try {
    return parseMessage(bytes);
  } catch {
    return undefined;
  }
}

/** True when a From/To value is a well-formed name-addr or addr-spec (RFC 3261 §20.20, §20.39). */
function parsesAsNameAddr(value: string): boolean {
  try {
    parseNameAddr(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a response fails to copy from its request (RFC 3261 §8.2.6.2), one line each; empty when it copies
 * everything. From, Call-ID and CSeq must come back as they were (checked where the request has each exactly
 * once), and To with a tag added on a final response (when the request's To can take one: a tag appended to
 * an unterminated quoted string would be part of it).
 */
export function echoProblems(request: SipMessage | undefined, response: SipResponse): string[] {
  if (request?.type !== 'request') return [];
  const problems: string[] = [];
  for (const name of ['From', 'Call-ID', 'CSeq']) {
    const sent = request.headers.getAll(name);
    if (sent.length !== 1) continue;
    const back = response.headers.getAll(name);
    if (back.length !== 1 || back[0] !== sent[0]) problems.push(`${name} not echoed: sent ${JSON.stringify(sent[0])}, got ${JSON.stringify(back)}`);
  }
  const to = request.headers.getAll('To');
  if (response.status >= 200 && to.length === 1 && parsesAsNameAddr(to[0]!) && !/;\s*tag\s*=/i.test(response.headers.get('To') ?? '')) {
    problems.push(`To without a tag: ${JSON.stringify(response.headers.get('To'))}`);
  }
  return problems;
}

/**
 * The ACK for a non-2xx final response to an INVITE we sent (RFC 3261 §17.1.1.3: same Request-URI, top Via,
 * From, Call-ID and CSeq number; the response's To), so that the server transaction ends at once rather than
 * at Timer H. Undefined when the request is no INVITE, the response is not a failure, or a field is missing.
 */
export function ackForFinal(invite: SipMessage | undefined, response: SipResponse): SipRequest | undefined {
  if (invite?.type !== 'request' || invite.method !== 'INVITE' || response.status < 300) return undefined;
  const via = invite.headers.first('Via');
  const seq = /^\s*(\d+)/.exec(invite.headers.get('CSeq') ?? '')?.[1];
  const to = response.headers.get('To');
  const from = invite.headers.get('From');
  const callId = invite.headers.get('Call-ID');
  if (!via || !seq || !to || !from || !callId) return undefined;
  return createRequest('ACK', invite.uri, [
    { name: 'Via', value: via },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: from },
    { name: 'To', value: to },
    { name: 'Call-ID', value: callId },
    { name: 'CSeq', value: `${seq} ACK` },
  ]);
}
