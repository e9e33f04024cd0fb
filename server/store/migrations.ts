/**
 * Schema migrations of the SQLite Message Store: a numbered list, applied in order, each in its own
 * transaction together with the bump of `PRAGMA user_version` (the schema version), so that a crash or a
 * failing step leaves the database at the previous version, untouched.
 *
 * To change the schema, append a migration with the next number; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';

/** One schema step. */
export interface Migration {
  /** 1, 2, 3…: the user_version after this step. */
  version: number;
  description: string;
  up(db: Database.Database): void;
}

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

/** The database's schema version (`PRAGMA user_version`). */
export function schemaVersion(db: Database.Database): number {
  const v: unknown = db.pragma('user_version', { simple: true });
  if (typeof v !== 'number') throw new Error('cannot read PRAGMA user_version');
  return v;
}

/**
 * Bring the database to the latest version. Throws when the database is newer than this code, or when the
 * list is not numbered 1, 2, 3…; a failing migration rolls back and rethrows.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}`);
  });
  const from = schemaVersion(db);
  if (from > migrations.length) {
    throw new Error(`database schema version ${from} is newer than this software supports (${migrations.length})`);
  }
  for (const m of migrations) {
    const step = db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (schemaVersion(db) >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    });
    step.immediate();
  }
  return { from, to: schemaVersion(db) };
}
