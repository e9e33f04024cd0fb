/**
 * The extension points of the proxy core, for the lab SIP/IP core and the Conversation Server's proxy mode.
 * Each hook is optional except `locate`; each may be synchronous or return a promise. A hook that throws or
 * rejects makes the proxy answer 500 (and emit `error`), never crash.
 */
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { ReceivedMessage, SendTarget } from '../transport/transport-types';
import type { Rejection } from './request-validation';

/** One entry of a target set (§16.5). */
export interface ProxyTarget {
  /** The Request-URI of the forwarded copy (a registered contact, a GRUU's contact, or the original URI). */
  uri: string;
  /**
   * Where to send, overriding the next hop derived from Route / Request-URI (§16.6 item 7). A registrar sets
   * this to reach a contact over the flow it registered on (RFC 5626: `flowId` of a WebSocket connection).
   */
  destination?: SendTarget;
}

/** What the hooks get besides the request. */
export interface ProxyContext {
  /** The request as it came off the wire (before route processing), with its source and flow. */
  received: ReceivedMessage;
}

/** The hooks a ProxyCore user plugs in. */
export interface ProxyHooks {
  /**
   * Decide whether to serve the request (e.g. digest authentication, §22.3). Return undefined to go on, or a
   * rejection such as `{status: 407, headers: [{name: 'Proxy-Authenticate', value: …}]}`.
   */
  authorize?(request: SipRequest, context: ProxyContext): Rejection | undefined | Promise<Rejection | undefined>;
  /**
   * Is this Request-URI one the proxy is responsible for (§16.4: it then consults `locate`)? Default: it
   * addresses one of our listening points, or its host is one of the `domains` given to the ProxyCore.
   */
  isResponsibleFor?(requestUri: string): boolean;
  /**
   * The target set for a Request-URI we are responsible for (§16.5). An empty array answers 480; a
   * rejection answers with that status (404 for an unknown user, say).
   */
  locate(request: SipRequest, context: ProxyContext): readonly ProxyTarget[] | Rejection | Promise<readonly ProxyTarget[] | Rejection>;
  /** Whether to Record-Route this request (§16.6 item 4). Default: dialog-creating requests outside a dialog. */
  recordRoute?(request: SipRequest): boolean;
  /** Adjust one forwarded copy before the Via is added (e.g. P-Asserted-Identity, RFC 3325). */
  rewriteRequest?(outgoing: SipRequest, target: ProxyTarget, context: ProxyContext): void;
  /** Adjust a response before it is forwarded upstream (our Via already removed). */
  rewriteResponse?(response: SipResponse, context: ProxyContext): void;
}
