/**
 * The conversations of one device (PROFILE.md "A CPM session"): which CPM session carries which
 * conversation, what is sent and received on them, and the IMDN bookkeeping (RFC 5438).
 *
 * - A conversation is keyed by its `Conversation-ID`; starting a chat with a peer we already talk to reuses
 *   that conversation (and its Conversation-ID) in a new session.
 * - Outgoing messages go `pending` → `sent` (MSRP accepted every chunk) → `delivered` / `displayed` only when
 *   the recipient's IMDN says so (PROFILE.md: MSRP 200s are hop by hop); `failed` when MSRP refused them, when
 *   their session ended before the 200, or when a failure REPORT (RFC 4975 §7.1.2) came back from a hop further
 *   on (an in-path server that had accepted the message and then could not deliver it) — unless an IMDN said
 *   it was delivered.
 * - A new incoming session on a conversation this device already had is announced to `onSessionResumed`
 *   listeners (the transfers resync such a conversation from the Message Store).
 * - Incoming messages are dropped when their `imdn.Message-ID` is already in the conversation; a delivery
 *   notification is sent at once when asked for, a display notification on `markDisplayed`.
 * - Several sessions may be up at once, each for its own conversation.
 */
import { EventEmitter } from 'node:events';
import type {
  ChatMessage,
  ConversationSummary,
  IncomingSessionInfo,
  MessagePage,
  MessagePageQuery,
  MessageStatus,
} from '../../api/payloads';
import { DeviceApiError, type DeviceEventMap } from '../../api/device-api';
import type { CpimAddress } from '../../../protocol/cpim/cpim';
import { CpmHeader, isValidCpmId } from '../../../protocol/cpm/cpm-headers';
import { newContributionId, newConversationId } from '../../../protocol/cpm/cpm-ids';
import type { Imdn } from '../../../protocol/imdn/imdn';
import { parseMsrpSdp } from '../../../protocol/sdp/msrp-sdp';
import { judgeContinuation, type LiveDialog } from '../../../protocol/cpm/continuation';
import { parseAssertedIdentity, type CpmInviteDialog, type CpmInviteOptions } from '../sip/cpm-invite-session';
import { RemoteContinuation } from '../transfer/remote-continuation';
import { encodeNotification, encodeTextMessage, type IncomingText } from './chat-payload';
import { ChatSession, ChatSessionState } from './chat-session';
import type { MessageHistory } from './message-history';
import type { ChatMediaTransport } from './msrp-transport';

/** The events the chat service raises: a subset of the DeviceApi's. */
export type ChatEventName = 'conversationUpdated' | 'message' | 'messageStatus' | 'incomingSession' | 'sessionState' | 'error';

/** Options of the chat service. */
export interface ChatServiceOptions {
  /** Our own identity (CPIM From). */
  self: CpimAddress;
  transport: ChatMediaTransport;
  history: MessageHistory;
  /** Sends a CPM INVITE (the agent binds it to its user agent). */
  startInvite: (options: CpmInviteOptions) => CpmInviteDialog;
  /** Longest `lastMessageText` in summaries (default 120 characters). */
  previewLength?: number;
  /** Liveness probe interval of active sessions (ChatSession `keepAliveMs`). */
  keepAliveMs?: number;
  /** How long the far side keeps a continued session's old dialog without its BYE (PROFILE.md: 32 s). */
  continuationGraceMs?: number;
}

/** What the target of a move asks the chat layer for: INVITE J, continuing a conversation (PROFILE.md steps 10–13). */
export interface JoinInviteRequest {
  /** J without embedded headers (every URI parameter kept). */
  target: string;
  conversationId: string;
  peerUri: string;
  peerDisplayName: string;
  /** Full header lines besides Conversation-ID / Contribution-ID (Target-Dialog, Require, InReplyTo-Contribution-ID, Referred-By). */
  extraHeaders: string[];
}

const STATUS_RANK: Readonly<Record<MessageStatus, number>> = { pending: 0, sent: 1, delivered: 2, displayed: 3, failed: 4 };

interface PendingDisplay {
  messageId: string;
  dateTime: string;
  from: CpimAddress;
}

