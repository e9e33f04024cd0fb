/**
 * A small private adapter: `protocol/msrp` connections over `node:net` sockets, implementing
 * {@link ChatMediaTransport} until the team's `MsrpEndpoint` (electron/device/chat/msrp/) is there.
 *
 * - listens on 127.0.0.1:0 by default; accepted connections are passive and bind waiting sessions by the
 *   To-Path of their first SEND (RFC 4975 §5.4);
 * - active connections are shared by the sessions towards the same host and port (RFC 4975 §5.4 allows it);
 * - a connection left without sessions is closed after `idleCloseMs`, so that a BYE sent just before has
 *   time to arrive before the peer sees the connection drop;
 * - bounds: `maxConnections`, `bindTimeoutMs` for sessions and accepted connections that never bind, and the
 *   RFC 4975 §7.1.1 transaction timeout driven once a second.
 */
import net from 'node:net';
import { MsrpConnection, MsrpConnectionState } from '../../../protocol/msrp/msrp-connection';
import { newLocalMsrpUri } from '../../../protocol/msrp/msrp-ids';
import { MsrpSessionState, type MsrpSession } from '../../../protocol/msrp/msrp-session';
import { msrpUriKey, type MsrpUri } from '../../../protocol/msrp/msrp-uri';
import type { ChatMediaTransport } from './msrp-transport';

/** Options of the adapter. */
export interface MsrpSocketTransportOptions {
  /** Listening address (default 127.0.0.1) and port (default 0: ephemeral). */
  host?: string;
  port?: number;
  /** Open connections at once, both directions (default 256). */
  maxConnections?: number;
  /** How long a session or an accepted connection may stay unbound (default 30 000 ms). */
  bindTimeoutMs?: number;
  /** How long a connection without sessions stays open (default 3 000 ms). */
  idleCloseMs?: number;
}

interface Link {
  connection: MsrpConnection;
  socket: net.Socket;
  /** `host:port` of an active link, for sharing. */
  key: string | null;
  idleTimer: NodeJS.Timeout | null;
}

/** MSRP over TCP for the chat layer. */
export class MsrpSocketTransport implements ChatMediaTransport {
  private readonly links = new Set<Link>();
  private readonly active = new Map<string, Link>();
  private readonly waiting = new Map<string, { session: MsrpSession; timer: NodeJS.Timeout }>();
  private readonly expiry: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    /** Our listening host and port. */
    readonly address: { host: string; port: number },
    private readonly options: Required<Omit<MsrpSocketTransportOptions, 'host' | 'port'>>,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    this.expiry = setInterval(() => {
      for (const link of this.links) link.connection.expireTransactions();
    }, 1000);
    this.expiry.unref();
  }

  /** Start listening. Rejects when the address cannot be bound. */
  static async listen(options: MsrpSocketTransportOptions = {}): Promise<MsrpSocketTransport> {
    const host = options.host ?? '127.0.0.1';
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined); // after listening, errors concern single connections
    const port = (server.address() as net.AddressInfo).port;
    return new MsrpSocketTransport(server, { host, port }, {
      maxConnections: options.maxConnections ?? 256,
      bindTimeoutMs: options.bindTimeoutMs ?? 30_000,
      idleCloseMs: options.idleCloseMs ?? 3_000,
    });
  }

  /** Open connections (both directions). */
  get connectionCount(): number {
    return this.links.size;
  }

  newLocalUri(): MsrpUri {
    return newLocalMsrpUri(this.address.host, this.address.port);
  }

  connectActive(session: MsrpSession, remote: { host: string; port: number }): void {
    if (this.closed) {
      session.close();
      return;
    }
    const key = `${remote.host.toLowerCase()}:${remote.port}`;
    let link = this.active.get(key);
    if (!link || link.connection.state === MsrpConnectionState.Closed) {
      if (this.links.size >= this.options.maxConnections) {
        session.close();
        return;
      }
      const socket = net.connect({ host: remote.host, port: remote.port });
      link = this.wire(socket, 'active', key);
      this.active.set(key, link);
    }
    try {
      link.connection.attach(session);
      this.watchSession(link, session);
    } catch {
      session.close();
    }
  }

  awaitPassive(session: MsrpSession): void {
    if (this.closed) {
      session.close();
      return;
    }
    const key = msrpUriKey(session.localUri);
    const timer = setTimeout(() => {
      if (this.waiting.get(key)?.session === session) this.waiting.delete(key);
      if (session.state !== MsrpSessionState.Active) session.close();
    }, this.options.bindTimeoutMs);
    timer.unref();
    this.waiting.set(key, { session, timer });
    session.on('stateChange', (state) => {
      if (state !== MsrpSessionState.Closed) return;
      const entry = this.waiting.get(key);
      if (entry?.session === session) {
        clearTimeout(entry.timer);
        this.waiting.delete(key);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.expiry);
    for (const { session, timer } of this.waiting.values()) {
      clearTimeout(timer);
      session.close();
    }
    this.waiting.clear();
    for (const link of [...this.links]) link.connection.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.links.size >= this.options.maxConnections) {
      socket.destroy();
      return;
    }
    const link = this.wire(socket, 'passive', null);
    const unbound = setTimeout(() => {
      if (link.connection.state === MsrpConnectionState.Open) link.connection.close();
    }, this.options.bindTimeoutMs);
    unbound.unref();
    link.connection.on('stateChange', (state) => {
      if (state !== MsrpConnectionState.Open) clearTimeout(unbound);
    });
  }

  private wire(socket: net.Socket, role: 'active' | 'passive', key: string | null): Link {
    socket.setNoDelay(true);
    const connection = new MsrpConnection({
      role,
      transport: { write: (bytes) => socket.write(bytes), close: () => socket.destroy() },
      ...(role === 'passive'
        ? {
            resolveSession: (uri: MsrpUri) => {
              const entry = this.waiting.get(msrpUriKey(uri));
              return entry?.session;
            },
          }
        : {}),
    });
    const link: Link = { connection, socket, key, idleTimer: null };
    this.links.add(link);
    connection.on('sessionBound', (session) => {
      const k = msrpUriKey(session.localUri);
      const entry = this.waiting.get(k);
      if (entry?.session === session) {
        clearTimeout(entry.timer);
        this.waiting.delete(k);
      }
      if (role === 'passive') this.watchSession(link, session);
    });
    connection.on('error', () => undefined); // fatal ones close the connection, which closes its sessions
    connection.on('stateChange', (state) => {
      if (state !== MsrpConnectionState.Closed) return;
      this.links.delete(link);
      if (link.idleTimer) clearTimeout(link.idleTimer);
      if (key !== null && this.active.get(key) === link) this.active.delete(key);
    });
    socket.on('data', (data: Buffer) => connection.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    socket.on('drain', () => connection.transportDrained());
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => connection.transportClosed());
    return link;
  }

  /** Close the link once its last session is gone (after `idleCloseMs`). */
  private watchSession(link: Link, session: MsrpSession): void {
    if (link.idleTimer) {
      clearTimeout(link.idleTimer);
      link.idleTimer = null;
    }
    session.on('stateChange', (state) => {
      if (state !== MsrpSessionState.Closed || link.connection.state === MsrpConnectionState.Closed) return;
      if (link.connection.sessionCount > 0) return;
      link.idleTimer = setTimeout(() => {
        if (link.connection.sessionCount === 0) link.connection.close();
      }, this.options.idleCloseMs);
      link.idleTimer.unref();
    });
  }
}
