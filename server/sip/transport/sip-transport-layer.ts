/**
 * The SIP transport layer (RFC 3261 §18) over UDP, TCP, TLS, WebSocket and secure WebSocket (RFC 7118):
 * listening points, the pool of reliable connections (flows, RFC 5626 §3.1) with reuse in either direction,
 * receive-side Via processing (§18.2.1, RFC 3581) and response routing (§18.2.2), under resource limits.
 *
 * Every inbound TCP connection, whatever runs on it, becomes a `SipConnection` the moment it is accepted, so
 * that connection limits and the half-open timer also cover TLS and WebSocket handshakes.
 */
import { Server as NetServer, Socket, createServer } from 'node:net';
import { TLSSocket, connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { SipMessage, SipRequest, SipResponse } from '../message/sip-message';
import { SipParseError } from '../message/parse-error';
import { parseMessage } from '../message/parse';
import { serializeMessage } from '../message/serialize';
import type {
  Endpoint,
  ReceivedMessage,
  SendResult,
  SendTarget,
  SipTransportEvents,
  SipTransportLayer,
  TransportProtocol,
} from './transport-types';
import { TypedEmitter } from './typed-emitter';
import { TransportError, asTransportError } from './transport-error';
import { formatEndpoint, hostForUri, isSecure, isWebSocket, normalizeIp, peerKey, validateEndpoint } from './endpoint';
import {
  resolveTransportOptions,
  type ResolvedTransportOptions,
  type TlsCredentials,
  type TransportLayerOptions,
  type TransportLimits,
  type UdpBufferSizes,
} from './transport-options';
import { devCertificate } from './dev-certificate';
import { ConnectionState, SipConnection, type ConnectionTimers } from './sip-connection';
import { StreamChannel } from './stream-channel';
import { WebSocketChannel } from './websocket-channel';
import { WebSocketAcceptor } from './websocket-acceptor';
import { UdpListener } from './udp-listener';
import { responseDestination, stampReceivedVia, topVia, viaProtocol } from './via-routing';
import { badRequestReply } from './bad-request-reply';

/** A bound TCP listening socket and what runs on its connections. */
interface StreamListener {
  protocol: Exclude<TransportProtocol, 'udp'>;
  server: NetServer;
  local: Endpoint;
  acceptor: WebSocketAcceptor | undefined;
}

/** True when the bytes are only CR, LF, space or tab: a keep-alive datagram, not a message. */
function isBlank(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 13 || b === 10 || b === 32 || b === 9);
}

/**
 * Create a transport layer and bind every listening point. Rejects (closing whatever was bound) when an
 * option is invalid or a listener cannot bind. Generates a development certificate when a tls/wss listener
 * has no `tls` credentials.
 */
export async function createTransportLayer(options: TransportLayerOptions): Promise<SipTransport> {
  const resolved = resolveTransportOptions(options);
  const credentials = resolved.tls ?? (resolved.needsCertificate ? await devCertificate() : undefined);
  const layer = new SipTransport(resolved, credentials);
  try {
    await layer.bind();
  } catch (error) {
    await layer.close();
    throw error;
  }
  return layer;
}

/** The transport layer of one SIP element (see the module comment). Create it with `createTransportLayer`. */
export class SipTransport implements SipTransportLayer {
  private readonly events = new TypedEmitter<SipTransportEvents>();
  private readonly options: ResolvedTransportOptions;
  private readonly limits: TransportLimits;
  private readonly timers: ConnectionTimers;
  private readonly secureContext: SecureContext | undefined;
  private readonly credentials: TlsCredentials | undefined;
  private readonly udp: UdpListener[] = [];
  /** Per UDP listener, the settled result its sends share (a datagram is sent, or not, at once). */
  private readonly udpSent = new Map<UdpListener, Promise<SendResult>>();
  private readonly streams: StreamListener[] = [];
  private readonly connections = new Map<string, SipConnection>();
  private readonly byPeer = new Map<string, Set<SipConnection>>();
  private readonly bySocket = new WeakMap<Duplex, SipConnection>();
  private readonly tag = randomBytes(3).toString('hex');
  private sequence = 0;
  private closing = false;

