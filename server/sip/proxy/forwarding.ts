/**
 * Building one forwarded copy of a request (RFC 3261 §16.6 items 1–8), shared by stateful forking and by the
 * stateless forwarding of ACK for 2xx (§16.11).
 */
import type { SipRequest } from '../message/sip-message';
import { parseSipUri } from '../message/sip-uri';
import type { SendTarget, TransportProtocol } from '../transport/transport-types';
import { computeBranch } from './branch-id';
import { targetFromUri } from './next-hop';
import type { ProxyAddresses } from './proxy-addresses';
import type { ProxyContext, ProxyHooks, ProxyTarget } from './proxy-hooks';
import { adaptForStrictRouter, firstRouteUri } from './route-processing';

/** A forwarded copy and where it goes. */
export interface ForwardedRequest {
  request: SipRequest;
  destination: SendTarget;
}

/** Everything `buildForwardedRequest` needs. */
export interface ForwardingInput {
  addresses: ProxyAddresses;
  hooks: ProxyHooks;
  context: ProxyContext;
  /** The request after route processing and Max-Forwards (§16.4, §16.6 item 3); it is copied, not changed. */
  working: SipRequest;
  /** The request as received, for the branch computation (§16.6 item 8). */
  original: SipRequest;
  /** The transport the request came in on (RFC 5658: a second Record-Route when it differs from the outgoing one). */
  inbound: TransportProtocol;
  recordRoute: boolean;
}

/**
 * Copy `working` for `target` (fork number `index`): Request-URI (item 2), strict-router adaptation (item 6),
 * next hop (item 7: the target's destination, else the first Route, else the Request-URI), Record-Route
 * (item 4, doubled when bridging transports), the user's rewrite hook, and our Via with a deterministic
 * branch (item 8). Throws when the next hop cannot be determined or we have no listening point for it.
 */
export function buildForwardedRequest(input: ForwardingInput, target: ProxyTarget, index: number): ForwardedRequest {
  const { addresses, working } = input;
  const out: SipRequest = { ...working, headers: working.headers.clone() };
  out.uri = target.uri;
  let destination = target.destination;
  if (destination === undefined) {
    const strict = adaptForStrictRouter(out);
    const route = strict ? undefined : firstRouteUri(out);
    destination = targetFromUri(route ?? parseSipUri(out.uri));
  }
  if (input.recordRoute) {
    const secure = /^sips:/i.test(working.uri);
    if (input.inbound !== destination.protocol) out.headers.prepend('Record-Route', `<${addresses.routeUri(input.inbound, secure)}>`);
    out.headers.prepend('Record-Route', `<${addresses.routeUri(destination.protocol, secure)}>`);
  }
  input.hooks.rewriteRequest?.(out, target, input.context);
  out.headers.prepend('Via', addresses.via(destination.protocol, computeBranch(input.original, index)));
  return { request: out, destination };
}
