/**
 * Where the renderer's DeviceApi comes from: `window.cpm` when the Electron preload put it there; otherwise
 * the browser shell's WebSocket bridge, addressed by the page's `?device=…&token=…` query.
 */
import { createDeviceApiClient } from '../../electron/api/bridge';
import { DEVICE_COMMAND_NAMES, type DeviceApi } from '../../electron/api/device-api';
import { BRIDGE_REFUSED_TEXT, bridgeUrl, createWebSocketTransport, type WebSocketLike } from './websocket-transport';

/** What the page environment offers (the real `window`, or a test double). */
export interface PageEnvironment {
  cpm?: unknown;
  location: { protocol: string; host: string; search: string };
  /** Opens a WebSocket (normally `new WebSocket(url)`). */
  openWebSocket?: (url: string) => WebSocketLike;
}

/** How the DeviceApi was obtained, for the status bar. */
export type DeviceApiOrigin = 'electron' | 'browser-shell';

/** The DeviceApi and where it came from, or why there is none. */
export type DeviceApiSource =
  | { ok: true; api: DeviceApi; origin: DeviceApiOrigin }
  | { ok: false; problem: string };

/** True when `value` has every DeviceApi command and `on` as functions. */
export function isDeviceApi(value: unknown): value is DeviceApi {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['on'] === 'function' && DEVICE_COMMAND_NAMES.every((name) => typeof record[name] === 'function');
}

/** What the page is told about its connection to the device. */
export interface DeviceApiHooks {
  /** The bridge socket closed after it had opened. */
  onConnectionLost?: () => void;
  /** The bridge socket closed before it ever opened: the shell refused this page (`problem` says so). */
  onRefused?: (problem: string) => void;
  onProtocolError?: (problem: string) => void;
}

/** WebSocket.OPEN. */
const OPEN = 1;

/** Picks the DeviceApi for this page. */
export function resolveDeviceApi(env: PageEnvironment, hooks: DeviceApiHooks = {}): DeviceApiSource {
  if (env.cpm !== undefined) {
    return isDeviceApi(env.cpm)
      ? { ok: true, api: env.cpm, origin: 'electron' }
      : { ok: false, problem: 'window.cpm is present but is not the DeviceApi (preload and renderer versions differ?)' };
  }
  const query = new URLSearchParams(env.location.search);
  const device = query.get('device');
  const token = query.get('token');
  if (!device || !token) {
    return { ok: false, problem: 'No device to talk to: open the app from Electron, or open the browser shell URL it printed (it carries ?device=…&token=…).' };
  }
  if (!env.openWebSocket) return { ok: false, problem: 'This browser has no WebSocket support.' };
  const socket = env.openWebSocket(bridgeUrl(env.location, device, token));
  const transport = createWebSocketTransport(socket, {
    onClose: ({ opened }) => (opened ? hooks.onConnectionLost?.() : hooks.onRefused?.(BRIDGE_REFUSED_TEXT)),
    ...(hooks.onProtocolError ? { onProtocolError: hooks.onProtocolError } : {}),
  });
  const api = createDeviceApiClient(transport, {
    ...(hooks.onProtocolError ? { onInvalidEvent: (event: string, error: string) => hooks.onProtocolError?.(`dropped a malformed ${event} event: ${error}`) } : {}),
  });
  return { ok: true, api, origin: 'browser-shell' };
}

/**
 * Picks the DeviceApi and, for the browser shell's bridge, waits for its socket to open: a socket that
 * closes first was refused (wrong device or token, another origin, a shell that has stopped), and the page
 * gets `{ ok: false }` with {@link BRIDGE_REFUSED_TEXT} to show instead of the app.
 */
export function connectDeviceApi(env: PageEnvironment, hooks: DeviceApiHooks = {}): Promise<DeviceApiSource> {
  const open = env.openWebSocket;
  const opened: { socket: WebSocketLike | null } = { socket: null };
  return new Promise<DeviceApiSource>((resolve) => {
    const source = resolveDeviceApi(
      { ...env, ...(open ? { openWebSocket: (url: string) => (opened.socket = open(url)) } : {}) },
      {
        ...hooks,
        onRefused: (problem) => {
          resolve({ ok: false, problem });
          hooks.onRefused?.(problem);
        },
      },
    );
    const socket = opened.socket;
    if (!source.ok || socket === null || socket.readyState === OPEN) resolve(source);
    else socket.addEventListener('open', () => resolve(source));
  });
}
