/**
 * How the shell gets its DeviceAgent: through a factory, so that tests inject a fake agent and the real
 * one (electron/device/device-agent.ts, with JsSIP, the MSRP endpoint and the SQLite history behind it) is
 * imported lazily, only when the app really starts.
 *
 * The real agent keeps each account's history in SQLite in the profile's data folder, in step with the
 * account's Message Store (`sqliteHistory`, as the browser shell does). better-sqlite3 is a native module:
 * built for another ABI (plain Node rather than this Electron: `npm start` could not rebuild it offline) it
 * does not load. The factory then falls back to history in memory and says so (`onHistoryStatus`), rather
 * than failing to start.
 */
import type { DeviceApi } from '../api/device-api';
import type { HistoryStorage } from '../api/payloads';
import type { DeviceAccount } from '../device/device-agent';

/** What the shell needs from a DeviceAgent: the whole DeviceApi, plus a way to stop it. */
export interface DeviceAgentHandle extends DeviceApi {
  /** Unregister, end every session, release the MSRP endpoint. Idempotent. */
  close(): Promise<void>;
}

/** Where the history is kept, and why not on disk when it is not. */
export interface HistoryStatus {
  storage: HistoryStorage;
  /** A sentence for the user when `storage` is `memory`; null otherwise. */
  problem: string | null;
}

/** What the shell tells the agent when it creates it. */
export interface DeviceAgentOptions {
  /** The profile's data folder (the agent keeps its instance id and history there). */
  dataDir: string;
  /** The profile name (for logs). */
  profile: string;
  /** This device's name until the user signs in with another (`+cpm.device-name`). */
  deviceName: string;
  /**
   * Told where the history is kept: once while the agent is created (can SQLite load at all?), and again
   * whenever an account's history is opened (its database may still fail to open).
   */
  onHistoryStatus?: (status: HistoryStatus) => void;
}

/** Creates and starts the DeviceAgent of one profile. */
export type DeviceAgentFactory = (options: DeviceAgentOptions) => Promise<DeviceAgentHandle>;

/** Options of {@link deviceAgentLoader}. */
export interface DeviceAgentLoaderOptions {
  /**
   * Loads SQLite's native part, rejecting when it cannot (default {@link probeBetterSqlite}: imports
   * better-sqlite3 and opens an in-memory database, which loads the addon).
   */
  probeSqlite?: () => Promise<void>;
}

/** Imports better-sqlite3 and opens and closes an in-memory database: rejects when the native addon does not load. */
export async function probeBetterSqlite(): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  new Database(':memory:').close();
}

/**
 * What the user reads when SQLite cannot be used: history in memory for this run, and how to get it back.
 * An ABI mismatch (`NODE_MODULE_VERSION`) is named as such.
 */
export function sqliteProblem(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const detail = text.split('\n')[0] ?? '';
  const abi = /NODE_MODULE_VERSION|was compiled against a different/i.test(text);
  const why = abi
    ? 'the SQLite module (better-sqlite3) was built for another Node.js/Electron version; run `npm start` once with network access to rebuild it for Electron'
    : `the SQLite module (better-sqlite3) could not be loaded (${detail.slice(0, 300)})`;
  return `History is kept in memory only and will be lost on quit: ${why}.`;
}

/** A factory of real DeviceAgents (imported on first use), with SQLite history or, failing that, history in memory. */
export function deviceAgentLoader(loader: DeviceAgentLoaderOptions = {}): DeviceAgentFactory {
  const probe = loader.probeSqlite ?? probeBetterSqlite;
  return async (options) => {
    const [{ DeviceAgent, sqliteHistory }, { MemoryMessageHistory }] = await Promise.all([
      import('../device/device-agent'),
      import('../device/chat/message-history'),
    ]);
    const report = (status: HistoryStatus): void => options.onHistoryStatus?.(status);
    const unavailable = await probe().then(
      () => null,
      (error: unknown) => sqliteProblem(error),
    );
    report(unavailable === null ? { storage: 'disk', problem: null } : { storage: 'memory', problem: unavailable });
    const onDisk = unavailable === null ? sqliteHistory(options.dataDir) : null;
    const agent = new DeviceAgent({
      dataDir: options.dataDir,
      deviceName: options.deviceName,
      // Called once per AOR, when the account signs in.
      history: (account: DeviceAccount) => {
        if (onDisk === null) return new MemoryMessageHistory();
        try {
          const opened = onDisk(account);
          report({ storage: 'disk', problem: null });
          return opened;
        } catch (error) {
          report({
            storage: 'memory',
            problem: `History is kept in memory only and will be lost on quit: the history database of ${account.uri} could not be opened (${error instanceof Error ? error.message : String(error)}).`,
          });
          return new MemoryMessageHistory();
        }
      },
    });
    try {
      await agent.start();
    } catch (error) {
      await agent.close().catch(() => undefined);
      throw error;
    }
    return agent;
  };
}

/** The real factory: SQLite history synchronised with each account's Message Store, memory when SQLite cannot load. */
export const loadDeviceAgent: DeviceAgentFactory = deviceAgentLoader();
