/**
 * The transaction layer of one SIP element (RFC 3261 §17): it owns the client and server transaction tables,
 * matches what the transport delivers, and passes up what no transaction absorbs.
 */
import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { ReceivedMessage, SendResult, SendTarget, SipTransportLayer } from '../transport/transport-types';
import { responseTarget, topVia } from '../transport/via-routing';
import { InviteClientTransaction } from './invite-client-transaction';
import { InviteServerTransaction } from './invite-server-transaction';
import { NonInviteClientTransaction } from './non-invite-client-transaction';
import { COARSE_MIN_MS, COARSE_SLOT_MS } from './coarse-timers';
import { NonInviteServerTransaction, type RetireHandler } from './non-invite-server-transaction';
import { buildResponse } from './response-builder';
import { RetiredResponses } from './retired-responses';
import { timerValues, type TimerConfig } from './timers';
import { clientTransactionKey, cseqOf, rfc2543AckKeyForInvite, rfc3261Branch, serverTransactionKey } from './transaction-key';

/** Any client transaction. */
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
/** Any server transaction. */
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** Options of a transaction layer. */
export interface TransactionLayerOptions {
  /** T1/T2/T4 (defaults 500 ms / 4 s / 5 s). */
  timers?: Partial<TimerConfig>;
  /**
   * Send `100 Trying` as soon as an INVITE server transaction is created (default true). §17.2.1 lets the
   * layer skip it only when the TU answers within 200 ms, which a proxy forwarding downstream cannot promise.
   */
  autoTrying?: boolean;
}

/** Events of the transaction layer (what it passes up to the core). */
export type TransactionLayerEvents = {
  /** A new request created a server transaction; the TU must respond through `transaction`. */
  request: [transaction: ServerTransaction, received: ReceivedMessage];
  /**
   * An ACK no transaction absorbed: the ACK for a 2xx (a new transaction in RFC 3261), or an ACK that reached
   * an INVITE server transaction in Accepted (RFC 6026 §8.7), which is then given as `transaction`.
   */
  ack: [received: ReceivedMessage, transaction: InviteServerTransaction | undefined];
  /** A response that matched no client transaction, such as a stray 2xx retransmission (§17.1.3). */
  response: [received: ReceivedMessage];
  /** A message was dropped (malformed Via/CSeq) or a listener failed; never fatal. */
  error: [error: Error, received: ReceivedMessage | undefined];
  /**
   * A transaction timed out (Timer B, F or H); the transaction emits its own `timeout` too. Reported for the
   * transactions made while the layer had a `timeout` listener (likewise `transportError`).
   */
  timeout: [transaction: ClientTransaction | ServerTransaction];
  /** A transaction could not send (§8.1.3.1, §17.2.4); the transaction emits its own `transportError` too. */
  transportError: [transaction: ClientTransaction | ServerTransaction, error: Error];
};

/**
 * A non-INVITE server transaction over UDP in Completed (RFC 3261 §17.2.2), reduced to what is left to do:
 * answer a retransmission of the request with the same bytes until Timer J fires. The transaction object is at
 * most weakly held, so that its request and parsed response go as soon as its TU lets go of it; if the TU
 * still holds it, it is moved to Terminated when Timer J fires, as it would have moved itself. A transaction
 * whose TU forgot it (`respond(r, { forget: true })`) is not held at all: it has ended already.
 */
interface RetiredTransaction {
  readonly key: string;
  readonly finalResponse: Uint8Array;
  readonly target: SendTarget;
  readonly transaction: WeakRef<NonInviteServerTransaction> | undefined;
  /** When Timer J fires (ms since epoch). */
  readonly expiresAt: number;
}

/**
 * Owns every transaction of one element over one transport layer.
 *
 * Incoming requests either match a server transaction (retransmissions, ACK for non-2xx: absorbed there) or
 * create one and are emitted as `request`; an unmatched ACK is emitted as `ack`. Incoming responses either
 * match a client transaction, which decides what its TU sees, or are emitted as `response`.
 * Transactions leave the tables when they reach Terminated, so `size()` is 0 once everything has ended.
 */
