/**
 * Requests a transaction layer derives from another request: the ACK for a non-2xx final response
 * (RFC 3261 §17.1.1.3) and CANCEL (§9.1). Both reuse the original's top Via, so they travel the same path.
 */
import { SipParseError } from '../message/parse-error';
import { createRequest, type SipRequest, type SipResponse } from '../message/sip-message';
import { cseqOf } from './transaction-key';

/**
 * The ACK a client INVITE transaction sends for a 300–699 response (§17.1.1.3): Request-URI, Call-ID, From,
 * CSeq number and Route of the INVITE; To of the response; exactly one Via, equal to the INVITE's top Via.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  return derive(invite, 'ACK', response.headers.get('To'));
}

/**
 * A CANCEL for `request` (§9.1): Request-URI, Call-ID, To, From and CSeq number of the request, one Via equal
 * to its top Via, and its Route header fields. Throws `SipParseError` if the request lacks what is copied.
 */
export function buildCancel(request: SipRequest): SipRequest {
  return derive(request, 'CANCEL', request.headers.get('To'));
}

function derive(original: SipRequest, method: 'ACK' | 'CANCEL', to: string | undefined): SipRequest {
  const via = original.headers.first('Via');
  if (via === undefined) throw new SipParseError(`cannot build ${method}: request has no Via`);
  const cseq = cseqOf(original);
  const out = createRequest(method, original.uri);
  out.headers.append('Via', via);
  const maxForwards = original.headers.get('Max-Forwards');
  out.headers.append('Max-Forwards', maxForwards ?? '70');
  for (const route of original.headers.getAll('Route')) out.headers.append('Route', route);
  for (const name of ['From', 'Call-ID'] as const) {
    const value = original.headers.get(name);
    if (value === undefined) throw new SipParseError(`cannot build ${method}: request has no ${name}`);
    out.headers.append(name, value);
  }
  if (to === undefined) throw new SipParseError(`cannot build ${method}: no To`);
  out.headers.append('To', to);
  out.headers.append('CSeq', `${cseq.seq} ${method}`);
  out.headers.append('Content-Length', '0');
  return out;
}
