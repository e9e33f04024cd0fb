/**
 * The DeviceApi transport of the browser shell: one WebSocket to the page's own origin at
 * `/bridge?device=<device>&token=<token>`, carrying JSON text frames (electron/api/websocket-framing.md):
 *
 *   page → shell   {"id": 7, "channel": "cpm:command:sendMessage", "args": ["conv-1", "hi"]}
 *   shell → page   {"id": 7, "ok": true, "value": {…}}      or   {"id": 7, "ok": false, "error": "[code] detail"}
 *   shell → page   {"event": "cpm:event:message", "payload": {…}}
 *
 * Commands sent before the socket opens wait for it; when it closes every pending command rejects with a
 * `[network]` error. A socket that closes before it ever opened was refused (the shell checks the page's
 * Origin, device and token before the upgrade): that says the link is not valid for this device, not that
 * a connection was lost. Malformed frames are reported and ignored.
 */
import type { DeviceApiTransport } from '../../electron/api/bridge';
import type { CommandChannel, EventChannel } from '../../electron/api/channels';

/** The part of the DOM WebSocket the transport uses (a test double can stand in). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** WebSocket.OPEN. */
const OPEN = 1;

/** A command frame, page to shell. */
export interface CommandFrame {
  id: number;
  channel: CommandChannel;
  args: unknown[];
}

/** A reply or event frame, shell to page. */
export type ShellFrame = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string } | { event: EventChannel; payload: unknown };

/** Options of the transport. */
export interface WebSocketTransportOptions {
  /** Told about frames that are not valid JSON or not of the documented shapes. */
  onProtocolError?: (problem: string) => void;
  /** Told once when the socket closes; `opened` is false when it never opened (the bridge refused the page). */
  onClose?: (info: { opened: boolean }) => void;
}

/** What a page whose bridge socket closed before it opened says. */
export const BRIDGE_REFUSED_TEXT =
  'This link is not valid for this device. Open the address the browser shell printed for it (it carries the device and its token).';

/** What a command says when the bridge socket closed after it had opened. */
export const CONNECTION_LOST_TEXT = 'the connection to the device was lost';

/** The bridge URL for the page at `location` (same origin, ws: or wss:). */
export function bridgeUrl(location: { protocol: string; host: string }, device: string, token: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = new URLSearchParams({ device, token });
  return `${scheme}//${location.host}/bridge?${query.toString()}`;
}

/** Parses one frame from the shell; returns a problem description for anything malformed. */
export function parseShellFrame(data: unknown): ShellFrame | string {
  if (typeof data !== 'string') return 'a binary frame (only JSON text frames are used)';
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'a frame that is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a frame that is not a JSON object';
  const frame = value as Record<string, unknown>;
  if (typeof frame['event'] === 'string') {
    if (!frame['event'].startsWith('cpm:event:')) return `an event frame on ${JSON.stringify(frame['event'])}`;
    return { event: frame['event'] as EventChannel, payload: frame['payload'] };
  }
  const id = frame['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return 'a reply without a numeric id';
  if (frame['ok'] === true) return { id, ok: true, value: frame['value'] };
  if (frame['ok'] === false) return { id, ok: false, error: typeof frame['error'] === 'string' ? frame['error'] : '[internal] no error message' };
  return `reply ${id} without ok: true or false`;
}

/** A DeviceApiTransport over `socket`. */
export function createWebSocketTransport(socket: WebSocketLike, options: WebSocketTransportOptions = {}): DeviceApiTransport {
  let nextId = 1;
  let closed = false;
  // A socket may be handed over already open.
  let opened = socket.readyState === OPEN;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const waiting: string[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  socket.addEventListener('open', () => {
    opened = true;
    for (const frame of waiting.splice(0)) socket.send(frame);
  });
  socket.addEventListener('message', (event) => {
    const frame = parseShellFrame(event.data);
    if (typeof frame === 'string') {
      options.onProtocolError?.(`bridge: ignored ${frame}`);
      return;
    }
    if ('event' in frame) {
      for (const listener of [...(listeners.get(frame.event) ?? [])]) listener(frame.payload);
      return;
    }
    const request = pending.get(frame.id);
    if (!request) {
      options.onProtocolError?.(`bridge: ignored a reply to unknown request ${frame.id}`);
      return;
    }
    pending.delete(frame.id);
    if (frame.ok) request.resolve(frame.value);
    else request.reject(new Error(frame.error));
  });
  const lost = (): void => {
    if (closed) return;
    closed = true;
    waiting.length = 0;
    const reason = new Error(`[network] ${opened ? CONNECTION_LOST_TEXT : BRIDGE_REFUSED_TEXT}`);
    for (const request of pending.values()) request.reject(reason);
    pending.clear();
    options.onClose?.({ opened });
  };
  socket.addEventListener('close', lost);
  socket.addEventListener('error', lost);

  return {
    invoke(channel, args) {
      if (closed) return Promise.reject(new Error(`[network] ${opened ? CONNECTION_LOST_TEXT : BRIDGE_REFUSED_TEXT}`));
      const id = nextId++;
      const frame: CommandFrame = { id, channel, args };
      const text = JSON.stringify(frame);
      return new Promise<unknown>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (socket.readyState === OPEN) socket.send(text);
        else waiting.push(text);
      });
    },
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return () => {
        set.delete(listener);
      };
    },
  };
}
