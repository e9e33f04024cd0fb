/**
 * One MSRP connection, sans I/O (RFC 4975 §5.4, §7): the owner hands it a duplex to write to and calls
 * `receive()` with what the socket reads. It frames and parses, numbers transactions with random ids,
 * matches responses to requests, answers incoming SENDs (200, or 400 / 413 / 481 / 506, and 501 for
 * unknown methods), generates success REPORTs, routes by To-Path to the sessions it carries, and expires
 * transactions when the owner calls `expireTransactions()` (30 s by default, RFC 4975 §7.1.1).
 *
 * Binding (RFC 4975 §5.4, PROFILE.md "A CPM session"): the active side attaches sessions, each of which
 * sends a SEND at once (bodiless if it has nothing); the passive side resolves the first SEND's To-Path
 * to a session that was waiting for its connection and binds it here.
 *
 * ```
 *   Open ──── a session is bound (active: 200 to its binding SEND; passive: its first SEND) ───► Bound
 *    │                                                                                            │
 *    └──────── close() / transportClosed() / unparseable input / write failure ──────► Closed ◄──┘
 * ```
 *
 * Outgoing flow control: at most `maxOutstanding` transactions wait for responses at once, and when the
 * duplex's `write()` returns `false` nothing more is written until the owner calls `transportDrained()`.
 */
import { TypedEmitter } from '../common/typed-emitter';
import { MsrpHeaderError, parsePath } from './msrp-headers';
import { newTransactionId } from './msrp-ids';
import { MsrpHeaders, msrpStatusComment, type MsrpHeader, type MsrpRequest, type MsrpResponse } from './msrp-message';
import { MsrpParseError, MsrpStreamParser, type MsrpParserLimits } from './msrp-parser';
import { bodyAllowsTransactionId, frameRequest, frameResponse, serializeMsrp } from './msrp-serializer';
import { MsrpSessionState, type MsrpSession, type MsrpSessionCarrier, type SendTicket } from './msrp-session';
import { compactString } from './msrp-strings';
import { msrpUriKey, type MsrpUri } from './msrp-uri';

/** The byte pipe under a connection. `write` may return `false` to ask for a pause (see `transportDrained`). */
export interface MsrpDuplex {
  write(bytes: Uint8Array): boolean | void;
  close(): void;
}

/** Connection states; see the diagram in this module's comment. */
export enum MsrpConnectionState {
  Open = 'open',
  Bound = 'bound',
  Closed = 'closed',
}

const CONNECTION_TRANSITIONS: Readonly<Record<MsrpConnectionState, readonly MsrpConnectionState[]>> = {
  [MsrpConnectionState.Open]: [MsrpConnectionState.Bound, MsrpConnectionState.Closed],
  [MsrpConnectionState.Bound]: [MsrpConnectionState.Closed],
  [MsrpConnectionState.Closed]: [],
};

/** Options of a connection. */
export interface MsrpConnectionOptions {
  transport: MsrpDuplex;
  /** `active`: we connected (we attach sessions); `passive`: we accepted (sessions bind on their first SEND). */
  role: 'active' | 'passive';
  /** Passive side: the unbound session whose local URI is `uri`, if any. */
  resolveSession?: (uri: MsrpUri) => MsrpSession | undefined;
  /** Transaction timeout in ms. Default 30 000 (RFC 4975 §7.1.1). */
  transactionTimeoutMs?: number;
  /** Clock in ms; default `Date.now`. */
  now?: () => number;
  /**
   * Transactions awaiting a response at once. Default 256: a relay adds a round trip, and small messages
   * need a deep pipeline to keep the connection busy; large chunks are held back by `write` returning false.
   */
  maxOutstanding?: number;
  /**
   * Body bytes of the transactions awaiting a response (one request is always allowed). Default 1 MiB:
   * enough to keep loopback busy with large chunks, small enough that a relay that pauses reading a leg
   * (and with it that leg's responses) cannot get both directions stuck behind full socket buffers.
   */
  maxOutstandingBytes?: number;
  /** Parser bounds. */
  parserLimits?: Partial<MsrpParserLimits>;
}

/** Events of a connection. */
export type MsrpConnectionEvents = {
  stateChange: (state: MsrpConnectionState, previous: MsrpConnectionState) => void;
  /** A session became bound on this connection. */
  sessionBound: (session: MsrpSession) => void;
  /** A problem with the peer's input; fatal ones are followed by the connection closing. */
  error: (error: Error) => void;
};