/** The chat layer of a device. */
export class ChatService extends EventEmitter {
  private readonly sessions = new Map<string, ChatSession>();
  /** Conversation id → the session carrying it now. */
  private readonly carrying = new Map<string, ChatSession>();
  /** Conversation id → incoming messages whose sender asked for a display notification not yet sent. */
  private readonly displayPending = new Map<string, PendingDisplay[]>();
  private readonly unread = new Map<string, Set<string>>();
  /** Conversation id → the device it moved to (the thread is read-only here until a session carries it again). */
  private readonly moved = new Map<string, string>();
  /** Old dialogs superseded by a continuation (we are T's far side), by session id. */
  private readonly continuations = new Map<string, RemoteContinuation>();
  private readonly previewLength: number;
  private readonly resumedListeners = new Set<(conversationId: string) => void>();

  constructor(private readonly options: ChatServiceOptions) {
    super();
    this.previewLength = options.previewLength ?? 120;
  }

  /** A session by id, or undefined. */
  session(sessionId: string): ChatSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Every session not yet ended. */
  liveSessions(): ChatSession[] {
    return [...this.sessions.values()].filter((s) => s.state !== ChatSessionState.Ended && s.state !== ChatSessionState.Failed);
  }

  /** The session carrying a conversation now, or undefined. */
  carrier(conversationId: string): ChatSession | undefined {
    return this.carrying.get(conversationId);
  }

  /** The device a conversation moved to, or undefined when this device holds it. */
  movedTo(conversationId: string): string | undefined {
    return this.moved.get(conversationId);
  }

  /**
   * The conversation moved to another device (the source of a move, on the release NOTIFY): from now on it is
   * read-only here and says where it went; a session carrying it here again (a move back) lifts that.
   */
  markMoved(conversationId: string, deviceName: string): void {
    this.moved.set(conversationId, deviceName);
    this.refreshRecord(conversationId);
  }

  /** The old dialog state of a continued session (far side), for tests and diagnostics. */
  continuationOf(sessionId: string): RemoteContinuation | undefined {
    return this.continuations.get(sessionId);
  }

  /**
   * The target of a move: INVITE J with the Join's headers and the same Conversation-ID, a new Contribution-ID
   * (PROFILE.md steps 10–13). The new session carries the conversation as soon as it is up.
   */
  join(request: JoinInviteRequest): ChatSession {
    const peerUri = normalizeUri(request.peerUri);
    const record = this.options.history.conversation(request.conversationId);
    this.saveConversation({
      id: request.conversationId,
      peerUri: record?.peerUri ?? peerUri,
      peerDisplayName: record?.peerDisplayName || request.peerDisplayName,
      lastMessageText: record?.lastMessageText ?? null,
      updatedAt: Date.now(),
      unreadCount: record?.unreadCount ?? 0,
    });
    return this.invite(request.conversationId, request.target, request.extraHeaders);
  }

  /**
   * Call `listener` each time an incoming session (not a continuation, PROFILE.md steps 10–23) becomes active
   * on a conversation this device already had before its INVITE: what was said in between (a move that failed,
   * a source that crashed) may be in the Message Store. Returns the function that removes the listener.
   */
  onSessionResumed(listener: (conversationId: string) => void): () => void {
    this.resumedListeners.add(listener);
    return () => this.resumedListeners.delete(listener);
  }

  /** Every conversation, most recently updated first. */
  listConversations(): ConversationSummary[] {
    return this.options.history.conversations().map((r) => ({ ...r, activeSessionId: this.carrying.get(r.id)?.id ?? null }));
  }

  /** A page of a conversation's messages, newest first. */
  getMessages(conversationId: string, query: MessagePageQuery): MessagePage {
    if (!this.options.history.conversation(conversationId)) throw new DeviceApiError('not-found', `no conversation ${conversationId}`);
    try {
      return this.options.history.page(conversationId, query);
    } catch (error) {
      throw new DeviceApiError('invalid-argument', error instanceof Error ? error.message : String(error));
    }
  }

  /** Open (or reuse) the conversation with `uri` and make sure a session carries it. */
  startChat(uri: string): ConversationSummary {
    const peerUri = normalizeUri(uri);
    const existing = this.options.history.conversations().find((c) => c.peerUri === peerUri);
    const conversationId = existing?.id ?? newConversationId();
    if (!existing) this.saveConversation({ id: conversationId, peerUri, peerDisplayName: '', lastMessageText: null, updatedAt: Date.now(), unreadCount: 0 });
    this.moved.delete(conversationId); // starting it again here takes it back
    const carrier = this.carrying.get(conversationId);
    if (!carrier || !carrier.usable) this.invite(conversationId, peerUri);
    return this.summary(conversationId);
  }

