/**
 * The Message Store's data model (PROFILE.md "History continuity"), shared by the store (server/store), its
 * HTTP API and every client (the device's history): per-domain conversation history, scoped per user. A
 * message is identified by (owner AOR, Conversation-ID, imdn.Message-ID), so depositing it again is a no-op;
 * each conversation has its own arrival sequence, which is the stable order and the paging cursor.
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
