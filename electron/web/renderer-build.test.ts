import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureRendererBuilt, rendererBuildIsStale } from './renderer-build';

let root: string;
const OLD = new Date('2026-01-01T00:00:00Z');
const BUILT = new Date('2026-01-02T00:00:00Z');
const NEW = new Date('2026-01-03T00:00:00Z');

/** Write a file of the fake repository with a given modification time. */
async function file(path: string, when: Date): Promise<void> {
  const full = join(root, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, 'x');
  await utimes(full, when, when);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cpm-renderer-build-'));
  await file('renderer/components/app.tsx', OLD);
  await file('electron/api/device-api.ts', OLD);
  await file('vite.config.ts', OLD);
  await file('dist/renderer/index.html', BUILT);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the browser shell knows when its renderer build is out of date', () => {
  it('a build newer than every source is fresh, and is served as is', async () => {
    expect(await rendererBuildIsStale(root)).toBe(false);
    const lines: string[] = [];
    expect(await ensureRendererBuilt(root, (l) => lines.push(l), { rebuildIfStale: true })).toBe(join(root, 'dist', 'renderer'));
    expect(lines).toEqual([]);
  });

  it('an edited component, contract file or Vite config makes it stale', async () => {
    await file('renderer/components/move-picker.tsx', NEW);
    expect(await rendererBuildIsStale(root)).toBe(true);
    await file('renderer/components/move-picker.tsx', OLD);
    await file('electron/api/payloads.ts', NEW);
    expect(await rendererBuildIsStale(root)).toBe(true);
    await file('electron/api/payloads.ts', OLD);
    await file('vite.config.ts', NEW);
    expect(await rendererBuildIsStale(root)).toBe(true);
  });

  it('edited tests, the harness page and READMEs are not part of the bundle', async () => {
    await file('renderer/state/app-store.test.ts', NEW);
    await file('renderer/harness/harness.tsx', NEW);
    await file('renderer/README.md', NEW);
    expect(await rendererBuildIsStale(root)).toBe(false);
  });

  it('a missing build is stale; without rebuildIfStale only a missing one is rebuilt', async () => {
    await file('renderer/components/move-picker.tsx', NEW);
    const lines: string[] = [];
    // Stale but present: served as is unless asked to rebuild.
    expect(await ensureRendererBuilt(root, (l) => lines.push(l))).toBe(join(root, 'dist', 'renderer'));
    expect(lines).toEqual([]);
    await rm(join(root, 'dist'), { recursive: true });
    expect(await rendererBuildIsStale(root)).toBe(true);
  });
});