  /** Send a text message in a conversation (starting a session when none carries it). */
  sendMessage(conversationId: string, text: string): ChatMessage {
    const record = this.options.history.conversation(conversationId);
    if (!record) throw new DeviceApiError('not-found', `no conversation ${conversationId}`);
    const movedTo = this.moved.get(conversationId);
    if (movedTo !== undefined) throw new DeviceApiError('invalid-state', `this conversation moved to ${movedTo}; continue it there`);
    let session = this.carrying.get(conversationId);
    if (!session || !session.usable) session = this.invite(conversationId, record.peerUri);
    const encoded = encodeTextMessage({ from: this.options.self, to: { uri: record.peerUri }, text });
    const message: ChatMessage = {
      id: encoded.messageId,
      conversationId,
      direction: 'outgoing',
      senderUri: this.options.self.uri,
      text,
      timestamp: encoded.timestamp,
      status: 'pending',
    };
    this.options.history.append(message);
    this.touch(conversationId, text, encoded.timestamp);
    this.emit('message', message);
    void session.send(encoded.bytes, message.id).then((outcome) => this.setStatus(conversationId, message.id, outcome.ok ? 'sent' : 'failed'));
    return message;
  }

  /** Mark incoming messages up to and including `messageId` as displayed; sends the display IMDNs asked for. */
  markDisplayed(conversationId: string, messageId: string): void {
    if (!this.options.history.get(conversationId, messageId)) throw new DeviceApiError('not-found', `no message ${messageId} in conversation ${conversationId}`);
    // Everything appended up to the target, by append order.
    const ordered = this.options.history.since(conversationId, undefined);
    const cut = ordered.findIndex((m) => m.id === messageId);
    const covered = new Set(ordered.slice(0, cut + 1).map((m) => m.id));
    for (const id of covered) {
      const m = this.options.history.get(conversationId, id);
      if (m && m.direction === 'incoming' && m.status !== 'displayed') this.options.history.setStatus(conversationId, id, 'displayed');
    }
    const unread = this.unread.get(conversationId);
    if (unread) for (const id of covered) unread.delete(id);
    const pending = this.displayPending.get(conversationId) ?? [];
    const due = pending.filter((p) => covered.has(p.messageId));
    this.displayPending.set(conversationId, pending.filter((p) => !covered.has(p.messageId)));
    const session = this.carrying.get(conversationId);
    for (const p of due) {
      if (session?.usable) void session.send(encodeNotification({ from: this.options.self, to: p.from, messageId: p.messageId, dateTime: p.dateTime, kind: 'display' }));
      else this.displayPending.get(conversationId)!.push(p); // sent when a session carries the conversation again
    }
    this.refreshRecord(conversationId);
  }

  /** Accept a ringing session. */
  acceptSession(sessionId: string): void {
    const session = this.requireSession(sessionId);
    if (session.state !== ChatSessionState.Ringing) throw new DeviceApiError('invalid-state', `session ${sessionId} is ${session.state}, not ringing`);
    session.accept();
    this.carrying.set(session.conversationId, session);
    this.refreshRecord(session.conversationId);
  }

  /** Decline a ringing session (603). */
  declineSession(sessionId: string): void {
    const session = this.requireSession(sessionId);
    if (session.state !== ChatSessionState.Ringing) throw new DeviceApiError('invalid-state', `session ${sessionId} is ${session.state}, not ringing`);
    session.decline();
  }

  /** End a session (BYE); the conversation stays. */
  endSession(sessionId: string): void {
    this.requireSession(sessionId).end();
  }

  /** End every session (sign-out, shutdown). */
  endAll(): void {
    for (const c of this.continuations.values()) c.dispose();
    this.continuations.clear();
    for (const s of this.liveSessions()) s.end();
  }

