/**
 * The Message Store contract (PROFILE.md "History continuity"): per-domain conversation history, scoped per
 * user. A message is identified by (owner AOR, Conversation-ID, imdn.Message-ID), so depositing it again is a
 * no-op; each conversation has its own arrival sequence, which is the stable order and the paging cursor.
 */

/** Direction of a message relative to its owner. */
export type Direction = 'in' | 'out';

/**
 * Delivery state from IMDN (RFC 5438 §7.2). It only moves forward: `none < failed < delivered < displayed`
 * (`failed` is a delivery-notification with status failed, forbidden or error; a later positive report wins).
 */
export type DeliveryState = 'none' | 'delivered' | 'displayed' | 'failed';

/** IMDN outcomes that update a stored message. */
export type DeliveryUpdateState = Exclude<DeliveryState, 'none'>;

/** A message as deposited. */
export interface MessageInput {
  /** OMA CPM Conversation-ID. */
  conversationId: string;
  /** imdn.Message-ID of the CPIM message (RFC 5438 §6.3). */
  messageId: string;
  /** Sender URI (CPIM From). */
  sender: string;
  /** Recipient URI (CPIM To). */
  recipient: string;
  direction: Direction;
  /** CPIM DateTime (RFC 3862; an RFC 3339 date-time), kept as sent. */
  dateTime: string;
  /** MIME type of the wrapped content, e.g. `text/plain;charset=utf-8`. */
  contentType: string;
  /** The wrapped content as text. */
  body: string;
  /** Initial delivery state; default `none`. */
  delivery?: DeliveryState;
}

/** A stored message. */
export interface StoredMessage extends Required<MessageInput> {
  /** Owner AOR. */
  owner: string;
  /** Arrival sequence in this conversation, from 1, strictly increasing; the paging cursor. */
  seq: number;
  /** Store clock (ms since epoch) when first deposited. */
  storedAt: number;
  /** When the delivery state last changed (the IMDN's DateTime), or null. */
  deliveryAt: string | null;
}

/** What happened to each message of a deposit, in input order. */
export interface DepositOutcome {
  conversationId: string;
  messageId: string;
  /** `duplicate`: already stored (its delivery state may have moved forward). */
  status: 'stored' | 'duplicate';
  seq: number;
}

/** Result of a deposit. */
export interface DepositResult {
  stored: number;
  duplicates: number;
  outcomes: DepositOutcome[];
}

/** A page of messages. */
export interface MessagePage {
  messages: StoredMessage[];
  /** Cursor to continue from: the last `seq` in the page (`after` paging) or the first (`before` paging). */
  cursor: number | null;
  /** True when more messages lie beyond the page in that direction. */
  hasMore: boolean;
}

/** A conversation with its last message (by arrival). */
export interface ConversationSummary {
  conversationId: string;
  messageCount: number;
  lastMessage: StoredMessage;
  /** Per-owner activity counter; pass as `before` to list older conversations. */
  activity: number;
}

/** One IMDN outcome to apply. */
export interface DeliveryUpdate {
  conversationId: string;
  messageId: string;
  state: DeliveryUpdateState;
  /** The IMDN's DateTime (RFC 3339), if known. */
  at?: string;
}

/** Largest page any fetch returns. */
export const MAX_PAGE = 500;
/** Largest deposit batch. */
export const MAX_BATCH = 500;

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