export class TransactionLayer extends EventEmitter<TransactionLayerEvents> {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** RFC 2543 INVITEs: the key their ACK will carry → the transaction. */
  private readonly rfc2543Acks = new Map<string, InviteServerTransaction>();
  private readonly onMessage = (received: ReceivedMessage): void => this.receive(received);
  /** Completed non-INVITE server transactions over UDP (see {@link RetiredTransaction}), by key. */
  private readonly retired = new Map<string, RetiredTransaction>();
  /** The same, in the order their Timer J fires (one duration for the whole layer): a queue from `retiredHead`. */
  private retiredQueue: RetiredTransaction[] = [];
  private retiredHead = 0;
  private retiredTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Forgotten ones (`respond(r, { forget: true })`, the TU holds nothing) answering from a plain UDP address: kept
   * without an object each (see `retired-responses.ts`), since a busy registrar has hundreds of thousands.
   */
  private readonly forgotten = new RetiredResponses();
  /** Timer J over UDP (64·T1). */
  private readonly timerJ: number;
  private readonly retire: RetireHandler = (transaction, finalResponse, keep) => this.onRetire(transaction, finalResponse, keep);
  private closed = false;

  constructor(
    readonly transport: SipTransportLayer,
    private readonly options: TransactionLayerOptions = {},
  ) {
    super();
    this.timerJ = timerValues(options.timers, false).j;
    transport.on('message', this.onMessage);
  }

  /** Number of live transactions, client and server. */
  size(): number {
    return this.clients.size + this.servers.size + this.retired.size + this.forgotten.size;
  }

  /** Live client / server transaction counts, for diagnostics. */
  counts(): { client: number; server: number } {
    return { client: this.clients.size, server: this.servers.size + this.retired.size + this.forgotten.size };
  }

  /**
   * Start a client transaction for `request` towards `target` (§17.1). The request's top Via must carry an
   * RFC 3261 branch (the TU adds its Via, §8.1.1.7); ACK is never sent this way (use `sendStateless`).
   * Throws on a request that cannot start a transaction, or a branch already in use.
   */
  sendRequest(request: SipRequest, target: SendTarget): ClientTransaction {
    if (this.closed) throw new Error('TransactionLayer is closed');
    if (request.method === 'ACK') throw new Error('ACK does not create a client transaction; use sendStateless()');
    if (rfc3261Branch(topVia(request)) === undefined) throw new Error('request needs a top Via with an RFC 3261 branch (z9hG4bK…)');
    if (cseqOf(request).method !== request.method) throw new Error('CSeq method differs from the request method');
    const key = clientTransactionKey(request);
    if (key === undefined) throw new Error('request has no client transaction key');
    if (this.clients.has(key)) throw new Error(`a client transaction with key ${key} already exists`);
    const transaction: ClientTransaction = request.method === 'INVITE'
      ? new InviteClientTransaction(key, request, target, this.transport, this.options.timers)
      : new NonInviteClientTransaction(key, request, target, this.transport, this.options.timers);
    this.clients.set(key, transaction);
    transaction.on('stateChange', () => {
      if (transaction.terminated && this.clients.get(key) === transaction) this.clients.delete(key);
    });
    this.relayFailures(transaction);
    transaction.start();
    return transaction;
  }

  /**
   * Send a message outside any transaction (ACK for 2xx, stateless forwarding, §16.11). Never rejects:
   * a failure is reported as an `error` event and resolves to undefined.
   */
  async sendStateless(message: SipRequest | SipResponse, target: SendTarget): Promise<SendResult | undefined> {
    try {
      return await this.transport.send(message, target);
    } catch (error) {
      this.report(error, undefined);
      return undefined;
    }
  }

  /**
   * The INVITE server transaction a CANCEL applies to (§9.2: matched like §17.2.3, but with method INVITE),
   * or undefined. Throws when the CANCEL has no usable Via or CSeq.
   */
  findInviteServerTransaction(cancel: SipRequest): InviteServerTransaction | undefined {
    const asInvite: SipRequest = { ...cancel, method: 'INVITE', headers: cancel.headers.clone() };
    const cseq = cseqOf(cancel);
    asInvite.headers.set('CSeq', `${cseq.seq} INVITE`);
    const found = this.servers.get(serverTransactionKey(asInvite));
    return found?.kind === 'invite-server' ? found : undefined;
  }

  /** Terminate every transaction and stop listening to the transport (the transport itself stays open). */
  close(): void {
    this.closed = true;
    this.transport.off('message', this.onMessage);
    for (const t of [...this.clients.values()]) t.terminate();
    for (const t of [...this.servers.values()]) t.terminate();
    const retired = [...this.retired.values()];
    this.clearRetired();
    for (const r of retired) r.transaction?.deref()?.terminate();
    this.clients.clear();
    this.servers.clear();
    this.rfc2543Acks.clear();
  }

