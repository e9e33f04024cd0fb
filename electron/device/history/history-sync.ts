/**
 * Brings a device's local history up to date from the Message Store (PROFILE.md "History continuity"): for a
 * conversation, fetch every message after the newest store cursor this device has seen, page by page, and
 * merge each page (by imdn.Message-ID, so nothing is shown twice) together with the new cursor. Run at start
 * (`syncAll`: also the conversations this device has never seen, as on a new device), when a Join is
 * accepted and again after the release (`syncConversation`).
 */
import type { ChatMessage } from '../../api/payloads';
import { MAX_PAGE } from '../../../protocol/store/store-types';
import type { SqliteMessageHistory } from './sqlite-message-history';
import { StoreClientError, type StoreClient } from './store-client';

/** The part of the history the sync uses. */
export type SyncLedger = Pick<SqliteMessageHistory, 'storeCursor' | 'mergeFromStore'>;

/** Options of a `HistorySync`. */
export interface HistorySyncOptions {
  history: SyncLedger;
  client: Pick<StoreClient, 'fetchAfter' | 'listConversations'>;
  /** Messages per fetch, ≤ MAX_PAGE. Default MAX_PAGE. */
  pageSize?: number;
}

/** Fetches and merges; one sync per conversation at a time (a second caller joins the running one). */
export class HistorySync {
  private readonly running = new Map<string, Promise<ChatMessage[]>>();
  private readonly pageSize: number;

  constructor(private readonly options: HistorySyncOptions) {
    this.pageSize = Math.min(options.pageSize ?? MAX_PAGE, MAX_PAGE);
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  }

  /**
   * Fetch and merge what the store has after this device's cursor for one conversation. Resolves with the
   * messages that were new here, oldest first by store arrival. A conversation the store does not have (404)
   * yields nothing. Rejects with `StoreClientError` on other failures; what was merged before stays merged.
   */
  syncConversation(conversationId: string): Promise<ChatMessage[]> {
    const running = this.running.get(conversationId);
    if (running !== undefined) return running;
    const sync = this.fetchAll(conversationId).finally(() => this.running.delete(conversationId));
    this.running.set(conversationId, sync);
    return sync;
  }

  /** Sync every conversation the store has for this user, most recently active first. */
  async syncAll(): Promise<ChatMessage[]> {
    const added: ChatMessage[] = [];
    let before: string | undefined;
    do {
      const list = await this.options.client.listConversations({ limit: 100, ...(before !== undefined ? { before } : {}) });
      for (const c of list.conversations) added.push(...(await this.syncConversation(c.conversationId)));
      before = list.cursor ?? undefined;
    } while (before !== undefined);
    return added;
  }

  private async fetchAll(conversationId: string): Promise<ChatMessage[]> {
    const { history, client } = this.options;
    const added: ChatMessage[] = [];
    for (;;) {
      const after = history.storeCursor(conversationId);
      let page;
      try {
        page = await client.fetchAfter(conversationId, { limit: this.pageSize, ...(after !== null ? { after } : {}) });
      } catch (error) {
        if (error instanceof StoreClientError && error.status === 404) return added;
        throw error;
      }
      added.push(...history.mergeFromStore(conversationId, page.messages, page.cursor));
      if (!page.hasMore || page.messages.length === 0) return added;
    }
  }
}
