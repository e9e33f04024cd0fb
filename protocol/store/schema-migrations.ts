/**
 * Numbered schema migrations for the SQLite databases of both sides (the server's Message Store and the
 * device's local history): applied in order, each in its own IMMEDIATE transaction together with the bump of
 * `PRAGMA user_version` (the schema version), so that a crash or a failing step leaves the database at the
 * previous version, untouched. The database is injected (structurally, better-sqlite3's `Database` fits), so
 * this stays free of Node modules.
 *
 * To change a schema, append a migration with the next number; never edit one that has shipped.
 */

/** The part of a better-sqlite3 `Database` that migrations use. */
export interface MigratableDatabase {
  exec(sql: string): unknown;
  pragma(source: string, options: { simple: true }): unknown;
  transaction<T>(fn: () => T): { immediate(): T };
}

/** One schema step. */
export interface Migration<Db extends MigratableDatabase = MigratableDatabase> {
  /** 1, 2, 3…: the user_version after this step. */
  version: number;
  description: string;
  up(db: Db): void;
}

/** The database's schema version (`PRAGMA user_version`). */
export function schemaVersion(db: MigratableDatabase): number {
  const v = db.pragma('user_version', { simple: true });
  if (typeof v !== 'number') throw new Error('cannot read PRAGMA user_version');
  return v;
}

/**
 * Bring the database to the last version of `migrations`. Throws when the database is newer than this code,
 * or when the list is not numbered 1, 2, 3…; a failing migration rolls back and rethrows.
 */
export function migrate<Db extends MigratableDatabase>(db: Db, migrations: readonly Migration<Db>[]): { from: number; to: number } {
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
      db.pragma(`user_version = ${m.version}`, { simple: true });
    });
    step.immediate();
  }
  return { from, to: schemaVersion(db) };
}
