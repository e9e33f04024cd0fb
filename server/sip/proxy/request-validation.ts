/**
 * The checks a proxy makes before it forwards a request (RFC 3261 §16.3), delegated to the message layer's
 * `checkRequest` in its `proxy` role, and the rejection shape the proxy and its hooks answer with.
 */
import { checkRequest } from '../message/request-check';
import type { SipHeader, SipRequest } from '../message/sip-message';

/** A rejection: the status (and optionally reason and extra headers) of the response to send. */
export interface Rejection {
  status: number;
  reason?: string;
  headers?: SipHeader[];
}

/**
 * Validate a received request for proxying (§16.3 items 1–5): syntax of what a proxy uses (400), Request-URI
 * scheme (416), Max-Forwards 0 (483), `detectLoop` (482), Proxy-Require (420 with Unsupported).
 * Returns undefined when the request may be forwarded.
 */
export function validateForProxying(
  request: SipRequest,
  detectLoop: (request: SipRequest) => boolean,
  supportedExtensions: readonly string[] = [],
): Rejection | undefined {
  const rejection = checkRequest(request, { role: 'proxy', detectLoop, supportedExtensions });
  if (!rejection) return undefined;
  const out: Rejection = { status: rejection.status, reason: rejection.reason };
  if (rejection.headers) out.headers = rejection.headers;
  return out;
}
