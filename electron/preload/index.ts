/**
 * The preload: exposes exactly the DeviceApi with the shell's commands (an AppApi) to the page as
 * `window.cpm`, built by `createDeviceApiClient` over `ipcRenderer.invoke` / `ipcRenderer.on`, and nothing
 * else (no ipcRenderer, no channel names, no Node).
 * It runs sandboxed, so it is bundled to one CommonJS file (dist/electron/preload/index.cjs) whose only
 * import is `electron`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createDeviceApiClient, type DeviceApiTransport } from '../api/bridge';
import type { AppApi } from '../api/device-api';

/** The global the page reads the DeviceApi from. */
export const DEVICE_API_GLOBAL = 'cpm';

/** The DeviceApi transport over Electron IPC. */
export const ipcTransport: DeviceApiTransport = {
  invoke: (channel, args) => ipcRenderer.invoke(channel, ...args),
  subscribe: (channel, listener) => {
    const handler = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.off(channel, handler);
    };
  },
};

const api: AppApi = createDeviceApiClient(ipcTransport, {
  onInvalidEvent: (event, error) => console.warn(`[preload] dropped a malformed ${event} event: ${error}`),
});

contextBridge.exposeInMainWorld(DEVICE_API_GLOBAL, api);
