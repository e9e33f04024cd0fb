/**
 * Schema migrations of the SQLite Message Store (run by `protocol/store/schema-migrations.ts`): a numbered
 * list, applied in order, each in its own transaction together with the bump of `PRAGMA user_version`.
 *
 * To change the schema, append a migration with the next number; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { migrate as runMigrations, type Migration as SchemaMigration } from '../../protocol/store/schema-migrations';

export { schemaVersion } from '../../protocol/store/schema-migrations';

/** One schema step of the Message Store. */
export type Migration = SchemaMigration<Database.Database>;

/** The store's migrations, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'conversations per owner and their messages keyed by imdn.Message-ID',
    up(db) {
      db.exec(`
        CREATE TABLE conversations (
          id              INTEGER PRIMARY KEY,
          owner           TEXT NOT NULL,
          conversation_id TEXT NOT NULL,
          last_seq        INTEGER NOT NULL DEFAULT 0,
          activity        INTEGER NOT NULL DEFAULT 0,
          UNIQUE (owner, conversation_id)
        ) STRICT;
        CREATE INDEX conversations_by_activity ON conversations (owner, activity);
        CREATE TABLE messages (
          conversation INTEGER NOT NULL REFERENCES conversations (id),
          seq          INTEGER NOT NULL,
          message_id   TEXT NOT NULL,
          sender       TEXT NOT NULL,
          recipient    TEXT NOT NULL,
          direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
          date_time    TEXT NOT NULL,
          content_type TEXT NOT NULL,
          body         TEXT NOT NULL,
          delivery     TEXT NOT NULL CHECK (delivery IN ('none', 'failed', 'delivered', 'displayed')),
          stored_at    INTEGER NOT NULL,
          PRIMARY KEY (conversation, seq),
          UNIQUE (conversation, message_id)
        ) STRICT, WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'when the delivery state last changed (the IMDN DateTime)',
    up(db) {
      db.exec('ALTER TABLE messages ADD COLUMN delivery_at TEXT');
    },
  },
];

/** The schema version this code writes. */
export const LATEST_VERSION = MIGRATIONS.length;

/** Bring the store's database to `LATEST_VERSION` (or to the last of `migrations`, for tests). */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  return runMigrations(db, migrations);
}
