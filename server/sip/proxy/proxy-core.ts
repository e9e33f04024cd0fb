/**
 * A stateful proxy core (RFC 3261 §16) for the lab SIP/IP core and the Conversation Server's proxy mode.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { parseUri } from '../message/sip-uri';
import { parseVia } from '../message/via';
import { buildResponse } from '../transaction/response-builder';
import type { TimerConfig } from '../transaction/timers';
import { TransactionLayer, type ServerTransaction } from '../transaction/transaction-layer';
import type { ReceivedMessage, SipTransportLayer } from '../transport/transport-types';
import { responseDestination, topVia } from '../transport/via-routing';
import { loopHash, loopHashOfBranch } from './branch-id';
import { buildForwardedRequest } from './forwarding';
import { ProxyAddresses } from './proxy-addresses';
import type { ProxyContext, ProxyHooks, ProxyTarget } from './proxy-hooks';
import { validateForProxying, type Rejection } from './request-validation';
import { ResponseContext, ResponseContextState, type ProxyEnvironment } from './response-context';
import { processReceivedRoutes } from './route-processing';

/** Options of a ProxyCore. */
export interface ProxyCoreOptions {
  /** The transport layer to proxy on (every listening point of it is ours). */
  transport: SipTransportLayer;
  hooks: ProxyHooks;
  /** T1/T2/T4 for the transactions (defaults 500 ms / 4 s / 5 s). */
  timers?: Partial<TimerConfig>;
  /** Timer C in ms (§16.6 item 11: more than 3 minutes; default 181 s). */
  timerC?: number;
  /** Domains we are responsible for, besides our own addresses (the `locate` hook is asked for them). */
  domains?: readonly string[];
  /** Host to write in Via and Record-Route instead of the bound address. */
  advertisedHost?: string;
  /**
   * A transaction layer to share (the lab core also runs a registrar on it). The ProxyCore then does not
   * listen to it unless `listen` is true; the owner passes requests to `handleRequest`, `handleAck`,
   * `handleResponse`. Without it, the ProxyCore creates and owns a layer and listens to it.
   */
  layer?: TransactionLayer;
  listen?: boolean;
}

/** Events of a ProxyCore. */
export type ProxyCoreEvents = {
  /** Something failed that did not stop the proxy (a hook threw, a send failed, a message was dropped). */
  error: [error: Error];
};

/**
 * The proxy core. For each request: validation (§16.3), loop detection (item 4, RFC 5393 branch hashes),
 * Route processing (§16.4), Max-Forwards, the `authorize` and `locate` hooks, then parallel forking with a
 * response context (§16.6, §16.7). CANCEL is answered and applied to the matching context (§16.10); ACK for
 * 2xx and stray responses are forwarded statelessly (§16.11). INVITEs get 100 Trying from the transaction
 * layer at once.
 */
export class ProxyCore extends EventEmitter<ProxyCoreEvents> {
  readonly layer: TransactionLayer;
  readonly addresses: ProxyAddresses;
  private readonly contexts = new Map<ServerTransaction, ResponseContext>();
  private readonly ownsLayer: boolean;
  private readonly env: ProxyEnvironment;
  private readonly domains: ReadonlySet<string>;
  private readonly onRequest = (tx: ServerTransaction, received: ReceivedMessage): void => this.handleRequest(tx, received);
  private readonly onAck = (received: ReceivedMessage): void => this.handleAck(received);
  private readonly onResponse = (received: ReceivedMessage): void => this.handleResponse(received);
  private readonly onLayerError = (error: Error): void => this.report(error);
  private closed = false;

  constructor(private readonly options: ProxyCoreOptions) {
    super();
    this.ownsLayer = options.layer === undefined;
    this.layer = options.layer ?? new TransactionLayer(options.transport, { timers: options.timers, autoTrying: true });
    this.addresses = new ProxyAddresses(options.transport, options.advertisedHost);
    this.domains = new Set((options.domains ?? []).map((d) => d.toLowerCase()));
    this.env = {
      layer: this.layer,
      addresses: this.addresses,
      hooks: options.hooks,
      t1: options.timers?.t1 ?? 500,
      timerC: options.timerC ?? 181_000,
      report: (error) => this.report(error),
    };
    if (options.listen ?? this.ownsLayer) {
      this.layer.on('request', this.onRequest);
      this.layer.on('ack', this.onAck);
      this.layer.on('response', this.onResponse);
      this.layer.on('error', this.onLayerError);
    }
  }

