/**
 * The CPM Conversation Server of one domain (the participating function of PROFILE.md).
 *
 * Today it runs the device registry, fed by the core's third-party REGISTERs, and the `reg` event notifier.
 * Sessions (in-path B2BUA + MSRP relay, proxy mode) and the transfer controller build on this element.
 * It listens on one internal TLS endpoint that only the domain's core reaches.
 */
import { buildResponse } from '../sip/transaction/response-builder';
import type { TimerConfig } from '../sip/transaction/timers';
import { TransactionLayer, type ServerTransaction } from '../sip/transaction/transaction-layer';
import { createTransportLayer } from '../sip/transport/sip-transport-layer';
import type { TlsClientOptions, TlsCredentials, TransportTrace } from '../sip/transport/transport-options';
import type { Endpoint, ReceivedMessage, SipTransportLayer } from '../sip/transport/transport-types';
import { DelayedTransport } from '../core/delayed-transport';
import { aorOfHeader } from '../core/domain-core';
import { SipParseError } from '../sip/message/parse-error';
import { DeviceRegistry } from './registry/device-registry';
import { RegEventNotifier } from './registry/reg-event-notifier';

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
}

/** One domain's Conversation Server. Create with {@link ConversationServer.start}. */
export class ConversationServer {
  readonly registry = new DeviceRegistry();
  readonly notifier: RegEventNotifier;
  private closed = false;

  private constructor(
    private readonly options: ConversationServerOptions,
    readonly transport: SipTransportLayer,
    readonly layer: TransactionLayer,
    readonly address: Endpoint,
  ) {
    this.notifier = new RegEventNotifier({ domain: options.domain, registry: this.registry, layer, self: address });
    layer.on('request', (tx, received) => this.onRequest(tx, received));
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

  /** Live state (tests check it empties). */
  load(): { transactions: number; subscriptions: number; devices: number } {
    return { transactions: this.layer.size(), subscriptions: this.notifier.size(), devices: this.registry.size() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notifier.close();
    this.registry.clear();
    this.layer.close();
    await this.transport.close();
  }

  private onRequest(tx: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message;
    if (request.type !== 'request') return;
    const reply = (status: number, reason?: string): void => tx.respond(buildResponse(request, status, { toTag: 'cs', ...(reason ? { reason } : {}) }));
    try {
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
          return reply(501, 'Not Implemented Yet');
      }
    } catch {
      reply(500, 'Server Internal Error');
    }
  }
}
