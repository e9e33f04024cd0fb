/**
 * Transaction identity: how a request finds its server transaction (RFC 3261 §17.2.3) and a response its
 * client transaction (§17.1.3).
 */
import type { SipRequest, SipResponse } from '../message/sip-message';
import { BRANCH_MAGIC_COOKIE, parseCSeq, sentBy, tagParam, topVia } from './header-fields';

/** True when a branch follows RFC 3261 (starts with the magic cookie, §8.1.1.7). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE) && branch.length > BRANCH_MAGIC_COOKIE.length;
}

/**
 * The key a request is matched on among server transactions (§17.2.3).
 *
 * With an RFC 3261 branch: branch + sent-by + method, where ACK counts as INVITE (so that an ACK for a
 * non-2xx final response finds its INVITE transaction). Without one (RFC 2543 peers): Request-URI, To tag,
 * From tag, Call-ID, CSeq and the top Via; an ACK then uses `ackKey`, which leaves out the To tag and the
 * CSeq method, and the INVITE transaction checks the To tag against its own response.
 *
 * Throws `HeaderFieldError` when Via or CSeq is missing or malformed.
 */
export function serverTransactionKey(request: SipRequest): string {
  const via = topVia(request);
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  if (isRfc3261Branch(via.branch)) return `3261|${via.branch}|${sentBy(via)}|${method}`;
  if (request.method === 'ACK') return rfc2543AckKey(request);
  const cseq = parseCSeq(request.headers);
  return [
    '2543', request.uri, tagParam(request.headers.get('To')) ?? '', tagParam(request.headers.get('From')) ?? '',
    request.headers.get('Call-ID') ?? '', `${cseq.seq} ${cseq.method}`, normalizedTopVia(request),
  ].join('|');
}

/**
 * For an INVITE from an RFC 2543 peer, the key its ACK will carry (§17.2.3: Request-URI, From tag, Call-ID,
 * CSeq number and top Via; the To tag is checked by the transaction). Undefined for RFC 3261 requests, whose
 * ACK matches on `serverTransactionKey` already.
 */
export function rfc2543AckKeyForInvite(invite: SipRequest): string | undefined {
  if (isRfc3261Branch(topVia(invite).branch)) return undefined;
  return rfc2543AckKey(invite);
}

function rfc2543AckKey(request: SipRequest): string {
  const cseq = parseCSeq(request.headers);
  return [
    '2543-ack', request.uri, tagParam(request.headers.get('From')) ?? '', request.headers.get('Call-ID') ?? '',
    String(cseq.seq), normalizedTopVia(request),
  ].join('|');
}

function normalizedTopVia(request: SipRequest): string {
  return (request.headers.first('Via') ?? '').replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The key a response is matched on among client transactions (§17.1.3): the top Via branch and the CSeq
 * method (so that the responses to a CANCEL, which shares the INVITE's branch, find the CANCEL's transaction).
 * Undefined when the response has no RFC 3261 branch: it can match no transaction of ours.
 */
export function clientTransactionKey(message: SipRequest | SipResponse): string | undefined {
  const via = topVia(message);
  if (!isRfc3261Branch(via.branch)) return undefined;
  return `${via.branch}|${parseCSeq(message.headers).method}`;
}