  /** Response contexts still alive (0 once every proxied transaction has ended). */
  contextCount(): number {
    return this.contexts.size;
  }

  /** Proxy a request that created `transaction`. Never throws; failures answer 500 and emit `error`. */
  handleRequest(transaction: ServerTransaction, received: ReceivedMessage): void {
    if (this.closed || received.message.type !== 'request') return;
    const request = received.message;
    if (request.method === 'CANCEL') {
      this.handleCancel(transaction, request);
      return;
    }
    const working: SipRequest = { ...request, headers: request.headers.clone() };
    let context: ResponseContext;
    try {
      context = new ResponseContext(this.env, transaction, received, working);
    } catch (error) {
      this.report(error);
      this.answer(transaction, { status: 500 });
      return;
    }
    this.contexts.set(transaction, context);
    context.on('stateChange', (_from, to) => {
      if (to === ResponseContextState.Terminated) this.contexts.delete(transaction);
    });
    this.route(context, request, working, received).catch((error: unknown) => {
      this.report(error);
      context.reject({ status: 500 });
    });
  }

  /** Forward an ACK that matched no transaction (ACK for a 2xx) statelessly (§16.11). Never throws. */
  handleAck(received: ReceivedMessage): void {
    if (this.closed || received.message.type !== 'request') return;
    const request = received.message;
    this.forwardAck(request, received).catch((error: unknown) => this.report(error));
  }

  /**
   * Forward a response that matched no client transaction (a 2xx retransmission after the transactions
   * ended, §16.7 item 2 and §16.11): our Via off, then to the next Via per §18.2.2. Never throws.
   */
  handleResponse(received: ReceivedMessage): void {
    if (this.closed || received.message.type !== 'response') return;
    try {
      const response = received.message;
      if (!this.addresses.isOwnVia(topVia(response))) return; // §18.1.2: not ours, discard
      const copy: SipResponse = { ...response, headers: response.headers.clone() };
      copy.headers.shift('Via');
      const next = copy.headers.first('Via');
      if (next === undefined) return; // it was addressed to us
      void this.layer.sendStateless(copy, responseDestination(copy));
    } catch (error) {
      this.report(error);
    }
  }

  /** Stop: end every context and transaction; the transport stays open (its owner closes it). */
  close(): void {
    this.closed = true;
    this.layer.off('request', this.onRequest);
    this.layer.off('ack', this.onAck);
    this.layer.off('response', this.onResponse);
    this.layer.off('error', this.onLayerError);
    for (const context of [...this.contexts.values()]) context.terminate();
    this.contexts.clear();
    if (this.ownsLayer) this.layer.close();
  }

  private async route(context: ResponseContext, request: SipRequest, working: SipRequest, received: ReceivedMessage): Promise<void> {
    const rejection = this.precheck(request, working);
    if (rejection) {
      context.reject(rejection);
      return;
    }
    const proxyContext: ProxyContext = { received };
    const denied = await this.options.hooks.authorize?.(working, proxyContext);
    if (denied) {
      context.reject(denied);
      return;
    }
    if (context.state !== ResponseContextState.Locating) return; // CANCELled meanwhile
    const targets = await this.targetsFor(working, proxyContext);
    if (context.state !== ResponseContextState.Locating) return;
    if (isRejection(targets)) context.reject(targets);
    else context.forward(targets);
  }

  /** §16.3 checks, loop detection, then §16.4 route processing and §16.6 item 3 (Max-Forwards) on `working`. */
  private precheck(request: SipRequest, working: SipRequest): Rejection | undefined {
    const invalid = validateForProxying(request, (r) => this.isLoop(r));
    if (invalid) return invalid;
    try {
      processReceivedRoutes(working, this.addresses);
    } catch (error) {
      return { status: 400, reason: 'Bad Route' };
    }
    const maxForwards = working.headers.get('Max-Forwards');
    working.headers.set('Max-Forwards', maxForwards === undefined ? '70' : String(Number(maxForwards) - 1));
    return undefined;
  }

