/**
 * Conversations slice: the side bar (summaries with unread counts and last message), each conversation's
 * loaded history (paged newest-first from `getMessages`, kept oldest-first here), the CPM sessions and
 * the invitations waiting for an answer.
 */
import type { DeviceApi } from '../../electron/api/device-api';
import type { ChatMessage, ConversationSummary, IncomingSessionInfo, MessageStatus, MessageStatusUpdate, SessionStateUpdate } from '../../electron/api/payloads';
import { errorText, type SliceCreator } from './app-state';

/** How many messages one `getMessages` call asks for. */
export const PAGE_SIZE = 100;

/** The loaded part of one conversation's history. */
export interface History {
  /** Oldest first. */
  messages: ChatMessage[];
  /** Older messages exist on the device. */
  hasMore: boolean;
  loading: boolean;
  error: string | null;
}

/** Conversations state and actions. */
export interface ConversationsSlice {
  conversations: ConversationSummary[];
  conversationsError: string | null;
  selectedId: string | null;
  histories: Record<string, History>;
  /** Latest session state per conversation. */
  sessions: Record<string, SessionStateUpdate>;
  invitations: IncomingSessionInfo[];
  composerError: string | null;
  newChatError: string | null;

  loadConversations(): Promise<void>;
  select(conversationId: string | null): void;
  loadOlder(conversationId: string): Promise<void>;
  /** Fetch the newest page again and merge it (after a move brought history in). */
  refreshHistory(conversationId: string): Promise<void>;
  send(conversationId: string, text: string): Promise<boolean>;
  startChat(uri: string): Promise<boolean>;
  markDisplayed(conversationId: string): void;
  acceptInvitation(sessionId: string): Promise<void>;
  declineInvitation(sessionId: string): Promise<void>;
  applyConversation(summary: ConversationSummary): void;
  applyMessage(message: ChatMessage): void;
  applyMessageStatus(update: MessageStatusUpdate): void;
  applySessionState(update: SessionStateUpdate): void;
  applyInvitation(invitation: IncomingSessionInfo): void;
  resetConversations(): void;
}

const STATUS_RANK: Readonly<Record<MessageStatus, number>> = { pending: 0, sent: 1, delivered: 2, displayed: 3, failed: 1 };

/** The status a message ends with when `next` arrives: it never goes backwards (an IMDN may overtake another). */
export function nextStatus(current: MessageStatus, next: MessageStatus): MessageStatus {
  if (next === 'failed') return current === 'pending' || current === 'sent' ? 'failed' : current;
  if (current === 'failed') return next === 'delivered' || next === 'displayed' ? next : current;
  return STATUS_RANK[next] > STATUS_RANK[current] ? next : current;
}

/** Conversations sorted for the side bar: most recently updated first. */
export function sortConversations(list: readonly ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => b.updatedAt - a.updatedAt || a.id.localeCompare(b.id));
}

/** Index of the message with `id`, searching from the newest (where updates land). */
function indexOfMessage(messages: readonly ChatMessage[], id: string): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.id === id) return i;
  return -1;
}

/**
 * `page` (newest first, as getMessages returns it) merged into `messages` (oldest first): duplicates by
 * id are dropped (PROFILE.md: every message is identified by its imdn.Message-ID), order is by time.
 */
export function mergeMessages(messages: readonly ChatMessage[], page: readonly ChatMessage[]): ChatMessage[] {
  const known = new Set(messages.map((m) => m.id));
  const fresh = page.filter((m) => !known.has(m.id)).reverse();
  if (fresh.length === 0) return [...messages];
  const oldestKnown = messages[0]?.timestamp ?? Number.POSITIVE_INFINITY;
  // The common case, an older page, goes in front without sorting the whole history.
  if (fresh.every((m) => m.timestamp <= oldestKnown)) return [...fresh, ...messages];
  return [...messages, ...fresh].sort((a, b) => a.timestamp - b.timestamp);
}

const EMPTY_HISTORY: History = { messages: [], hasMore: true, loading: false, error: null };