  /**
   * An incoming CPM INVITE: checks its CPM headers (400 without a valid Conversation-ID or Contribution-ID) and
   * its offer (488 unless it offers an MSRP stream that is not declined, RFC 3261 §21.4.26), files it under its
   * conversation and raises `incomingSession`.
   */
  handleIncoming(sip: CpmInviteDialog): ChatSession | null {
    const conversationId = sip.inviteHeader(CpmHeader.ConversationId)?.trim();
    const contributionId = sip.inviteHeader(CpmHeader.ContributionId)?.trim();
    if (!conversationId || !isValidCpmId(conversationId) || !contributionId || !isValidCpmId(contributionId)) {
      sip.reject(400, 'Missing or Invalid Conversation-ID or Contribution-ID');
      return null;
    }
    if (!offersMsrp(sip.offer)) {
      sip.reject(488, 'Not Acceptable Here');
      return null;
    }
    // PROFILE.md steps 10–23 (proxy): an INVITE with Target-Dialog naming a live dialog of ours continues it.
    const verdict = judgeContinuation(
      { targetDialog: sip.inviteHeader('Target-Dialog'), assertedAor: assertedAor(sip), conversationId },
      (td) => this.liveDialog(td.callId, td.localTag, td.remoteTag),
    );
    if (verdict.kind === 'refuse') {
      sip.reject(verdict.status, verdict.reason);
      return null;
    }
    const session = new ChatSession({ sip, conversationId, contributionId, ...this.sessionOptions() });
    if (verdict.kind === 'continuation') return this.continueSession(session, verdict.dialog.id);
    const peer = session.peer;
    const peerUri = normalizeUri(peer.uri);
    const record = this.options.history.conversation(conversationId);
    if (record) this.announceWhenActive(session);
    this.saveConversation({
      id: conversationId,
      peerUri: record?.peerUri ?? peerUri,
      peerDisplayName: peer.displayName || record?.peerDisplayName || '',
      lastMessageText: record?.lastMessageText ?? null,
      updatedAt: Date.now(),
      unreadCount: record?.unreadCount ?? 0,
    });
    this.track(session);
    const info: IncomingSessionInfo = { sessionId: session.id, conversationId, peerUri, peerDisplayName: peer.displayName };
    this.emit('incomingSession', info);
    this.emitState(session, null);
    return session;
  }

  override on<E extends ChatEventName>(event: E, listener: (payload: DeviceEventMap[E]) => void): this {
    return super.on(event, listener);
  }

  /** Node's emitter throws on an `error` nobody listens to; here an unheard event is simply dropped. */
  override emit<E extends ChatEventName>(event: E, payload: DeviceEventMap[E]): boolean {
    if (this.listenerCount(event) === 0) return false;
    return super.emit(event, payload);
  }

  // ─── internals ─────────────────────────────────────────────────────────────────────────────────────────

  /** A live session whose dialog is (callId, our tag, the peer's tag): what a Target-Dialog names (RFC 4538 §4). */
  private liveDialog(callId: string, localTag: string, remoteTag: string): LiveDialog | undefined {
    for (const s of this.liveSessions()) {
      const d = s.sip.dialog;
      if (!d || d.callId !== callId || d.localTag !== localTag || d.remoteTag !== remoteTag) continue;
      if (this.continuations.has(s.id)) return undefined; // already continued once: a second Join gets 481
      return { id: s.id, peerAor: normalizeUri(s.peer.uri), conversationId: s.conversationId };
    }
    return undefined;
  }

  /**
   * Accept a continuation without prompting (PROFILE.md, remote party): attach the new session to the same
   * conversation, send only on it from now on, and let RemoteContinuation govern the old one (its messages are
   * still taken until its BYE; after the grace time we end it ourselves).
   */
  private continueSession(session: ChatSession, oldSessionId: string): ChatSession {
    const old = this.sessions.get(oldSessionId);
    this.track(session);
    this.carrying.set(session.conversationId, session); // sending switches at once (queued until MSRP is up)
    this.emitState(session, null);
    session.accept();
    if (old) {
      const continuation = new RemoteContinuation(() => old.end('replaced by a continuation (no BYE from the old device)'), this.options.continuationGraceMs);
      this.continuations.set(old.id, continuation);
      old.on('stateChange', (to) => {
        if (to !== ChatSessionState.Ended && to !== ChatSessionState.Failed) return;
        continuation.released();
        continuation.dispose();
        this.continuations.delete(old.id);
      });
      continuation.superseded();
    }
    this.refreshRecord(session.conversationId);
    return session;
  }

  /** Tell `onSessionResumed` listeners once `session` is active (a session that never gets there is not told). */
  private announceWhenActive(session: ChatSession): void {
    const onState = (to: ChatSessionState): void => {
      if (to !== ChatSessionState.Active && to !== ChatSessionState.Ended && to !== ChatSessionState.Failed) return;
      session.off('stateChange', onState);
      if (to !== ChatSessionState.Active) return;
      for (const listener of [...this.resumedListeners]) {
        try {
          listener(session.conversationId);
        } catch {
          // a listener's failure is its own
        }
      }
    };
    session.on('stateChange', onState);
  }

