/**
 * A device's local history on SQLite (better-sqlite3, WAL): the `MessageHistory` the chat service talks to,
 * kept in the device's data folder so that conversations and messages survive restarts, plus what syncing
 * with the Message Store needs (a store cursor per conversation, the durable deposit outbox).
 *
 * Writes stay off the path that answers the UI: `append`, `setStatus` and `saveConversation` check their
 * input, update an in-memory overlay and return; a `FlushScheduler` writes the overlay as ONE transaction a
 * few milliseconds later (or at once when `maxPending` is reached). Reads see the overlay: `get` and the
 * conversation records are served from it, and the paging reads (`page`, `since`) write a pending batch
 * first. Call `flush()` (or `close()`) before the process exits: a batch not yet written is lost.
 *
 * Merging is by (Conversation-ID, imdn.Message-ID) (RFC 5438 §6.3): appending a known message is refused,
 * a copy coming from the Message Store only moves the status forward (`MERGE_RANK`).
 *
 * In deposit mode (the Conversation Server is a proxy, PROFILE.md "History continuity"), every message
 * written, and every later status change of it, also goes into the `outbox` table in the same transaction;
 * an `OutboxDepositor` drains it.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChatMessage, MessagePage, MessagePageQuery, MessageStatus } from '../../api/payloads';
import { MESSAGE_STATUSES } from '../../api/payloads';
import { TypedEmitter } from '../../../protocol/common/typed-emitter';
import { ID_PATTERN, StoreInputError, URI_PATTERN, validateMessage } from '../../../protocol/store/store-validation';
import type { MessageInput, StoredMessage } from '../../../protocol/store/store-types';
import type { ConversationRecord, MessageHistory } from '../chat/message-history';
import { FlushScheduler } from './flush-scheduler';
import { migrateHistory } from './history-schema';
import { fromStored, MERGE_RANK, peerOf, toDeposit } from './store-mapping';

/** Options of `SqliteMessageHistory.open`. */
export interface SqliteMessageHistoryOptions {
  /** Database file (its folder is created), or `:memory:` for tests. See `historyPath`. */
  path: string;
  /** The account's AOR: the recipient of incoming messages when they are deposited. */
  self: string;
  /** Queue what is written for deposit in the Message Store (proxy mode). Default false. */
  deposit?: boolean;
  /** How long a write may wait to be batched with others, ms. Default 5. */
  flushDelayMs?: number;
  /** Write at once when this many messages are pending. Default 500. */
  maxPending?: number;
}

/** Events of the history. */
export type SqliteMessageHistoryEvents = {
  /** Messages were committed to the outbox: a depositor should run. */
  outbox: () => void;
  /** A timer-driven write failed (the batch stays pending and is retried with the next write). */
  error: (error: unknown) => void;
};

/** One outbox entry due for deposit. */
export interface OutboxEntry {
  /** The message's local sequence number (the outbox key). */
  seq: number;
  /** Bumped each time the entry is re-armed (a status change); an acknowledgement only removes what it saw. */
  generation: number;
  attempts: number;
  message: MessageInput;
}

/** The largest page `page()` serves. */
export const MAX_HISTORY_PAGE = 1000;

interface MessageRow {
  seq: number;
  conversation_id: string;
  message_id: string;
  direction: 'incoming' | 'outgoing';
  sender_uri: string;
  text: string;
  timestamp: number;
  status: MessageStatus;
}

interface RecordRow {
  id: string;
  peer_uri: string;
  peer_display_name: string;
  last_message_text: string | null;
  updated_at: number;
  unread_count: number;
  store_cursor: string | null;
}

interface Pending {
  message: ChatMessage;
  /** True for a new message, false for a status change of a written one. */
  insert: boolean;
}

interface CachedRecord {
  record: ConversationRecord;
  storeCursor: string | null;
}

const STATUSES: ReadonlySet<string> = new Set(MESSAGE_STATUSES);
const COLUMNS = 'seq, conversation_id, message_id, direction, sender_uri, text, timestamp, status';
/** `MERGE_RANK` as SQL, for the upsert that only moves a status forward. */
const RANK_SQL = (col: string): string => `CASE ${col} ${Object.entries(MERGE_RANK).map(([status, rank]) => `WHEN '${status}' THEN ${rank}`).join(' ')} END`;