  /** Use `createTransportLayer`; the constructor binds nothing. */
  constructor(options: ResolvedTransportOptions, credentials: TlsCredentials | undefined) {
    this.options = options;
    this.limits = options.limits;
    this.timers = {
      connectTimeoutMs: this.limits.connectTimeoutMs,
      halfOpenTimeoutMs: this.limits.halfOpenTimeoutMs,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      closeGraceMs: this.limits.closeGraceMs,
    };
    if (options.needsCertificate && credentials === undefined) {
      throw new TypeError('tls and wss listeners need TLS credentials (createTransportLayer generates a dev certificate)');
    }
    this.credentials = credentials;
    this.secureContext = credentials === undefined ? undefined : createSecureContext({ key: credentials.key, cert: credentials.cert });
  }

  on<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  /** Bind every configured listening point (called once by `createTransportLayer`). */
  async bind(): Promise<void> {
    for (const l of this.options.listeners) {
      if (l.protocol === 'udp') {
        const listener = await UdpListener.bind(l.host, l.port, this.options.udpBuffers, {
          datagram: (bytes, source, local) => this.onDatagram(bytes, source, local),
          error: (error) => this.report(error),
        });
        this.udp.push(listener);
      } else {
        this.streams.push(await this.listenStream(l.protocol, l.host, l.port));
      }
    }
  }

  listeningPoints(): Endpoint[] {
    return [...this.udp.map((u) => u.local), ...this.streams.map((s) => ({ ...s.local }))];
  }

  listeningPoint(protocol: TransportProtocol): Endpoint | undefined {
    return this.listeningPoints().find((p) => p.protocol === protocol);
  }

  connectionCount(): number {
    return this.connections.size;
  }

  /** The socket buffer sizes the OS granted each UDP listening point (see `UdpBufferSizes`). */
  udpBufferSizes(): (Endpoint & UdpBufferSizes)[] {
    return this.udp.map((u) => ({ ...u.local, ...u.bufferSizes }));
  }

  /** The open flow with this id, if any (for inspection and tests). */
  connection(flowId: string): SipConnection | undefined {
    return this.connections.get(flowId);
  }

