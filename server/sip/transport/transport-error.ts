/**
 * The one error type the transport layer rejects sends with and reports through its `error` event.
 * `code` tells callers what to do next (for example a transaction turns `connect-failed` into a 503,
 * RFC 3261 §8.1.3.1, and `message-too-large` into a retry over a reliable transport, §18.1.1).
 */

/** Why a transport operation failed. */
export type TransportErrorCode =
  /** The target is not an IP literal, the port is out of range, or the protocol is unknown. */
  | 'invalid-target'
  /** No listening point can send this (for example UDP to IPv6 with only an IPv4 UDP socket). */
  | 'no-listener'
  /** A send named a flow that is not open (RFC 5626: the flow failed). */
  | 'flow-not-found'
  /** A new outgoing connection could not be established. */
  | 'connect-failed'
  /** A limit (open connections, half-open connections) refused a connection. */
  | 'connection-limit'
  /** The message exceeds the configured maximum or what the transport can carry. */
  | 'message-too-large'
  /** Bytes that do not frame or parse as SIP. */
  | 'bad-message'
  /** Writing to the socket failed. */
  | 'send-failed'
  /** A connection closed on a timer (half-open or idle). */
  | 'timeout'
  /** The transport layer is closed. */
  | 'closed';

/** An error of the transport layer, with a machine-readable code. */
export class TransportError extends Error {
  override readonly name = 'TransportError';

  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wrap anything thrown into a TransportError with the given code (keeping a TransportError as is). */
export function asTransportError(code: TransportErrorCode, context: string, cause: unknown): TransportError {
  if (cause instanceof TransportError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TransportError(code, `${context}: ${detail}`, { cause });
}
