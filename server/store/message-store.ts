/**
 * The Message Store contract (PROFILE.md "History continuity"): the storage interface the HTTP API serves.
 * The data model is `protocol/store/store-types.ts` (shared with clients), re-exported here for server code.
 */
import type {
  ConversationSummary,
  DeliveryUpdate,
  DepositResult,
  MessageInput,
  MessagePage,
} from '../../protocol/store/store-types';

export { MAX_BATCH, MAX_PAGE } from '../../protocol/store/store-types';
export type {
  ConversationSummary,
  DeliveryState,
  DeliveryUpdate,
  DeliveryUpdateState,
  DepositOutcome,
  DepositResult,
  Direction,
  MessageInput,
  MessagePage,
  StoredMessage,
} from '../../protocol/store/store-types';

/**
 * Storage of conversation history. Every method is scoped to one owner: nothing crosses owners.
 * Methods validate their input and throw `StoreInputError` on bad input, writing nothing.
 */
export interface MessageStore {
  /** Store a batch atomically and idempotently (≤ MAX_BATCH). Re-depositing moves delivery state forward only. */
  deposit(owner: string, messages: readonly MessageInput[]): DepositResult;
  /** Messages with seq > `after` (default 0), oldest first, at most `limit` (default and max MAX_PAGE). */
  fetchAfter(owner: string, conversationId: string, options?: { after?: number; limit?: number }): MessagePage;
  /** Newest messages with seq < `before` (default: newest), newest first. */
  fetchBefore(owner: string, conversationId: string, options?: { before?: number; limit?: number }): MessagePage;
  /** True when the owner has this conversation. */
  hasConversation(owner: string, conversationId: string): boolean;
  /** The owner's conversations, most recently active first, each with its last message. */
  listConversations(owner: string, options?: { before?: number; limit?: number }): ConversationSummary[];
  /** Apply IMDN outcomes; returns how many messages changed state. Unknown messages are skipped. */
  updateDelivery(owner: string, updates: readonly DeliveryUpdate[]): number;
  /** Release the database. */
  close(): void;
}
