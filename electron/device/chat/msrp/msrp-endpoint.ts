/**
 * The device's MSRP endpoint over TCP (RFC 4975): one listening socket for the sessions where the peer
 * connects (`a=setup:passive` on our side, RFC 6135) and outgoing connections for the ones where we
 * connect, shared between sessions to the same peer (RFC 4975 §5.4). The connecting side sends its
 * binding SEND at once (PROFILE.md "A CPM session").
 *
 * The protocol work (framing, binding, limits, timeouts) is `MsrpConnectionPool` in protocol/msrp; this
 * class owns the Node sockets.
 *
 * ```ts
 * const endpoint = new MsrpEndpoint();
 * const { host, port } = await endpoint.listen();          // → our a=path authority
 * const localUri = endpoint.newLocalUri();                   // msrp://host:port/<fresh id>;tcp
 * const { session, bound } = endpoint.createSession({ localUri, remotePath, setup: 'active' });
 * session.on('message', (m) => …);                          // before any I/O: no message is missed
 * await bound;                                               // MsrpEndpointError on timeout / refusal
 * endpoint.on('sessionLost', (s, reason) => …);             // the chat layer ends the SIP session
 * await endpoint.close();                                     // no socket left
 * ```
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TypedEmitter } from '../../../../protocol/common/typed-emitter';
import {
  MsrpConnectionPool,
  MsrpEndpointError,
  type MsrpEndpointLimits,
  type OpenMsrpSessionOptions,
} from '../../../../protocol/msrp/msrp-connection-pool';
import { newLocalMsrpUri } from '../../../../protocol/msrp/msrp-ids';
import type { MsrpSession } from '../../../../protocol/msrp/msrp-session';
import { adaptStreamSocket, type MsrpSocket } from '../../../../protocol/msrp/msrp-socket';
import type { MsrpUri } from '../../../../protocol/msrp/msrp-uri';

/** Where the endpoint listens. */
export interface MsrpListenAddress {
  host: string;
  port: number;
}

/** Options of an endpoint. */
export interface MsrpEndpointOptions {
  limits?: Partial<MsrpEndpointLimits>;
}

/** Events of an endpoint. */
export type MsrpEndpointEvents = {
  /** A session closed because its connection went away or the peer refused it: end the chat session. */
  sessionLost: (session: MsrpSession, reason: string) => void;
  /** A peer misbehaved or was refused by a limit (diagnostics only). */
  peerError: (error: Error, peer: string) => void;
};

/** The MSRP endpoint of one device. */
export class MsrpEndpoint extends TypedEmitter<MsrpEndpointEvents> {
  private readonly pool: MsrpConnectionPool;
  private server: Server | undefined;
  private address: MsrpListenAddress | undefined;
  private readonly dialing = new Set<Socket>();
  private closing: Promise<void> | undefined;

  constructor(options: MsrpEndpointOptions = {}) {
    super();
    this.pool = new MsrpConnectionPool({ connect: (host, port, timeoutMs) => this.dial(host, port, timeoutMs), ...(options.limits ? { limits: options.limits } : {}) });
    this.pool.on('sessionLost', (session, reason) => this.emit('sessionLost', session, reason));
    this.pool.on('peerError', (error, peer) => this.emit('peerError', error, peer));
  }

  /** The bounds in force. */
  get limits(): Readonly<MsrpEndpointLimits> {
    return this.pool.limits;
  }

  /** Open connections (both directions). */
  get connectionCount(): number {
    return this.pool.connectionCount;
  }

  /** Passive sessions waiting for their peer. */
  get waitingSessionCount(): number {
    return this.pool.waitingSessionCount;
  }

  /** The address we listen on, once `listen` resolved. */
  get listenAddress(): MsrpListenAddress | undefined {
    return this.address;
  }

