/**
 * The Message Store on SQLite (better-sqlite3): WAL journal, `synchronous=FULL` by default so that a deposit,
 * once `deposit()` has returned, survives a crash of the process and of the machine (with NORMAL it survives a
 * crash of the process only). Every deposit is one IMMEDIATE transaction; statements are prepared once.
 */
import Database from 'better-sqlite3';
import {
  MAX_PAGE,
  type ConversationSummary,
  type DeliveryState,
  type DeliveryUpdate,
  type DepositOutcome,
  type DepositResult,
  type MessageInput,
  type MessagePage,
  type MessageStore,
  type StoredMessage,
} from './message-store';
import {
  StoreInputError,
  validateBatch,
  validateConversationId,
  validateCursor,
  validateDeliveryUpdates,
  validateLimit,
  validateOwner,
} from '../../protocol/store/store-validation';
import { migrate } from './migrations';

/** Options of `SqliteMessageStore.open`. */
export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** FULL (default): durable across power loss. NORMAL: across process crashes only, faster. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Clock for `storedAt`, for tests. */
  now?: () => number;
}

const RANK: Readonly<Record<DeliveryState, number>> = { none: 0, failed: 1, delivered: 2, displayed: 3 };
const RANK_SQL = `CASE delivery WHEN 'none' THEN 0 WHEN 'failed' THEN 1 WHEN 'delivered' THEN 2 ELSE 3 END`;

interface ConversationRow {
  id: number;
  last_seq: number;
}

interface MessageRow {
  seq: number;
  message_id: string;
  sender: string;
  recipient: string;
  direction: 'in' | 'out';
  date_time: string;
  content_type: string;
  body: string;
  delivery: DeliveryState;
  stored_at: number;
  delivery_at: string | null;
}

interface SummaryRow extends MessageRow {
  conversation_id: string;
  activity: number;
  last_seq: number;
}

const MESSAGE_COLUMNS = 'm.seq, m.message_id, m.sender, m.recipient, m.direction, m.date_time, m.content_type, m.body, m.delivery, m.stored_at, m.delivery_at';

/** SQLite implementation of `MessageStore`. */
export class SqliteMessageStore implements MessageStore {
  private readonly statements;
  private readonly now: () => number;
  private closed = false;

