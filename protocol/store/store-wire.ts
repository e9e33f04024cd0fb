/**
 * The JSON shapes of the Message Store HTTP API (`server/store/store-http-api.ts`), shared with its client
 * (`electron/device/history/store-client.ts`). Cursors travel as opaque strings; clients must not do
 * arithmetic on them.
 */
import type { ConversationSummary, DeliveryUpdate, DepositResult, MessageInput, StoredMessage } from './store-types';

/** `POST /v1/messages` request body. `owner`, when present, must be the authenticated user. */
export interface DepositRequest {
  owner?: string;
  messages: MessageInput[];
}

/** `POST /v1/messages` response body. */
export type DepositResponse = DepositResult;

/** `GET /v1/conversations/:cid/messages` response body. */
export interface MessagePageResponse {
  conversationId: string;
  /** Oldest first (`after` paging) or newest first (`order=desc`). */
  messages: StoredMessage[];
  /** Pass as `after` (or `before` with `order=desc`) for the next page; null when the page is empty. */
  cursor: string | null;
  hasMore: boolean;
}

/** `GET /v1/conversations` response body. */
export interface ConversationListResponse {
  conversations: Omit<ConversationSummary, 'activity'>[];
  /** Pass as `before` for older conversations; null when the list is complete. */
  cursor: string | null;
}

/** `POST /v1/delivery` request body. */
export interface DeliveryRequest {
  updates: DeliveryUpdate[];
}

/** `POST /v1/delivery` response body. */
export interface DeliveryResponse {
  changed: number;
}

/** Every error response body. */
export interface ErrorResponse {
  /** Machine-readable class: `bad-request`, `unauthorized`, `forbidden`, `not-found`… */
  error: string;
  /** Human-readable detail. */
  reason: string;
}