/** Creates the conversations slice over `api`. */
export function createConversationsSlice(api: DeviceApi): SliceCreator<ConversationsSlice> {
  return (set, get) => {
    const patchHistory = (id: string, patch: Partial<History>): void => {
      const histories = get().histories;
      set({ histories: { ...histories, [id]: { ...(histories[id] ?? EMPTY_HISTORY), ...patch } } });
    };

    return {
      conversations: [],
      conversationsError: null,
      selectedId: null,
      histories: {},
      sessions: {},
      invitations: [],
      composerError: null,
      newChatError: null,

      async loadConversations() {
        try {
          set({ conversations: sortConversations(await api.listConversations()), conversationsError: null });
        } catch (error) {
          set({ conversationsError: errorText(error) });
        }
      },

      select(conversationId) {
        set({ selectedId: conversationId, composerError: null });
        if (conversationId !== null && get().histories[conversationId] === undefined) void get().loadOlder(conversationId);
      },

      async loadOlder(conversationId) {
        const current = get().histories[conversationId] ?? EMPTY_HISTORY;
        if (current.loading || !current.hasMore) return;
        patchHistory(conversationId, { loading: true, error: null });
        const oldest = current.messages[0];
        try {
          const page = await api.getMessages(conversationId, oldest ? { before: oldest.id, limit: PAGE_SIZE } : { limit: PAGE_SIZE });
          const latest = get().histories[conversationId] ?? EMPTY_HISTORY;
          patchHistory(conversationId, { messages: mergeMessages(latest.messages, page.messages), hasMore: page.hasMore, loading: false });
        } catch (error) {
          patchHistory(conversationId, { loading: false, error: errorText(error) });
        }
      },

      async refreshHistory(conversationId) {
        try {
          const page = await api.getMessages(conversationId, { limit: PAGE_SIZE });
          const latest = get().histories[conversationId];
          patchHistory(conversationId, {
            messages: mergeMessages(latest?.messages ?? [], page.messages),
            hasMore: latest === undefined || latest.messages.length === 0 ? page.hasMore : latest.hasMore,
            error: null,
          });
        } catch (error) {
          patchHistory(conversationId, { error: errorText(error) });
        }
      },

      async send(conversationId, text) {
        set({ composerError: null });
        try {
          get().applyMessage(await api.sendMessage(conversationId, text));
          return true;
        } catch (error) {
          set({ composerError: errorText(error) });
          return false;
        }
      },

      async startChat(uri) {
        set({ newChatError: null });
        try {
          const conversation = await api.startChat(uri);
          get().applyConversation(conversation);
          get().select(conversation.id);
          get().clearMovedAway(conversation.id);
          return true;
        } catch (error) {
          set({ newChatError: errorText(error) });
          return false;
        }
      },

      markDisplayed(conversationId) {
        const history = get().histories[conversationId];
        const summary = get().conversations.find((c) => c.id === conversationId);
        if (!history || !summary || summary.unreadCount === 0) return;
        const newestIncoming = [...history.messages].reverse().find((m) => m.direction === 'incoming');
        if (!newestIncoming) return;
        get().applyConversation({ ...summary, unreadCount: 0 });
        api.markDisplayed(conversationId, newestIncoming.id).catch((error: unknown) => set({ conversationsError: errorText(error) }));
      },

      async acceptInvitation(sessionId) {
        const invitation = get().invitations.find((i) => i.sessionId === sessionId);
        set({ invitations: get().invitations.filter((i) => i.sessionId !== sessionId) });
        try {
          await api.acceptSession(sessionId);
          if (invitation) get().select(invitation.conversationId);
        } catch (error) {
          set({ conversationsError: errorText(error) });
        }
      },

      async declineInvitation(sessionId) {
        set({ invitations: get().invitations.filter((i) => i.sessionId !== sessionId) });
        try {
          await api.declineSession(sessionId);
        } catch (error) {
          set({ conversationsError: errorText(error) });
        }
      },

      applyConversation(summary) {
        const others = get().conversations.filter((c) => c.id !== summary.id);
        set({ conversations: sortConversations([...others, summary]) });
      },

      applyMessage(message) {
        const history = get().histories[message.conversationId];
        if (!history) return; // not loaded yet: the first page will bring it
        const at = indexOfMessage(history.messages, message.id);
        if (at >= 0) {
          const messages = [...history.messages];
          const old = messages[at]!;
          messages[at] = { ...message, status: nextStatus(old.status, message.status) };
          patchHistory(message.conversationId, { messages });
          return;
        }
        const last = history.messages[history.messages.length - 1];
        const messages = last === undefined || last.timestamp <= message.timestamp
          ? [...history.messages, message]
          : mergeMessages(history.messages, [message]);
        patchHistory(message.conversationId, { messages });
      },

      applyMessageStatus(update) {
        const history = get().histories[update.conversationId];
        if (!history) return;
        const at = indexOfMessage(history.messages, update.messageId);
        if (at < 0) return;
        const old = history.messages[at]!;
        const status = nextStatus(old.status, update.status);
        if (status === old.status) return;
        const messages = [...history.messages];
        messages[at] = { ...old, status };
        patchHistory(update.conversationId, { messages });
      },

      applySessionState(update) {
        set({ sessions: { ...get().sessions, [update.conversationId]: update } });
        if (update.state === 'ended' || update.state === 'failed') {
          set({ invitations: get().invitations.filter((i) => i.sessionId !== update.sessionId) });
        }
      },

      applyInvitation(invitation) {
        set({ invitations: [...get().invitations.filter((i) => i.sessionId !== invitation.sessionId), invitation] });
      },

      resetConversations() {
        set({ conversations: [], selectedId: null, histories: {}, sessions: {}, invitations: [], composerError: null });
      },
    };
  };
}