  private invite(conversationId: string, peerUri: string, extraHeaders: string[] = []): ChatSession {
    let session: ChatSession | undefined;
    const contributionId = newContributionId();
    const sip = this.options.startInvite({
      target: peerUri,
      conversationId,
      contributionId,
      ...(extraHeaders.length ? { extraHeaders } : {}),
      peerConnection: {
        localEndpoint: () => session!.peerConnectionOptions().localEndpoint(),
        onNegotiated: (n) => session!.peerConnectionOptions().onNegotiated(n),
      },
    });
    session = new ChatSession({ sip, conversationId, contributionId, ...this.sessionOptions() });
    this.carrying.set(conversationId, session);
    this.track(session);
    this.emitState(session, null);
    this.refreshRecord(conversationId);
    return session;
  }

  private sessionOptions(): { transport: ChatMediaTransport; keepAliveMs?: number } {
    return { transport: this.options.transport, ...(this.options.keepAliveMs !== undefined ? { keepAliveMs: this.options.keepAliveMs } : {}) };
  }

  private track(session: ChatSession): void {
    this.sessions.set(session.id, session);
    session.on('stateChange', (to, _from, cause) => {
      if (to === ChatSessionState.Active) {
        this.carrying.set(session.conversationId, session);
        this.moved.delete(session.conversationId);
        this.flushDisplays(session);
      }
      this.emitState(session, cause);
      if (to === ChatSessionState.Ended || to === ChatSessionState.Failed) {
        this.sessions.delete(session.id);
        if (this.carrying.get(session.conversationId) === session) this.carrying.delete(session.conversationId);
        this.refreshRecord(session.conversationId);
      } else if (to === ChatSessionState.Active) this.refreshRecord(session.conversationId);
    });
    session.on('text', (text) => this.received(session, text));
    session.on('notification', (imdn) => this.notified(session, imdn));
    session.on('deliveryFailed', (messageId) => this.setStatus(session.conversationId, messageId, 'failed'));
    session.on('payloadError', (error) => this.emit('error', { code: 'invalid-argument', message: `from ${session.peer.uri}: ${error.message}`, conversationId: session.conversationId }));
  }

  private received(session: ChatSession, text: IncomingText): void {
    const conversationId = session.conversationId;
    const from = text.from ?? { uri: session.peer.uri };
    if (text.wantsDelivery) {
      void session.send(encodeNotification({ from: this.options.self, to: from, messageId: text.messageId, dateTime: text.dateTime, kind: 'delivery' }));
    }
    const message: ChatMessage = {
      id: text.messageId,
      conversationId,
      direction: 'incoming',
      senderUri: normalizeUri(from.uri),
      text: text.text,
      timestamp: text.timestamp,
      status: 'delivered',
    };
    if (!this.options.history.append(message)) return; // a duplicate (RFC 5438 §6.3): acknowledged, not shown twice
    if (text.wantsDisplay) {
      const list = this.displayPending.get(conversationId) ?? [];
      list.push({ messageId: text.messageId, dateTime: text.dateTime, from });
      this.displayPending.set(conversationId, list);
    }
    const unread = this.unread.get(conversationId) ?? new Set<string>();
    unread.add(message.id);
    this.unread.set(conversationId, unread);
    this.touch(conversationId, text.text, Date.now());
    this.emit('message', message);
  }

  private notified(session: ChatSession, imdn: Imdn): void {
    const status: MessageStatus | null =
      imdn.notification.kind === 'delivery'
        ? imdn.notification.status === 'delivered' ? 'delivered' : 'failed'
        : imdn.notification.kind === 'display' && imdn.notification.status === 'displayed' ? 'displayed' : null;
    if (status) this.setStatus(session.conversationId, imdn.messageId, status);
  }

  /** Move an outgoing message's status forward (never back; `failed` only before delivery). */
  private setStatus(conversationId: string, messageId: string, status: MessageStatus): void {
    const message = this.options.history.get(conversationId, messageId);
    if (!message || message.direction !== 'outgoing') return;
    if (status === 'failed' ? STATUS_RANK[message.status] >= STATUS_RANK.delivered : STATUS_RANK[status] <= STATUS_RANK[message.status]) return;
    this.options.history.setStatus(conversationId, messageId, status);
    this.emit('messageStatus', { conversationId, messageId, status, at: Date.now() });
  }

