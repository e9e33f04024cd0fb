/**
 * Where a device keeps its conversations and messages. The chat service only talks to this interface; the
 * in-memory implementation below is the default, and a SQLite one (electron/device/history/) can replace it
 * without touching the chat code. Messages are keyed by conversation and `imdn.Message-ID` (RFC 5438 §6.3),
 * so appending the same message twice is detected, never stored twice.
 */
import type { ChatMessage, ConversationSummary, MessagePage, MessagePageQuery, MessageStatus } from '../../api/payloads';

/** A stored conversation: the summary without what is computed live (`activeSessionId`). */
export type ConversationRecord = Omit<ConversationSummary, 'activeSessionId'>;

/** The history store of one device. */
export interface MessageHistory {
  /** Append a message at the end of its conversation; false (and nothing stored) when its id is already there. */
  append(message: ChatMessage): boolean;
  /** One message, or undefined. */
  get(conversationId: string, messageId: string): ChatMessage | undefined;
  /** Change a message's status; returns the updated message, or undefined when unknown. */
  setStatus(conversationId: string, messageId: string, status: MessageStatus): ChatMessage | undefined;
  /** Messages strictly older (earlier appended) than `query.before`, newest first, at most `query.limit`. */
  page(conversationId: string, query: MessagePageQuery): MessagePage;
  /** Messages appended after `afterMessageId` (all when undefined), oldest first. */
  since(conversationId: string, afterMessageId: string | undefined): ChatMessage[];
  /** Insert or replace a conversation record. */
  saveConversation(record: ConversationRecord): void;
  /** One conversation record, or undefined. */
  conversation(conversationId: string): ConversationRecord | undefined;
  /** Every conversation record, most recently updated first. */
  conversations(): ConversationRecord[];
}

interface Thread {
  messages: ChatMessage[];
  index: Map<string, number>;
}

/** The in-memory history (lost on restart). */
export class MemoryMessageHistory implements MessageHistory {
  private readonly threads = new Map<string, Thread>();
  private readonly records = new Map<string, ConversationRecord>();

  append(message: ChatMessage): boolean {
    let thread = this.threads.get(message.conversationId);
    if (!thread) {
      thread = { messages: [], index: new Map() };
      this.threads.set(message.conversationId, thread);
    }
    if (thread.index.has(message.id)) return false;
    thread.index.set(message.id, thread.messages.length);
    thread.messages.push({ ...message });
    return true;
  }

  get(conversationId: string, messageId: string): ChatMessage | undefined {
    const thread = this.threads.get(conversationId);
    const at = thread?.index.get(messageId);
    return at === undefined ? undefined : { ...thread!.messages[at]! };
  }

  setStatus(conversationId: string, messageId: string, status: MessageStatus): ChatMessage | undefined {
    const thread = this.threads.get(conversationId);
    const at = thread?.index.get(messageId);
    if (at === undefined) return undefined;
    const message = thread!.messages[at]!;
    message.status = status;
    return { ...message };
  }

  page(conversationId: string, query: MessagePageQuery): MessagePage {
    if (!Number.isInteger(query.limit) || query.limit < 1) throw new RangeError(`page limit must be a positive integer (got ${query.limit})`);
    const thread = this.threads.get(conversationId) ?? { messages: [], index: new Map<string, number>() };
    let end = thread.messages.length;
    if (query.before !== undefined) {
      const at = thread.index.get(query.before);
      if (at === undefined) throw new RangeError(`no message ${JSON.stringify(query.before)} in conversation ${conversationId}`);
      end = at;
    }
    const start = Math.max(0, end - query.limit);
    return { messages: thread.messages.slice(start, end).reverse().map((m) => ({ ...m })), hasMore: start > 0 };
  }

  since(conversationId: string, afterMessageId: string | undefined): ChatMessage[] {
    const thread = this.threads.get(conversationId);
    if (!thread) return [];
    const at = afterMessageId === undefined ? -1 : (thread.index.get(afterMessageId) ?? -1);
    return thread.messages.slice(at + 1).map((m) => ({ ...m }));
  }

  saveConversation(record: ConversationRecord): void {
    this.records.set(record.id, { ...record });
  }

  conversation(conversationId: string): ConversationRecord | undefined {
    const r = this.records.get(conversationId);
    return r ? { ...r } : undefined;
  }

  conversations(): ConversationRecord[] {
    return [...this.records.values()].sort((a, b) => b.updatedAt - a.updatedAt).map((r) => ({ ...r }));
  }
}
