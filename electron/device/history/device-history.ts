/**
 * A device's whole history, assembled: the SQLite `MessageHistory` in the data folder (hand `history` to the
 * DeviceAgent), and, when the account has a Message Store, the sync from it and the outbox depositor into it.
 *
 * ```ts
 * const dh = DeviceHistory.open({ dataDir, self: 'sip:alice@a.example', deposit: mode === 'proxy',
 *   store: { baseUrl, username: 'alice@a.example', password } });
 * const agent = new DeviceAgent({ dataDir, deviceName, history: dh.history });
 * await dh.start();              // deposit what is due, fetch what the store has
 * await dh.syncConversation(id); // when a Join is accepted, and again after the release
 * await dh.close();              // on quit: stops depositing, writes the last batch
 * ```
 */
import type { ChatMessage } from '../../api/payloads';
import { HistorySync } from './history-sync';
import { OutboxDepositor, type OutboxDepositorOptions } from './outbox-depositor';
import { historyPath, SqliteMessageHistory } from './sqlite-message-history';
import { StoreClient, type StoreClientOptions } from './store-client';

/** Options of `DeviceHistory.open`. */
export interface DeviceHistoryOptions {
  /** The device's data folder; the database goes to `historyPath(dataDir, self)`. */
  dataDir: string;
  /** The account's AOR. */
  self: string;
  /** Deposit what is sent and received (the account's Conversation Server is a proxy). Default false. */
  deposit?: boolean;
  /** The account's Message Store; without it, history stays local. */
  store?: StoreClientOptions;
  /** Retry settings and clock of the depositor (tests). */
  depositor?: Pick<OutboxDepositorOptions, 'baseDelayMs' | 'maxDelayMs' | 'now' | 'random'>;
}

/** The history of one account on one device. */
export class DeviceHistory {
  private constructor(
    /** The `MessageHistory` for the DeviceAgent. */
    readonly history: SqliteMessageHistory,
    /** Sync from the Message Store, when there is one. */
    readonly sync: HistorySync | undefined,
    /** Deposit into the Message Store, when there is one. */
    readonly depositor: OutboxDepositor | undefined,
  ) {}

  /** Open the database (creating and migrating it) and wire the store client. */
  static open(options: DeviceHistoryOptions): DeviceHistory {
    const history = SqliteMessageHistory.open({ path: historyPath(options.dataDir, options.self), self: options.self, deposit: options.deposit ?? false });
    if (options.store === undefined) return new DeviceHistory(history, undefined, undefined);
    const client = new StoreClient(options.store);
    return new DeviceHistory(history, new HistorySync({ history, client }), new OutboxDepositor({ ...options.depositor, history, client }));
  }

  /**
   * Start: deposit what the outbox holds (a previous run may have quit before) and fetch every conversation
   * the store has. Resolves with the messages new to this device; rejects when the store cannot be read
   * (the depositor keeps retrying on its own).
   */
  async start(): Promise<ChatMessage[]> {
    this.depositor?.kick();
    return (await this.sync?.syncAll()) ?? [];
  }

  /** Fetch one conversation's news from the store (none without a store). */
  async syncConversation(conversationId: string): Promise<ChatMessage[]> {
    return (await this.sync?.syncConversation(conversationId)) ?? [];
  }

  /** Stop depositing (waiting for a deposit in flight), write the last batch, close the database. */
  async close(): Promise<void> {
    await this.depositor?.stop();
    this.history.close();
  }
}