interface Transaction {
  session: MsrpSession;
  ticket: SendTicket;
  deadline: number;
}

/** The paths of the last request routed, reused while a peer keeps sending the same header values. */
interface RouteMemo {
  toRaw: string;
  fromRaw: string;
  session: MsrpSession;
}

/** An MSRP connection endpoint. */
export class MsrpConnection extends TypedEmitter<MsrpConnectionEvents> implements MsrpSessionCarrier {
  readonly role: 'active' | 'passive';
  private current: MsrpConnectionState = MsrpConnectionState.Open;
  private readonly transport: MsrpDuplex;
  private readonly parser: MsrpStreamParser;
  private readonly resolveSession: ((uri: MsrpUri) => MsrpSession | undefined) | undefined;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly maxOutstanding: number;
  private readonly maxOutstandingBytes: number;
  private outstandingBytes = 0;
  private readonly sessions = new Map<string, MsrpSession>();
  private readonly transactions = new Map<string, Transaction>();
  private readonly ready: MsrpSession[] = [];
  private readonly readySet = new Set<MsrpSession>();
  private writable = true;
  private pumping = false;
  private routeMemo: RouteMemo | undefined;

  constructor(options: MsrpConnectionOptions) {
    super();
    this.role = options.role;
    this.transport = options.transport;
    this.parser = new MsrpStreamParser(options.parserLimits);
    this.resolveSession = options.resolveSession;
    this.timeoutMs = options.transactionTimeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.maxOutstanding = options.maxOutstanding ?? 256;
    this.maxOutstandingBytes = options.maxOutstandingBytes ?? 1024 * 1024;
  }

  /** Current state. */
  get state(): MsrpConnectionState {
    return this.current;
  }

  /** Sessions carried by this connection. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Transactions awaiting a response. */
  get outstandingTransactions(): number {
    return this.transactions.size;
  }

  /** Active side: carry `session` on this connection; it sends its binding SEND at once. */
  attach(session: MsrpSession): void {
    if (this.current === MsrpConnectionState.Closed) throw new TypeError('attach() on a closed MSRP connection');
    if (this.role !== 'active') throw new TypeError('only the active side attaches sessions; the passive side binds on the first SEND');
    if (session.state !== MsrpSessionState.Idle) throw new TypeError(`attach() needs an idle session, not a ${session.state} one`);
    if (!session.remotePath) throw new TypeError('attach() needs the session remote path (from the SDP)');
    const key = msrpUriKey(session.localUri);
    if (this.sessions.has(key)) throw new TypeError('a session with this local URI is already on this connection');
    this.sessions.set(compactString(key), session);
    session.on('stateChange', (state) => {
      if (state === MsrpSessionState.Active) this.sessionBecameBound(session);
    });
    session.attachActive(this);
  }

  /** Feed bytes read from the transport. Never throws on bad input: it emits `error` and closes. */
  receive(bytes: Uint8Array): void {
    if (this.current === MsrpConnectionState.Closed) return;
    let messages;
    try {
      messages = this.parser.push(bytes);
    } catch (e) {
      if (!(e instanceof MsrpParseError)) throw e;
      this.emit('error', e);
      this.close();
      return;
    }
    for (const message of messages) {
      if (this.isClosed()) return;
      if (message.kind === 'response') this.handleResponse(message);
      else this.handleRequest(message);
    }
  }

  /**
   * Fail every transaction whose deadline has passed, as if it had received 408 (RFC 4975 §7.1.1).
   * Returns how many expired. The owner calls this from a timer (see `nextDeadline`).
   */
  expireTransactions(now: number = this.now()): number {
    let expired = 0;
    for (const [tid, t] of this.transactions) {
      if (t.deadline > now) break; // insertion order is deadline order
      this.forget(tid, t);
      expired++;
      t.session.requestFailed(t.ticket, 408, 'Request Timeout');
    }
    if (expired) this.pump();
    return expired;
  }

  /** The earliest transaction deadline (ms, on the `now` clock), or undefined when none is pending. */
  nextDeadline(): number | undefined {
    for (const t of this.transactions.values()) return t.deadline;
    return undefined;
  }

  /** The transport can take more bytes again (after `write` returned `false`). */
  transportDrained(): void {
    this.writable = true;
    this.pump();
  }

  /** The transport closed under us: close without calling its `close()`. */
  transportClosed(): void {
    this.shutdown(false, 'connection closed');
  }

