/**
 * A small private adapter: `protocol/msrp` connections over `node:net` sockets, implementing
 * {@link ChatMediaTransport} for sessions the chat layer creates. (The team's `MsrpEndpoint`,
 * electron/device/chat/msrp/, creates its sessions itself and hands them over bound; see msrp-transport.ts
 * for why the chat layer cannot use that yet.)
 *
 * - listens on 127.0.0.1:0 by default; accepted connections are passive and bind waiting sessions by the
 *   To-Path of their first SEND (RFC 4975 §5.4);
 * - active connections are shared by the sessions towards the same host and port (RFC 4975 §5.4);
 * - a connection left without sessions is closed after `idleCloseMs`, so that a BYE sent just before has
 *   time to arrive before the peer sees the connection drop;
 * - bounds: `maxConnections`, `bindTimeoutMs` for sessions and accepted connections that never bind, and the
 *   RFC 4975 §7.1.1 transaction timeout, driven once a second.
 */
import net from 'node:net';
import { MsrpConnection, MsrpConnectionState } from '../../../protocol/msrp/msrp-connection';
import { newLocalMsrpUri } from '../../../protocol/msrp/msrp-ids';
import { MsrpSessionState, type MsrpSession } from '../../../protocol/msrp/msrp-session';
import { formatMsrpUri, msrpUriKey, type MsrpUri } from '../../../protocol/msrp/msrp-uri';
import type { ChatMediaTransport } from './msrp-transport';

/** The port of an MSRP URI that names none (RFC 4975 §15). */
const MSRP_DEFAULT_PORT = 2855;

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
  /** `host:port` of an active link, for sharing; null for accepted ones. */
  key: string | null;
  idleTimer: NodeJS.Timeout | null;
}

interface Waiting {
  session: MsrpSession;
  timer: NodeJS.Timeout;
  resolve: () => void;
}

/** MSRP over TCP for the chat layer. */
export class MsrpSocketTransport implements ChatMediaTransport {
  private readonly links = new Set<Link>();
  private readonly active = new Map<string, Link>();
  private readonly waiting = new Map<string, Waiting>();
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
    server.on('error', () => undefined); // once listening, errors concern single connections
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

  bind(session: MsrpSession, setup: 'active' | 'passive'): Promise<void> {
    const refuse = (why: string): Promise<void> => {
      session.close();
      return Promise.reject(new Error(why));
    };
    if (this.closed) return refuse('the MSRP transport is closed');
    if (session.state !== MsrpSessionState.Idle) return refuse(`the MSRP session is ${session.state}, not idle`);
    return setup === 'active' ? this.bindActive(session, refuse) : this.bindPassive(session, refuse);
  }

  /** Close every connection and stop listening. */
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

  private bindActive(session: MsrpSession, refuse: (why: string) => Promise<void>): Promise<void> {
    const first = session.remotePath?.[0];
    if (!first) return refuse('an active MSRP session needs the remote path');
    const key = `${first.host.toLowerCase()}:${first.port ?? MSRP_DEFAULT_PORT}`;
    let link = this.active.get(key);
    if (!link || link.connection.state === MsrpConnectionState.Closed) {
      if (this.links.size >= this.options.maxConnections) return refuse(`the limit of ${this.options.maxConnections} MSRP connections is reached`);
      link = this.wire(net.connect({ host: first.host, port: first.port ?? MSRP_DEFAULT_PORT }), 'active', key);
      this.active.set(key, link);
    }
    const bound = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => session.close(), this.options.bindTimeoutMs);
      timer.unref();
      session.on('stateChange', (state) => {
        if (state === MsrpSessionState.Active) {
          clearTimeout(timer);
          resolve();
        } else if (state === MsrpSessionState.Closed) {
          clearTimeout(timer);
          reject(new Error(`MSRP session ${formatMsrpUri(session.localUri)} not bound: ${session.closeInfo?.reason ?? 'closed'}`));
        }
      });
    });
    try {
      link.connection.attach(session); // writes the binding SEND (buffered by the socket until it connects)
    } catch (error) {
      session.close();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.watchSession(link, session);
    return bound;
  }

  private bindPassive(session: MsrpSession, refuse: (why: string) => Promise<void>): Promise<void> {
    const key = msrpUriKey(session.localUri);
    if (this.waiting.has(key)) return refuse(`an MSRP session ${formatMsrpUri(session.localUri)} is already waiting`);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => session.close(), this.options.bindTimeoutMs); // rejects below
      timer.unref();
      this.waiting.set(key, { session, timer, resolve });
      session.on('stateChange', (state) => {
        if (state !== MsrpSessionState.Closed) return;
        const entry = this.waiting.get(key);
        if (entry?.session !== session) return;
        clearTimeout(entry.timer);
        this.waiting.delete(key);
        reject(new Error(`no peer bound MSRP session ${formatMsrpUri(session.localUri)}`));
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.links.size >= this.options.maxConnections) {
      socket.destroy();
      return;
    }
    const link = this.wire(socket, 'passive', null);
    this.armIdle(link, this.options.bindTimeoutMs);
  }

  private wire(socket: net.Socket, role: 'active' | 'passive', key: string | null): Link {
    socket.setNoDelay(true);
    const connection = new MsrpConnection({
      role,
      transport: { write: (bytes) => socket.write(bytes), close: () => socket.destroy() },
      ...(role === 'passive' ? { resolveSession: (uri: MsrpUri) => this.waiting.get(msrpUriKey(uri))?.session } : {}),
    });
    const link: Link = { connection, key, idleTimer: null };
    this.links.add(link);
    connection.on('sessionBound', (session) => {
      const k = msrpUriKey(session.localUri);
      const entry = this.waiting.get(k);
      if (entry?.session !== session) return;
      clearTimeout(entry.timer);
      this.waiting.delete(k);
      this.watchSession(link, session);
      entry.resolve();
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

  /** Keep the link while it carries sessions; once its last one is gone, close it after `idleCloseMs`. */
  private watchSession(link: Link, session: MsrpSession): void {
    if (link.idleTimer) clearTimeout(link.idleTimer);
    link.idleTimer = null;
    session.on('stateChange', (state) => {
      if (state !== MsrpSessionState.Closed) return;
      // The connection forgets the session right after this event.
      queueMicrotask(() => {
        if (link.connection.sessionCount === 0 && link.connection.state !== MsrpConnectionState.Closed) this.armIdle(link, this.options.idleCloseMs);
      });
    });
  }

  private armIdle(link: Link, ms: number): void {
    if (link.idleTimer) clearTimeout(link.idleTimer);
    link.idleTimer = setTimeout(() => {
      if (link.connection.sessionCount === 0) link.connection.close();
    }, ms);
    link.idleTimer.unref();
  }
}
