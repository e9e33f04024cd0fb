/**
 * Building a response to a request, as a UAS core does (RFC 3261 §8.2.6): the response copies Via (all of
 * them, in order), From, To, Call-ID, CSeq, Timestamp (100 only) and, for 101–299, Record-Route (§12.1.1),
 * and adds a To tag when the request had none.
 */
import { toTag } from '../message/header-fields';
import { createResponse, reasonPhrase, type SipHeader, type SipRequest, type SipResponse } from '../message/sip-message';

/** Options for `buildResponse`. */
export interface ResponseOptions {
  /** Reason phrase; defaults to the standard phrase of the status. */
  reason?: string;
  /** To tag to add when the request's To has none (§8.2.6.2). Ignored for 100 Trying, which never gets one. */
  toTag?: string;
  /** Extra header lines, appended after the copied ones. */
  headers?: Iterable<SipHeader>;
  /** Body (text or bytes); the caller adds Content-Type. */
  body?: string | Uint8Array;
}

/** Build a response to `request` per §8.2.6; throws RangeError for a status outside 100–699. */
export function buildResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`SIP status must be 100–699, got ${status}`);
  const response = createResponse(status, options.reason ?? reasonPhrase(status));
  for (const via of request.headers.getAll('Via')) response.headers.append('Via', via);
  copy(request, response, 'From');
  const to = request.headers.get('To');
  if (to !== undefined) {
    const addTag = status > 100 && options.toTag !== undefined && !hasToTag(request);
    response.headers.append('To', addTag ? `${to};tag=${options.toTag ?? ''}` : to);
  }
  copy(request, response, 'Call-ID');
  copy(request, response, 'CSeq');
  // §12.1.1: a response that may establish a dialog carries the request's Record-Route unchanged.
  if (status > 100 && status < 300) copy(request, response, 'Record-Route');
  if (status === 100) copy(request, response, 'Timestamp'); // §8.2.6.1
  for (const h of options.headers ?? []) response.headers.append(h.name, h.value);
  if (options.body !== undefined) {
    response.body = typeof options.body === 'string' ? new TextEncoder().encode(options.body) : options.body;
  }
  return response;
}

function copy(request: SipRequest, response: SipResponse, name: string): void {
  for (const value of request.headers.getAll(name)) response.headers.append(name, value);
}

/** Whether the request's To carries a tag. An unparsable To is copied as it is (a 400 may answer it). */
function hasToTag(request: SipRequest): boolean {
  try {
    return toTag(request) !== undefined;
  } catch {
    return true;
  }
}
