/**
 * The connections of one MSRP endpoint and the sessions on them, independent of the socket API (the Node
 * owners hand it `MsrpSocket`s). It implements what RFC 4975 leaves to the endpoint:
 *
 * - **Binding** (§5.4, PROFILE.md): an active session is attached to a connection towards the first hop of
 *   its remote path and sends its binding SEND at once; a passive session waits (bounded) for the peer's
 *   connection whose first SEND names it in To-Path.
 * - **Connection sharing** (§5.4): an active session reuses an open connection to the same host and port;
 *   a passive connection may bind several waiting sessions.
 * - **Limits**: total connections, connections that carry no session (each closed after
 *   `bindingTimeoutMs`), chunk and message sizes, transaction timeouts (§7.1.1).
 * - **Flow control for relays**: `pauseReading(session, token)` stops reading the socket under a session
 *   until every token is released.
 *
 * ```
 *   Open ──── close() ───► Closed
 * ```
 * Closing rejects every waiting `openSession`, closes every connection and leaves no socket open.
 */
import { TypedEmitter } from '../common/typed-emitter';
import { MsrpConnection, MsrpConnectionState } from './msrp-connection';
import { DEFAULT_PARSER_LIMITS } from './msrp-parser';
import { MsrpSession, MsrpSessionState } from './msrp-session';
import type { MsrpSocket } from './msrp-socket';
import { compactString } from './msrp-strings';
import { formatMsrpUri, msrpUriKey, type MsrpUri } from './msrp-uri';

/** The port of an MSRP URI that names none (RFC 4975 §15). */
export const MSRP_DEFAULT_PORT = 2855;

/** Bounds of an endpoint. */
export interface MsrpEndpointLimits {
  /** Open connections, both directions. Default 1024. */
  maxConnections: number;
  /** Connections that carry no session yet (or any more). Default 64. */
  maxUnboundConnections: number;
  /** A connection that carries no session is closed after this long. Default 10 s. */
  bindingTimeoutMs: number;
  /** How long `openSession` waits for the binding (passive: the peer's SEND; active: the 200). Default 30 s. */
  sessionWaitMs: number;
  /** MSRP transaction timeout (RFC 4975 §7.1.1). Default 30 s. */
  transactionTimeoutMs: number;
  /** Largest chunk body accepted (the parser's bound). Default 1 MiB. */
  maxChunkBytes: number;
  /** Largest message accepted for reassembly. Default 16 MiB. */
  maxMessageBytes: number;
  /**
   * Transactions awaiting a response at once, per connection (`MsrpConnectionOptions.maxOutstanding`).
   * Default 1024: one 64 KiB socket read holds some 240 SENDs of 100 B, and a window of only one read makes
   * the two hops of a relay take turns (the receiver answers a whole window while the relay waits, then
   * the reverse); four reads' worth lets them overlap. Body bytes in flight stay bounded by the connection
   * (1 MiB), so large chunks are unaffected.
   */
  maxOutstandingTransactions: number;
}

/** The default bounds. */
export const DEFAULT_ENDPOINT_LIMITS: Readonly<MsrpEndpointLimits> = {
  maxConnections: 1024,
  maxUnboundConnections: 64,
  bindingTimeoutMs: 10_000,
  sessionWaitMs: 30_000,
  transactionTimeoutMs: 30_000,
  maxChunkBytes: DEFAULT_PARSER_LIMITS.maxBodyBytes,
  maxMessageBytes: 16 * 1024 * 1024,
  maxOutstandingTransactions: 1024,
};

/** Why an endpoint operation failed. */
export type MsrpEndpointErrorCode = 'timeout' | 'refused' | 'closed' | 'limit' | 'connect-failed';