  /** Dispatch one message from the transport. Never throws: problems become `error` events. */
  private receive(received: ReceivedMessage): void {
    if (this.closed) return;
    try {
      if (received.message.type === 'request') this.receiveRequest(received.message, received);
      else this.receiveResponse(received.message, received);
    } catch (error) {
      this.report(error, received);
    }
  }

  /** Emit `error` when someone listens (an unheard 'error' event would throw into the transport). */
  private report(error: unknown, received: ReceivedMessage | undefined): void {
    if (this.listenerCount('error') === 0) return;
    this.emit('error', error instanceof Error ? error : new Error(String(error)), received);
  }

  private receiveRequest(request: SipRequest, received: ReceivedMessage): void {
    const key = serverTransactionKey(request);
    const retired = this.retired.get(key);
    if (retired !== undefined) {
      this.retransmitRetired(retired);
      return;
    }
    const forgotten = this.forgotten.find(key);
    if (forgotten >= 0) {
      this.retransmitForgotten(forgotten, key);
      return;
    }
    const existing = this.servers.get(key) ?? (request.method === 'ACK' ? this.rfc2543Acks.get(key) : undefined);
    if (existing) {
      const disposition = existing.receiveRequest(request);
      if (disposition === 'pass-to-tu' && request.method === 'ACK' && existing.kind === 'invite-server') {
        this.emit('ack', received, existing);
      }
      return;
    }
    if (request.method === 'ACK') {
      this.emit('ack', received, undefined);
      return;
    }
    const target = responseTarget(received);
    const timers = this.options.timers;
    let transaction: ServerTransaction;
    if (request.method === 'INVITE') {
      const invite = new InviteServerTransaction(key, request, target, this.transport, timers);
      const ackKey = rfc2543AckKeyForInvite(request);
      if (ackKey !== undefined) this.rfc2543Acks.set(ackKey, invite);
      invite.on('stateChange', () => {
        if (!invite.terminated) return;
        this.forgetServer(key, invite);
        if (ackKey !== undefined && this.rfc2543Acks.get(ackKey) === invite) this.rfc2543Acks.delete(ackKey);
      });
      transaction = invite;
    } else {
      const other = new NonInviteServerTransaction(key, request, target, this.transport, timers, this.retire);
      other.on('stateChange', () => {
        if (other.terminated) this.forgetServer(key, other);
      });
      transaction = other;
    }
    this.servers.set(key, transaction);
    this.relayFailures(transaction);
    if (transaction.kind === 'invite-server' && this.options.autoTrying !== false) {
      transaction.respond(buildResponse(request, 100));
    }
    this.emit('request', transaction, received);
  }

  private receiveResponse(response: SipResponse, received: ReceivedMessage): void {
    const key = clientTransactionKey(response);
    const transaction = key === undefined ? undefined : this.clients.get(key);
    if (transaction) transaction.receiveResponse(response);
    else this.emit('response', received);
  }

  /**
   * Repeat a transaction's timeout and transport failure as layer events, for cores that watch them all: for the
   * transactions made while someone listens to them (no listeners, and no closures, per transaction otherwise).
   */
  private relayFailures(transaction: ClientTransaction | ServerTransaction): void {
    if (this.listenerCount('timeout') > 0) transaction.on('timeout', () => this.emit('timeout', transaction));
    if (this.listenerCount('transportError') > 0) transaction.on('transportError', (error: Error) => this.emit('transportError', transaction, error));
  }

  private forgetServer(key: string, transaction: ServerTransaction): void {
    if (this.servers.get(key) === transaction) this.servers.delete(key);
    // Terminated early (a failed send): retransmissions no longer belong to it.
    const retired = this.retired.get(key);
    if (retired !== undefined && retired.transaction?.deref() === transaction) this.retired.delete(key);
  }

  // ---- Completed non-INVITE server transactions over UDP (see RetiredTransaction)

