/**
 * The Conversation Server's MSRP listener (RFC 4975 over TCP). The server is always passive (PROFILE.md
 * "A CPM session": devices connect towards it): each leg it anchors gets a fresh URI on this listener,
 * put in the server's SDP `a=path`, and is bound by the device's first SEND. Connections are shared by
 * sessions (RFC 4975 §5.4) and bounded (connections, unbound connections, binding time, chunk and message
 * sizes), as in `MsrpConnectionPool` (protocol/msrp), which does the protocol work; this class owns the
 * Node sockets. It also lends the relay its flow control: `pauseReading` stops reading a leg's socket.
 */
import { createServer, type Server } from 'node:net';
import { TypedEmitter } from '../../../../protocol/common/typed-emitter';
import { MsrpConnectionPool, MsrpEndpointError, type MsrpEndpointLimits } from '../../../../protocol/msrp/msrp-connection-pool';
import { newLocalMsrpUri } from '../../../../protocol/msrp/msrp-ids';
import type { MsrpSession } from '../../../../protocol/msrp/msrp-session';
import { adaptStreamSocket } from '../../../../protocol/msrp/msrp-socket';
import type { MsrpUri } from '../../../../protocol/msrp/msrp-uri';
import type { MsrpReadControl } from './msrp-relay';

/** Options of the listener. */
export interface MsrpServerEndpointOptions {
  limits?: Partial<MsrpEndpointLimits>;
}

/** What a leg needs to wait for its device. */
export interface ExpectLegOptions {
  /** Our URI for the leg; a fresh one on this listener by default. */
  localUri?: MsrpUri;
  /** The device's `a=path` from its SDP, when known (checked against the binding SEND's From-Path). */
  remotePath?: MsrpUri[];
  /** How long to wait for the device; default `limits.sessionWaitMs`. */
  waitMs?: number;
  /** Outgoing chunk size on this leg. */
  chunkSize?: number;
  /** Queued bytes at which the leg asks the relay to stop feeding it (and the relay pauses the other leg). */
  highWaterMark?: number;
}

/** Events of the listener. */
export type MsrpServerEndpointEvents = {
  /** A bound leg closed because its connection went away or the device refused it. */
  sessionLost: (session: MsrpSession, reason: string) => void;
  /** A peer misbehaved or was refused by a limit (diagnostics only). */
  peerError: (error: Error, peer: string) => void;
};

/** The MSRP listener of one Conversation Server. */
export class MsrpServerEndpoint extends TypedEmitter<MsrpServerEndpointEvents> implements MsrpReadControl {
  private readonly pool: MsrpConnectionPool;
  private server: Server | undefined;
  private address: { host: string; port: number } | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: MsrpServerEndpointOptions = {}) {
    super();
    this.pool = new MsrpConnectionPool(options.limits ? { limits: options.limits } : {});
    this.pool.on('sessionLost', (session, reason) => this.emit('sessionLost', session, reason));
    this.pool.on('peerError', (error, peer) => this.emit('peerError', error, peer));
  }

  /** The bounds in force. */
  get limits(): Readonly<MsrpEndpointLimits> {
    return this.pool.limits;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.pool.connectionCount;
  }

  /** Legs waiting for their device. */
  get waitingSessionCount(): number {
    return this.pool.waitingSessionCount;
  }

  /** The address we listen on, once `listen` resolved. */
  get listenAddress(): { host: string; port: number } | undefined {
    return this.address;
  }

  /** Listen (loopback, ephemeral port by default). Rejects with `MsrpEndpointError` if it cannot bind. */
  listen(options: { host?: string; port?: number } = {}): Promise<{ host: string; port: number }> {
    if (this.closing) return Promise.reject(new MsrpEndpointError('closed', 'the MSRP endpoint is closed'));
    if (this.server) return Promise.reject(new MsrpEndpointError('refused', 'the MSRP endpoint is already listening'));
    const host = options.host ?? '127.0.0.1';
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      this.pool.accept(adaptStreamSocket(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => {
        this.server = undefined;
        reject(new MsrpEndpointError('refused', `cannot listen for MSRP on ${host}:${options.port ?? 0}: ${error.message}`));
      };
      server.once('error', failed);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', failed);
        server.on('error', (error) => this.emit('peerError', error, host));
        const bound = server.address();
        if (bound === null || typeof bound === 'string') return failed(new Error('no TCP address'));
        this.address = { host, port: bound.port };
        resolve(this.address);
      });
    });
  }

  /** A fresh URI for a leg: `msrp://host:port/<≥ 80 random bits>;tcp` (`listen` first). */
  newLocalUri(): MsrpUri {
    if (!this.address) throw new TypeError('newLocalUri() before listen()');
    return newLocalMsrpUri(this.address.host, this.address.port);
  }

  /**
   * A leg that waits for its device: the session at once (a relay may queue on it), and `bound`, which
   * resolves when the device's first SEND binds it or rejects with `MsrpEndpointError` (timeout, closed).
   * Until a relay serves the leg, what the device sends is held (up to the leg's high-water mark, then
   * 413) and handed to the relay first, so nothing is lost when the device sends before the relay exists.
   */
  expectLeg(options: ExpectLegOptions = {}): { session: MsrpSession; bound: Promise<MsrpSession> } {
    if (!this.server) throw new TypeError('expectLeg() before listen()');
    const leg = this.pool.createSession({ ...options, localUri: options.localUri ?? this.newLocalUri(), setup: 'passive' });
    // What the device sends before a relay serves the leg (even in its binding SEND) waits for the relay.
    leg.session.parkChunks(leg.session.highWaterMark);
    return leg;
  }

  /** @see MsrpReadControl.pauseReading */
  pauseReading(session: MsrpSession, token: unknown): boolean {
    return this.pool.pauseReading(session, token);
  }

  /** @see MsrpReadControl.resumeReading */
  resumeReading(session: MsrpSession, token: unknown): void {
    this.pool.resumeReading(session, token);
  }

  /** Whether reading is paused under `session`. */
  isReadingPaused(session: MsrpSession): boolean {
    return this.pool.isReadingPaused(session);
  }

  /** Close every leg, connection and the listener. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.pool.close();
      const server = this.server;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    })();
    return this.closing;
  }
}
