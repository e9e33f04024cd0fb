/**
 * A test double of `SipTransportLayer`, for unit tests of the transaction, proxy and dialog state machines.
 * It records every send and lets a test deliver messages as if they came off the wire. System tests use the
 * real transport layer instead.
 */
import { parseMessage } from '../message/parse';
import type { SipMessage } from '../message/sip-message';
import type {
  Endpoint, ReceivedMessage, SendResult, SendTarget, SipTransportEvents, SipTransportLayer, TransportProtocol,
} from '../transport/transport-types';
import { stampReceivedVia } from '../transport/via-routing';

/** One recorded send. */
export interface SentMessage {
  message: SipMessage;
  target: SendTarget;
}

type Listeners = { [E in keyof SipTransportEvents]: Set<SipTransportEvents[E]> };

/** In-memory transport: `sent` holds what went out; `deliver()` injects what comes in. */
export class FakeTransport implements SipTransportLayer {
  /** Everything sent, in order. */
  readonly sent: SentMessage[] = [];
  /** When set, the next sends reject with this error (until cleared). */
  failWith: Error | undefined;
  private readonly listeners: Listeners = { message: new Set(), flowClosed: new Set(), error: new Set() };

  constructor(private readonly points: Endpoint[] = [{ protocol: 'udp', host: '127.0.0.1', port: 5060 }]) {}

  on<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this {
    (this.listeners[event] as Set<SipTransportEvents[E]>).add(listener);
    return this;
  }

  off<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this {
    (this.listeners[event] as Set<SipTransportEvents[E]>).delete(listener);
    return this;
  }

  /** Bytes are parsed back, so that `sent` shows every message alike however it was handed over. */
  sendSerialized(bytes: Uint8Array, target: SendTarget): Promise<SendResult> {
    let message: SipMessage;
    try {
      message = parseMessage(bytes);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.send(message, target);
  }

  send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.sent.push({ message, target });
    const local = this.listeningPoint(target.protocol) ?? this.points[0]!;
    return Promise.resolve(target.protocol === 'udp' ? { local } : { local, flowId: target.flowId ?? `flow-${target.host}:${target.port}` });
  }

  listeningPoints(): Endpoint[] {
    return [...this.points];
  }

  listeningPoint(protocol: TransportProtocol): Endpoint | undefined {
    return this.points.find((p) => p.protocol === protocol);
  }

  connectionCount(): number {
    return 0;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Number of 'message' listeners (to check that a layer detached itself). */
  messageListenerCount(): number {
    return this.listeners.message.size;
  }

  /**
   * Deliver `message` as received from `source` (default: a UDP peer at 192.0.2.1:5070). A request's top Via
   * is stamped with `received` / `rport` first, as the real transport does (§18.2.1, RFC 3581); a request
   * without a usable Via is delivered as it is, for tests of what the layers above do with it.
   */
  deliver(message: SipMessage, source: Endpoint = { protocol: 'udp', host: '192.0.2.1', port: 5070 }, flowId?: string): void {
    if (message.type === 'request' && message.headers.has('Via')) {
      try {
        stampReceivedVia(message, source);
      } catch {
        // malformed Via: the layer above reports it
      }
    }
    const local = this.listeningPoint(source.protocol) ?? this.points[0]!;
    const received: ReceivedMessage = { message, raw: new Uint8Array(0), source, local };
    if (flowId !== undefined) received.flowId = flowId;
    for (const listener of this.listeners.message) listener(received);
  }

  /** Sent messages that are requests with `method`, or responses with `status`. */
  sentRequests(method: string): SipMessage[] {
    return this.sent.map((s) => s.message).filter((m) => m.type === 'request' && m.method === method);
  }

  sentResponses(status?: number): SipMessage[] {
    return this.sent.map((s) => s.message).filter((m) => m.type === 'response' && (status === undefined || m.status === status));
  }
}