/** Thrown (or rejected with) by endpoint operations, with a readable reason. */
export class MsrpEndpointError extends Error {
  override readonly name = 'MsrpEndpointError';
  constructor(
    readonly code: MsrpEndpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What `openSession` needs. */
export interface OpenMsrpSessionOptions {
  /** Our URI, as in our SDP `a=path`. */
  localUri: MsrpUri;
  /** The peer's `a=path`. Required for `active`; a passive session learns it from the first SEND if absent. */
  remotePath?: MsrpUri[];
  /** `active`: connect and bind; `passive`: wait for the peer (RFC 6135, PROFILE.md). */
  setup: 'active' | 'passive';
  /** Overrides `sessionWaitMs` for this session. */
  waitMs?: number;
  /** Outgoing first-chunk size (fixed size when `maxChunkSize` is not given). */
  chunkSize?: number;
  /** Largest outgoing chunk; chunks double up to it. */
  maxChunkSize?: number;
  /** Queued bytes at which the session asks its writer to wait. */
  highWaterMark?: number;
}

/** Events of a pool. */
export type MsrpConnectionPoolEvents = {
  stateChange: (state: MsrpPoolState, previous: MsrpPoolState) => void;
  /** A session `openSession` delivered closed for another reason than its owner's `close()`. */
  sessionLost: (session: MsrpSession, reason: string) => void;
  /** Something a peer did wrong, or a connection refused by a limit (diagnostics; never fatal). */
  peerError: (error: Error, peer: string) => void;
};

/** Pool states; see the diagram in this module's comment. */
export enum MsrpPoolState {
  Open = 'open',
  Closed = 'closed',
}

const POOL_TRANSITIONS: Readonly<Record<MsrpPoolState, readonly MsrpPoolState[]>> = {
  [MsrpPoolState.Open]: [MsrpPoolState.Closed],
  [MsrpPoolState.Closed]: [],
};

/** Options of a pool. */
export interface MsrpConnectionPoolOptions {
  /** Opens a connection for active sessions; without it only passive sessions are possible. */
  connect?: (host: string, port: number, timeoutMs: number) => Promise<MsrpSocket>;
  limits?: Partial<MsrpEndpointLimits>;
  /** Clock in ms; default `Date.now`. */
  now?: () => number;
}

interface Link {
  socket: MsrpSocket;
  connection: MsrpConnection;
  /** Active links: the `host|port` they were opened to (the sharing key). */
  key: string | undefined;
  sessions: Set<MsrpSession>;
  pauses: Set<unknown>;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  session: MsrpSession;
  resolve: (session: MsrpSession) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const TICK_MS = 1000;

/** The connections and sessions of one MSRP endpoint. */
export class MsrpConnectionPool extends TypedEmitter<MsrpConnectionPoolEvents> {
  /** The bounds in force. */
  readonly limits: Readonly<MsrpEndpointLimits>;
  private current = MsrpPoolState.Open;
  private readonly connectSocket: MsrpConnectionPoolOptions['connect'];
  private readonly now: () => number;
  private readonly links = new Map<MsrpConnection, Link>();
  private readonly activeLinks = new Map<string, Link>();
  private readonly connecting = new Map<string, Promise<Link>>();
  private readonly waiting = new Map<string, Waiter>();
  /** Sessions bound to a connection (either side), by local URI: another connection naming one gets 506. */
  private readonly bound = new Map<string, MsrpSession>();
  private readonly activeWaiters = new Set<Waiter>();
  private tick: ReturnType<typeof setTimeout> | undefined;

  constructor(options: MsrpConnectionPoolOptions = {}) {
    super();
    this.limits = { ...DEFAULT_ENDPOINT_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`MSRP endpoint limit ${name} must be a positive number, got ${value}`);
    }
    this.connectSocket = options.connect;
    this.now = options.now ?? Date.now;
  }

  /** Current state. */
  get state(): MsrpPoolState {
    return this.current;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.links.size;
  }

  /** Open connections that carry no session. */
  get unboundConnectionCount(): number {
    let n = 0;
    for (const link of this.links.values()) if (link.sessions.size === 0) n++;
    return n;
  }

  /** Passive sessions waiting for their connection. */
  get waitingSessionCount(): number {
    return this.waiting.size;
  }

  /**
   * Take a connection the owner accepted. Returns false (and destroys the socket) when the pool is closed
   * or a connection limit is reached.
   */
  accept(socket: MsrpSocket): boolean {
    const refusal =
      this.current === MsrpPoolState.Closed
        ? 'the endpoint is closed'
        : this.links.size >= this.limits.maxConnections
          ? `the limit of ${this.limits.maxConnections} connections is reached`
          : this.unboundConnectionCount >= this.limits.maxUnboundConnections
            ? `the limit of ${this.limits.maxUnboundConnections} connections without a session is reached`
            : undefined;
    if (refusal !== undefined) {
      socket.destroy();
      if (this.current === MsrpPoolState.Open) this.emit('peerError', new MsrpEndpointError('limit', `connection refused: ${refusal}`), socket.label);
      return false;
    }
    const connection = new MsrpConnection({
      transport: { write: (bytes) => socket.write(bytes), close: () => socket.destroy() },
      role: 'passive',
      // Bound sessions (passive or active) resolve too, so that another connection naming one gets 506
      // (RFC 4975 §7.3.1) rather than 481.
      resolveSession: (uri) => this.waiting.get(msrpUriKey(uri))?.session ?? this.bound.get(msrpUriKey(uri)),
      transactionTimeoutMs: this.limits.transactionTimeoutMs,
      now: this.now,
      maxOutstanding: this.limits.maxOutstandingTransactions,
      parserLimits: { maxBodyBytes: this.limits.maxChunkBytes },
    });
    const link = this.addLink(socket, connection, undefined);
    connection.on('sessionBound', (session) => {
      const waiter = this.waiting.get(msrpUriKey(session.localUri));
      if (waiter?.session !== session) return;
      const key = msrpUriKey(session.localUri);
      this.waiting.delete(key);
      clearTimeout(waiter.timer);
      this.remember(session);
      this.track(link, session);
      waiter.resolve(session);
    });
    return true;
  }

  /**
   * Open a session and resolve once it is bound. Active: connect to the first hop of `remotePath` (or
   * share an open connection to it) and send the binding SEND; resolves on its 200. Passive: resolves
   * when the peer's first SEND binds it. Rejects with `MsrpEndpointError` on a timeout, a refusal, a
   * failed connect or a closed endpoint (the session is then closed), with `TypeError` on invalid options.
   *
   * A message can arrive in the very exchange that binds the session, before this promise resolves:
   * owners that must see every message use `createSession` and add their listeners first.
   */
  async openSession(options: OpenMsrpSessionOptions): Promise<MsrpSession> {
    return this.createSession(options).bound;
  }

  /**
   * Like `openSession`, but hands out the session at once, before any I/O, so that its owner can add
   * listeners (and queue messages) before it binds; `bound` settles like `openSession`. `bound` is marked
   * handled: an owner that only watches the session's state never causes an unhandled rejection.
   * Throws `MsrpEndpointError` when closed, `TypeError` on invalid options or a URI already waiting.
   */
  createSession(options: OpenMsrpSessionOptions): { session: MsrpSession; bound: Promise<MsrpSession> } {
    if (options.setup === 'active' && !options.remotePath?.length) throw new TypeError('an active MSRP session needs the remote path');
    const { session, waitMs } = this.newSession(options);
    const bound = options.setup === 'passive' ? this.waitForPeer(session, waitMs) : this.bindActive(session, waitMs);
    bound.catch(() => undefined);
    return { session, bound };
  }

  /**
   * Bind a session its owner made (idle; its local URI on this endpoint; for `active`, its remote path set),
   * exactly as `createSession` binds its own: for owners that build sessions with their listeners and
   * options before handing them over (the chat layer's `ChatMediaTransport`). Resolves once bound; rejects
   * with `MsrpEndpointError` (closed, timeout, refused, connect-failed) or `TypeError` (not idle, no remote
   * path, a URI already open here), and the session is then closed.
   */
  bindSession(session: MsrpSession, setup: 'active' | 'passive', waitMs: number = this.limits.sessionWaitMs): Promise<MsrpSession> {
    const refuse = (error: Error): Promise<MsrpSession> => {
      session.close();
      return Promise.reject(error);
    };
    if (this.current === MsrpPoolState.Closed) return refuse(new MsrpEndpointError('closed', 'the MSRP endpoint is closed'));
    if (session.state !== MsrpSessionState.Idle) return refuse(new TypeError(`bindSession() needs an idle session, not a ${session.state} one`));
    if (setup === 'active' && !session.remotePath?.length) return refuse(new TypeError('an active MSRP session needs the remote path'));
    if (!Number.isFinite(waitMs) || waitMs <= 0) return refuse(new TypeError(`waitMs must be positive, got ${waitMs}`));
    try {
      return setup === 'passive' ? this.waitForPeer(session, waitMs) : this.bindActive(session, waitMs);
    } catch (e) {
      return refuse(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Stop reading the connection under `session` until `resumeReading` is called with the same `token`
   * (several holders may pause one connection; it reads again when all have resumed). Every session
   * sharing that connection stops receiving too. Returns false when the session has no open connection.
   */
  pauseReading(session: MsrpSession, token: unknown): boolean {
    const link = this.linkOf(session);
    if (!link) return false;
    link.pauses.add(token);
    if (link.pauses.size === 1) link.socket.pauseReading();
    return true;
  }

  /** Release a `pauseReading` token. */
  resumeReading(session: MsrpSession, token: unknown): void {
    const link = this.linkOf(session);
    if (!link || !link.pauses.delete(token)) return;
    if (link.pauses.size === 0) link.socket.resumeReading();
  }

  /** Whether reading is paused under `session` (for tests and diagnostics). */
  isReadingPaused(session: MsrpSession): boolean {
    return (this.linkOf(session)?.pauses.size ?? 0) > 0;
  }

  /** Close every connection and session, reject every wait. Idempotent. */
  close(): void {
    if (this.current === MsrpPoolState.Closed) return;
    this.transition(MsrpPoolState.Closed);
    if (this.tick) clearTimeout(this.tick);
    this.tick = undefined;
    const error = (): MsrpEndpointError => new MsrpEndpointError('closed', 'the MSRP endpoint closed');
    for (const waiter of [...this.waiting.values(), ...this.activeWaiters]) {
      clearTimeout(waiter.timer);
      waiter.reject(error());
      waiter.session.close();
    }
    this.waiting.clear();
    this.activeWaiters.clear();
    this.bound.clear();
    for (const link of [...this.links.values()]) link.connection.close();
    this.links.clear();
    this.activeLinks.clear();
  }

  // ---- internals ----

  private newSession(options: OpenMsrpSessionOptions): { session: MsrpSession; waitMs: number } {
    if (this.current === MsrpPoolState.Closed) throw new MsrpEndpointError('closed', 'the MSRP endpoint is closed');
    const waitMs = options.waitMs ?? this.limits.sessionWaitMs;
    if (!Number.isFinite(waitMs) || waitMs <= 0) throw new TypeError(`waitMs must be positive, got ${waitMs}`);
    const session = new MsrpSession({
      localUri: options.localUri,
      ...(options.remotePath ? { remotePath: options.remotePath } : {}),
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
      ...(options.maxChunkSize !== undefined ? { maxChunkSize: options.maxChunkSize } : {}),
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
      reassembly: { maxMessageBytes: this.limits.maxMessageBytes },
    });
    return { session, waitMs };
  }

  private waitForPeer(session: MsrpSession, waitMs: number): Promise<MsrpSession> {
    const key = compactString(msrpUriKey(session.localUri));
    if (this.waiting.has(key) || this.bound.has(key)) throw new TypeError(`a session ${formatMsrpUri(session.localUri)} is already open`);
    const onState = (state: MsrpSessionState): void => {
      // A passive session leaves Idle once, bound or closed: either way it waits no more.
      session.off('stateChange', onState);
      // Closed by its owner while still waiting: stop waiting.
      const waiter = this.waiting.get(key);
      if (state !== MsrpSessionState.Closed || waiter?.session !== session) return;
      this.waiting.delete(key);
      clearTimeout(waiter.timer);
      waiter.reject(new MsrpEndpointError('closed', `MSRP session ${formatMsrpUri(session.localUri)} closed before its peer bound it`));
    };
    session.on('stateChange', onState);
    return new Promise<MsrpSession>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiting.get(key)?.session !== session) return;
        this.waiting.delete(key);
        session.close();
        reject(new MsrpEndpointError('timeout', `no peer bound MSRP session ${formatMsrpUri(session.localUri)} within ${waitMs} ms`));
      }, waitMs);
      this.waiting.set(key, { session, resolve, reject, timer });
    });
  }

