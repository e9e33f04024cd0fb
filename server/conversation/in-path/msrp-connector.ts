/**
 * The one case where an in-path Conversation Server opens an MSRP connection itself: a leg towards another
 * in-path Conversation Server. Both servers offer `a=setup:passive` (PROFILE.md: a server is passive towards
 * devices), so when an offer that is itself `passive` reaches us, RFC 6135 §4.2 / RFC 4145 §4.1 leave one
 * answer: `active`, and we connect (PROFILE.md's "a Conversation Server is always passive" is read as "towards
 * devices": two passive ends could never meet). Connections are shared per peer address (RFC 4975 §5.4).
 *
 * The protocol work is `MsrpConnectionPool` (protocol/msrp); this class owns the Node sockets of the
 * connections it opens and lends the relay its flow control (`pauseReading`).
 */
import { connect, type Socket } from 'node:net';
import { TypedEmitter } from '../../../protocol/common/typed-emitter';
import { MsrpConnectionPool, type MsrpEndpointLimits } from '../../../protocol/msrp/msrp-connection-pool';
import type { MsrpSession } from '../../../protocol/msrp/msrp-session';
import { adaptStreamSocket, type MsrpSocket } from '../../../protocol/msrp/msrp-socket';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';

/** Events of the connector. */
export type MsrpConnectorEvents = {
  /** A bound session closed because its connection went away or the peer refused it. */
  sessionLost: (session: MsrpSession, reason: string) => void;
};

/** Opens and binds active MSRP sessions towards other servers. */
export class MsrpConnector extends TypedEmitter<MsrpConnectorEvents> {
  private readonly pool: MsrpConnectionPool;
  private readonly dialing = new Set<Socket>();
  private closed = false;

  constructor(limits?: Partial<MsrpEndpointLimits>) {
    super();
    this.pool = new MsrpConnectionPool({ connect: (host, port, timeoutMs) => this.dial(host, port, timeoutMs), ...(limits ? { limits } : {}) });
    this.pool.on('sessionLost', (session, reason) => this.emit('sessionLost', session, reason));
    this.pool.on('peerError', () => undefined);
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.pool.connectionCount;
  }

  /**
   * Connect (or share a connection) to the first hop of `remotePath` and bind with a SEND (RFC 4975 §5.4).
   * Rejects with `MsrpEndpointError` when it cannot.
   */
  open(localUri: MsrpUri, remotePath: MsrpUri[]): Promise<MsrpSession> {
    return this.pool.openSession({ localUri, remotePath, setup: 'active' });
  }

  /** @see MsrpReadControl.pauseReading */
  pauseReading(session: MsrpSession, token: unknown): boolean {
    return this.pool.pauseReading(session, token);
  }

  /** @see MsrpReadControl.resumeReading */
  resumeReading(session: MsrpSession, token: unknown): void {
    this.pool.resumeReading(session, token);
  }

  /** Close every connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    for (const socket of this.dialing) socket.destroy();
    this.dialing.clear();
  }

  private dial(host: string, port: number, timeoutMs: number): Promise<MsrpSocket> {
    return new Promise<MsrpSocket>((resolve, reject) => {
      const socket = connect({ host, port });
      this.dialing.add(socket);
      const timer = setTimeout(() => fail(new Error(`no MSRP connection to ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        this.dialing.delete(socket);
        socket.off('error', fail);
      };
      const fail = (error: Error): void => {
        settle();
        socket.destroy();
        reject(error);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        settle();
        socket.on('error', () => undefined); // 'close' follows; the pool sees it
        socket.setNoDelay(true);
        resolve(adaptStreamSocket(socket));
      });
    });
  }
}
