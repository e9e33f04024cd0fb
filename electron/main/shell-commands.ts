/**
 * The commands as the window sees them: the agent's own, except that the shell also remembers what must
 * survive a restart — the account on `signIn` (password encrypted), its removal on `signOut`, and the
 * auto-accept switch on `setAutoAccept`. The agent is told first; the settings change only if it agreed.
 */
import { DEVICE_COMMAND_NAMES, type DeviceCommandName, type DeviceCommands } from '../api/device-api';
import type { SettingsStore } from './settings-store';

/** The agent's commands with the shell's persistence around the three that change settings. */
export function withPersistedSettings(agent: DeviceCommands, settings: SettingsStore): DeviceCommands {
  return {
    ...bindAll(agent),
    signIn: async (config) => {
      const info = await agent.signIn(config);
      settings.saveAccount(config);
      return info;
    },
    signOut: async () => {
      await agent.signOut();
      settings.forgetAccount();
    },
    setAutoAccept: async (enabled) => {
      await agent.setAutoAccept(enabled);
      settings.setAutoAccept(enabled);
    },
  };
}

/** Copies every command method with `this` bound to the agent (class instances keep them on the prototype). */
function bindAll(agent: DeviceCommands): DeviceCommands {
  const out: Partial<Record<DeviceCommandName, unknown>> = {};
  for (const name of DEVICE_COMMAND_NAMES) {
    const method = agent[name] as (...args: unknown[]) => unknown;
    out[name] = method.bind(agent);
  }
  return out as DeviceCommands;
}
