import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeShellLine, findElectronBinary, hasScript } from './start.mjs';

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
