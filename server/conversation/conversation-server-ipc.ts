/**
 * The messages between a forked Conversation Server (server/conversation-server.ts) and its supervisor (the
 * lab's `ConversationServerProcess`) over the Node IPC channel, `serialization: 'advanced'` (structured clone:
 * message bytes travel as a Uint8Array, untouched). Each side checks what it receives with the guards here.
 *
 * - supervisor → server: `trace` turns the forwarding of SIP trace entries on or off (off at start);
 * - server → supervisor: `tracing` confirms a `trace` (every entry sent after it follows the new setting);
 *   `trace` is one message the server's transport sent or received (the arguments of its `TransportTrace`
 *   hook) with when it did, `timestampNs` from `process.hrtime.bigint()`: on Linux the system-wide monotonic
 *   clock (CLOCK_MONOTONIC), so the supervisor can order it among its own entries; `log` is one diagnostic
 *   line (also written to the server's stderr).
 */
import { isTransportProtocol } from '../sip/transport/endpoint';
import type { Endpoint } from '../sip/transport/transport-types';

/** Supervisor → server. */
export type ToChild = { type: 'trace'; enabled: boolean };

/** Server → supervisor. */
export type FromChild =
  | { type: 'tracing'; enabled: boolean }
  | { type: 'trace'; direction: 'in' | 'out'; bytes: Uint8Array; local: Endpoint; remote: Endpoint; flowId?: string; timestampNs: bigint }
  | { type: 'log'; line: string };

/** True when `value` is a message a supervisor may send. */
export function isToChild(value: unknown): value is ToChild {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.type === 'trace' && typeof v.enabled === 'boolean';
}

/** True when `value` is a message a server may send. */
export function isFromChild(value: unknown): value is FromChild {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.type === 'log') return typeof v.line === 'string';
  if (v.type === 'tracing') return typeof v.enabled === 'boolean';
  if (v.type !== 'trace') return false;
  return (
    (v.direction === 'in' || v.direction === 'out') &&
    v.bytes instanceof Uint8Array &&
    isEndpoint(v.local) &&
    isEndpoint(v.remote) &&
    (v.flowId === undefined || typeof v.flowId === 'string') &&
    typeof v.timestampNs === 'bigint' &&
    v.timestampNs >= 0n
  );
}

function isEndpoint(value: unknown): value is Endpoint {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.protocol === 'string' && isTransportProtocol(e.protocol) && typeof e.host === 'string' && typeof e.port === 'number';
}