  private onRetire(transaction: NonInviteServerTransaction, finalResponse: Uint8Array, keep: boolean): void {
    const key = transaction.key;
    if (this.closed || this.servers.get(key) !== transaction) {
      // not one of ours (or we are closing): it must not wait for a Timer J nobody runs
      if (keep) queueMicrotask(() => transaction.timerJFired());
      return;
    }
    this.servers.delete(key);
    const target = transaction.target;
    if (!keep && target.flowId === undefined && target.protocol === 'udp' && this.forgotten.add(key, finalResponse, target, Date.now() + this.timerJ)) {
      if (this.retiredTimer === undefined) this.armRetiredTimer();
      return;
    }
    // What the record keeps must not keep the received message alive: the key is built from pieces cut from it,
    // and the bytes may share an 8 KB pool buffer with other messages. Both are copied to their own memory.
    const own = ownKey(key);
    const entry: RetiredTransaction = {
      key: own,
      finalResponse: Uint8Array.prototype.slice.call(finalResponse),
      target: transaction.target,
      transaction: keep ? new WeakRef(transaction) : undefined,
      expiresAt: Date.now() + this.timerJ,
    };
    this.retired.set(own, entry);
    this.retiredQueue.push(entry);
    if (this.retiredTimer === undefined) this.armRetiredTimer();
  }

  /**
   * §17.2.2: a retransmission of the request gets the final response again. A failed send ends the record; the
   * transaction, if its TU still holds it, reports it (`transportError`, §17.2.4) and terminates. A forgotten
   * transaction has no one left to tell.
   */
  private retransmitRetired(entry: RetiredTransaction): void {
    const send = this.transport.sendSerialized;
    if (send === undefined) return; // cannot happen: a transaction retires only over a transport that has it
    send.call(this.transport, entry.finalResponse, entry.target).catch((error: unknown) => {
      if (this.retired.get(entry.key) === entry) this.retired.delete(entry.key);
      entry.transaction?.deref()?.retransmissionFailed(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /** {@link retransmitRetired} for a forgotten transaction: nobody is left to tell of a failure. */
  private retransmitForgotten(handle: number, key: string): void {
    const send = this.transport.sendSerialized;
    if (send === undefined) return;
    const { host, port } = this.forgotten.target(handle);
    send.call(this.transport, this.forgotten.response(handle), { protocol: 'udp', host, port }).catch(() => {
      if (this.forgotten.find(key) === handle) this.forgotten.delete(handle);
    });
  }

  /**
   * One Node timer for every retired transaction: set for the oldest one's Timer J. Like the coarse timers of
   * the transactions themselves, a Timer J of a second or more fires at most one slot late, with its neighbours.
   */
  private armRetiredTimer(): void {
    const next = Math.min(this.retiredQueue[this.retiredHead]?.expiresAt ?? Infinity, this.forgotten.nextExpiry() ?? Infinity);
    if (next === Infinity) return;
    const coarse = this.timerJ >= COARSE_MIN_MS;
    const due = coarse ? Math.ceil(next / COARSE_SLOT_MS) * COARSE_SLOT_MS : next;
    const timer = setTimeout(() => this.expireRetired(), Math.max(0, due - Date.now()));
    if (typeof timer === 'object' && 'unref' in timer) timer.unref();
    this.retiredTimer = timer;
  }

  private expireRetired(): void {
    this.retiredTimer = undefined;
    const now = Date.now();
    this.forgotten.expire(now);
    const queue = this.retiredQueue;
    let head = this.retiredHead;
    const due: NonInviteServerTransaction[] = [];
    while (head < queue.length && queue[head]!.expiresAt <= now) {
      const entry = queue[head]!;
      head++;
      if (this.retired.get(entry.key) !== entry) continue; // already gone (terminated early)
      this.retired.delete(entry.key);
      const transaction = entry.transaction?.deref();
      if (transaction !== undefined) due.push(transaction);
    }
    if (head === queue.length) {
      this.retiredQueue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      this.retiredQueue = queue.slice(head);
      head = 0;
    }
    this.retiredHead = head;
    this.armRetiredTimer();
    for (const transaction of due) {
      try {
        transaction.timerJFired();
      } catch (error) {
        this.report(error, undefined);
      }
    }
  }

  private clearRetired(): void {
    if (this.retiredTimer !== undefined) clearTimeout(this.retiredTimer);
    this.retiredTimer = undefined;
    this.retired.clear();
    this.forgotten.clear();
    this.retiredQueue = [];
    this.retiredHead = 0;
  }
}

/** A flat copy of a transaction key, sharing no memory with the message it was built from. */
function ownKey(key: string): string {
  return JSON.parse(JSON.stringify(key)) as string;
}
