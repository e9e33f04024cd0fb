/**
 * Transaction identity: how a request finds its server transaction (RFC 3261 §17.2.3) and a response its
 * client transaction (§17.1.3). Header grammar is the message layer's (`../message/`); the topmost Via is
 * read with the transport's `topVia`, so a missing or malformed one is the same error everywhere.
 */
import { parseCSeq, type CSeq } from '../message/cseq';
import { fromTag, toTag } from '../message/header-fields';
import { SipParseError } from '../message/parse-error';
import type { SipMessage, SipRequest } from '../message/sip-message';
import { isRfc3261Branch, type Via } from '../message/via';
import { defaultPort } from '../transport/endpoint';
import { topVia, viaProtocol } from '../transport/via-routing';

/**
 * The CSeq of a message (§20.16). Throws `SipParseError` when it is missing or malformed.
 */
export function cseqOf(message: Pick<SipMessage, 'headers'>): CSeq {
  const value = message.headers.get('CSeq');
  if (value === undefined) throw new SipParseError('missing CSeq');
  return parseCSeq(value);
}

/** The RFC 3261 branch of a Via (magic cookie and more, §8.1.1.7), or undefined for an RFC 2543 peer. */
export function rfc3261Branch(via: Via): string | undefined {
  return via.branch !== undefined && isRfc3261Branch(via.branch) ? via.branch : undefined;
}

/** `host:port` of a Via's sent-by, for matching: host lower-cased, the port defaulted per transport (§18.2.2). */
function sentBy(via: Via): string {
  const protocol = viaProtocol(via);
  return `${via.host.toLowerCase()}:${via.port ?? (protocol === undefined ? 5060 : defaultPort(protocol))}`;
}

/**
 * The key a request is matched on among server transactions (§17.2.3).
 *
 * With an RFC 3261 branch: branch + sent-by + method, where ACK counts as INVITE (so that an ACK for a
 * non-2xx final response finds its INVITE transaction). Without one (RFC 2543 peers): Request-URI, To tag,
 * From tag, Call-ID, CSeq and the top Via; an ACK then uses `ackKey`, which leaves out the To tag and the
 * CSeq method, and the INVITE transaction checks the To tag against its own response.
 *
 * Throws (`TransportError` for the Via, `SipParseError` for the rest) when Via, CSeq, From or To is
 * missing or malformed.
 */
export function serverTransactionKey(request: SipRequest): string {
  const via = topVia(request);
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  const branch = rfc3261Branch(via);
  if (branch !== undefined) return `3261|${branch}|${sentBy(via)}|${method}`;
  if (request.method === 'ACK') return rfc2543AckKey(request);
  const cseq = cseqOf(request);
  return [
    '2543', request.uri, toTag(request) ?? '', fromTag(request) ?? '',
    request.headers.get('Call-ID') ?? '', `${cseq.seq} ${cseq.method}`, normalizedTopVia(request),
  ].join('|');
}

/**
 * For an INVITE from an RFC 2543 peer, the key its ACK will carry (§17.2.3: Request-URI, From tag, Call-ID,
 * CSeq number and top Via; the To tag is checked by the transaction). Undefined for RFC 3261 requests, whose
 * ACK matches on `serverTransactionKey` already.
 */
export function rfc2543AckKeyForInvite(invite: SipRequest): string | undefined {
  if (rfc3261Branch(topVia(invite)) !== undefined) return undefined;
  return rfc2543AckKey(invite);
}

function rfc2543AckKey(request: SipRequest): string {
  return [
    '2543-ack', request.uri, fromTag(request) ?? '', request.headers.get('Call-ID') ?? '',
    String(cseqOf(request).seq), normalizedTopVia(request),
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
export function clientTransactionKey(message: SipMessage): string | undefined {
  const branch = rfc3261Branch(topVia(message));
  if (branch === undefined) return undefined;
  return `${branch}|${cseqOf(message).method}`;
}
