import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeSubscriberTable } from './kamailio-server';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-db-'));
  dirs.push(dir);
  return dir;
}

describe('The db_text user table Kamailio authenticates the benchmark users against', () => {
  it('holds one row per user with a plain password for calculate_ha1, next to the version table', () => {
    const dir = scratch();
    writeSubscriberTable(dir, 'a.example', [
      { user: 'alice', password: 'alice-secret' },
      { user: 'u0001', password: 'u0001-secret' },
    ]);
    expect(readFileSync(join(dir, 'subscriber'), 'utf8').split('\n')).toEqual([
      'id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null)',
      '1:alice:a.example:alice-secret::',
      '2:u0001:a.example:u0001-secret::',
      '',
    ]);
    expect(readFileSync(join(dir, 'version'), 'utf8')).toMatch(/^subscriber:7$/m);
  });

  it('refuses a password db_text could not store (":" separates its columns)', () => {
    expect(() => writeSubscriberTable(scratch(), 'a.example', [{ user: 'bob', password: 'a:b' }])).toThrow(/"a:b" contains :/);
  });
});
