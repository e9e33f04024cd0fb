/**
 * A transport layer that adds a fixed delay to everything it sends: the lab's `--delay-ms`, so that tests see
 * what happens when messages overlap. Order is kept (every send waits the same time).
 */
import type { Endpoint, SendResult, SendTarget, SipTransportEvents, SipTransportLayer, TransportProtocol } from '../sip/transport/transport-types';
import type { SipMessage } from '../sip/message/sip-message';

/** Wraps a transport layer, delaying each send by `delayMs`. */
export class DelayedTransport implements SipTransportLayer {
  /** Present when the inner transport has it; delayed like `send`. */
  readonly sendSerialized?: (bytes: Uint8Array, target: SendTarget) => Promise<SendResult>;

  constructor(
    private readonly inner: SipTransportLayer,
    private readonly delayMs: number,
  ) {
    const sendSerialized = inner.sendSerialized?.bind(inner);
    if (sendSerialized !== undefined) this.sendSerialized = (bytes, target) => this.later(() => sendSerialized(bytes, target));
  }

  on<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this {
    this.inner.on(event, listener);
    return this;
  }

  off<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this {
    this.inner.off(event, listener);
    return this;
  }

  send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    return this.later(() => this.inner.send(message, target));
  }

  private later(send: () => Promise<SendResult>): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      setTimeout(() => send().then(resolve, reject), this.delayMs);
    });
  }

  listeningPoints(): Endpoint[] {
    return this.inner.listeningPoints();
  }

  listeningPoint(protocol: TransportProtocol): Endpoint | undefined {
    return this.inner.listeningPoint(protocol);
  }

  connectionCount(): number {
    return this.inner.connectionCount();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
