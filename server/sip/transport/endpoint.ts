/**
 * Helpers for transport addresses: IP-literal normalization, comparison, default ports and printable forms.
 * Hosts are always IP literals without brackets here; name resolution (RFC 3263) happens above the transport.
 */
import { isIP } from 'node:net';
import type { Endpoint, TransportProtocol } from './transport-types';
import { TransportError } from './transport-error';

/** Every protocol the layer speaks. */
export const TRANSPORT_PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** True when `value` names one of our transport protocols (case-insensitive, as in Via). */
export function isTransportProtocol(value: string): value is TransportProtocol {
  return (TRANSPORT_PROTOCOLS as readonly string[]).includes(value);
}

/** True for the protocols that carry SIP over a TLS session. */
export function isSecure(protocol: TransportProtocol): boolean {
  return protocol === 'tls' || protocol === 'wss';
}

/** True for SIP over WebSocket (RFC 7118). */
export function isWebSocket(protocol: TransportProtocol): boolean {
  return protocol === 'ws' || protocol === 'wss';
}

/** The port a sent-by or URI without a port means (RFC 3261 §18.2.2, §19.1.2; RFC 7118 §5 for ws/wss). */
export function defaultPort(protocol: TransportProtocol): number {
  switch (protocol) {
    case 'tls':
      return 5061;
    case 'ws':
      return 80;
    case 'wss':
      return 443;
    default:
      return 5060;
  }
}

/**
 * The canonical text of an IP literal: brackets stripped, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) turned into
 * IPv4, IPv6 lower-cased and compressed the way Node prints it. Returns undefined for anything that is not
 * an IP literal.
 */
export function normalizeIp(host: string): string | undefined {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const family = isIP(h);
  if (family === 4) return h;
  if (family !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  if (mapped?.[1] !== undefined) return mapped[1];
  try {
    // The URL parser compresses and lower-cases IPv6 (RFC 5952 form).
    return new URL(`http://[${h}]/`).hostname.slice(1, -1);
  } catch {
    return h.toLowerCase();
  }
}

/** True when two hosts are the same IP address in any textual form (`::1` equals `0:0::1`). */
export function sameAddress(a: string, b: string): boolean {
  const na = normalizeIp(a);
  return na !== undefined && na === normalizeIp(b);
}

/** `host` as it appears in a URI or sent-by: IPv6 in brackets (RFC 3261 §25.1 IPv6reference). */
export function hostForUri(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** A printable form for logs and errors: `tcp:[::1]:5060`. */
export function formatEndpoint(endpoint: Endpoint): string {
  return `${endpoint.protocol}:${hostForUri(endpoint.host)}:${endpoint.port}`;
}

/** The key under which connections to the same peer are pooled for reuse. */
export function peerKey(protocol: TransportProtocol, host: string, port: number): string {
  return `${protocol}|${normalizeIp(host) ?? host.toLowerCase()}|${port}`;
}

/**
 * Check and normalize a send target. Throws a TransportError (`invalid-target`) for an unknown protocol, a
 * host that is not an IP literal, or a port outside 1–65535.
 */
export function validateEndpoint(target: Endpoint): Endpoint {
  const protocol = String(target.protocol).toLowerCase();
  if (!isTransportProtocol(protocol)) {
    throw new TransportError('invalid-target', `unknown transport protocol '${String(target.protocol)}'`);
  }
  const host = normalizeIp(String(target.host));
  if (host === undefined) {
    throw new TransportError(
      'invalid-target',
      `target host '${String(target.host)}' is not an IP literal (resolve names per RFC 3263 before sending)`,
    );
  }
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new TransportError('invalid-target', `target port ${String(target.port)} is not in 1-65535`);
  }
  return { protocol, host, port: target.port };
}
