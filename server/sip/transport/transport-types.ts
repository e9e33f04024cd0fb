/**
 * The contract between the SIP transport layer (RFC 3261 §18, RFC 7118 for WebSocket) and what sits on it
 * (transactions, the proxy core, registrars, B2BUAs). Everything above the transport codes against
 * `SipTransportLayer`, never against sockets.
 */
import type { SipMessage } from '../message/sip-message';

/** Transport protocols, as they appear lower-cased in Via's sent-protocol and in `;transport=`. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** True for the connection-oriented transports (no retransmissions above them, RFC 3261 §17.1.1.2). */
export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'udp';
}

/** An address on one transport. `host` is an IP literal without brackets (`::1`, not `[::1]`). */
export interface Endpoint {
  protocol: TransportProtocol;
  host: string;
  port: number;
}

/** A message as it came off the wire. */
export interface ReceivedMessage {
  message: SipMessage;
  /** The exact bytes of the message, for traces and for byte-exact tests. */
  raw: Uint8Array;
  /** Where it came from (the peer's address as seen on the socket). */
  source: Endpoint;
  /** Which of our listening points received it. */
  local: Endpoint;
  /**
   * The connection it arrived on, for reliable transports (RFC 5626 flow). Sending with this `flowId`
   * reuses that connection, which is how responses reach clients and how requests reach a client that
   * registered over WebSocket.
   */
  flowId?: string;
}

/** Where to send. With `flowId`, the message goes over that connection or the send fails (no new connection). */
export interface SendTarget extends Endpoint {
  flowId?: string;
}

/** What a send used. */
export interface SendResult {
  /** The connection used (reliable transports). */
  flowId?: string;
  /** Our side of it. */
  local: Endpoint;
}

/** Events of a transport layer. */
export interface SipTransportEvents {
  message: (received: ReceivedMessage) => void;
  /** A reliable connection closed, for whatever reason (RFC 5626: the registrar drops contacts bound to it). */
  flowClosed: (flowId: string, peer: Endpoint) => void;
  /** Something that could not be parsed or delivered; never fatal. */
  error: (error: Error, context?: { source?: Endpoint; flowId?: string }) => void;
}

/** The transport layer of one SIP element: every listening point it owns and every connection it holds. */
export interface SipTransportLayer {
  on<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this;
  off<E extends keyof SipTransportEvents>(event: E, listener: SipTransportEvents[E]): this;
  /**
   * Send a message. Requests without `flowId` over TCP/TLS/WS reuse an open connection to that peer or open
   * one; responses should be sent with the `flowId` they arrived on (RFC 3261 §18.2.2).
   * Rejects with an Error when the message cannot be sent.
   */
  send(message: SipMessage, target: SendTarget): Promise<SendResult>;
  /**
   * Send a message serialized beforehand with `serializeMessage` (what a transaction keeps to retransmit a
   * final response without keeping the parsed message); otherwise exactly like `send`. Optional: without it,
   * callers send messages.
   */
  sendSerialized?(bytes: Uint8Array, target: SendTarget): Promise<SendResult>;
  /** Every bound listening point, with its real port (ports may be ephemeral). */
  listeningPoints(): Endpoint[];
  /** The listening point for a protocol (the first bound one), for Via and Record-Route. */
  listeningPoint(protocol: TransportProtocol): Endpoint | undefined;
  /** Open connections right now (for tests that check nothing is left behind). */
  connectionCount(): number;
  /** Close every listener and connection. */
  close(): Promise<void>;
}
