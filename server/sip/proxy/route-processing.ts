/**
 * Route header processing of a proxy (RFC 3261 §16.4 on receipt, §16.6 item 6 before sending; RFC 5658 §3
 * for the two Route values a double Record-Route leaves in a dialog's route set).
 */
import type { SipRequest } from '../message/sip-message';
import { parseNameAddr } from '../message/name-addr';
import { getUriParam, parseUri, type SipUri } from '../message/sip-uri';
import type { ProxyAddresses } from './proxy-addresses';

function sipUriOf(value: string): SipUri | undefined {
  const uri = parseNameAddr(value).uri;
  return uri.kind === 'sip' ? uri : undefined;
}

/**
 * Pre-process the Route information of a received request, in place (§16.4):
 * 1. strict-route fix-up: when the Request-URI is a URI we put into a Record-Route (ours, no user part) and
 *    Route values remain, the previous hop was a strict router: the last Route value becomes the Request-URI;
 * 2. every leading Route value that addresses us is removed (both of a double Record-Route, RFC 5658).
 *
 * Throws `SipParseError` when a Route value is malformed (the caller answers 400).
 */
export function processReceivedRoutes(request: SipRequest, addresses: ProxyAddresses): void {
  const routes = request.headers.values('Route');
  if (routes.length > 0) {
    const requestUri = parseUri(request.uri);
    if (requestUri.kind === 'sip' && requestUri.user === undefined && addresses.isOwnUri(requestUri)) {
      const last = routes.pop()!;
      request.uri = parseNameAddr(last).uriText;
      setRoutes(request, routes);
    }
  }
  const remaining = request.headers.values('Route');
  let drop = 0;
  while (drop < remaining.length) {
    const uri = sipUriOf(remaining[drop]!);
    if (!uri || !addresses.isOwnUri(uri)) break;
    drop++;
  }
  if (drop > 0) setRoutes(request, remaining.slice(drop));
}

/**
 * Prepare a request for a next hop that is a strict router (§16.6 item 6): when the first Route URI lacks
 * `lr`, the Request-URI moves to the end of the Route set and the first Route URI becomes the Request-URI.
 * Returns true when it did so.
 */
export function adaptForStrictRouter(request: SipRequest): boolean {
  const routes = request.headers.values('Route');
  const first = routes[0];
  if (first === undefined) return false;
  const parsed = parseNameAddr(first);
  if (parsed.uri.kind === 'sip' && getUriParam(parsed.uri.params, 'lr') !== undefined) return false;
  routes.shift();
  routes.push(`<${request.uri}>`);
  request.uri = parsed.uriText;
  setRoutes(request, routes);
  return true;
}

/** The URI of the first Route value (where a loosely routed request goes next), or undefined. */
export function firstRouteUri(request: SipRequest): SipUri | undefined {
  const first = request.headers.first('Route');
  return first === undefined ? undefined : sipUriOf(first);
}

/** Replace the Route values, keeping the header where it stood (one line, comma-separated). */
function setRoutes(request: SipRequest, routes: string[]): void {
  if (routes.length === 0) request.headers.remove('Route');
  else request.headers.set('Route', routes.join(', '));
}
