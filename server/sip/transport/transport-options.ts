/**
 * Options of `createTransportLayer`: listening points, TLS credentials, limits and the trace hook, with
 * their defaults and validation (a bad option is a clear error at start-up, never a crash later).
 */
import { isIP } from 'node:net';
import type { Endpoint, TransportProtocol } from './transport-types';
import { isSecure, isTransportProtocol } from './endpoint';

/** One listening point to bind. */
export interface ListenerOptions {
  protocol: TransportProtocol;
  /** An IP literal; default `127.0.0.1`. Use `::1` for IPv6 loopback. */
  host?: string;
  /** Default 0: an ephemeral port (read it back with `listeningPoints()`). */
  port?: number;
}

/** Our certificate for TLS and WSS listeners (PEM). Without it a dev certificate is generated. */
export interface TlsCredentials {
  key: string | Buffer;
  cert: string | Buffer;
}

/** How outgoing TLS and WSS connections check the server. */
export interface TlsClientOptions {
  /** Trusted CA certificates (PEM), in place of the system store; pass a self-signed peer's cert here. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Default true: reject servers whose certificate does not verify. */
  rejectUnauthorized?: boolean;
}

/** Resource limits (RFC 5626 §3.5 keep-alive aside, these are local policy). 0 disables a timer. */
export interface TransportLimits {
  /** Open connections of every kind, inbound and outbound. Default 1024. */
  maxConnections: number;
  /** Inbound connections that have not yet delivered one complete SIP message. Default 128. */
  maxHalfOpen: number;
  /** How long an inbound connection may stay without a complete message (TLS and WS handshakes included). Default 10 s. */
  halfOpenTimeoutMs: number;
  /** Close a connection without traffic for this long. Default 65 min (longer than a 3600 s registration). */
  idleTimeoutMs: number;
  /** Give up on an outgoing connection not usable after this. Default 10 s. */
  connectTimeoutMs: number;
  /** Destroy a closing connection still open after this. Default 2 s. */
  closeGraceMs: number;
  /** Largest SIP message accepted or sent, in bytes. Default 65535. */
  maxMessageSize: number;
}

/**
 * Socket buffer sizes of every UDP listening point, in bytes (SO_RCVBUF / SO_SNDBUF). The receive buffer is
 * what holds datagrams while the event loop is busy (a garbage-collection pause, a CPU shared with other
 * processes): once it is full the kernel drops them (`RcvbufErrors` in /proc/net/snmp), and an ACK for a 2xx
 * is never retransmitted (RFC 3261 §13.2.2.4), so a drop there fails a call. The OS clamps what it grants
 * (Linux: to `net.core.rmem_max` / `wmem_max`, then doubles it for its own bookkeeping). 0 keeps the system
 * default.
 */
export interface UdpBufferSizes {
  /** Default 4 MiB. */
  receive: number;
  /** Default 4 MiB. */
  send: number;
}

/** Endpoints of a traced message. */
export interface TraceEndpoints {
  local: Endpoint;
  remote: Endpoint;
  flowId?: string;
}

/** Called with every message's bytes as they go on or come off the wire. Must not throw (it is isolated anyway). */
export type TransportTrace = (direction: 'in' | 'out', bytes: Uint8Array, endpoints: TraceEndpoints) => void;

/** Everything `createTransportLayer` takes. */
export interface TransportLayerOptions {
  listeners: ListenerOptions[];
  /** Certificate for tls/wss listeners. */
  tls?: TlsCredentials;
  /** Verification of outgoing tls/wss connections. */
  tlsClient?: TlsClientOptions;
  limits?: Partial<TransportLimits>;
  /** UDP socket buffer sizes (default 4 MiB each). */
  udpBuffers?: Partial<UdpBufferSizes>;
  trace?: TransportTrace;
}

/** The limits used when an option leaves one out. */
export const DEFAULT_LIMITS: Readonly<TransportLimits> = {
  maxConnections: 1024,
  maxHalfOpen: 128,
  halfOpenTimeoutMs: 10_000,
  idleTimeoutMs: 65 * 60_000,
  connectTimeoutMs: 10_000,
  closeGraceMs: 2_000,
  maxMessageSize: 65_535,
};

/** The UDP buffer sizes used when an option leaves one out. */
export const DEFAULT_UDP_BUFFERS: Readonly<UdpBufferSizes> = { receive: 4 * 1024 * 1024, send: 4 * 1024 * 1024 };

/** The largest buffer size accepted (1 GiB): beyond it the kernel's doubling would overflow an int. */
export const MAX_UDP_BUFFER = 1024 * 1024 * 1024;

/** Options after defaults and validation. */
export interface ResolvedTransportOptions {
  listeners: Required<ListenerOptions>[];
  tls: TlsCredentials | undefined;
  tlsClient: TlsClientOptions;
  limits: TransportLimits;
  udpBuffers: UdpBufferSizes;
  trace: TransportTrace | undefined;
  /** True when a tls or wss listener is configured. */
  needsCertificate: boolean;
}

/** Apply defaults and check every option; throws a TypeError/RangeError naming the bad option. */
export function resolveTransportOptions(options: TransportLayerOptions): ResolvedTransportOptions {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.listeners)) {
    throw new TypeError('transport options need a listeners array');
  }
  const listeners = options.listeners.map((l, i): Required<ListenerOptions> => {
    const protocol = String(l?.protocol ?? '').toLowerCase();
    if (!isTransportProtocol(protocol)) throw new TypeError(`listeners[${i}].protocol '${String(l?.protocol)}' is not udp, tcp, tls, ws or wss`);
    const host = l.host ?? '127.0.0.1';
    if (isIP(host) === 0) throw new TypeError(`listeners[${i}].host '${host}' is not an IP literal`);
    const port = l.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`listeners[${i}].port ${String(port)} is not in 0-65535`);
    return { protocol, host, port };
  });
  const limits: TransportLimits = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(options.limits ?? {})) {
    if (!(name in DEFAULT_LIMITS)) throw new TypeError(`unknown transport limit '${name}'`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`transport limit ${name} must be a non-negative number, got ${String(value)}`);
    }
    limits[name as keyof TransportLimits] = value;
  }
  if (limits.maxMessageSize < 1) throw new RangeError('transport limit maxMessageSize must be at least 1');
  const udpBuffers: UdpBufferSizes = { ...DEFAULT_UDP_BUFFERS };
  for (const [name, value] of Object.entries(options.udpBuffers ?? {})) {
    if (!(name in DEFAULT_UDP_BUFFERS)) throw new TypeError(`unknown UDP buffer '${name}' (receive or send)`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UDP_BUFFER) {
      throw new RangeError(`UDP ${name} buffer must be a whole number of bytes in 0-${MAX_UDP_BUFFER}, got ${String(value)}`);
    }
    udpBuffers[name as keyof UdpBufferSizes] = value;
  }
  if (options.trace !== undefined && typeof options.trace !== 'function') throw new TypeError('trace must be a function');
  return {
    listeners,
    tls: options.tls,
    tlsClient: options.tlsClient ?? {},
    limits,
    udpBuffers,
    trace: options.trace,
    needsCertificate: listeners.some((l) => isSecure(l.protocol)),
  };
}