/** Where an account's history lives in a device's data folder. */
export function historyPath(dataDir: string, aor: string): string {
  return join(dataDir, 'history', `${encodeURIComponent(aor.toLowerCase())}.sqlite`);
}

/** The SQLite `MessageHistory`. */
export class SqliteMessageHistory extends TypedEmitter<SqliteMessageHistoryEvents> implements MessageHistory {
  private readonly s;
  private readonly records = new Map<string, CachedRecord>();
  private readonly dirtyRecords = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private readonly scheduler: FlushScheduler;
  private readonly maxPending: number;
  private depositing: boolean;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: SqliteMessageHistoryOptions,
  ) {
    super();
    this.depositing = options.deposit ?? false;
    this.maxPending = options.maxPending ?? 500;
    this.scheduler = new FlushScheduler({ run: () => this.write(), delayMs: options.flushDelayMs ?? 5, onError: (e) => this.emit('error', e) });
    this.s = {
      byId: db.prepare<[string, string], MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND message_id = ?`),
      exists: db.prepare<[string, string], { seq: number }>('SELECT seq FROM messages WHERE conversation_id = ? AND message_id = ?'),
      position: db.prepare<[string, string], { timestamp: number; seq: number }>('SELECT timestamp, seq FROM messages WHERE conversation_id = ? AND message_id = ?'),
      older: db.prepare<[string, number, number, number], MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND (timestamp, seq) < (?, ?) ORDER BY timestamp DESC, seq DESC LIMIT ?`,
      ),
      newer: db.prepare<[string, number, number], MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND (timestamp, seq) > (?, ?) ORDER BY timestamp ASC, seq ASC`,
      ),
      upsert: db.prepare<[string, string, string, string, string, number, string], { seq: number }>(
        `INSERT INTO messages (conversation_id, message_id, direction, sender_uri, text, timestamp, status) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id, message_id) DO UPDATE SET status = excluded.status
           WHERE ${RANK_SQL('excluded.status')} > ${RANK_SQL('messages.status')}
         RETURNING seq`,
      ),
      setStatus: db.prepare<[string, string, string], { seq: number }>('UPDATE messages SET status = ? WHERE conversation_id = ? AND message_id = ? RETURNING seq'),
      saveRecord: db.prepare<[string, string, string, string | null, number, number, string | null]>(
        `INSERT INTO conversations (id, peer_uri, peer_display_name, last_message_text, updated_at, unread_count, store_cursor) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET peer_uri = excluded.peer_uri, peer_display_name = excluded.peer_display_name,
           last_message_text = excluded.last_message_text, updated_at = excluded.updated_at, unread_count = excluded.unread_count,
           store_cursor = excluded.store_cursor`,
      ),
      allRecords: db.prepare<[], RecordRow>('SELECT id, peer_uri, peer_display_name, last_message_text, updated_at, unread_count, store_cursor FROM conversations'),
      arm: db.prepare<[number]>(
        `INSERT INTO outbox (message, attempts, next_attempt_at) VALUES (?, 0, 0)
         ON CONFLICT (message) DO UPDATE SET generation = generation + 1, attempts = 0, next_attempt_at = 0`,
      ),
      due: db.prepare<[number, number], MessageRow & { generation: number; attempts: number }>(
        `SELECT ${COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}, o.generation, o.attempts
         FROM outbox o JOIN messages m ON m.seq = o.message WHERE o.next_attempt_at <= ? ORDER BY o.message LIMIT ?`,
      ),
      nextDue: db.prepare<[], { at: number | null }>('SELECT min(next_attempt_at) AS at FROM outbox'),
      outboxSize: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox'),
      acknowledge: db.prepare<[number, number]>('DELETE FROM outbox WHERE message = ? AND generation = ?'),
      defer: db.prepare<[number, number, number]>('UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE message = ? AND generation = ?'),
    };
    for (const r of this.s.allRecords.all()) {
      this.records.set(r.id, {
        record: { id: r.id, peerUri: r.peer_uri, peerDisplayName: r.peer_display_name, lastMessageText: r.last_message_text, updatedAt: r.updated_at, unreadCount: r.unread_count },
        storeCursor: r.store_cursor,
      });
    }
  }

  /** Open (creating and migrating as needed). Throws when the file cannot be opened or is newer than this code. */
  static open(options: SqliteMessageHistoryOptions): SqliteMessageHistory {
    if (!URI_PATTERN.test(options.self)) throw new StoreInputError('self must be a sip:, sips: or tel: URI');
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    try {
      if (options.path !== ':memory:') {
        const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal') throw new Error(`cannot enable WAL (journal_mode is ${String(mode)})`);
      }
      // NORMAL in WAL mode: a committed batch survives a crash of the app; the Message Store is the backup.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrateHistory(db);
      return new SqliteMessageHistory(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Turn deposit mode on or off (the user's Conversation Server is a proxy: the device deposits). */
  setDepositing(on: boolean): void {
    this.depositing = on;
  }

  /** How many writes wait for the next batch. */
  get pendingWrites(): number {
    return this.pending.size + this.dirtyRecords.size;
  }

  append(message: ChatMessage): boolean {
    this.assertOpen();
    checkMessage(message);
    const k = key(message.conversationId, message.id);
    if (this.pending.get(k)?.insert || this.s.exists.get(message.conversationId, message.id) !== undefined) return false;
    this.pending.set(k, { message: { ...message }, insert: true });
    this.scheduler.schedule(this.pending.size >= this.maxPending);
    return true;
  }

  get(conversationId: string, messageId: string): ChatMessage | undefined {
    this.assertOpen();
    const p = this.pending.get(key(conversationId, messageId));
    if (p !== undefined) return { ...p.message };
    const row = this.s.byId.get(conversationId, messageId);
    return row === undefined ? undefined : toChat(row);
  }

  setStatus(conversationId: string, messageId: string, status: MessageStatus): ChatMessage | undefined {
    this.assertOpen();
    if (!STATUSES.has(status)) throw new StoreInputError(`status ${String(status)} is not a message status`);
    const k = key(conversationId, messageId);
    const p = this.pending.get(k);
    if (p !== undefined) {
      p.message.status = status;
      return { ...p.message };
    }
    const current = this.get(conversationId, messageId);
    if (current === undefined) return undefined;
    const updated = { ...current, status };
    this.pending.set(k, { message: updated, insert: false });
    this.scheduler.schedule(this.pending.size >= this.maxPending);
    return { ...updated };
  }

  page(conversationId: string, query: MessagePageQuery): MessagePage {
    this.assertOpen();
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_HISTORY_PAGE) {
      throw new RangeError(`page limit must be an integer from 1 to ${MAX_HISTORY_PAGE} (got ${query.limit})`);
    }
    this.flushPending();
    let from = { timestamp: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER };
    if (query.before !== undefined) {
      const at = this.s.position.get(conversationId, query.before);
      if (at === undefined) throw new RangeError(`no message ${JSON.stringify(query.before)} in conversation ${conversationId}`);
      from = at;
    }
    const rows = this.s.older.all(conversationId, from.timestamp, from.seq, query.limit + 1);
    return { messages: rows.slice(0, query.limit).map(toChat), hasMore: rows.length > query.limit };
  }

  since(conversationId: string, afterMessageId: string | undefined): ChatMessage[] {
    this.assertOpen();
    this.flushPending();
    const at = afterMessageId === undefined ? undefined : this.s.position.get(conversationId, afterMessageId);
    return this.s.newer.all(conversationId, at?.timestamp ?? Number.MIN_SAFE_INTEGER, at?.seq ?? 0).map(toChat);
  }

  saveConversation(record: ConversationRecord): void {
    this.assertOpen();
    if (!ID_PATTERN.test(record.id)) throw new StoreInputError('conversation id is malformed');
    if (!Number.isFinite(record.updatedAt) || !Number.isInteger(record.unreadCount) || record.unreadCount < 0) {
      throw new StoreInputError('conversation record has a bad updatedAt or unreadCount');
    }
    const cached = this.records.get(record.id);
    this.records.set(record.id, { record: { ...record }, storeCursor: cached?.storeCursor ?? null });
    this.dirtyRecords.add(record.id);
    this.scheduler.schedule();
  }

  conversation(conversationId: string): ConversationRecord | undefined {
    const r = this.records.get(conversationId);
    return r === undefined ? undefined : { ...r.record };
  }

  conversations(): ConversationRecord[] {
    return [...this.records.values()].map((r) => ({ ...r.record })).sort((a, b) => b.updatedAt - a.updatedAt);
  }

  // ─── Sync with the Message Store ────────────────────────────────────────────────────────────────────────

  /** The store cursor after the last message fetched for this conversation, or null (fetch from the start). */
  storeCursor(conversationId: string): string | null {
    return this.records.get(conversationId)?.storeCursor ?? null;
  }

  /**
   * Merge a page fetched from the Message Store and advance the conversation's store cursor, in one
   * transaction. Creates the conversation record when this device did not know it (a new device).
   * Returns the messages that were new here, in page order. Throws `StoreInputError` (merging nothing) when
   * a message is malformed or belongs to another conversation.
   */
  mergeFromStore(conversationId: string, stored: readonly StoredMessage[], cursor: string | null): ChatMessage[] {
    this.assertOpen();
    this.flushPending();
    const added: ChatMessage[] = [];
    const run = this.db.transaction(() => {
      for (const [i, m] of stored.entries()) {
        validateMessage(m, i); // what came over the network is checked like a deposit
        if (m.conversationId !== conversationId) throw new StoreInputError(`message ${m.messageId} belongs to another conversation`);
        const chat = fromStored(m);
        const isNew = this.s.exists.get(conversationId, chat.id) === undefined;
        this.s.upsert.get(chat.conversationId, chat.id, chat.direction, chat.senderUri, chat.text, chat.timestamp, chat.status);
        if (isNew) added.push(chat);
      }
      const last = stored[stored.length - 1];
      const cached = this.records.get(conversationId);
      const record: ConversationRecord = cached?.record ?? {
        id: conversationId,
        peerUri: last === undefined ? '' : peerOf(last),
        peerDisplayName: '',
        lastMessageText: null,
        updatedAt: 0,
        unreadCount: 0,
      };
      const newest = added.reduce<ChatMessage | undefined>((a, b) => (a === undefined || b.timestamp >= a.timestamp ? b : a), undefined);
      const next = newest !== undefined && newest.timestamp >= record.updatedAt ? { ...record, lastMessageText: newest.text, updatedAt: newest.timestamp } : record;
      const storeCursor = cursor ?? cached?.storeCursor ?? null;
      if (cached === undefined && last === undefined) return; // nothing to remember
      this.s.saveRecord.run(next.id, next.peerUri, next.peerDisplayName, next.lastMessageText, next.updatedAt, next.unreadCount, storeCursor);
      this.records.set(conversationId, { record: next, storeCursor });
    });
    run.immediate();
    return added;
  }

  /**
   * Outbox entries due at `now`, oldest first, at most `limit`. Writes a pending batch first. An entry the
   * store would refuse (e.g. a body over its size limit) is dropped from the outbox and reported as `error`:
   * retrying it could never succeed.
   */
  dueOutbox(now: number, limit: number): OutboxEntry[] {
    this.assertOpen();
    this.flushPending();
    const entries: OutboxEntry[] = [];
    const refused: Pick<OutboxEntry, 'seq' | 'generation'>[] = [];
    for (const row of this.s.due.all(now, limit)) {
      const peer = this.records.get(row.conversation_id)?.record.peerUri ?? '';
      const message = toDeposit(toChat(row), this.options.self, URI_PATTERN.test(peer) ? peer : this.options.self);
      try {
        validateMessage(message, entries.length);
        entries.push({ seq: row.seq, generation: row.generation, attempts: row.attempts, message });
      } catch (error) {
        refused.push({ seq: row.seq, generation: row.generation });
        this.emit('error', error);
      }
    }
    if (refused.length > 0) this.acknowledgeOutbox(refused);
    return entries;
  }

  /** When the next outbox entry falls due, or undefined when the outbox is empty. */
  nextOutboxAttempt(): number | undefined {
    this.assertOpen();
    return this.s.nextDue.get()?.at ?? undefined;
  }

  /** How many messages wait in the outbox (written batches only). */
  outboxSize(): number {
    this.assertOpen();
    return this.s.outboxSize.get()?.n ?? 0;
  }

  /** The store acknowledged these entries: remove them (unless re-armed meanwhile). */
  acknowledgeOutbox(entries: readonly Pick<OutboxEntry, 'seq' | 'generation'>[]): void {
    this.assertOpen();
    this.db.transaction(() => {
      for (const e of entries) this.s.acknowledge.run(e.seq, e.generation);
    }).immediate();
  }

  /** The deposit failed: try these entries again at `nextAttemptAt` (their attempt count goes up). */
  deferOutbox(entries: readonly Pick<OutboxEntry, 'seq' | 'generation'>[], nextAttemptAt: number): void {
    this.assertOpen();
    this.db.transaction(() => {
      for (const e of entries) this.s.defer.run(nextAttemptAt, e.seq, e.generation);
    }).immediate();
  }

  // ─── Lifecycle ──────────────────────────────────────────────────────────────────────────────────────────

  /** Write every pending change now (one transaction). Throws when the write fails; the batch stays pending. */
  flush(): void {
    this.assertOpen();
    this.scheduler.flush();
  }

  /** Flush and release the database. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.scheduler.flush();
    } finally {
      this.closed = true;
      this.scheduler.cancel();
      this.db.close();
    }
  }

  private flushPending(): void {
    if (this.pending.size > 0 || this.dirtyRecords.size > 0) this.scheduler.flush();
  }

  /** The batch: records, then messages (with their outbox entries), in one IMMEDIATE transaction. */
  private write(): void {
    if (this.closed || (this.pending.size === 0 && this.dirtyRecords.size === 0)) return;
    let armed = 0;
    this.db.transaction(() => {
      for (const id of this.dirtyRecords) {
        const c = this.records.get(id);
        if (c === undefined) continue;
        const r = c.record;
        this.s.saveRecord.run(r.id, r.peerUri, r.peerDisplayName, r.lastMessageText, r.updatedAt, r.unreadCount, c.storeCursor);
      }
      for (const { message: m, insert } of this.pending.values()) {
        const row = insert
          ? this.s.upsert.get(m.conversationId, m.id, m.direction, m.senderUri, m.text, m.timestamp, m.status)
          : this.s.setStatus.get(m.status, m.conversationId, m.id);
        if (row !== undefined && this.depositing) {
          this.s.arm.run(row.seq);
          armed++;
        }
      }
    }).immediate();
    // Only after the commit: a failed transaction leaves the batch pending for the next attempt.
    this.pending.clear();
    this.dirtyRecords.clear();
    if (armed > 0) this.emit('outbox');
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the history is closed');
  }
}

function key(conversationId: string, messageId: string): string {
  return `${conversationId}\u0000${messageId}`;
}

function toChat(row: MessageRow): ChatMessage {
  return {
    id: row.message_id,
    conversationId: row.conversation_id,
    direction: row.direction,
    senderUri: row.sender_uri,
    text: row.text,
    timestamp: row.timestamp,
    status: row.status,
  };
}

/** Refuse what could not be stored or deposited, with the field at fault. */
function checkMessage(m: ChatMessage): void {
  if (typeof m.conversationId !== 'string' || !ID_PATTERN.test(m.conversationId)) throw new StoreInputError('conversationId is malformed');
  if (typeof m.id !== 'string' || !ID_PATTERN.test(m.id)) throw new StoreInputError('message id is malformed');
  if (m.direction !== 'incoming' && m.direction !== 'outgoing') throw new StoreInputError('direction must be incoming or outgoing');
  if (typeof m.senderUri !== 'string' || !URI_PATTERN.test(m.senderUri)) throw new StoreInputError('senderUri is malformed');
  if (typeof m.text !== 'string') throw new StoreInputError('text must be a string');
  if (!Number.isSafeInteger(m.timestamp)) throw new StoreInputError('timestamp must be epoch milliseconds');
  if (!STATUSES.has(m.status)) throw new StoreInputError(`status ${String(m.status)} is not a message status`);
}