  private constructor(private readonly db: Database.Database, now: () => number) {
    this.now = now;
    this.statements = {
      findConversation: db.prepare<[string, string], ConversationRow>('SELECT id, last_seq FROM conversations WHERE owner = ? AND conversation_id = ?'),
      insertConversation: db.prepare<[string, string], { id: number }>('INSERT INTO conversations (owner, conversation_id) VALUES (?, ?) RETURNING id'),
      maxActivity: db.prepare<[string], { a: number | null }>('SELECT max(activity) AS a FROM conversations WHERE owner = ?'),
      touchConversation: db.prepare<[number, number, number]>('UPDATE conversations SET last_seq = ?, activity = ? WHERE id = ?'),
      findMessage: db.prepare<[number, string], { seq: number; delivery: DeliveryState }>('SELECT seq, delivery FROM messages WHERE conversation = ? AND message_id = ?'),
      insertMessage: db.prepare<[number, number, string, string, string, string, string, string, string, string, number]>(
        `INSERT INTO messages (conversation, seq, message_id, sender, recipient, direction, date_time, content_type, body, delivery, stored_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      advanceDelivery: db.prepare<{ conversation: number; messageId: string; state: string; rank: number; at: string | null }>(
        `UPDATE messages SET delivery = @state, delivery_at = coalesce(@at, delivery_at)
         WHERE conversation = @conversation AND message_id = @messageId AND ${RANK_SQL} < @rank`,
      ),
      after: db.prepare<[number, number, number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conversation = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?`),
      before: db.prepare<[number, number, number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conversation = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`),
      list: db.prepare<[string, number, number], SummaryRow>(
        `SELECT c.conversation_id, c.activity, c.last_seq, ${MESSAGE_COLUMNS}
         FROM conversations c JOIN messages m ON m.conversation = c.id AND m.seq = c.last_seq
         WHERE c.owner = ? AND c.activity < ? ORDER BY c.activity DESC LIMIT ?`,
      ),
    };
  }

  /** Open (creating if needed) and migrate a store. Throws when the file cannot be opened or is newer than this code. */
  static open(options: SqliteStoreOptions): SqliteMessageStore {
    const db = new Database(options.path);
    try {
      if (options.path !== ':memory:') {
        const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal') throw new Error(`cannot enable WAL (journal_mode is ${String(mode)})`);
      }
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      return new SqliteMessageStore(db, options.now ?? Date.now);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  deposit(owner: string, messages: readonly MessageInput[]): DepositResult {
    this.assertOpen();
    validateOwner(owner);
    const batch = validateBatch(messages);
    const s = this.statements;
    const run = this.db.transaction((): DepositResult => {
      const conversations = new Map<string, ConversationRow>();
      let activity = (s.maxActivity.get(owner)?.a ?? 0) + 1;
      const storedAt = this.now();
      const outcomes: DepositOutcome[] = [];
      let stored = 0;
      for (const m of batch) {
        let conv = conversations.get(m.conversationId) ?? s.findConversation.get(owner, m.conversationId);
        if (conv === undefined) {
          const inserted = s.insertConversation.get(owner, m.conversationId);
          if (inserted === undefined) throw new Error('conversation insert returned no id');
          conv = { id: inserted.id, last_seq: 0 };
        }
        conversations.set(m.conversationId, conv);
        const existing = s.findMessage.get(conv.id, m.messageId);
        const delivery = m.delivery ?? 'none';
        if (existing !== undefined) {
          if (RANK[delivery] > RANK[existing.delivery]) {
            s.advanceDelivery.run({ conversation: conv.id, messageId: m.messageId, state: delivery, rank: RANK[delivery], at: null });
          }
          outcomes.push({ conversationId: m.conversationId, messageId: m.messageId, status: 'duplicate', seq: existing.seq });
          continue;
        }
        const seq = conv.last_seq + 1;
        s.insertMessage.run(conv.id, seq, m.messageId, m.sender, m.recipient, m.direction, m.dateTime, m.contentType, m.body, delivery, storedAt);
        s.touchConversation.run(seq, activity++, conv.id);
        conv.last_seq = seq;
        stored++;
        outcomes.push({ conversationId: m.conversationId, messageId: m.messageId, status: 'stored', seq });
      }
      return { stored, duplicates: outcomes.length - stored, outcomes };
    });
    return run.immediate();
  }

  fetchAfter(owner: string, conversationId: string, options: { after?: number; limit?: number } = {}): MessagePage {
    this.assertOpen();
    const after = validateCursor(options.after, 'after') ?? 0;
    const limit = validateLimit(options.limit, MAX_PAGE);
    const conv = this.conversation(owner, conversationId);
    if (conv === undefined) return { messages: [], cursor: null, hasMore: false };
    const rows = this.statements.after.all(conv.id, after, limit + 1);
    return this.page(owner, conversationId, rows, limit);
  }

  fetchBefore(owner: string, conversationId: string, options: { before?: number; limit?: number } = {}): MessagePage {
    this.assertOpen();
    const before = validateCursor(options.before, 'before') ?? Number.MAX_SAFE_INTEGER;
    const limit = validateLimit(options.limit, MAX_PAGE);
    const conv = this.conversation(owner, conversationId);
    if (conv === undefined) return { messages: [], cursor: null, hasMore: false };
    const rows = this.statements.before.all(conv.id, before, limit + 1);
    return this.page(owner, conversationId, rows, limit);
  }

  hasConversation(owner: string, conversationId: string): boolean {
    this.assertOpen();
    return this.conversation(owner, conversationId) !== undefined;
  }

  listConversations(owner: string, options: { before?: number; limit?: number } = {}): ConversationSummary[] {
    this.assertOpen();
    validateOwner(owner);
    const before = validateCursor(options.before, 'before') ?? Number.MAX_SAFE_INTEGER;
    const limit = validateLimit(options.limit, MAX_PAGE);
    return this.statements.list.all(owner, before, limit).map((row) => ({
      conversationId: row.conversation_id,
      messageCount: row.last_seq,
      activity: row.activity,
      lastMessage: toMessage(owner, row.conversation_id, row),
    }));
  }

  updateDelivery(owner: string, updates: readonly DeliveryUpdate[]): number {
    this.assertOpen();
    validateOwner(owner);
    const list = validateDeliveryUpdates(updates);
    const s = this.statements;
    const run = this.db.transaction((): number => {
      let changed = 0;
      for (const u of list) {
        const conv = s.findConversation.get(owner, u.conversationId);
        if (conv === undefined) continue;
        changed += s.advanceDelivery.run({ conversation: conv.id, messageId: u.messageId, state: u.state, rank: RANK[u.state], at: u.at ?? null }).changes;
      }
      return changed;
    });
    return run.immediate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private conversation(owner: string, conversationId: string): ConversationRow | undefined {
    validateOwner(owner);
    validateConversationId(conversationId);
    return this.statements.findConversation.get(owner, conversationId);
  }

  private page(owner: string, conversationId: string, rows: MessageRow[], limit: number): MessagePage {
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit).map((r) => toMessage(owner, conversationId, r));
    const last = messages[messages.length - 1];
    return { messages, cursor: last === undefined ? null : last.seq, hasMore };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the message store is closed');
  }
}

function toMessage(owner: string, conversationId: string, r: MessageRow): StoredMessage {
  return {
    owner,
    conversationId,
    seq: r.seq,
    messageId: r.message_id,
    sender: r.sender,
    recipient: r.recipient,
    direction: r.direction,
    dateTime: r.date_time,
    contentType: r.content_type,
    body: r.body,
    delivery: r.delivery,
    storedAt: r.stored_at,
    deliveryAt: r.delivery_at,
  };
}