  private async bindActive(session: MsrpSession, waitMs: number): Promise<MsrpSession> {
    const first = session.remotePath?.[0];
    if (!first) throw new TypeError('an active MSRP session needs the remote path');
    const host = first.host;
    const port = first.port ?? MSRP_DEFAULT_PORT;
    let link: Link;
    try {
      link = await this.activeLink(host, port, waitMs);
    } catch (e) {
      session.close();
      throw e;
    }
    if (this.current === MsrpPoolState.Closed) {
      session.close();
      throw new MsrpEndpointError('closed', 'the MSRP endpoint closed');
    }
    return new Promise<MsrpSession>((resolve, reject) => {
      const waiter: Waiter = {
        session,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.activeWaiters.delete(waiter);
          session.close();
          reject(new MsrpEndpointError('timeout', `no answer to the binding SEND of ${formatMsrpUri(session.localUri)} within ${waitMs} ms`));
        }, waitMs),
      };
      this.activeWaiters.add(waiter);
      const settle = (state: MsrpSessionState): void => {
        if (state === MsrpSessionState.Active || state === MsrpSessionState.Closed) session.off('stateChange', settle);
        if (!this.activeWaiters.has(waiter)) return;
        if (state === MsrpSessionState.Active) {
          this.activeWaiters.delete(waiter);
          clearTimeout(waiter.timer);
          resolve(session);
        } else if (state === MsrpSessionState.Closed) {
          this.activeWaiters.delete(waiter);
          clearTimeout(waiter.timer);
          const info = session.closeInfo;
          reject(new MsrpEndpointError(info?.cause === 'refused' ? 'refused' : 'connect-failed', `MSRP session ${formatMsrpUri(session.localUri)} not bound: ${info?.reason ?? 'closed'}`));
        }
      };
      session.on('stateChange', settle);
      this.remember(session);
      this.track(link, session);
      try {
        link.connection.attach(session);
      } catch (e) {
        this.activeWaiters.delete(waiter);
        clearTimeout(waiter.timer);
        session.close();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** An open active connection to host:port, shared (RFC 4975 §5.4), or a new one. */
  private activeLink(host: string, port: number, timeoutMs: number): Promise<Link> {
    const key = `${host}|${port}`;
    const open = this.activeLinks.get(key);
    if (open && open.connection.state !== MsrpConnectionState.Closed) return Promise.resolve(open);
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const connect = this.connectSocket;
    if (!connect) return Promise.reject(new MsrpEndpointError('connect-failed', 'this endpoint cannot open connections (passive only)'));
    if (this.links.size + this.connecting.size >= this.limits.maxConnections) {
      return Promise.reject(new MsrpEndpointError('limit', `the limit of ${this.limits.maxConnections} connections is reached`));
    }
    const attempt = (async (): Promise<Link> => {
      let socket: MsrpSocket;
      try {
        socket = await connect(host, port, timeoutMs);
      } catch (e) {
        throw new MsrpEndpointError('connect-failed', `cannot connect to MSRP peer ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.current === MsrpPoolState.Closed) {
        socket.destroy();
        throw new MsrpEndpointError('closed', 'the MSRP endpoint closed');
      }
      const connection = new MsrpConnection({
        transport: { write: (bytes) => socket.write(bytes), close: () => socket.destroy() },
        role: 'active',
        transactionTimeoutMs: this.limits.transactionTimeoutMs,
        now: this.now,
        maxOutstanding: this.limits.maxOutstandingTransactions,
        parserLimits: { maxBodyBytes: this.limits.maxChunkBytes },
      });
      const link = this.addLink(socket, connection, key);
      this.activeLinks.set(key, link);
      return link;
    })();
    this.connecting.set(key, attempt);
    const forget = (): void => void this.connecting.delete(key);
    attempt.then(forget, forget);
    return attempt;
  }

  private addLink(socket: MsrpSocket, connection: MsrpConnection, key: string | undefined): Link {
    const link: Link = { socket, connection, key, sessions: new Set(), pauses: new Set(), idleTimer: undefined };
    this.links.set(connection, link);
    connection.on('error', (error) => this.emit('peerError', error, socket.label));
    connection.on('stateChange', (state) => {
      if (state !== MsrpConnectionState.Closed) return;
      if (link.idleTimer) clearTimeout(link.idleTimer);
      this.links.delete(connection);
      if (key !== undefined && this.activeLinks.get(key) === link) this.activeLinks.delete(key);
    });
    socket.listen({
      data: (bytes) => {
        try {
          connection.receive(bytes);
        } catch (e) {
          // Only an owner's listener can throw here (the connection never throws on peer input).
          this.emit('peerError', e instanceof Error ? e : new Error(String(e)), socket.label);
          connection.close();
        }
      },
      drained: () => connection.transportDrained(),
      closed: () => connection.transportClosed(),
    });
    this.armIdle(link);
    this.scheduleTick();
    return link;
  }

  /** Keep `session` in `bound` while it is open. */
  private remember(session: MsrpSession): void {
    const key = compactString(msrpUriKey(session.localUri));
    this.bound.set(key, session);
    session.on('stateChange', (state) => {
      if (state === MsrpSessionState.Closed && this.bound.get(key) === session) this.bound.delete(key);
    });
  }

  private track(link: Link, session: MsrpSession): void {
    link.sessions.add(session);
    if (link.idleTimer) clearTimeout(link.idleTimer);
    link.idleTimer = undefined;
    let delivered = session.state === MsrpSessionState.Active;
    session.on('stateChange', (state) => {
      if (state === MsrpSessionState.Active) delivered = true;
      if (state !== MsrpSessionState.Closed) return;
      link.sessions.delete(session);
      const info = session.closeInfo;
      if (delivered && this.current === MsrpPoolState.Open && info && info.cause !== 'local') this.emit('sessionLost', session, info.reason);
      if (link.sessions.size === 0 && link.connection.state !== MsrpConnectionState.Closed) {
        // An active connection nobody uses is closed; a passive one is the peer's to close, within bounds.
        if (link.key !== undefined) link.connection.close();
        else this.armIdle(link);
      }
    });
  }

  private armIdle(link: Link): void {
    if (link.idleTimer) clearTimeout(link.idleTimer);
    link.idleTimer = setTimeout(() => {
      link.idleTimer = undefined;
      if (link.sessions.size > 0 || link.connection.state === MsrpConnectionState.Closed) return;
      this.emit('peerError', new MsrpEndpointError('timeout', `no MSRP session bound within ${this.limits.bindingTimeoutMs} ms: closing the connection`), link.socket.label);
      link.connection.close();
    }, this.limits.bindingTimeoutMs);
  }

  /** Drive transaction timeouts (RFC 4975 §7.1.1) while connections exist. */
  private scheduleTick(): void {
    if (this.tick || this.current === MsrpPoolState.Closed) return;
    this.tick = setTimeout(() => {
      this.tick = undefined;
      const now = this.now();
      for (const link of [...this.links.values()]) link.connection.expireTransactions(now);
      if (this.links.size > 0) this.scheduleTick();
    }, TICK_MS);
  }

  private linkOf(session: MsrpSession): Link | undefined {
    const carrier = session.carrier;
    return carrier instanceof MsrpConnection ? this.links.get(carrier) : undefined;
  }

  /** The one place the state changes; throws on a move the diagram does not allow. */
  private transition(next: MsrpPoolState): void {
    const previous = this.current;
    if (!POOL_TRANSITIONS[previous].includes(next)) throw new Error(`illegal MSRP pool transition ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}
