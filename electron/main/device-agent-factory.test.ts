import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_COMMAND_NAMES } from '../api/device-api';
import type { AccountConfig } from '../api/payloads';
import { historyPath } from '../device/history/sqlite-message-history';
import { deviceAgentLoader, loadDeviceAgent, sqliteProblem, type DeviceAgentHandle, type HistoryStatus } from './device-agent-factory';

let dir: string | null = null;
let agent: DeviceAgentHandle | null = null;

afterEach(async () => {
  await agent?.close();
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  agent = null;
  dir = null;
});

/** An account on a closed loopback port: signing in opens the history, nothing registers. */
const ACCOUNT: AccountConfig = {
  uri: 'sip:alice@a.example',
  displayName: 'Alice',
  deviceName: 'Laptop',
  password: 'alice-secret',
  websocketUrl: 'ws://127.0.0.1:9',
  messageStoreUrl: 'http://127.0.0.1:9/',
  depositHistory: true,
};

const ABI_ERROR = new Error(
  "The module '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 139.",
);

describe('the real DeviceAgent factory', () => {
  it('imports, creates and starts the agent of a profile, signed out, with every DeviceApi command', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpm-agent-'));
    agent = await loadDeviceAgent({ dataDir: dir, profile: 'laptop', deviceName: 'Laptop' });
    const record = agent as unknown as Record<string, unknown>;
    expect(DEVICE_COMMAND_NAMES.filter((name) => typeof record[name] !== 'function')).toEqual([]);
    await expect(agent.getAccount()).resolves.toBeNull();
    await expect(agent.listDevices()).rejects.toMatchObject({ code: 'not-signed-in' });
  });

  it('keeps the signed-in account’s history in SQLite in the profile folder, and says it is on disk', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpm-agent-'));
    const statuses: HistoryStatus[] = [];
    agent = await loadDeviceAgent({ dataDir: dir, profile: 'laptop', deviceName: 'Laptop', onHistoryStatus: (s) => statuses.push(s) });
    expect(existsSync(historyPath(dir, ACCOUNT.uri))).toBe(false);
    await agent.signIn(ACCOUNT);
    expect(existsSync(historyPath(dir, ACCOUNT.uri))).toBe(true);
    expect(statuses).toEqual([{ storage: 'disk', problem: null }, { storage: 'disk', problem: null }]);
  });

  it('falls back to history in memory when better-sqlite3 does not load (ABI mismatch), and says why', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpm-agent-'));
    const statuses: HistoryStatus[] = [];
    const factory = deviceAgentLoader({ probeSqlite: () => Promise.reject(ABI_ERROR) });
    agent = await factory({ dataDir: dir, profile: 'laptop', deviceName: 'Laptop', onHistoryStatus: (s) => statuses.push(s) });
    const info = await agent.signIn(ACCOUNT);
    expect(info.uri).toBe(ACCOUNT.uri);
    expect(existsSync(historyPath(dir, ACCOUNT.uri))).toBe(false);
    expect(statuses).toEqual([{ storage: 'memory', problem: expect.stringMatching(/^History is kept in memory only .*built for another Node\.js\/Electron version; run `npm start`/) }]);
  });

  it('falls back to memory for an account whose history database cannot be opened, naming the account', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpm-agent-'));
    const statuses: HistoryStatus[] = [];
    // A file where the history folder must be: SQLite cannot create the database under it.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'history'), 'not a folder');
    agent = await loadDeviceAgent({ dataDir: dir, profile: 'laptop', deviceName: 'Laptop', onHistoryStatus: (s) => statuses.push(s) });
    await expect(agent.signIn(ACCOUNT)).resolves.toMatchObject({ uri: ACCOUNT.uri });
    expect(statuses.at(-1)).toEqual({ storage: 'memory', problem: expect.stringContaining('the history database of sip:alice@a.example could not be opened') });
  });
});

describe('the SQLite diagnostic', () => {
  it('names an ABI mismatch as such and quotes the first line of any other failure', () => {
    expect(sqliteProblem(ABI_ERROR)).toBe(
      'History is kept in memory only and will be lost on quit: the SQLite module (better-sqlite3) was built for another Node.js/Electron version; run `npm start` once with network access to rebuild it for Electron.',
    );
    expect(sqliteProblem(new Error('Cannot find module \'bindings\'\nRequire stack: …'))).toBe(
      "History is kept in memory only and will be lost on quit: the SQLite module (better-sqlite3) could not be loaded (Cannot find module 'bindings').",
    );
  });
});
