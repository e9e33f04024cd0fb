/**
 * The wire format of the browser shell's DeviceApi bridge, shell side. It mirrors the page side
 * (renderer/api/websocket-transport.ts) exactly; every frame is one JSON text frame (RFC 6455 §5.6):
 *
 *   page → shell   {"id": 7, "channel": "cpm:command:sendMessage", "args": ["conv-1", "hi"]}
 *   shell → page   {"id": 7, "ok": true, "value": …}        or   {"id": 7, "ok": false, "error": "[code] detail"}
 *   shell → page   {"event": "cpm:event:message", "payload": …}
 *
 * Parsing here checks the frame's shape only; the command's arguments are checked by the contract's
 * validators in the dispatcher (electron/api/bridge.ts).
 */
import type { EventChannel } from '../api/channels';
import { DeviceApiError } from '../api/device-api';

/** A command frame as received: the channel is still untrusted text (the dispatcher resolves it). */
export interface IncomingCommandFrame {
  id: number;
  channel: string;
  args: unknown[];
}

/** Why a frame could not be read, and the request id when one could be recovered (to answer it). */
export interface FrameProblem {
  problem: string;
  id: number | null;
}

/** The largest request id the page may use (the page counts up from 1). */
const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Reads one frame from the page: a command frame, or the problem with it. */
export function parseCommandFrame(data: string): IncomingCommandFrame | FrameProblem {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { problem: 'the frame is not JSON', id: null };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'the frame is not a JSON object', id: null };
  const frame = value as Record<string, unknown>;
  const id = frame['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1 || id > MAX_ID) {
    return { problem: 'the frame has no "id" (a positive integer)', id: null };
  }
  for (const key of Object.keys(frame)) {
    if (key !== 'id' && key !== 'channel' && key !== 'args') return { problem: `the frame has an unknown field ${JSON.stringify(key)}`, id };
  }
  const channel = frame['channel'];
  if (typeof channel !== 'string') return { problem: 'the frame has no "channel" (a string)', id };
  const args = frame['args'];
  if (!Array.isArray(args)) return { problem: 'the frame has no "args" (an array)', id };
  return { id, channel, args };
}

/** True when `parsed` is a command frame rather than a problem. */
export function isCommandFrame(parsed: IncomingCommandFrame | FrameProblem): parsed is IncomingCommandFrame {
  return !('problem' in parsed);
}

/** The success reply to request `id` (a `void` result leaves `value` out, as JSON does). */
export function replyFrame(id: number, value: unknown): string {
  return JSON.stringify({ id, ok: true, value });
}

/** The error reply to request `id`: the `[code] detail` text that `DeviceApiError.fromUnknown` reads back. */
export function errorFrame(id: number, error: unknown): string {
  return JSON.stringify({ id, ok: false, error: DeviceApiError.fromUnknown(error).message });
}

/** An event frame. */
export function eventFrame(channel: EventChannel, payload: unknown): string {
  return JSON.stringify({ event: channel, payload });
}
