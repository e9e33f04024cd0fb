import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_VERSION, migrate, MIGRATIONS, schemaVersion, type Migration } from './migrations';

const open: Database.Database[] = [];
function memory(): Database.Database {
  const db = new Database(':memory:');
  open.push(db);
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function columns(db: Database.Database, table: string): string[] {
  return db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((r) => r.name);
}

describe('migrate', () => {
  it('takes an empty database to the latest version', () => {
    const db = memory();
    expect(migrate(db)).toEqual({ from: 0, to: LATEST_VERSION });
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(columns(db, 'messages')).toContain('delivery_at');
  });

  it('is a no-op on an up-to-date database', () => {
    const db = memory();
    migrate(db);
    expect(migrate(db)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION });
  });

  it.each(MIGRATIONS.map((m) => m.version).filter((v) => v < LATEST_VERSION))('takes a database at version %i to the latest, keeping its rows', (version) => {
    const db = memory();
    migrate(db, MIGRATIONS.slice(0, version));
    expect(schemaVersion(db)).toBe(version);
    db.exec(`INSERT INTO conversations (id, owner, conversation_id, last_seq, activity) VALUES (1, 'sip:alice@a.example', 'c', 1, 1)`);
    db.exec(`INSERT INTO messages (conversation, seq, message_id, sender, recipient, direction, date_time, content_type, body, delivery, stored_at)
             VALUES (1, 1, 'm', 'sip:alice@a.example', 'sip:bob@b.example', 'out', '2026-01-01T00:00:00Z', 'text/plain', 'kept', 'none', 0)`);
    expect(migrate(db)).toEqual({ from: version, to: LATEST_VERSION });
    const row = db.prepare<[], { body: string; delivery_at: string | null }>('SELECT body, delivery_at FROM messages').get();
    expect(row).toEqual({ body: 'kept', delivery_at: null });
  });

  it('rolls a failing migration back entirely and keeps the previous version', () => {
    const db = memory();
    const failing: Migration = {
      version: LATEST_VERSION + 1,
      description: 'half-done step',
      up(d) {
        d.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('boom');
      },
    };
    expect(() => migrate(db, [...MIGRATIONS, failing])).toThrow('boom');
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'half_done'`).get()).toBeUndefined();
  });

  it('refuses a database written by newer software', () => {
    const db = memory();
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    expect(() => migrate(db)).toThrow(/newer than this software/);
  });

  it('refuses a misnumbered list', () => {
    const db = memory();
    const [first] = MIGRATIONS;
    expect(() => migrate(db, [{ ...first!, version: 2 }])).toThrow(/expected 1/);
    expect(schemaVersion(db)).toBe(0);
  });
});