  private flushDisplays(session: ChatSession): void {
    const pending = this.displayPending.get(session.conversationId);
    if (!pending) return;
    const unread = this.unread.get(session.conversationId);
    const due = pending.filter((p) => !unread?.has(p.messageId));
    this.displayPending.set(session.conversationId, pending.filter((p) => unread?.has(p.messageId)));
    for (const p of due) void session.send(encodeNotification({ from: this.options.self, to: p.from, messageId: p.messageId, dateTime: p.dateTime, kind: 'display' }));
  }

  private requireSession(sessionId: string): ChatSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw new DeviceApiError('not-found', `no live session ${sessionId}`);
    return session;
  }

  private touch(conversationId: string, text: string, at: number): void {
    const record = this.options.history.conversation(conversationId);
    if (!record) return;
    const preview = previewOf(text, this.previewLength);
    this.saveConversation({ ...record, lastMessageText: preview, updatedAt: Math.max(record.updatedAt, at) });
  }

  private refreshRecord(conversationId: string): void {
    const record = this.options.history.conversation(conversationId);
    if (record) this.saveConversation(record);
  }

  private saveConversation(record: Omit<ConversationSummary, 'activeSessionId'>): void {
    const unreadCount = this.unread.get(record.id)?.size ?? 0;
    this.options.history.saveConversation({ ...record, unreadCount });
    this.emit('conversationUpdated', this.summary(record.id));
  }

  private summary(conversationId: string): ConversationSummary {
    const record = this.options.history.conversation(conversationId)!;
    return { ...record, activeSessionId: this.carrying.get(conversationId)?.id ?? null };
  }

  private emitState(session: ChatSession, cause: string | null): void {
    this.emit('sessionState', { sessionId: session.id, conversationId: session.conversationId, state: session.state, cause });
  }
}

/** The AOR the network asserted for the caller of an incoming INVITE (P-Asserted-Identity), or undefined. */
function assertedAor(sip: CpmInviteDialog): string | undefined {
  const header = sip.inviteHeader('P-Asserted-Identity');
  const identity = header ? parseAssertedIdentity(header) : null;
  if (!identity) return undefined;
  try {
    return normalizeUri(identity.uri);
  } catch {
    return undefined;
  }
}

/** Whether an SDP offer has an MSRP stream we can answer (RFC 4975 §8). */
function offersMsrp(sdp: string | undefined): boolean {
  if (sdp === undefined) return false;
  try {
    const media = parseMsrpSdp(sdp);
    return !media.rejected && media.path.length > 0;
  } catch {
    return false;
  }
}

/** `sip:bob@b.example;transport=ws` → `sip:bob@b.example` (scheme and host lower-cased, parameters dropped). */
export function normalizeUri(uri: string): string {
  const trimmed = uri.trim().replace(/^<|>$/g, '');
  const m = /^(sips?|tel):([^;?]*)/i.exec(trimmed);
  if (!m) throw new DeviceApiError('invalid-argument', `not a sip:, sips: or tel: URI: ${JSON.stringify(uri)}`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  const at = rest.lastIndexOf('@');
  if (scheme === 'tel' || at < 0) {
    if (rest === '') throw new DeviceApiError('invalid-argument', `empty URI: ${JSON.stringify(uri)}`);
    return `${scheme}:${rest}`;
  }
  const user = rest.slice(0, at);
  const host = rest.slice(at + 1).toLowerCase();
  if (user === '' || host === '') throw new DeviceApiError('invalid-argument', `URI without user or host: ${JSON.stringify(uri)}`);
  return `${scheme}:${user}@${host}`;
}

/**
 * A conversation list preview: `text` itself when it has at most `maxCodePoints` code points (at least 1),
 * else its first `maxCodePoints - 1` code points and `…`. Reads at most `maxCodePoints + 1` code points, so
 * a 1 MB message costs as much as a short one; never splits a surrogate pair.
 */
export function previewOf(text: string, maxCodePoints: number): string {
  const max = Math.max(1, Math.floor(maxCodePoints));
  if (text.length <= max) return text; // at most `max` UTF-16 units: at most `max` code points
  let count = 0;
  let cut = 0; // UTF-16 end of the first `max - 1` code points
  let index = 0;
  for (const codePoint of text) {
    count += 1;
    if (count > max) return `${text.slice(0, cut)}…`;
    index += codePoint.length;
    if (count === max - 1) cut = index;
  }
  return text;
}
