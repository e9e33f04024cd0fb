import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NATIVE_STAMP_PATH, describeShellLine, ensureNativeModules, findElectronBinary, hasScript, readNativeStamp } from './start.mjs';

/**
 * The child processes start.mjs runs, replaced at the module boundary: each spawn is recorded and answered
 * by `childProcesses.behaviour` (an exit code, after an optional side effect such as writing the rebuilt
 * addon, or a spawn error).
 */
const childProcesses = vi.hoisted(() => ({
  calls: [] as { command: string; args: string[]; cwd: unknown }[],
  behaviour: { exitCode: 0 as number, error: null as Error | null, effect: (() => undefined) as () => void },
}));

vi.mock('node:child_process', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:child_process')>();
  const { EventEmitter: Emitter } = await import('node:events');
  return {
    ...original,
    spawn: (command: string, args: string[], options: { cwd?: unknown }) => {
      childProcesses.calls.push({ command, args, cwd: options.cwd });
      const child = Object.assign(new Emitter(), { stdout: null, kill: () => true });
      const { exitCode, error, effect } = childProcesses.behaviour;
      setImmediate(() => {
        if (error !== null) {
          child.emit('error', error);
          return;
        }
        effect();
        child.emit('exit', exitCode, null);
      });
      return child;
    },
  };
});

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cpm-start-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ scripts: { test: 'vitest' } }));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('npm start: finding Electron', () => {
  it('says the package is missing, then that the binary was never downloaded (offline), then finds it', () => {
    expect(findElectronBinary(root, {})).toEqual({ path: null, reason: 'the electron package is not installed (run npm ci)' });
    const pkg = join(root, 'node_modules', 'electron');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{}');
    expect(findElectronBinary(root, {}).reason).toMatch(/never downloaded/);
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    expect(findElectronBinary(root, {}).reason).toMatch(/binary is missing/);
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(findElectronBinary(root, {})).toEqual({ path: join(pkg, 'dist', 'electron'), reason: null });
  });

  it('knows whether the browser shell script exists to fall back to', () => {
    expect(hasScript('test', root)).toBe(true);
    expect(hasScript('web', root)).toBe(false);
  });

  it('names a binary missing from ELECTRON_OVERRIDE_DIST_PATH', () => {
    const pkg = join(root, 'node_modules', 'electron');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{}');
    expect(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: join(root, 'none') }).reason).toMatch(/^ELECTRON_OVERRIDE_DIST_PATH has no Electron binary/);
  });
});

describe('npm start: the browser shell fallback', () => {
  it('follows the shell’s JSON line with one line per device URL, and adds nothing to other lines', () => {
    const line = JSON.stringify({
      url: 'http://127.0.0.1:4000/',
      devices: [{ id: 'alice-laptop', user: 'sip:alice@a.example', name: 'Laptop', url: 'http://127.0.0.1:4000/?device=alice-laptop&token=t1' }],
    });
    expect(describeShellLine(line)).toEqual([
      'start: the browser shell runs at http://127.0.0.1:4000/; open one page per device:',
      'start:   sip:alice@a.example on Laptop: http://127.0.0.1:4000/?device=alice-laptop&token=t1',
    ]);
    expect(describeShellLine('web: building the renderer')).toEqual([]);
    expect(describeShellLine('{"url": 7}')).toEqual([]);
    expect(describeShellLine('null')).toEqual([]);
  });
});

