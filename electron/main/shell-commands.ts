/**
 * The commands as the window sees them: the agent's own, plus the shell's (`tryLocally`), with the shell
 * remembering what must survive a restart — the account on `signIn` / `tryLocally` (password encrypted, and
 * where it came from), its removal on `signOut`, and the auto-accept switch on `setAutoAccept`. The agent is
 * told first; the settings change only if it agreed. Every AccountInfo the window gets carries the saved
 * auto-accept setting, so that the settings panel shows what is in force, and where the history is kept.
 */
import { DEVICE_COMMAND_NAMES, DeviceApiError, type DeviceCommandName, type DeviceCommands, type ShellCommands } from '../api/device-api';
import type { AccountConfig, AccountInfo } from '../api/payloads';
import type { HistoryStatus } from './device-agent-factory';
import type { SettingsStore } from './settings-store';

/** What the shell needs of the local lab (local-lab.ts behind `loadLocalLab`; tests use a fake). */
export interface LocalLabPort {
  /** Start or join the lab on this machine; the account to sign in with as `deviceName`. */
  signInConfig(deviceName: string): Promise<AccountConfig>;
  /** Stop using the lab (the profile that started it stops it). Idempotent. */
  release(): Promise<void>;
}

/** Every command the window may send: the agent's and the shell's. */
export type WindowCommands = DeviceCommands & ShellCommands;

/**
 * The agent's commands with the shell's persistence around those that change settings, and `tryLocally`
 * over `localLab` (without one it rejects with `invalid-state`; a lab that cannot start, with `network`).
 * `history`, when given, says where the history is kept: every AccountInfo then carries `historyStorage`
 * (and `historyProblem` when it is in memory), so that the window can say why history will not last.
 */
export function withPersistedSettings(
  agent: DeviceCommands,
  settings: SettingsStore,
  localLab: LocalLabPort | null = null,
  history: () => HistoryStatus | null = () => null,
): WindowCommands {
  const withSettings = (info: AccountInfo): AccountInfo => {
    const status = history();
    return {
      ...info,
      autoAccept: settings.autoAccept,
      ...(status === null ? {} : { historyStorage: status.storage }),
      ...(status?.problem ? { historyProblem: status.problem } : {}),
    };
  };
  return {
    ...bindAll(agent),
    getAccount: async () => {
      const info = await agent.getAccount();
      return info === null ? null : withSettings(info);
    },
    signIn: async (config) => {
      const info = await agent.signIn(config);
      settings.saveAccount(config);
      return withSettings(info);
    },
    tryLocally: async (deviceName) => {
      if (localLab === null) throw new DeviceApiError('invalid-state', 'this build cannot start the local lab; sign in to a server instead');
      let config: AccountConfig;
      try {
        config = await localLab.signInConfig(deviceName);
      } catch (error) {
        throw new DeviceApiError('network', `the local lab could not start: ${error instanceof Error ? error.message : String(error)}`);
      }
      const info = await agent.signIn(config);
      settings.saveAccount(config, 'local-lab');
      return withSettings(info);
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
