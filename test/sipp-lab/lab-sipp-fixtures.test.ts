import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateLabConfig } from '../../server/lab/lab-config';
import { labConfigWithLoadUsers, loadUsers, registrationRows, writeInjectionFile } from './lab-sipp-fixtures';

describe('Feeding SIPp registrations of many users', () => {
  it('adds load users to the default lab people, in a config the lab accepts', () => {
    const config = validateLabConfig(labConfigWithLoadUsers(3));
    expect(config.domains.map((d) => [d.domain, d.users.map((u) => u.user)])).toEqual([
      ['a.example', ['alice', 'carol', 'u0000', 'u0001', 'u0002']],
      ['b.example', ['bob']],
    ]);
    expect(config.domains[0]?.users[3]).toEqual({ user: 'u0001', password: 'u0001-secret' });
  });

  it('lists every user’s first device before anyone’s second, each device with its own instance', () => {
    const rows = registrationRows(loadUsers(2), 'a.example', 2, '127.0.0.1:5999');
    expect(rows.map((r) => [r.user, r.deviceName])).toEqual([
      ['u0000', 'u0000 device 1'],
      ['u0001', 'u0001 device 1'],
      ['u0000', 'u0000 device 2'],
      ['u0001', 'u0001 device 2'],
    ]);
    expect(new Set(rows.map((r) => r.instance)).size).toBe(4);
    expect(rows.every((r) => /^[0-9a-f-]{36}$/.test(r.instance))).toBe(true);
  });

  it('writes a SEQUENTIAL injection file with the fields in the order register-digest.xml reads them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipp-fixtures-'));
    try {
      const file = join(dir, 'rows.csv');
      writeInjectionFile(file, [{ user: 'bob', domain: 'b.example', password: 'bob-secret', instance: 'i-1', deviceName: 'Bob phone', contact: '127.0.0.1:5999' }]);
      expect(readFileSync(file, 'utf8')).toBe('SEQUENTIAL\nbob;b.example;bob-secret;i-1;Bob phone;127.0.0.1:5999\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a value that would split a row (SIPp separates fields with ;)', () => {
    const row = { user: 'bob', domain: 'b.example', password: 'a;b', instance: 'i', deviceName: 'd', contact: 'c' };
    expect(() => writeInjectionFile('/nonexistent/never-written.csv', [row])).toThrow(/"a;b" contains ;/);
  });
});
