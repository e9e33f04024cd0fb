/**
 * The unread badge (dock, taskbar, launcher): the sum of every conversation's unread count, kept from the
 * conversation list and each `conversationUpdated` event.
 */
import { app } from 'electron';
import type { ConversationSummary } from '../api/payloads';

/** Keeps the app badge equal to the total number of unread messages. */
export class UnreadBadge {
  private readonly unread = new Map<string, number>();
  private shown = -1;

  /** Replace everything with a full conversation list. */
  reset(conversations: readonly ConversationSummary[]): void {
    this.unread.clear();
    for (const c of conversations) this.unread.set(c.id, c.unreadCount);
    this.render();
  }

  /** Take one conversation's new summary into account. */
  update(conversation: ConversationSummary): void {
    this.unread.set(conversation.id, conversation.unreadCount);
    this.render();
  }

  /** The total currently shown. */
  get total(): number {
    let sum = 0;
    for (const count of this.unread.values()) sum += count;
    return sum;
  }

  private render(): void {
    const total = this.total;
    if (total === this.shown) return;
    this.shown = total;
    app.setBadgeCount(total);
  }
}
