/**
 * The schema of a device's local history database, as numbered migrations (run by
 * `protocol/store/schema-migrations.ts`; the version is `PRAGMA user_version`).
 *
 * Messages are ordered by (timestamp, seq): the CPIM DateTime, then local arrival. The index
 * `messages_by_time` serves the newest-first page of any conversation as one index range scan, so a
 * 100,000-message thread opens as fast as a short one; `(conversation_id, message_id)` is unique, which is the
 * merge key (RFC 5438 §6.3: receivers drop duplicates by imdn.Message-ID).
 *
 * To change the schema, append a migration with the next number and a test in `history-schema.test.ts`;
 * never edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { migrate, type Migration } from '../../../protocol/store/schema-migrations';

/** One schema step of the local history. */
export type HistoryMigration = Migration<Database.Database>;

/** The local history's migrations, in order. */
export const HISTORY_MIGRATIONS: readonly HistoryMigration[] = [
  {
    version: 1,
    description: 'conversation records and their messages, unique by imdn.Message-ID, indexed by time',
    up(db) {
      db.exec(`
        CREATE TABLE conversations (
          id                TEXT PRIMARY KEY,
          peer_uri          TEXT NOT NULL,
          peer_display_name TEXT NOT NULL,
          last_message_text TEXT,
          updated_at        INTEGER NOT NULL,
          unread_count      INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE messages (
          seq             INTEGER PRIMARY KEY,
          conversation_id TEXT NOT NULL,
          message_id      TEXT NOT NULL,
          direction       TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
          sender_uri      TEXT NOT NULL,
          text            TEXT NOT NULL,
          timestamp       INTEGER NOT NULL,
          status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'displayed', 'failed')),
          UNIQUE (conversation_id, message_id)
        ) STRICT;
        CREATE INDEX messages_by_time ON messages (conversation_id, timestamp, seq);
      `);
    },
  },
  {
    version: 2,
    description: 'sync with the Message Store: per-conversation store cursor, and the durable deposit outbox',
    up(db) {
      db.exec(`
        ALTER TABLE conversations ADD COLUMN store_cursor TEXT;
        CREATE TABLE outbox (
          message         INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
          generation      INTEGER NOT NULL DEFAULT 0,
          attempts        INTEGER NOT NULL DEFAULT 0,
          next_attempt_at INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX outbox_due ON outbox (next_attempt_at);
      `);
    },
  },
];

/** The schema version this code writes. */
export const HISTORY_SCHEMA_VERSION = HISTORY_MIGRATIONS.length;

/** Bring a history database to `HISTORY_SCHEMA_VERSION` (or to the last of `migrations`, for tests). */
export function migrateHistory(db: Database.Database, migrations: readonly HistoryMigration[] = HISTORY_MIGRATIONS): { from: number; to: number } {
  return migrate(db, migrations);
}
