/**
 * Where a request goes next, from a SIP URI (RFC 3261 §16.6 item 7 / §8.1.2 with RFC 3263 reduced to what
 * the lab needs: IP literals, an explicit `;transport=` or the scheme's default, the port or its default).
 */
import { bareHost, getUriParam, hostKind, type SipUri } from '../message/sip-uri';
import { defaultPort, isTransportProtocol } from '../transport/endpoint';
import type { SendTarget, TransportProtocol } from '../transport/transport-types';

/** The transport a URI asks for: `;transport=` when present, else TLS for `sips:` and UDP for `sip:` (§19.1.4). */
export function uriTransport(uri: SipUri): TransportProtocol {
  const param = getUriParam(uri.params, 'transport');
  if (typeof param === 'string') {
    const protocol = param.toLowerCase();
    if (!isTransportProtocol(protocol)) throw new Error(`unsupported transport in URI: ${param}`);
    return protocol;
  }
  return uri.scheme === 'sips' ? 'tls' : 'udp';
}

/**
 * The send target for a URI. `maddr` overrides the host (§19.1.1). Host names other than `localhost` are
 * refused: the lab core resolves everything to IP literals before routing (no DNS, RFC 3263 NAPTR/SRV).
 * Throws an Error naming the URI when it cannot be reached.
 */
export function targetFromUri(uri: SipUri): SendTarget {
  const protocol = uriTransport(uri);
  const maddr = getUriParam(uri.params, 'maddr');
  const hostText = typeof maddr === 'string' ? maddr : uri.host;
  let host = bareHost(hostText);
  const kind = hostKind(hostText);
  if (host === 'localhost') host = '127.0.0.1';
  else if (kind !== 'ipv4' && kind !== 'ipv6') throw new Error(`cannot resolve host ${hostText}: only IP literals are routed`);
  return { protocol, host, port: uri.port ?? defaultPort(protocol) };
}
