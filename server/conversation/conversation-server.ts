/**
 * The CPM Conversation Server of one domain (the participating function of PROFILE.md).
 *
 * It runs what every mode shares: the device registry, fed by the core's third-party REGISTERs, and the
 * `reg` event notifier; and it hands CPM sessions to the handler of its mode (see `session-handler.ts`):
 * `proxy` (Record-Routing stateful proxy, `proxy-mode/`) or `in-path` (B2BUA + MSRP relay, plugged in with
 * the `inPath` factory; without a factory an in-path server proxies its sessions and says so).
 * The transfer controller builds on this element. It listens on one internal TLS endpoint that only the
 * domain's core reaches.
 *
 * Dispatch of requests: those the session handler `wants` (initial INVITEs, anything routed through us) go
 * to it; the rest are addressed to the server itself: checked as a UAS (a registrar for REGISTER, RFC 3261
 * §8.2, §10.3), then served (REGISTER, SUBSCRIBE reg, OPTIONS; 481 for a dialog or transaction that is not
 * ours, 404 for the rest).
 */
import { buildResponse } from '../sip/transaction/response-builder';
import type { TimerConfig } from '../sip/transaction/timers';
import type { InviteServerTransaction } from '../sip/transaction/invite-server-transaction';
import { TransactionLayer, type ServerTransaction } from '../sip/transaction/transaction-layer';
import { createTransportLayer } from '../sip/transport/sip-transport-layer';
import type { TlsClientOptions, TlsCredentials, TransportTrace } from '../sip/transport/transport-options';
import type { Endpoint, ReceivedMessage, SipTransportLayer } from '../sip/transport/transport-types';
import { DelayedTransport } from '../core/delayed-transport';
import { aorOfHeader } from '../core/domain-core';
import { SipParseError } from '../sip/message/parse-error';
import { checkRequest, type RequestCheckOptions } from '../sip/message/request-check';
import { toTagOrNone } from './dialog-tags';
import type { ConversationMode } from './conversation-mode';
import { ProxyModeHandler } from './proxy-mode/proxy-mode';
import { DeviceRegistry } from './registry/device-registry';
import { RegEventNotifier } from './registry/reg-event-notifier';
import { TransferController } from './transfer/transfer-controller';
import { InPathHandler } from './in-path/in-path-handler';
import type { MessageSink } from '../store/message-sink';
import type { CpmSessionHandler, CpmSessionHandlerFactory, CpmSessionInfo, SessionHandlerEnvironment } from './session-handler';

/** Options of a Conversation Server. */
export interface ConversationServerOptions {
  domain: string;
  host?: string;
  port?: number;
  tls?: TlsCredentials;
  tlsClient?: TlsClientOptions;
  delayMs?: number;
  timers?: Partial<TimerConfig>;
  trace?: TransportTrace;
  /** How CPM sessions are served (default `proxy`). */
  mode?: ConversationMode;
  /** The in-path B2BUA + MSRP relay; without it an `in-path` server proxies its sessions (and logs that). */
  inPath?: CpmSessionHandlerFactory;
  /** Operator diagnostics, one line each (default: dropped; they are also kept in `diagnostics`). */
  log?: (line: string) => void;
  /** The transfer service URI X (PROFILE.md; default `sip:cpm-transfer@<domain>`). */
  transferServiceUri?: string;
  /** The domain core's internal address, where out-of-dialog requests go (also settable with `setCore`). */
  core?: Endpoint;
  /** How long a transfer's target may take to answer (PROFILE.md: 60 s). */
  transferTargetAnswerMs?: number;
  /**
   * The domain's Message Store: an in-path server records what it relays there, and in either mode a move's
   * Join REFER carries its history cursor.
   */
  messageSink?: MessageSink;
}

/**
 * The checks on a request addressed to the server itself, before it is served (RFC 3261 §8.2: method, URI
 * scheme, Require, body, Accept; well-formedness): REGISTER as a registrar (§10.3, the core's third-party
 * registrations), everything else as a UAS. ACK never comes here (the transaction layer passes it apart).
 */
