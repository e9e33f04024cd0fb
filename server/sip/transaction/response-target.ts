/**
 * Where a server transaction sends its responses (RFC 3261 §18.2.2 with RFC 3581 symmetric response routing).
 */
import type { ReceivedMessage, SendTarget } from '../transport/transport-types';
import { isReliable } from '../transport/transport-types';
import { topVia } from './header-fields';

/**
 * The destination of responses to a received request:
 * - reliable transports: the connection the request came on (its `flowId`), at the peer's address;
 * - unreliable: the source IP (the `received` address of §18.2.1), and the source port when the top Via carries
 *   `rport` (RFC 3581 §4), else the sent-by port, else 5060.
 *
 * (`maddr` multicast responses are not supported: the lab never uses multicast.)
 * Throws `HeaderFieldError` when the request has no usable Via.
 */
export function responseTarget(received: ReceivedMessage): SendTarget {
  const { source } = received;
  if (isReliable(source.protocol)) {
    return received.flowId === undefined ? { ...source } : { ...source, flowId: received.flowId };
  }
  const via = topVia(received.message);
  const port = via.params.has('rport') ? source.port : (via.port ?? 5060);
  return { protocol: source.protocol, host: source.host, port };
}