  /** Inbound connections that have not delivered a complete message yet. */
  halfOpenCount(): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.halfOpen) n++;
    return n;
  }

  // Not `async`: a UDP send settles at once with a shared result, and each of these is called per message.
  send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    try {
      if (this.closing) throw new TransportError('closed', 'transport layer is closed');
      return this.route(this.serialize(message), target);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  sendSerialized(bytes: Uint8Array, target: SendTarget): Promise<SendResult> {
    try {
      if (this.closing) throw new TransportError('closed', 'transport layer is closed');
      if (bytes.length > this.limits.maxMessageSize) {
        throw new TransportError('message-too-large', `message of ${bytes.length} bytes exceeds maxMessageSize ${this.limits.maxMessageSize}`);
      }
      return this.route(bytes, target);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private route(bytes: Uint8Array, target: SendTarget): Promise<SendResult> {
    if (target.flowId !== undefined) {
      const connection = this.connections.get(target.flowId);
      if (connection === undefined || !connection.usable) {
        throw new TransportError('flow-not-found', `flow ${target.flowId} is not open (RFC 5626 §5.3: the flow failed)`);
      }
      return this.sendOnConnection(connection, bytes);
    }
    const endpoint = validateEndpoint(target);
    if (endpoint.protocol === 'udp') return this.sendUdp(bytes, endpoint);
    return this.sendOnConnection(this.connectionTo(endpoint), bytes);
  }

  /**
   * Send a response as RFC 3261 §18.2.2 says: over the flow its request came on while that is open; else,
   * for TCP/TLS, over a connection to `received` (or the sent-by host) and the sent-by port; for UDP to
   * `maddr`, or `received` with `rport` (RFC 3581 §4), or the sent-by. A WebSocket client is reachable only
   * over its own flow, so without it the send fails with `flow-not-found`.
   */
  async sendResponse(response: SipResponse, flowId?: string): Promise<SendResult> {
    if (flowId !== undefined) {
      const connection = this.connections.get(flowId);
      if (connection?.usable === true) return this.send(response, { ...connection.remote, flowId });
    }
    const protocol = viaProtocol(topVia(response));
    if (protocol !== undefined && isWebSocket(protocol)) {
      throw new TransportError('flow-not-found', `the WebSocket flow of this response is closed; a ${protocol} client cannot be reached otherwise`);
    }
    return this.send(response, responseDestination(response));
  }

  async close(): Promise<void> {
    this.closing = true;
    const serversClosed = this.streams.map(
      (s) => new Promise<void>((resolve) => s.server.close(() => resolve())),
    );
    const connections = [...this.connections.values()];
    for (const c of connections) c.destroy();
    await Promise.all(connections.map((c) => c.closed()));
    await Promise.all([...serversClosed, ...this.udp.map((u) => u.close())]);
    this.streams.length = 0;
    this.udp.length = 0;
  }

  // ----------------------------------------------------------------------------------------------
  // Receiving

  private onDatagram(bytes: Uint8Array, source: Endpoint, local: Endpoint): void {
    if (this.closing || isBlank(bytes)) return; // CRLF keep-alives seen in the wild over UDP
    if (bytes.length > this.limits.maxMessageSize) {
      this.report(new TransportError('message-too-large', `datagram of ${bytes.length} bytes exceeds maxMessageSize`), { source });
      return;
    }
    // Node gives every datagram a buffer of its own: keep it rather than copy it, unless it is a view into more.
    const raw = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    this.trace('in', raw, { local, remote: source });
    this.deliver(raw, source, local, undefined);
  }

  private deliver(raw: Uint8Array, source: Endpoint, local: Endpoint, flowId: string | undefined): void {
    let message: SipMessage;
    try {
      // A WebSocket message is exactly one SIP message; a datagram may carry trailing bytes to drop (§18.3).
      message = parseMessage(raw, { trailing: isWebSocket(source.protocol) ? 'reject' : 'discard' });
      if (message.type === 'request') stampViaOrExplain(message, source);
    } catch (error) {
      const context = flowId === undefined ? { source } : { source, flowId };
      this.report(asTransportError('bad-message', `unparsable message from ${formatEndpoint(source)}`, error), context);
      this.answerBadRequest(error, source, flowId);
      return;
    }
    const received: ReceivedMessage = { message, raw, source: { ...source }, local: { ...local } };
    if (flowId !== undefined) received.flowId = flowId;
    this.events.emit('message', received);
  }

  // ----------------------------------------------------------------------------------------------
  // Listening for connections

  private listenStream(protocol: Exclude<TransportProtocol, 'udp'>, host: string, port: number): Promise<StreamListener> {
    const server = createServer({ noDelay: true });
    const acceptor = isWebSocket(protocol)
      ? new WebSocketAcceptor(this.limits.maxMessageSize, {
          accepted: (socket, ws) => this.onWebSocketAccepted(socket, ws),
          refused: (socket, reason) => {
            const c = this.bySocket.get(socket);
            this.report(new TransportError('bad-message', reason), c === undefined ? undefined : { source: c.remote, flowId: c.id });
          },
        })
      : undefined;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(asTransportError('no-listener', `cannot listen on ${protocol} ${hostForUri(host)}:${port}`, error)));
      server.listen({ host, port, ipv6Only: true }, () => {
        server.removeAllListeners('error');
        server.on('error', (error) => this.report(asTransportError('no-listener', `${protocol} listener error`, error)));
        const address = server.address();
        const boundPort = typeof address === 'object' && address !== null ? address.port : port;
        const listener: StreamListener = { protocol, server, acceptor, local: { protocol, host: normalizeIp(host) ?? host, port: boundPort } };
        server.on('connection', (socket: Socket) => this.accept(socket, listener));
        resolve(listener);
      });
    });
  }

  private accept(socket: Socket, listener: StreamListener): void {
    socket.on('error', () => undefined); // until a connection owns it; errors end in 'close'
    const address = socket.remoteAddress === undefined ? undefined : normalizeIp(socket.remoteAddress);
    const remote: Endpoint | undefined =
      address === undefined || socket.remotePort === undefined ? undefined : { protocol: listener.protocol, host: address, port: socket.remotePort };
    if (this.closing || remote === undefined) {
      socket.destroy();
      return;
    }
    const refusal = this.admissionRefusal(true);
    if (refusal !== undefined) {
      socket.destroy();
      this.report(new TransportError('connection-limit', `${refusal}: refused ${formatEndpoint(remote)}`), { source: remote });
      return;
    }
    const protocol = listener.protocol;
    const tlsSocket =
      isSecure(protocol) && this.secureContext !== undefined
        ? new TLSSocket(socket, { isServer: true, secureContext: this.secureContext, requestCert: false })
        : undefined;
    const top: Socket = tlsSocket ?? socket;
    const connection = new SipConnection({
      id: this.nextFlowId(protocol),
      protocol,
      direction: 'inbound',
      socket,
      remote,
      timers: this.timers,
      layers: tlsSocket === undefined ? [] : [tlsSocket],
    });
    this.register(connection);
    if (listener.acceptor !== undefined) {
      this.bySocket.set(top, connection);
      listener.acceptor.inject(top);
    } else {
      connection.attach(new StreamChannel(top, connection.sink, { maxMessageSize: this.limits.maxMessageSize }));
    }
  }

  private onWebSocketAccepted(socket: Duplex, ws: WebSocket): void {
    const connection = this.bySocket.get(socket);
    if (connection === undefined || !connection.usable) {
      ws.terminate();
      return;
    }
    connection.attach(new WebSocketChannel(ws, connection.sink, { open: true }));
  }

  /** Why a new connection may not be admitted now, or undefined when it may. */
  private admissionRefusal(inbound: boolean): string | undefined {
    if (this.connections.size >= this.limits.maxConnections) return `connection limit ${this.limits.maxConnections} reached`;
    if (inbound && this.halfOpenCount() >= this.limits.maxHalfOpen) return `half-open limit ${this.limits.maxHalfOpen} reached`;
    return undefined;
  }

  // ----------------------------------------------------------------------------------------------
  // The connection pool

  private nextFlowId(protocol: TransportProtocol): string {
    this.sequence += 1;
    return `${protocol}-${this.tag}-${this.sequence}`;
  }

  private register(connection: SipConnection): void {
    const key = peerKey(connection.protocol, connection.remote.host, connection.remote.port);
    this.connections.set(connection.id, connection);
    let peers = this.byPeer.get(key);
    if (peers === undefined) {
      peers = new Set();
      this.byPeer.set(key, peers);
    }
    peers.add(connection);
    let established = false;
    connection.on('message', (raw) => {
      const local = connection.local;
      this.trace('in', raw, { local, remote: connection.remote, flowId: connection.id });
      this.deliver(raw, connection.remote, local, connection.id);
    });
    connection.on('fault', (error) => {
      this.report(error, { source: connection.remote, flowId: connection.id });
      // Faults are emitted before a fatal close, so a 400/513 still goes out ahead of the FIN.
      this.answerBadRequest(error, connection.remote, connection.id);
    });
    connection.on('stateChange', (to) => {
      if (to === ConnectionState.Established) established = true;
      if (to !== ConnectionState.Closed) return;
      this.connections.delete(connection.id);
      const set = this.byPeer.get(key);
      set?.delete(connection);
      if (set?.size === 0) this.byPeer.delete(key);
      const reason = connection.closeReason;
      if (reason !== undefined && reason.code === 'timeout') {
        this.report(reason, { source: connection.remote, flowId: connection.id });
      }
      if (established) this.events.emit('flowClosed', connection.id, { ...connection.remote });
    });
  }

  /** An open connection to the peer (either direction, established first), or a new outbound one. */
  private connectionTo(target: Endpoint): SipConnection {
    const peers = this.byPeer.get(peerKey(target.protocol, target.host, target.port));
    let best: SipConnection | undefined;
    for (const c of peers ?? []) {
      if (!c.usable) continue;
      if (best === undefined || (c.state === ConnectionState.Established && best.state !== ConnectionState.Established)) best = c;
      else if (c.state === best.state && c.lastActivity > best.lastActivity) best = c;
    }
    return best ?? this.connect(target);
  }

  private connect(target: Endpoint): SipConnection {
    const refusal = this.admissionRefusal(false);
    if (refusal !== undefined) throw new TransportError('connection-limit', `${refusal}: cannot connect to ${formatEndpoint(target)}`);
    const protocol = target.protocol;
    const socket = new Socket();
    socket.setNoDelay(true);
    // Connect before wrapping: a socket that is already connecting has its native TCP handle, which TLS then
    // drives directly from C++. An unconnected socket would be wrapped in a JS stream adapter, and every TLS
    // record would cross into JavaScript and back (several times the CPU per message).
    socket.connect({ host: target.host, port: target.port });
    const tlsSocket = isSecure(protocol)
      ? tlsConnect({
          socket,
          ca: this.options.tlsClient.ca,
          // Our certificate, for peers that ask for one (mutual TLS between proxies, RFC 5922).
          key: this.credentials?.key,
          cert: this.credentials?.cert,
          rejectUnauthorized: this.options.tlsClient.rejectUnauthorized ?? true,
          // No SNI for an IP literal (RFC 6066 §3); the certificate must then list the IP in subjectAltName.
          host: target.host,
        })
      : undefined;
    const connection = new SipConnection({
      id: this.nextFlowId(protocol),
      protocol,
      direction: 'outbound',
      socket,
      remote: { ...target },
      timers: this.timers,
      layers: tlsSocket === undefined ? [] : [tlsSocket],
    });
    this.register(connection);
    const top: Socket = tlsSocket ?? socket;
    if (isWebSocket(protocol)) {
      const url = `${protocol}://${hostForUri(target.host)}:${target.port}/`;
      const ws = new WebSocket(url, 'sip', {
        createConnection: () => top,
        perMessageDeflate: false,
        maxPayload: this.limits.maxMessageSize,
        handshakeTimeout: this.limits.connectTimeoutMs > 0 ? this.limits.connectTimeoutMs : undefined,
      });
      connection.attach(new WebSocketChannel(ws, connection.sink, { open: false }));
    } else {
      connection.attach(
        new StreamChannel(top, connection.sink, {
          maxMessageSize: this.limits.maxMessageSize,
          openOn: tlsSocket === undefined ? 'connect' : 'secureConnect',
        }),
      );
    }
    return connection;
  }

  // ----------------------------------------------------------------------------------------------
  // Sending

  private serialize(message: SipMessage): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = serializeMessage(message);
    } catch (error) {
      throw asTransportError('bad-message', 'cannot serialize message', error);
    }
    if (bytes.length > this.limits.maxMessageSize) {
      throw new TransportError('message-too-large', `message of ${bytes.length} bytes exceeds maxMessageSize ${this.limits.maxMessageSize}`);
    }
    return bytes;
  }

  private async sendOnConnection(connection: SipConnection, bytes: Uint8Array): Promise<SendResult> {
    try {
      await connection.send(bytes);
    } catch (error) {
      throw asTransportError('send-failed', `send to ${formatEndpoint(connection.remote)} failed`, error);
    }
    const local = connection.local;
    this.trace('out', bytes, { local, remote: connection.remote, flowId: connection.id });
    return { flowId: connection.id, local };
  }

  private sendUdp(bytes: Uint8Array, target: Endpoint): Promise<SendResult> {
    const family = target.host.includes(':') ? 6 : 4;
    const listener = this.udp.find((u) => u.family === family);
    if (listener === undefined) throw new TransportError('no-listener', `no IPv${family} UDP listening point to send to ${formatEndpoint(target)}`);
    listener.sendNow(bytes, target.host, target.port);
    let sent = this.udpSent.get(listener);
    if (sent === undefined) {
      sent = Promise.resolve(Object.freeze({ local: Object.freeze(listener.local) }));
      this.udpSent.set(listener, sent);
    }
    if (this.options.trace !== undefined) this.trace('out', bytes, { local: listener.local, remote: target });
    return sent;
  }

  /**
   * Answer a request that could not be parsed or framed with 400/513 (see `bad-request-reply.ts`): over its
   * flow, or for UDP straight back to the datagram's source (its Via may be the broken part, and the source is
   * where an `rport` response would go anyway, RFC 3581 §4). Best effort: failures are ignored.
   */
  private answerBadRequest(error: unknown, source: Endpoint, flowId: string | undefined): void {
    if (this.closing) return;
    const response = badRequestReply(error);
    if (response === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = serializeMessage(response);
    } catch {
      return;
    }
    const ignore = (): void => undefined;
    if (flowId !== undefined) {
      const connection = this.connections.get(flowId);
      if (connection?.usable === true) this.sendOnConnection(connection, bytes).catch(ignore);
    } else if (source.protocol === 'udp') {
      this.sendUdp(bytes, source).catch(ignore);
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Reporting

  private report(error: TransportError, context?: { source?: Endpoint; flowId?: string }): void {
    this.events.emit('error', error, context);
  }

  private trace(direction: 'in' | 'out', bytes: Uint8Array, endpoints: { local: Endpoint; remote: Endpoint; flowId?: string }): void {
    const hook = this.options.trace;
    if (hook === undefined) return;
    try {
      hook(direction, bytes, endpoints);
    } catch (error) {
      this.report(asTransportError('bad-message', 'trace hook threw', error));
    }
  }
}

/**
 * §18.2.1 on a parsed request; when its topmost Via does not parse, the error carries the request's start line
 * and headers so that it is still answered 400 (RFC 4475 §3.1.2.1, badinv01) rather than dropped.
 */
function stampViaOrExplain(request: SipRequest, source: Endpoint): void {
  try {
    stampReceivedVia(request, source);
  } catch (error) {
    const reason = error instanceof SipParseError ? error.reason : error instanceof Error ? error.message : 'bad Via';
    throw new SipParseError(`bad Via: ${reason}`, { isRequest: true, method: request.method, headers: request.headers, status: 400 });
  }
}