const SELF_REGISTRAR_CHECKS: RequestCheckOptions = { role: 'registrar', allowedMethods: ['REGISTER', 'OPTIONS'] };
const SELF_UAS_CHECKS: RequestCheckOptions = {
  role: 'uas',
  allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'UPDATE', 'OPTIONS', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER'],
  acceptedBodyTypes: ['application/sdp', 'message/sipfrag'],
};

/** One domain's Conversation Server. Create with {@link ConversationServer.start}. */
export class ConversationServer {
  readonly registry = new DeviceRegistry();
  readonly notifier: RegEventNotifier;
  /** The mode configured. */
  readonly mode: ConversationMode;
  /** What serves the sessions (its `mode` differs from `mode` while in-path falls back to proxying). */
  readonly sessions: CpmSessionHandler;
  /** Diagnostics logged since start, oldest first (at most 100). */
  readonly diagnostics: string[] = [];
  /** The transfer controller (CPM-MLD-009, PROFILE.md "The transfer"). */
  readonly transfers: TransferController;
  private core: Endpoint;
  private closed = false;

  private constructor(
    private readonly options: ConversationServerOptions,
    readonly transport: SipTransportLayer,
    readonly layer: TransactionLayer,
    readonly address: Endpoint,
  ) {
    this.mode = options.mode ?? 'proxy';
    this.notifier = new RegEventNotifier({ domain: options.domain, registry: this.registry, layer, self: address });
    const environment: SessionHandlerEnvironment = {
      domain: options.domain,
      transport,
      layer,
      address,
      ...(options.timers ? { timers: options.timers } : {}),
      log: (line) => this.log(line),
      ...(options.messageSink ? { messageSink: options.messageSink } : {}),
    };
    this.sessions = this.createSessionHandler(environment);
    this.core = options.core ?? address;
    this.transfers = new TransferController({
      domain: options.domain,
      layer,
      self: address,
      contact: `sip:cpm-cs-transfer@${options.domain}`,
      core: { protocol: 'tls', host: address.host, port: address.port },
      serviceUri: options.transferServiceUri ?? `sip:cpm-transfer@${options.domain}`,
      registry: this.registry,
      sessions: this.sessions,
      ...(options.messageSink ? { history: options.messageSink } : {}),
      ...(options.transferTargetAnswerMs !== undefined ? { targetAnswerMs: options.transferTargetAnswerMs } : {}),
      coreAddress: () => this.core,
      log: (line) => this.log(line),
    });
    if (this.sessions instanceof ProxyModeHandler) {
      this.sessions.screenInvites((invite) => this.transfers.checkJoinInvite(invite));
      this.sessions.sessions.on('removed', (record) => this.transfers.sessionEnded(record.callId, record.caller.tag, record.callee.tag, true));
    } else if (this.sessions instanceof InPathHandler) {
      this.sessions.screenInvites((invite) => this.transfers.checkJoinInvite(invite));
      this.sessions.on('legEnded', (info: CpmSessionInfo, byPeer: boolean) => this.transfers.sessionEnded(info.callId, info.caller.tag, info.callee.tag, byPeer));
    }
    layer.on('request', (tx, received) => this.onRequest(tx, received));
    layer.on('ack', (received, tx) => this.onAck(received, tx));
    layer.on('response', (received) => this.sessions.handleResponse(received));
    layer.on('error', () => undefined);
  }

