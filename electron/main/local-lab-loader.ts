/**
 * The local lab as the desktop app holds it: local-lab.ts (and the whole lab network behind it) is imported
 * only when the user first clicks "Try it locally", like the DeviceAgent (device-agent-factory.ts).
 */
import type { LocalLab, LocalLabOptions } from './local-lab';
import type { LocalLabPort } from './shell-commands';

/** A LocalLabPort that creates its `LocalLab` on first use; `release()` before any use does nothing. */
export function loadLocalLab(options: LocalLabOptions): LocalLabPort {
  let lab: Promise<LocalLab> | null = null;
  const get = (): Promise<LocalLab> => (lab ??= import('./local-lab').then((loaded) => new loaded.LocalLab(options)));
  return {
    signInConfig: async (deviceName) => (await get()).signInConfig(deviceName),
    release: async () => {
      if (lab !== null) await (await lab).release();
    },
  };
}
