/**
 * This proxy's own addresses: what it writes into Via and Record-Route, and how it recognises its own URIs
 * in Route, Request-URI and Via (RFC 3261 §16.4, §16.6 items 4 and 8; RFC 5658 for one URI per transport).
 */
import { bareHost, getUriParam, type SipUri } from '../message/sip-uri';
import type { Endpoint, SipTransportLayer, TransportProtocol } from '../transport/transport-types';
import type { Via } from '../message/via';
import { defaultPort } from '../transport/endpoint';
import { viaProtocol } from '../transport/via-routing';
import { uriTransport } from './next-hop';

function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The addresses of a proxy, read from its transport layer's listening points. */
export class ProxyAddresses {
  /**
   * @param transport the proxy's transport layer
   * @param advertisedHost the host to write instead of the bound address (e.g. when bound to a wildcard)
   */
  constructor(
    private readonly transport: SipTransportLayer,
    private readonly advertisedHost?: string,
  ) {}

  /** Our listening point for a protocol; throws when we have none (we cannot send on it). */
  point(protocol: TransportProtocol): Endpoint {
    const point = this.transport.listeningPoint(protocol);
    if (!point) throw new Error(`no ${protocol.toUpperCase()} listening point`);
    return point;
  }

  /** A Via value for a request we send on `protocol` (§16.6 item 8; `rport` per RFC 3581). */
  via(protocol: TransportProtocol, branch: string): string {
    const p = this.point(protocol);
    return `SIP/2.0/${protocol.toUpperCase()} ${hostText(this.advertisedHost ?? p.host)}:${p.port};branch=${branch};rport`;
  }

  /**
   * The Record-Route / Route URI that reaches us on `protocol` (§16.6 item 4), with `lr` (loose routing).
   * `secure` (the request was for a SIPS URI) makes it a SIPS URI, as item 4 requires; that needs TLS or WSS.
   */
  routeUri(protocol: TransportProtocol, secure = false): string {
    const p = this.point(protocol);
    const scheme = secure && (protocol === 'tls' || protocol === 'wss') ? 'sips' : 'sip';
    const transport = protocol === 'udp' ? '' : `;transport=${protocol}`;
    return `${scheme}:${hostText(this.advertisedHost ?? p.host)}:${p.port}${transport};lr`;
  }

  /**
   * True when `uri` addresses one of our listening points: same host (or `maddr`) and port, the port defaulting
   * per the URI's transport (§19.1.2). A URI with an unknown transport is never ours.
   */
  isOwnUri(uri: SipUri): boolean {
    let protocol: TransportProtocol;
    try {
      protocol = uriTransport(uri);
    } catch {
      return false;
    }
    const maddr = getUriParam(uri.params, 'maddr');
    const host = bareHost(typeof maddr === 'string' ? maddr : uri.host);
    const port = uri.port ?? defaultPort(protocol);
    return this.transport.listeningPoints().some((p) => this.matches(p, host, port));
  }

  /** True when a Via's sent-by is one of our listening points (so it is our own Via, §16.3 item 4, §16.7 item 3). */
  isOwnVia(via: Via): boolean {
    const protocol = viaProtocol(via);
    if (protocol === undefined) return false;
    const port = via.port ?? defaultPort(protocol);
    return this.transport.listeningPoints().some((p) => this.matches(p, bareHost(via.host), port));
  }

  private matches(point: Endpoint, host: string, port: number): boolean {
    const ours = host === point.host.toLowerCase() || (this.advertisedHost !== undefined && host === this.advertisedHost.toLowerCase());
    return ours && port === point.port;
  }
}