  /** Bind the internal TLS listener and start serving. */
  static async start(options: ConversationServerOptions): Promise<ConversationServer> {
    const raw = await createTransportLayer({
      listeners: [{ protocol: 'tls', host: options.host ?? '127.0.0.1', port: options.port ?? 0 }],
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.tlsClient ? { tlsClient: options.tlsClient } : {}),
      ...(options.trace ? { trace: options.trace } : {}),
    });
    const transport: SipTransportLayer = options.delayMs ? new DelayedTransport(raw, options.delayMs) : raw;
    const layer = new TransactionLayer(transport, { ...(options.timers ? { timers: options.timers } : {}), autoTrying: true });
    const address = raw.listeningPoint('tls');
    if (!address) throw new Error('Conversation Server: TLS listener did not bind');
    return new ConversationServer(options, transport, layer, address);
  }

  /** Set the domain core's internal address (the lab starts the server before its core). */
  setCore(endpoint: Endpoint): void {
    this.core = endpoint;
  }

  /** Live state (tests check it empties). */
  load(): { transactions: number; subscriptions: number; devices: number; sessions: number; transfers: number } {
    return {
      transactions: this.layer.size(),
      subscriptions: this.notifier.size(),
      devices: this.registry.size(),
      sessions: this.sessions.sessionCount(),
      transfers: this.transfers.activeCount(),
    };
  }

  /** CPM sessions alive. */
  sessionCount(): number {
    return this.sessions.sessionCount();
  }

  /** Stop serving: end sessions and subscriptions, close every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sessions.close();
    this.transfers.close();
    this.notifier.close();
    this.registry.clear();
    this.layer.close();
    await this.transport.close();
  }

  private createSessionHandler(environment: SessionHandlerEnvironment): CpmSessionHandler {
    if (this.mode === 'in-path') {
      if (this.options.inPath) return this.options.inPath(environment);
      this.log(`${this.options.domain}: in-path mode is not available yet; CPM sessions are proxied (Record-Route, no MSRP relay)`);
    }
    return new ProxyModeHandler(environment);
  }

  private log(line: string): void {
    this.diagnostics.push(line);
    if (this.diagnostics.length > 100) this.diagnostics.shift();
    try {
      this.options.log?.(line);
    } catch {
      // a logger that throws must not take the server down
    }
  }

  private onAck(received: ReceivedMessage, tx: InviteServerTransaction | undefined): void {
    const request = received.message;
    if (request.type === 'request' && this.sessions.wants(request)) this.sessions.handleAck(received, tx);
  }

  private onRequest(tx: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message;
    if (request.type !== 'request') return;
    if (this.transfers.wants(request)) {
      this.transfers.handleRequest(tx, received);
      return;
    }
    if (this.sessions.wants(request)) {
      this.sessions.handleRequest(tx, received);
      return;
    }
    const reply = (status: number, reason?: string): void => tx.respond(buildResponse(request, status, { toTag: 'cs', ...(reason ? { reason } : {}) }));
    try {
      const rejection = checkRequest(request, request.method === 'REGISTER' ? SELF_REGISTRAR_CHECKS : SELF_UAS_CHECKS);
      if (rejection) {
        tx.respond(buildResponse(request, rejection.status, { toTag: 'cs', reason: rejection.reason, ...(rejection.headers ? { headers: rejection.headers } : {}) }));
        return;
      }
      switch (request.method) {
        case 'REGISTER': {
          const aor = aorOfHeader(request.headers.get('To'));
          if (!aor) return reply(400, 'Bad To');
          try {
            this.registry.applyThirdPartyRegister(aor, request.headers.getAll('Contact'));
          } catch (error) {
            return reply(400, error instanceof SipParseError ? `Bad Contact: ${error.reason}` : 'Bad Contact');
          }
          return reply(200);
        }
        case 'SUBSCRIBE':
          if (/^\s*reg\b/i.test(request.headers.get('Event') ?? '')) return this.notifier.handleSubscribe(tx, received);
          return reply(489, 'Bad Event');
        case 'OPTIONS':
          return reply(200);
        default:
          // §12.2.2, §15.1.2, §9.2, RFC 6665 §4.1.3: no dialog, transaction or subscription of ours matches
          if (toTagOrNone(request) !== undefined || ['BYE', 'CANCEL', 'UPDATE', 'NOTIFY'].includes(request.method)) {
            return reply(481, 'Call/Transaction Does Not Exist');
          }
          return reply(404, `Not Found: the Conversation Server serves no ${request.method} at this URI`);
      }
    } catch {
      reply(500, 'Server Internal Error');
    }
  }
}
