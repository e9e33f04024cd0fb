/**
 * A small user agent on top of the transaction layer: what a B2BUA or a test endpoint needs to send
 * requests and get their final response, and to answer requests (RFC 3261 §8).
 */
import type { SipRequest, SipResponse } from '../message/sip-message';
import { parseSipUri } from '../message/sip-uri';
import { buildResponse, type ResponseOptions } from '../transaction/response-builder';
import type { ServerTransaction, TransactionLayer } from '../transaction/transaction-layer';
import type { SendTarget, TransportProtocol } from '../transport/transport-types';
import { targetFromUri } from '../proxy/next-hop';
import { firstRouteUri } from '../proxy/route-processing';
import { newBranch, newTag } from './identifiers';

/** Options of `UserAgent.sendRequest`. */
export interface SendRequestOptions {
  /** Where to send; default: the first Route URI, else the Request-URI (§8.1.2). */
  target?: SendTarget;
  /** Called with each provisional response. */
  onProvisional?: (response: SipResponse) => void;
}

/** A user agent core over a transaction layer. */
export class UserAgent {
  /**
   * @param layer the transaction layer (its transport's listening points go into our Via)
   * @param host the host written in our Via (default: the listening point's)
   */
  constructor(
    readonly layer: TransactionLayer,
    private readonly host?: string,
  ) {}

  /** Where a request goes by §8.1.2: its first Route (loose routing), else its Request-URI. */
  static targetOf(request: SipRequest): SendTarget {
    return targetFromUri(firstRouteUri(request) ?? parseSipUri(request.uri));
  }

  /**
   * Add our Via (new branch, `rport`) for `protocol` on top of the request, replacing any Via it had.
   * Throws when the transport layer has no listening point for the protocol.
   */
  stampVia(request: SipRequest, protocol: TransportProtocol): void {
    const point = this.layer.transport.listeningPoint(protocol);
    if (!point) throw new Error(`no ${protocol} listening point for our Via`);
    const host = this.host ?? (point.host.includes(':') ? `[${point.host}]` : point.host);
    request.headers.remove('Via');
    request.headers.prepend('Via', `SIP/2.0/${protocol.toUpperCase()} ${host}:${point.port};branch=${newBranch()};rport`);
  }

  /**
   * Send a request in a new client transaction and resolve with its final response (for INVITE: the first
   * one). A timeout resolves as a 408 and a transport failure as a 503 (§8.1.3.1), each built locally.
   * Rejects only on bad input (no reachable target, ACK, …).
   */
  sendRequest(request: SipRequest, options: SendRequestOptions = {}): Promise<SipResponse> {
    return new Promise<SipResponse>((resolve, reject) => {
      try {
        const target = options.target ?? UserAgent.targetOf(request);
        this.stampVia(request, target.protocol);
        const transaction = this.layer.sendRequest(request, target);
        transaction.on('response', (response: SipResponse) => {
          if (response.status < 200) options.onProvisional?.(response);
          else resolve(response);
        });
        transaction.on('timeout', () => resolve(buildResponse(request, 408, { toTag: newTag() })));
        transaction.on('transportError', () => resolve(buildResponse(request, 503, { toTag: newTag() })));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Send an ACK for a 2xx (its own transaction-less request, §13.2.2.4). Resolves false when the send failed. */
  async sendAck(ack: SipRequest, target?: SendTarget): Promise<boolean> {
    const to = target ?? UserAgent.targetOf(ack);
    this.stampVia(ack, to.protocol);
    return (await this.layer.sendStateless(ack, to)) !== undefined;
  }

  /**
   * Answer a request through its server transaction (§8.2.6), adding `toTag` to the To of non-100 responses
   * when the request had none. Returns the response sent.
   */
  respond(transaction: ServerTransaction, status: number, options: ResponseOptions = {}): SipResponse {
    const response = buildResponse(transaction.request, status, options);
    transaction.respond(response);
    return response;
  }
}
