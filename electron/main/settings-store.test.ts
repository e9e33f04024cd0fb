import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../api/payloads';
import { SettingsStore, type SecretCipher } from './settings-store';

const ACCOUNT: AccountConfig = {
  uri: 'sip:alice@a.example', displayName: 'Alice', deviceName: 'Laptop', password: 'pa55word',
  websocketUrl: 'wss://core.a.example:443/ws', transferServiceUri: 'sip:cpm-transfer@a.example',
};

/** A reversible stand-in for safeStorage (test double), with a switch for "no keychain". */
function cipher(available = true): SecretCipher {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (plain) => Buffer.from(`x${Buffer.from(plain).toString('hex')}`),
    decryptString: (data) => Buffer.from(data.toString().slice(1), 'hex').toString(),
  };
}

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpm-settings-'));
  file = join(dir, 'profile', 'settings.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('profile settings', () => {
  it('start with no account and auto-accept off', () => {
    const store = new SettingsStore(file, cipher());
    expect(store.autoAccept).toBe(false);
    expect(store.account()).toBeNull();
    expect(store.loadProblem).toBeNull();
  });

  it('keep the account across restarts with the password only in encrypted form', () => {
    new SettingsStore(file, cipher()).saveAccount(ACCOUNT);
    expect(readFileSync(file, 'utf8')).not.toContain('pa55word');
    expect(new SettingsStore(file, cipher()).account()).toEqual(ACCOUNT);
  });

  it('keep the Message Store and the deposit switch with the account, and refuse a stored store URL that is not http(s)', () => {
    const withStore: AccountConfig = { ...ACCOUNT, messageStoreUrl: 'https://store.a.example/v1', depositHistory: true };
    new SettingsStore(file, cipher()).saveAccount(withStore);
    expect(new SettingsStore(file, cipher()).account()).toEqual(withStore);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { account: Record<string, unknown> };
    writeFileSync(file, JSON.stringify({ ...stored, account: { ...stored.account, messageStoreUrl: 'file:///etc/passwd' } }));
    const tampered = new SettingsStore(file, cipher());
    expect(tampered.loadProblem).toMatch(/unknown layout/);
    expect(tampered.account()).toBeNull();
  });

  it('keep the password for this run only when the OS has no encryption', () => {
    const store = new SettingsStore(file, cipher(false));
    expect(store.saveAccount(ACCOUNT)).toEqual({ passwordPersisted: false });
    expect(store.account()).toEqual(ACCOUNT);
    const next = new SettingsStore(file, cipher(false));
    expect(next.hasAccount).toBe(true);
    expect(next.account()).toBeNull();
  });

  it('start from the defaults, saying why, when the file is damaged or edited into something else', () => {
    new SettingsStore(file, cipher()).saveAccount(ACCOUNT);
    writeFileSync(file, '{ "version": 1, "autoAccept": true, ');
    expect(new SettingsStore(file, cipher()).loadProblem).toMatch(/not valid JSON/);
    const stored = JSON.parse(JSON.stringify({ version: 1, autoAccept: true, account: { ...ACCOUNT, password: undefined, uri: 'http://x', encryptedPassword: null } }));
    writeFileSync(file, JSON.stringify(stored));
    const store = new SettingsStore(file, cipher());
    expect(store.loadProblem).toMatch(/unknown layout/);
    expect(store.autoAccept).toBe(false);
  });

  it('forget the account on sign-out but keep auto-accept', () => {
    const store = new SettingsStore(file, cipher());
    store.saveAccount(ACCOUNT);
    store.setAutoAccept(true);
    store.forgetAccount();
    const next = new SettingsStore(file, cipher());
    expect(next.hasAccount).toBe(false);
    expect(next.autoAccept).toBe(true);
  });

  it('remember that the account came from "Try it locally", with its device name even without a usable password', () => {
    const store = new SettingsStore(file, cipher(false));
    expect(store.accountSource).toBe('manual');
    store.saveAccount({ ...ACCOUNT, deviceName: 'Desktop' }, 'local-lab');
    const next = new SettingsStore(file, cipher(false));
    expect(next.accountSource).toBe('local-lab');
    expect(next.deviceName).toBe('Desktop');
    expect(next.account()).toBeNull();
    next.forgetAccount();
    expect(new SettingsStore(file, cipher()).accountSource).toBe('manual');
  });

  it('read a file written before the account source existed as a typed-in account, and refuse an unknown source', () => {
    const { password: _p, ...fields } = ACCOUNT;
    mkdirSync(join(dir, 'profile'), { recursive: true });
    writeFileSync(file, JSON.stringify({ version: 1, autoAccept: false, account: { ...fields, encryptedPassword: null } }));
    const store = new SettingsStore(file, cipher());
    expect(store.loadProblem).toBeNull();
    expect(store.accountSource).toBe('manual');
    writeFileSync(file, JSON.stringify({ version: 1, autoAccept: false, account: null, accountSource: 'cloud' }));
    expect(new SettingsStore(file, cipher()).loadProblem).toMatch(/unknown layout/);
  });
});