  /**
   * Listen for peers' connections (loopback and an ephemeral port by default). Resolves with the bound
   * address, for our `a=path`. Rejects with `MsrpEndpointError` if the address cannot be bound.
   */
  listen(options: { host?: string; port?: number } = {}): Promise<MsrpListenAddress> {
    if (this.closing) return Promise.reject(new MsrpEndpointError('closed', 'the MSRP endpoint is closed'));
    if (this.server) return Promise.reject(new MsrpEndpointError('refused', 'the MSRP endpoint is already listening'));
    const host = options.host ?? '127.0.0.1';
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      this.pool.accept(adaptStreamSocket(socket));
    });
    this.server = server;
    return new Promise<MsrpListenAddress>((resolve, reject) => {
      const failed = (error: Error): void => {
        this.server = undefined;
        reject(new MsrpEndpointError('refused', `cannot listen for MSRP on ${host}:${options.port ?? 0}: ${error.message}`));
      };
      server.once('error', failed);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', failed);
        server.on('error', (error) => this.emit('peerError', error, `${host}`));
        const bound = server.address();
        if (bound === null || typeof bound === 'string') {
          failed(new Error('no TCP address'));
          return;
        }
        this.address = { host, port: bound.port };
        resolve(this.address);
      });
    });
  }

  /** A fresh local URI on our listening address (`listen` first): `msrp://host:port/<≥ 80 random bits>;tcp`. */
  newLocalUri(): MsrpUri {
    if (!this.address) throw new TypeError('newLocalUri() before listen()');
    return newLocalMsrpUri(this.address.host, this.address.port);
  }

  /**
   * Open a session, resolved once bound: `active` connects to the first hop of `remotePath` (sharing an
   * open connection to the same host and port) and binds at once; `passive` waits for the peer's
   * connection to bind it, at most `waitMs` (default `limits.sessionWaitMs`). Rejects with
   * `MsrpEndpointError` on failure. A message may arrive in the exchange that binds the session, before
   * the promise resolves: to see every message, use `createSession` and add listeners first.
   */
  openSession(options: OpenMsrpSessionOptions): Promise<MsrpSession> {
    try {
      return this.createSession(options).bound;
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * The session at once, before any I/O (add `message` listeners, queue messages), and `bound`, which
   * settles like `openSession` and is never an unhandled rejection. Throws `MsrpEndpointError` /
   * `TypeError` on a closed endpoint or invalid options.
   */
  createSession(options: OpenMsrpSessionOptions): { session: MsrpSession; bound: Promise<MsrpSession> } {
    if (options.setup === 'passive' && !this.server) throw new MsrpEndpointError('refused', 'a passive MSRP session needs listen() first');
    return this.pool.createSession(options);
  }

  /**
   * Carry a session the caller made (its local URI from `newLocalUri`, its listeners attached): `active`
   * connects and binds, `passive` waits for the peer, as `openSession` does. Resolves once bound; rejects
   * with the session closed. With `newLocalUri`, this makes the endpoint the chat layer's
   * `ChatMediaTransport` (electron/device/chat/msrp-transport.ts).
   */
  bind(session: MsrpSession, setup: 'active' | 'passive'): Promise<void> {
    if (setup === 'passive' && !this.server) {
      session.close();
      return Promise.reject(new MsrpEndpointError('refused', 'a passive MSRP session needs listen() first'));
    }
    return this.pool.bindSession(session, setup).then(() => undefined);
  }

  /** Close every session, connection and the listening socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.pool.close();
      for (const socket of this.dialing) socket.destroy();
      this.dialing.clear();
      const server = this.server;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    })();
    return this.closing;
  }

  private dial(host: string, port: number, timeoutMs: number): Promise<MsrpSocket> {
    return new Promise<MsrpSocket>((resolve, reject) => {
      const socket = connect({ host, port });
      this.dialing.add(socket);
      const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.dialing.delete(socket);
        socket.off('error', fail);
        socket.off('close', closedEarly);
      };
      const fail = (error: Error): void => {
        done();
        socket.destroy();
        reject(error);
      };
      const closedEarly = (): void => fail(new Error('closed while connecting'));
      socket.once('error', fail);
      socket.once('close', closedEarly);
      socket.once('connect', () => {
        done();
        socket.on('error', () => undefined); // until the pool listens; 'close' follows an error
        socket.setNoDelay(true);
        resolve(adaptStreamSocket(socket));
      });
    });
  }
}
