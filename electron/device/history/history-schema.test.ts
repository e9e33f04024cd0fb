import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { schemaVersion } from '../../../protocol/store/schema-migrations';
import { HISTORY_MIGRATIONS, HISTORY_SCHEMA_VERSION, migrateHistory } from './history-schema';

let databases: Database.Database[] = [];
afterEach(() => {
  databases.forEach((db) => db.close());
  databases = [];
});
/** A fresh in-memory database, closed after the test. */
const memory = (): Database.Database => databases[databases.push(new Database(':memory:')) - 1]!;

const columns = (db: Database.Database, table: string): string[] => db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];

describe('the local history schema', () => {
  it('takes an empty database to the latest version', () => {
    const db = memory();
    expect(migrateHistory(db)).toEqual({ from: 0, to: HISTORY_SCHEMA_VERSION });
    expect(schemaVersion(db)).toBe(2);
    expect(columns(db, 'outbox')).toEqual(['message', 'generation', 'attempts', 'next_attempt_at']);
  });

  it('version 1 stores records and messages, one per imdn.Message-ID per conversation', () => {
    const db = memory();
    migrateHistory(db, HISTORY_MIGRATIONS.slice(0, 1));
    const insert = db.prepare(`INSERT INTO messages (conversation_id, message_id, direction, sender_uri, text, timestamp, status) VALUES (?, 'm', 'incoming', 'sip:b@b', 't', 1, 'delivered')`);
    insert.run('c');
    insert.run('d');
    expect(() => insert.run('c')).toThrow(/UNIQUE/);
    expect(columns(db, 'conversations')).not.toContain('store_cursor');
  });

  it('version 2 upgrades a version 1 database keeping its rows, and adds the cursor and the outbox', () => {
    const db = memory();
    migrateHistory(db, HISTORY_MIGRATIONS.slice(0, 1));
    db.exec(`INSERT INTO conversations VALUES ('c', 'sip:b@b', 'Bob', 'hi', 1, 0)`);
    db.exec(`INSERT INTO messages (conversation_id, message_id, direction, sender_uri, text, timestamp, status) VALUES ('c', 'm', 'incoming', 'sip:b@b', 'kept', 1, 'delivered')`);
    expect(migrateHistory(db)).toEqual({ from: 1, to: 2 });
    expect(db.prepare('SELECT text FROM messages').pluck().get()).toBe('kept');
    expect(db.prepare('SELECT store_cursor FROM conversations').pluck().get()).toBeNull();
    db.exec('INSERT INTO outbox (message) VALUES (1)');
    db.pragma('foreign_keys = ON');
    db.exec('DELETE FROM messages');
    expect(db.prepare('SELECT count(*) FROM outbox').pluck().get()).toBe(0);
  });

  it('refuses a database written by a newer version of the app', () => {
    const db = memory();
    db.pragma('user_version = 3');
    expect(() => migrateHistory(db)).toThrow(/newer than this software supports/);
  });

  it('rolls a failing step back, leaving the previous version', () => {
    const db = memory();
    const broken = [...HISTORY_MIGRATIONS, { version: 3, description: 'broken', up: (d: Database.Database) => d.exec('CREATE TABLE x (a); SELECT nonsense FROM nowhere') }];
    expect(() => migrateHistory(db, broken)).toThrow(/no such table/);
    expect(schemaVersion(db)).toBe(2);
    expect(columns(db, 'x')).toEqual([]);
  });
});