  /** Close the connection and the transport; every session on it closes. */
  close(): void {
    this.shutdown(true, 'connection closed');
  }

  // ---- MsrpSessionCarrier ----

  /** @see MsrpSessionCarrier.wake */
  wake(session: MsrpSession): void {
    if (!this.readySet.has(session)) {
      this.readySet.add(session);
      this.ready.push(session);
    }
    this.pump();
  }

  /** @see MsrpSessionCarrier.writeUnacknowledged */
  writeUnacknowledged(_session: MsrpSession, method: string, headers: MsrpHeader[]): void {
    if (this.current === MsrpConnectionState.Closed) return;
    this.write(serializeMsrp({ kind: 'request', method, transactionId: newTransactionId(), headers: new MsrpHeaders(headers), body: undefined, continuation: '$' }));
  }

  /** @see MsrpSessionCarrier.detach */
  detach(session: MsrpSession): void {
    this.sessions.delete(msrpUriKey(session.localUri));
    for (const [tid, t] of this.transactions) if (t.session === session) this.forget(tid, t);
    if (this.readySet.delete(session)) this.ready.splice(this.ready.indexOf(session), 1);
    this.pump();
  }

  // ---- internals ----

  private isClosed(): boolean {
    return this.current === MsrpConnectionState.Closed;
  }

  private pump(): void {
    if (this.pumping) return; // re-entered from a session callback: the running loop continues
    this.pumping = true;
    try {
      while (
        this.writable &&
        this.current !== MsrpConnectionState.Closed &&
        this.transactions.size < this.maxOutstanding &&
        (this.outstandingBytes < this.maxOutstandingBytes || this.transactions.size === 0)
      ) {
        const session = this.ready.shift();
        if (!session) break;
        this.readySet.delete(session);
        const prepared = session.nextRequest();
        if (session.hasOutput() && !this.readySet.has(session)) {
          this.readySet.add(session);
          this.ready.push(session); // round robin between sessions sharing the connection
        }
        if (!prepared) continue;
        let tid = newTransactionId();
        while (!bodyAllowsTransactionId(prepared.body, tid)) tid = newTransactionId(); // RFC 4975 §7.1
        const parts = frameRequest(tid, 'SEND', prepared.headerLines, prepared.body, prepared.continuation);
        if (prepared.expectsResponse) {
          this.transactions.set(tid, { session, ticket: prepared.ticket, deadline: this.now() + this.timeoutMs });
          this.outstandingBytes += prepared.ticket.bytes;
        }
        for (const part of parts) this.write(part);
      }
    } finally {
      this.pumping = false;
    }
  }

  private forget(tid: string, t: Transaction): void {
    this.transactions.delete(tid);
    this.outstandingBytes -= t.ticket.bytes;
  }

  private write(bytes: Uint8Array): void {
    try {
      if (this.transport.write(bytes) === false) this.writable = false;
    } catch (e) {
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
      this.close();
    }
  }

  private handleResponse(response: MsrpResponse): void {
    const t = this.transactions.get(response.transactionId);
    if (!t) return; // late (after a timeout) or unknown: nothing waits for it
    this.forget(response.transactionId, t);
    if (response.status >= 200 && response.status < 300) t.session.requestSucceeded(t.ticket);
    else t.session.requestFailed(t.ticket, response.status, response.comment);
    this.pump();
  }

  private handleRequest(request: MsrpRequest): void {
    const toRaw = request.headers.get('To-Path');
    const fromRaw = request.headers.get('From-Path');
    const isReport = request.method === 'REPORT';
    if (toRaw === undefined || fromRaw === undefined) {
      this.emit('error', new MsrpHeaderError(`${request.method} without To-Path or From-Path`));
      return;
    }
    const memo = this.routeMemo;
    let session: MsrpSession | number;
    if (memo && memo.toRaw === toRaw && memo.fromRaw === fromRaw && memo.session.carrier === this && memo.session.state !== MsrpSessionState.Closed) {
      // Same paths as the previous request, to a session still on this connection: routed as before.
      if (request.method !== 'SEND' && !isReport) return this.respond(request, toRaw, fromRaw, 501, msrpStatusComment(501));
      session = memo.session;
    } else {
      let toPath: MsrpUri[];
      let fromPath: MsrpUri[];
      try {
        toPath = parsePath(toRaw);
        fromPath = parsePath(fromRaw);
      } catch (e) {
        if (!(e instanceof MsrpHeaderError)) throw e;
        return this.respond(request, toRaw, fromRaw, 400, e.message);
      }
      if (request.method !== 'SEND' && !isReport) return this.respond(request, toRaw, fromRaw, 501, msrpStatusComment(501));
      session = this.route(toPath[0]!, fromPath, isReport);
      this.routeMemo = typeof session === 'number' ? undefined : { toRaw, fromRaw, session };
    }
    if (typeof session === 'number') return this.respond(request, toRaw, fromRaw, session, msrpStatusComment(session));
    if (isReport) {
      session.receiveReport(request);
      return;
    }
    const handling = session.receiveSend(request);
    if (handling.holdResponse) {
      // Framed now, so that the request (and its body) need not be kept for it.
      const answer = this.answer(request, toRaw, fromRaw, handling.status, handling.comment);
      if (answer) {
        session.holdResponse(() => {
          if (!this.isClosed()) this.write(answer);
        });
      }
    } else this.respond(request, toRaw, fromRaw, handling.status, handling.comment);
    handling.afterResponse();
  }

