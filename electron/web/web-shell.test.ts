import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseDeviceSpec } from './shell-devices';
import { WebShell, WebShellState } from './web-shell';

let dir: string;
const LAB = {
  domains: [{ domain: 'a.example', ws: 'ws://127.0.0.1:1', transferService: 'sip:cpm-transfer@a.example', store: 'http://127.0.0.1:1', mode: 'proxy' as const }],
  users: [],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpm-webshell-unit-'));
  await mkdir(join(dir, 'renderer'));
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html>');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function watch(shell: WebShell): string[] {
  const moves: string[] = [];
  shell.on('stateChange', (state, previous) => moves.push(`${previous}→${state}`));
  return moves;
}

describe('the shell’s life', () => {
  it('a shell stopped before it started goes straight to stopped and cannot start any more', async () => {
    const shell = new WebShell({ staticRoot: join(dir, 'renderer'), lab: LAB });
    const moves = watch(shell);
    await shell.stop();
    expect(moves).toEqual(['idle→stopped']);
    expect(() => shell.start()).toThrow('web shell: illegal transition stopped → starting');
    expect(() => shell.description).toThrow('web shell: not running (stopped)');
  });

  it('without a built renderer, the start fails saying what to run, and the shell ends stopped', async () => {
    const shell = new WebShell({ staticRoot: join(dir, 'nothing-here'), lab: LAB });
    const moves = watch(shell);
    await expect(shell.start()).rejects.toThrow(/nothing-here has no index\.html \(run `npm run build:renderer`\)/);
    expect(moves).toEqual(['idle→starting', 'starting→stopping', 'stopping→stopped']);
    await shell.stop();
    expect(shell.state).toBe(WebShellState.Stopped);
  });

  it('a device the lab has no account for fails the start, and the temporary data folder is removed', async () => {
    const shell = new WebShell({ staticRoot: join(dir, 'renderer'), lab: LAB, devices: [parseDeviceSpec('sip:zed@a.example,Pc')] });
    let folder: string | null = null;
    shell.on('stateChange', (state) => {
      if (state === WebShellState.Stopping) folder = shell.dataFolder;
    });
    await expect(shell.start()).rejects.toThrow('zed-pc: the lab has no user sip:zed@a.example');
    expect(shell.state).toBe(WebShellState.Stopped);
    expect(folder).toMatch(/cpm-web-/);
    await expect(access(folder!)).rejects.toThrow(/ENOENT/);
  });

  it('refuses two devices with the same id before starting anything', async () => {
    const devices = [parseDeviceSpec('sip:alice@a.example,Laptop'), parseDeviceSpec('sip:alice@a.example,laptop')];
    const shell = new WebShell({ staticRoot: join(dir, 'renderer'), lab: LAB, devices, dataDir: join(dir, 'data') });
    await expect(shell.start()).rejects.toThrow('two devices share the id alice-laptop');
    await expect(access(join(dir, 'data'))).rejects.toThrow();
  });
});

describe('“Try it locally” from a page', () => {
  it('signs the page’s device in again on the shell’s own lab, under the name the page gives', async () => {
    const shell = new WebShell({ staticRoot: join(dir, 'renderer'), devices: [parseDeviceSpec('sip:alice@a.example,Laptop')], dataDir: join(dir, 'try') });
    try {
      const description = await shell.start();
      const page = new URL(description.devices[0]!.url);
      const bridge = `ws://${page.host}/bridge${page.search}`;
      const socket = new WebSocket(bridge, { origin: `http://${page.host}` });
      const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
        socket.on('error', reject);
        socket.on('open', () => socket.send(JSON.stringify({ id: 1, channel: 'cpm:command:tryLocally', args: ['Phone'] })));
        socket.on('message', (data) => {
          const frame = JSON.parse(String(data)) as Record<string, unknown>;
          if (frame['id'] === 1) resolve(frame);
        });
      });
      socket.close();
      expect(reply).toMatchObject({ ok: true, value: { uri: 'sip:alice@a.example', deviceName: 'Phone', websocketUrl: shell.lab?.description.domains[0]?.ws } });
      expect((await shell.device('alice-laptop')!.agent.getAccount())?.deviceName).toBe('Phone');
    } finally {
      await shell.stop();
    }
  });
});
