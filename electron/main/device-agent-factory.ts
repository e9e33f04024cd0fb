/**
 * How the shell gets its DeviceAgent: through a factory, so that tests inject a fake agent and the real
 * one (electron/device/device-agent.ts, JsSIP and SQLite behind it) is loaded lazily, only when the app
 * really starts.
 */
import { DEVICE_COMMAND_NAMES, type DeviceApi } from '../api/device-api';

/** What the shell needs from a DeviceAgent: the whole DeviceApi, plus a way to stop it. */
export interface DeviceAgentHandle extends DeviceApi {
  /** Unregister, end every session, close storage. Resolves when done; never rejects for a clean stop. */
  close(): Promise<void>;
}

/** What the shell tells the agent when it creates it. */
export interface DeviceAgentOptions {
  /** The profile's data folder (the agent keeps its instance id and history there). */
  dataDir: string;
  /** The profile name (for logs). */
  profile: string;
}

/** Creates the DeviceAgent of one profile. */
export type DeviceAgentFactory = (options: DeviceAgentOptions) => Promise<DeviceAgentHandle>;

/**
 * Where the bundled agent module sits relative to the bundled main script
 * (dist/electron/main/index.js → dist/electron/device/device-agent.js; see scripts/build-electron.mjs).
 */
export const DEVICE_AGENT_MODULE = '../device/device-agent.js';

/** The export the agent module must provide. */
export const DEVICE_AGENT_EXPORT = 'createDeviceAgent';

/**
 * The real factory: imports the agent module on first use and calls its `createDeviceAgent(options)`.
 * A module without that export is reported as such rather than failing later on a missing method.
 */
export const loadDeviceAgent: DeviceAgentFactory = async (options) => {
  const url = new URL(DEVICE_AGENT_MODULE, import.meta.url).href;
  const module: unknown = await import(url);
  const create = typeof module === 'object' && module !== null ? (module as Record<string, unknown>)[DEVICE_AGENT_EXPORT] : undefined;
  if (typeof create !== 'function') {
    throw new Error(`${DEVICE_AGENT_MODULE} does not export ${DEVICE_AGENT_EXPORT}(options): the DeviceAgent cannot start`);
  }
  const agent: unknown = await (create as (o: DeviceAgentOptions) => unknown)(options);
  return assertDeviceAgentHandle(agent);
};

const REQUIRED_METHODS: readonly string[] = [...DEVICE_COMMAND_NAMES, 'on', 'close'];

/** Checks at runtime that `value` has every DeviceApi command, `on` and `close`. */
export function assertDeviceAgentHandle(value: unknown, commandNames: readonly string[] = REQUIRED_METHODS): DeviceAgentHandle {
  if (typeof value !== 'object' || value === null) throw new Error('the DeviceAgent factory returned no object');
  const record = value as Record<string, unknown>;
  const missing = commandNames.filter((name) => typeof record[name] !== 'function');
  if (missing.length > 0) throw new Error(`the DeviceAgent lacks ${missing.join(', ')}`);
  return value as DeviceAgentHandle;
}
