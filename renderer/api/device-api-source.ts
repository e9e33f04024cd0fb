/**
 * Where the renderer's DeviceApi comes from: `window.cpm` when the Electron preload put it there; otherwise
 * the browser shell's WebSocket bridge, addressed by the page's `?device=…&token=…` query.
 */
import { createDeviceApiClient } from '../../electron/api/bridge';
import { DEVICE_COMMAND_NAMES, type DeviceApi } from '../../electron/api/device-api';
import { bridgeUrl, createWebSocketTransport, type WebSocketLike } from './websocket-transport';

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

/** Picks the DeviceApi for this page. */
export function resolveDeviceApi(env: PageEnvironment, hooks: { onConnectionLost?: () => void; onProtocolError?: (p: string) => void } = {}): DeviceApiSource {
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
    ...(hooks.onConnectionLost ? { onClose: hooks.onConnectionLost } : {}),
    ...(hooks.onProtocolError ? { onProtocolError: hooks.onProtocolError } : {}),
  });
  const api = createDeviceApiClient(transport, {
    ...(hooks.onProtocolError ? { onInvalidEvent: (event: string, error: string) => hooks.onProtocolError?.(`dropped a malformed ${event} event: ${error}`) } : {}),
  });
  return { ok: true, api, origin: 'browser-shell' };
}
