/**
 * The transport layer's use of the topmost Via: receive-side processing of requests (RFC 3261 §18.2.1 with
 * RFC 3581 `rport`) and where a response goes (RFC 3261 §18.2.2, RFC 3581 §4). Via grammar is the message
 * layer's (`../message/via`); this module only reads and sets `received` and `rport`.
 */
import type { SipMessage, SipRequest } from '../message/sip-message';
import { getParam, type HeaderParam } from '../message/header-params';
import { parseVia, serializeVia, type Via } from '../message/via';
import { bareHost } from '../message/sip-uri';
import type { Endpoint, ReceivedMessage, SendTarget, TransportProtocol } from './transport-types';
import { defaultPort, isTransportProtocol, isWebSocket, normalizeIp, sameAddress } from './endpoint';
import { TransportError, asTransportError } from './transport-error';

/**
 * The topmost Via of a message, parsed. The transport, the transaction layer and the proxy each read the top Via
 * of the same message (a request's is read four to six times on its way through), so it is parsed once and kept
 * on the message's headers with the text it came from; a changed top Via (a proxy pushing its own,
 * `stampReceivedVia`) has a different text and is parsed again. Throws TransportError (`bad-message`) when absent or malformed.
 * The result is shared by every caller for the same message and Via text: read it, do not change it.
 */
export function topVia(message: SipMessage): Via {
  const line = message.headers.get('Via');
  if (line === undefined) throw new TransportError('bad-message', 'message has no Via header');
  const cached = message.headers.topViaMemo;
  if (cached !== undefined && cached.line === line) return cached.via;
  const text = message.headers.first('Via')!;
  let via: Via;
  try {
    via = parseVia(text);
  } catch (error) {
    throw asTransportError('bad-message', `malformed topmost Via '${text}'`, error);
  }
  message.headers.topViaMemo = { line, text, via };
  return via;
}

/** Set (or add, at the end) a parameter, keeping every other one as written. */
function setParam(params: HeaderParam[], name: string, value: string): void {
  const p = params.find((x) => x.name.toLowerCase() === name);
  if (p === undefined) params.push({ name, value });
  else p.value = value;
}

/**
 * Receive-side Via processing of a request (RFC 3261 §18.2.1, RFC 3581 §4), in place:
 * - `received` is added when the sent-by host is a domain name or an address other than the source;
 * - a bare `rport` gets the source port, and then `received` is added even when the address matches;
 * - over WebSocket (RFC 7118 §5, where sent-by is usually a `.invalid` name) both `received` and `rport`
 *   are always set, so that a response is matched to the flow it must take.
 * Only the topmost value changes; the others keep their text and order.
 * Throws TransportError (`bad-message`) when the request has no parsable Via.
 */
export function stampReceivedVia(request: SipRequest, source: Endpoint): void {
  const parsed = topVia(request);
  const via: Via = { ...parsed, params: parsed.params.map((p) => ({ ...p })) };
  const forceBoth = isWebSocket(source.protocol);
  const sourceHost = normalizeIp(source.host) ?? source.host;
  let changed = false;
  if (forceBoth || via.rport === null) {
    setParam(via.params, 'rport', String(source.port));
    changed = true;
  }
  if (forceBoth || via.rport === null || !sameAddress(via.host, source.host)) {
    setParam(via.params, 'received', sourceHost);
    changed = true;
  }
  if (!changed) return;
  const text = serializeVia(via);
  request.headers.replaceFirst('Via', text);
  via.received = getParam(via.params, 'received') ?? undefined;
  const rport = getParam(via.params, 'rport');
  via.rport = rport === undefined ? undefined : rport === null ? null : Number(rport);
  request.headers.topViaMemo = { line: request.headers.get('Via')!, text, via };
}

/** The transport a Via names, lower-cased; undefined for one we do not speak (SCTP, …). */
export function viaProtocol(via: Via): TransportProtocol | undefined {
  const t = via.transport.toLowerCase();
  return isTransportProtocol(t) ? t : undefined;
}

/**
 * Where a response goes when it cannot take the flow its request came on (RFC 3261 §18.2.2, RFC 3581 §4),
 * read from the topmost Via of the response (or of the received request, which carries the same Via once
 * `stampReceivedVia` ran): `maddr` if present; else `received` with, over UDP, the `rport` value (or the
 * sent-by port); else the sent-by itself. For a reliable transport this is where a new connection is opened
 * (`received` and the sent-by port). Throws TransportError: `bad-message` for a missing Via or an unknown
 * transport, `invalid-target` for a domain name (resolving it per RFC 3263 §5 is not the transport's job).
 */
export function responseDestination(message: SipMessage): Endpoint {
  const via = topVia(message);
  const protocol = viaProtocol(via);
  if (protocol === undefined) throw new TransportError('bad-message', `unsupported Via transport '${via.transport}'`);
  let host = bareHost(via.host);
  let port = via.port ?? defaultPort(protocol);
  if (via.maddr !== undefined) {
    host = bareHost(via.maddr);
  } else if (via.received !== undefined) {
    host = via.received;
    if (protocol === 'udp' && typeof via.rport === 'number') port = via.rport;
  }
  const ip = normalizeIp(host);
  if (ip === undefined) {
    throw new TransportError('invalid-target', `response destination '${host}' is not an IP literal (RFC 3263 §5 applies)`);
  }
  return { protocol, host: ip, port };
}

/**
 * Where the responses to a received request go (RFC 3261 §18.2.2): over the flow the request came on
 * (reliable transports, including WebSocket, RFC 7118 §5), else to `responseDestination` of the request.
 * This is the one rule for the whole stack: server transactions send to it, `sendResponse` applies it.
 * Throws like `responseDestination`.
 */
export function responseTarget(received: ReceivedMessage): SendTarget {
  if (received.flowId !== undefined) return { ...received.source, flowId: received.flowId };
  return responseDestination(received.message);
}
