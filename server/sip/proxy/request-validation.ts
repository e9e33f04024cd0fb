/**
 * The checks a proxy makes before it forwards a request (RFC 3261 §16.3 items 1, 2, 3 and 5). The message
 * parser has already enforced the grammar; these are the semantic checks that decide the response code.
 */
import type { SipRequest } from '../message/sip-message';
import { parseNameAddr } from '../message/name-addr';
import { parseUri } from '../message/sip-uri';
import { parseCSeq, topVia } from '../transaction/header-fields';

/** A rejection: the status (and optionally reason and extra headers) of the response to send. */
export interface Rejection {
  status: number;
  reason?: string;
  headers?: { name: string; value: string }[];
}

/**
 * Validate a received request for proxying. Returns undefined when it may be forwarded, else the rejection:
 * 400 for missing/malformed mandatory headers (§8.1.1) or a CSeq method that differs from the method,
 * 416 for a Request-URI scheme we cannot route (§16.3 item 2), 483 when Max-Forwards is 0 (item 3),
 * 420 with Unsupported when Proxy-Require names any extension (item 5: we support none).
 */
export function validateForProxying(request: SipRequest): Rejection | undefined {
  try {
    topVia(request);
    const cseq = parseCSeq(request.headers);
    if (cseq.method !== request.method) return { status: 400, reason: 'CSeq Method Mismatch' };
    for (const name of ['From', 'To'] as const) {
      const value = request.headers.get(name);
      if (value === undefined) return { status: 400, reason: `Missing ${name}` };
      parseNameAddr(value);
    }
    if (request.headers.get('Call-ID') === undefined) return { status: 400, reason: 'Missing Call-ID' };
  } catch (error) {
    return { status: 400, reason: error instanceof Error ? truncate(error.message) : 'Bad Request' };
  }
  let uriKind: string;
  try {
    uriKind = parseUri(request.uri).kind;
  } catch {
    return { status: 400, reason: 'Bad Request-URI' };
  }
  if (uriKind !== 'sip') return { status: 416 };
  const maxForwards = request.headers.get('Max-Forwards');
  if (maxForwards !== undefined) {
    if (!/^\s*\d{1,3}\s*$/.test(maxForwards)) return { status: 400, reason: 'Bad Max-Forwards' };
    if (Number(maxForwards) === 0 && request.method !== 'ACK') return { status: 483 };
  }
  const required = request.headers.values('Proxy-Require');
  if (required.length > 0) return { status: 420, headers: [{ name: 'Unsupported', value: required.join(', ') }] };
  return undefined;
}

/** A reason phrase must stay one short line. */
function truncate(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
