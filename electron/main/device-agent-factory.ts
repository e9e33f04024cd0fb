/**
 * How the shell gets its DeviceAgent: through a factory, so that tests inject a fake agent and the real
 * one (electron/device/device-agent.ts, with JsSIP and the MSRP endpoint behind it) is imported lazily,
 * only when the app really starts.
 */
import type { DeviceApi } from '../api/device-api';

/** What the shell needs from a DeviceAgent: the whole DeviceApi, plus a way to stop it. */
export interface DeviceAgentHandle extends DeviceApi {
  /** Unregister, end every session, release the MSRP endpoint. Idempotent. */
  close(): Promise<void>;
}

/** What the shell tells the agent when it creates it. */
export interface DeviceAgentOptions {
  /** The profile's data folder (the agent keeps its instance id and history there). */
  dataDir: string;
  /** The profile name (for logs). */
  profile: string;
  /** This device's name until the user signs in with another (`+cpm.device-name`). */
  deviceName: string;
}

/** Creates and starts the DeviceAgent of one profile. */
export type DeviceAgentFactory = (options: DeviceAgentOptions) => Promise<DeviceAgentHandle>;

/** The real factory: imports electron/device/device-agent on first use, creates the agent and starts it. */
export const loadDeviceAgent: DeviceAgentFactory = async (options) => {
  const { DeviceAgent } = await import('../device/device-agent');
  const agent = new DeviceAgent({ dataDir: options.dataDir, deviceName: options.deviceName });
  try {
    await agent.start();
  } catch (error) {
    await agent.close().catch(() => undefined);
    throw error;
  }
  return agent;
};