  /** §16.3 item 4: one of our Vias carries the loop hash this very request would get now. */
  private isLoop(request: SipRequest): boolean {
    const hash = loopHash(request);
    for (const value of request.headers.values('Via')) {
      try {
        const via = parseVia(value);
        if (loopHashOfBranch(via.branch) === hash && this.addresses.isOwnVia(via)) return true;
      } catch {
        // a malformed lower Via is not ours; the top one was validated already
      }
    }
    return false;
  }

  /** §16.5: the Request-URI alone when a Route remains or the URI is not ours to resolve, else `locate`. */
  private async targetsFor(working: SipRequest, context: ProxyContext): Promise<readonly ProxyTarget[] | Rejection> {
    if (working.headers.has('Route') || !this.isResponsibleFor(working.uri)) return [{ uri: working.uri }];
    return this.options.hooks.locate(working, context);
  }

  private isResponsibleFor(requestUri: string): boolean {
    if (this.options.hooks.isResponsibleFor) return this.options.hooks.isResponsibleFor(requestUri);
    const uri = parseUri(requestUri);
    if (uri.kind !== 'sip') return false;
    return this.domains.has(uri.host.toLowerCase()) || this.addresses.isOwnUri(uri);
  }

  /**
   * §16.10: a CANCEL is checked like any request (§16.3, but for loops: it shares its INVITE's branch), answered
   * at once, and applied to the response context of the INVITE it matches. Never throws; whatever fails is
   * reported and answered 500, so that its server transaction always ends.
   */
  private handleCancel(transaction: ServerTransaction, cancel: SipRequest): void {
    try {
      const invalid = validateForProxying(cancel, () => false);
      if (invalid) {
        this.answer(transaction, invalid);
        return;
      }
      const invite = this.layer.findInviteServerTransaction(cancel);
      const context = invite === undefined ? undefined : this.contexts.get(invite);
      if (!context) {
        // §16.10 lets a proxy forward an unknown CANCEL statelessly; we know every INVITE we forwarded.
        this.answer(transaction, { status: 481 });
        return;
      }
      this.answer(transaction, { status: 200 }, false);
      context.cancelFromUpstream();
    } catch (error) {
      this.report(error);
      this.answer(transaction, { status: 500 });
    }
  }

  /**
   * Answer a request the proxy does not forward, with a To tag of its own unless `tag` is false. Never throws:
   * a transaction that can no longer answer (it already has a final response) is reported.
   */
  private answer(transaction: ServerTransaction, rejection: Rejection, tag = true): void {
    try {
      transaction.respond(buildResponse(transaction.request, rejection.status, {
        toTag: tag ? randomTag() : undefined, reason: rejection.reason, headers: rejection.headers,
      }));
    } catch (error) {
      this.report(error);
    }
  }

  private async forwardAck(request: SipRequest, received: ReceivedMessage): Promise<void> {
    const working: SipRequest = { ...request, headers: request.headers.clone() };
    const rejection = this.precheck(request, working);
    if (rejection) throw new Error(`dropped ACK: ${rejection.status} ${rejection.reason ?? ''}`.trim());
    const context: ProxyContext = { received };
    const targets = await this.targetsFor(working, context);
    const target = isRejection(targets) ? undefined : targets[0];
    if (!target) throw new Error('dropped ACK: no target');
    const { request: out, destination } = buildForwardedRequest({
      addresses: this.addresses, hooks: this.options.hooks, context, working, original: request,
      inbound: received.local.protocol, recordRoute: false,
    }, target, 0);
    await this.layer.sendStateless(out, destination);
  }

  private report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function isRejection(value: readonly ProxyTarget[] | Rejection): value is Rejection {
  return !Array.isArray(value);
}

function randomTag(): string {
  return randomBytes(6).toString('hex');
}