describe('npm start: native modules for Electron', () => {
  const addon = () => join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const install = (electron: string, sqlite = '12.6.2', built = 'addon built for node') => {
    mkdirSync(join(root, 'node_modules', 'electron'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'electron', 'package.json'), JSON.stringify({ version: electron }));
    mkdirSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'), JSON.stringify({ version: sqlite }));
    writeFileSync(addon(), built);
  };
  let lines: string[];
  const ensure = () => ensureNativeModules({ repoRoot: root, log: (line) => lines.push(line) });

  beforeEach(() => {
    lines = [];
    childProcesses.calls.length = 0;
    childProcesses.behaviour = { exitCode: 0, error: null, effect: () => writeFileSync(addon(), 'addon built for electron') };
  });

  it('with no stamp, rebuilds once with electron-builder install-app-deps and stamps what it built', async () => {
    install('45.5.0');
    await expect(ensure()).resolves.toEqual({ action: 'rebuilt', reason: 'they were never rebuilt for Electron 45.5.0' });
    expect(childProcesses.calls).toEqual([{ command: expect.stringMatching(/^npx(\.cmd)?$/), args: ['--no', 'electron-builder', 'install-app-deps'], cwd: root }]);
    const stamp = readNativeStamp(root);
    expect(stamp).toMatchObject({ electron: '45.5.0', betterSqlite3: '12.6.2' });
    // The hash of the addon the rebuild left, not of the Node one that was there before.
    const { createHash } = await import('node:crypto');
    expect(stamp?.addonSha256).toBe(createHash('sha256').update('addon built for electron').digest('hex'));

    await expect(ensure()).resolves.toEqual({ action: 'up-to-date', reason: 'built for Electron 45.5.0' });
    expect(childProcesses.calls).toHaveLength(1);
  });

  it('rebuilds again when the stamp is stale: another Electron, another better-sqlite3, or an addon rebuilt for Node', async () => {
    install('45.5.0');
    await ensure();
    install('46.0.0', '12.6.2', 'addon built for electron');
    await expect(ensure()).resolves.toEqual({ action: 'rebuilt', reason: 'they were rebuilt for Electron 45.5.0, and Electron 46.0.0 is installed' });
    install('46.0.0', '12.7.0', 'addon built for electron');
    await expect(ensure()).resolves.toMatchObject({ action: 'rebuilt', reason: 'better-sqlite3 12.7.0 was installed since the last rebuild (for 12.6.2)' });
    writeFileSync(addon(), 'addon built for node again'); // npm rebuild better-sqlite3
    await expect(ensure()).resolves.toMatchObject({ action: 'rebuilt', reason: expect.stringMatching(/^better-sqlite3 was rebuilt since/) });
    expect(childProcesses.calls).toHaveLength(4);
  });

  it('says so when the rebuild fails (offline) and carries on without a stamp, so the next start tries again', async () => {
    install('45.5.0');
    childProcesses.behaviour = { exitCode: 1, error: null, effect: () => undefined };
    await expect(ensure()).resolves.toEqual({
      action: 'failed',
      reason: "the rebuild for Electron 45.5.0 failed (exit code 1; it downloads Electron's headers, so it needs network access)",
    });
    expect(existsSync(join(root, NATIVE_STAMP_PATH))).toBe(false);
    expect(lines.at(-1)).toMatch(/Starting anyway: the app keeps history in memory this run/);
    await ensure();
    expect(childProcesses.calls).toHaveLength(2);
  });

  it('treats npx that cannot be started like a failed rebuild, without throwing', async () => {
    install('45.5.0');
    childProcesses.behaviour = { exitCode: 0, error: Object.assign(new Error('spawn npx ENOENT'), { code: 'ENOENT' }), effect: () => undefined };
    await expect(ensure()).resolves.toMatchObject({ action: 'failed' });
    expect(readNativeStamp(root)).toBeNull();
  });

  it('does nothing where Electron or better-sqlite3 is not installed', async () => {
    await expect(ensure()).resolves.toEqual({ action: 'skipped', reason: 'Electron or better-sqlite3 is not installed' });
    expect(childProcesses.calls).toEqual([]);
  });

  it('ignores a stamp that does not parse, and rebuilds', async () => {
    install('45.5.0');
    mkdirSync(join(root, 'node_modules', '.cache', 'cpm-handoff'), { recursive: true });
    writeFileSync(join(root, NATIVE_STAMP_PATH), '{"electron": ');
    await expect(ensure()).resolves.toMatchObject({ action: 'rebuilt', reason: 'they were never rebuilt for Electron 45.5.0' });
    expect(JSON.parse(readFileSync(join(root, NATIVE_STAMP_PATH), 'utf8'))).toMatchObject({ electron: '45.5.0' });
  });
});
