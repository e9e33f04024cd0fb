/**
 * The seam through which a server element writes history: an in-path Conversation Server records every
 * message it relays for each of its own users (PROFILE.md "History continuity"). Recording is idempotent by
 * (owner, Conversation-ID, imdn.Message-ID), so a message relayed twice (a replay to a transfer target) is
 * stored once.
 */
import type { DeliveryUpdate, MessageInput, MessageStore } from './message-store';

/** Where relayed messages go. */
export interface MessageSink {
  /**
   * Record messages for one owner (a local user's AOR). Never throws: a relay must not fail because history
   * could not be written; failures go to the sink's error handler.
   */
  record(owner: string, messages: readonly MessageInput[]): void;
  /**
   * Record delivery outcomes (from relayed IMDNs, RFC 5438) of an owner's messages, so that a device that
   * fetches the history later shows "delivered" / "displayed" as the sender's other devices did. Never throws.
   */
  delivery?(owner: string, updates: readonly DeliveryUpdate[]): void;
  /**
   * The store's position in one of an owner's conversations: its paging cursor after the newest message held
   * (the conversation's arrival `seq`, as the HTTP API sends cursors: an opaque decimal string), or undefined
   * when the store does not have the conversation or cannot be read. A transfer's Join REFER carries it
   * (PROFILE.md steps 6–9, `historyCursor`). Never throws.
   */
  cursor?(owner: string, conversationId: string): string | undefined;
}

/** A sink writing straight into a `MessageStore` (same process), reporting failures to `onError`. */
export function messageStoreSink(store: MessageStore, onError: (error: unknown) => void = () => undefined): MessageSink {
  return {
    record(owner, messages) {
      if (messages.length === 0) return;
      try {
        store.deposit(owner, messages);
      } catch (error) {
        onError(error);
      }
    },
    delivery(owner, updates) {
      if (updates.length === 0) return;
      try {
        store.updateDelivery(owner, updates);
      } catch (error) {
        onError(error);
      }
    },
    cursor(owner, conversationId) {
      try {
        // The newest message first: its seq is the `before` page's cursor (store-types.ts MessagePage).
        const newest = store.fetchBefore(owner, conversationId, { limit: 1 }).cursor;
        return newest === null ? undefined : String(newest);
      } catch (error) {
        onError(error);
        return undefined;
      }
    },
  };
}
