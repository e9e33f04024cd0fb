/**
 * What a connection needs from the protocol running on its socket: a stream with SIP framing (TCP, TLS,
 * RFC 3261 §18.3) or a WebSocket with one message per frame (RFC 7118 §5.1). A channel only moves whole
 * messages; connection state, timers and limits live in `SipConnection`.
 */
import type { TransportError } from './transport-error';

/** Callbacks a channel reports to (its connection). */
export interface ChannelSink {
  /** The channel can carry messages (TCP connected, TLS handshake done, WebSocket open). */
  open(): void;
  /** One complete SIP message, exactly as received. */
  message(raw: Uint8Array): void;
  /** Traffic that is not a message (a CRLF keep-alive, RFC 5626 §3.5.1); it keeps the flow alive. */
  activity(): void;
  /** Something went wrong; a fatal fault means the channel is unusable and the connection must close. */
  fault(error: TransportError, fatal: boolean): void;
}

/** One protocol on one connection's socket. */
export interface MessageChannel {
  /** Send one whole message (stream: its bytes; WebSocket: one frame). Rejects when the write fails. */
  write(bytes: Uint8Array): Promise<void>;
  /** Begin an orderly close (TCP FIN, TLS close_notify, WebSocket close frame). */
  end(): void;
}