  /** Answer a request unless it asked for no response of this kind (RFC 4975 §7.1.2); REPORTs never are. */
  private respond(request: MsrpRequest, toRaw: string, fromRaw: string, status: number, comment: string): void {
    const answer = this.answer(request, toRaw, fromRaw, status, comment);
    if (answer) this.write(answer);
  }

  /** The response to a request, framed; undefined when it asked for none of this kind (RFC 4975 §7.1.2). */
  private answer(request: MsrpRequest, toRaw: string, fromRaw: string, status: number, comment: string): Uint8Array | undefined {
    if (request.method === 'REPORT') return undefined;
    const failureReport = request.headers.get('Failure-Report');
    if (failureReport !== undefined) {
      const value = failureReport.trim().toLowerCase();
      if (value === 'no' || (value === 'partial' && status < 300)) return undefined;
    }
    // RFC 4975 §7.2: To-Path is the first URI of the request's From-Path, From-Path ours (its To-Path's first).
    return frameResponse(request.transactionId, status, comment, firstUri(fromRaw), firstUri(toRaw));
  }

  /** The session a request is for, or the status to answer with. Binds a waiting session on the passive side. */
  private route(to: MsrpUri, fromPath: MsrpUri[], isReport: boolean): MsrpSession | number {
    const key = msrpUriKey(to);
    const known = this.sessions.get(key);
    if (known) return known.acceptsFromPath(fromPath) ? known : 481;
    if (isReport || this.role !== 'passive' || !this.resolveSession) return 481;
    const waiting = this.resolveSession(to);
    if (!waiting || waiting.state === MsrpSessionState.Closed) return 481;
    if (waiting.carrier !== undefined) return 506; // bound to another connection (RFC 4975 §7.3.1)
    if (!waiting.acceptsFromPath(fromPath)) return 481;
    this.sessions.set(compactString(key), waiting);
    waiting.bindPassive(this, fromPath);
    this.sessionBecameBound(waiting);
    return waiting;
  }

  private sessionBecameBound(session: MsrpSession): void {
    if (this.current === MsrpConnectionState.Open) this.transition(MsrpConnectionState.Bound);
    this.emit('sessionBound', session);
  }

  private shutdown(closeTransport: boolean, reason: string): void {
    if (this.current === MsrpConnectionState.Closed) return;
    this.transition(MsrpConnectionState.Closed);
    const pending = [...this.transactions.values()];
    this.transactions.clear();
    this.outstandingBytes = 0;
    for (const t of pending) t.session.requestFailed(t.ticket, 0, reason);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.ready.length = 0;
    this.readySet.clear();
    for (const s of sessions) s.connectionLost(reason);
    if (closeTransport) {
      try {
        this.transport.close();
      } catch (e) {
        this.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** The one place the state changes; throws on a move the diagram does not allow. */
  private transition(next: MsrpConnectionState): void {
    const previous = this.current;
    if (!CONNECTION_TRANSITIONS[previous].includes(next)) throw new Error(`illegal MSRP connection transition ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}

/** The first URI of a path header value (already trimmed by the parser; URIs are separated by SP or HTAB). */
function firstUri(raw: string): string {
  const space = raw.indexOf(' ');
  const tab = raw.indexOf('\t');
  const end = space < 0 ? tab : tab < 0 ? space : Math.min(space, tab);
  return end < 0 ? raw : raw.slice(0, end);
}
