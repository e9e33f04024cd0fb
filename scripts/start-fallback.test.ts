/**
 * `npm start` where Electron cannot run: the real scripts/start.mjs, with the Electron binary made absent
 * (ELECTRON_OVERRIDE_DIST_PATH names an empty folder), falls back to `npm run web`, which starts its lab and
 * devices and prints its JSON line; the page it names is served. The whole process group is stopped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

let child: ChildProcess | null = null;
let scratch: string | null = null;

/** Ends the process group (start.mjs, npm, the shell); SIGKILL if it has not exited after `ms`. */
async function stopGroup(process_: ChildProcess, ms: number): Promise<void> {
  if (process_.exitCode !== null || process_.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => process_.once('exit', () => resolve()));
  process.kill(-process_.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-process_.pid!, 'SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

afterAll(async () => {
  if (child) await stopGroup(child, 10_000).catch(() => undefined);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('npm start without Electron', () => {
  it('runs the browser shell instead and prints its URLs', { timeout: 90_000 }, async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cpm-start-'));
    const noElectron = join(scratch, 'no-electron');
    const started = spawn(process.execPath, [join(repoRoot, 'scripts', 'start.mjs'), '--data', join(scratch, 'data')], {
      cwd: repoRoot,
      detached: true, // its own process group, so that npm and the shell under it stop with it
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: noElectron },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const stderr: string[] = [];
    started.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));

    const lines: string[] = [];
    const description = await new Promise<{ url: string; devices: { id: string; url: string }[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no JSON line within 80 s; stdout: ${lines.join(' | ')}; stderr: ${stderr.join('')}`)), 80_000);
      started.once('exit', (code) => reject(new Error(`start.mjs exited (${code}) first; stderr: ${stderr.join('')}`)));
      createInterface({ input: started.stdout! }).on('line', (line) => {
        lines.push(line);
        if (!line.startsWith('{')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { url: string; devices: { id: string; url: string }[] });
      });
    });

    expect(lines[0]).toBe(`start: cannot launch the desktop app: ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${join(noElectron, 'electron')}).`);
    expect(lines).toContain('start: running the browser shell instead (npm run web); open the URLs it prints.');
    expect(description.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(description.devices.map((d) => d.id)).toEqual(['alice-laptop', 'alice-desktop', 'bob-desktop']);
    for (const device of description.devices) expect(device.url).toMatch(new RegExp(`^${description.url.replace(/[.?]/g, '\\$&')}\\?device=${device.id}&token=[^&]+$`));

    const page = await fetch(description.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"');

    // The readable lines follow the JSON line, one per device.
    await vi.waitFor(() => expect(lines.filter((l) => l.startsWith('start:   '))).toHaveLength(3), { timeout: 5_000 });
    expect(lines.at(-1)).toContain(description.devices[2]!.url);

    await stopGroup(started, 10_000);
    child = null;
  });
});
