/**
 * The browser shell end to end, without a browser: the real lab in-process, real DeviceAgents, the real HTTP
 * server and WebSocket bridge on loopback. Pages are played by `ws` clients that send the Origin a browser
 * would send. Also the `npm run web` program itself, on this same lab (`--lab-json`): its first stdout line,
 * its device on the lab, and a clean exit on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebShell, WebShellState, type WebShellDescription } from '../electron/web/web-shell';
import { waitFor } from './helpers/lab-device';

/** A page's bridge, played by a `ws` client. */
interface Page {
  socket: WebSocket;
  /** Every frame the shell sent, parsed. */
  frames: Record<string, unknown>[];
  call(channel: string, args: unknown[]): Promise<{ ok: boolean; value?: unknown; error?: string }>;
  sendRaw(text: string): void;
  /** Wait for an event frame on `cpm:event:<name>` whose payload matches. */
  event(name: string, match?: (payload: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
}

let dir: string;
let shell: WebShell;
let shellInfo: WebShellDescription;
const pages: Page[] = [];
const logLines: string[] = [];

function deviceUrl(id: string): URL {
  const d = shellInfo.devices.find((x) => x.id === id);
  if (!d) throw new Error(`no device ${id}`);
  return new URL(d.url);
}

function bridgeUrl(device: string | null, token: string | null): string {
  const query = new URLSearchParams();
  if (device !== null) query.set('device', device);
  if (token !== null) query.set('token', token);
  return `${shellInfo.url.replace('http:', 'ws:')}bridge?${query.toString()}`;
}

/**
 * Open a page's bridge with the Origin a page of the shell sends (`null`: none at all); resolves once open,
 * rejects with the HTTP status when the handshake is refused.
 */
function openPage(url: string, origin: string | null = shellInfo.url.replace(/\/$/, '')): Promise<Page> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin === null ? {} : { origin });
    const frames: Record<string, unknown>[] = [];
    let nextId = 1;
    const closed = new Promise<{ code: number; reason: string }>((done) => socket.on('close', (code, reason) => done({ code, reason: reason.toString() })));
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
    socket.on('unexpected-response', (_req, res) => {
      reject(new Error(`refused: ${res.statusCode}`));
      socket.terminate();
    });
    socket.on('error', (error) => reject(error));
    socket.on('open', () => {
      const page: Page = {
        socket,
        frames,
        closed,
        sendRaw: (text) => socket.send(text),
        call: async (channel, args) => {
          const id = nextId++;
          socket.send(JSON.stringify({ id, channel, args }));
          return (await waitFor(`reply ${id} on ${channel}`, () => frames.find((f) => f['id'] === id))) as { ok: boolean; value?: unknown; error?: string };
        },
        event: (name, match = () => true) =>
          waitFor(`event ${name}`, () => frames.find((f) => f['event'] === `cpm:event:${name}` && match(f['payload'] as Record<string, unknown>))).then(
            (f) => f['payload'] as Record<string, unknown>,
          ),
      };
      pages.push(page);
      resolve(page);
    });
  });
}

/** The page of a device, as the browser opens it from the printed URL. */
function openDevicePage(id: string): Promise<Page> {
  const url = deviceUrl(id);
  return openPage(bridgeUrl(url.searchParams.get('device'), url.searchParams.get('token')));
}

/** A raw HTTP request to the shell (path sent as is). */
function http(path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const base = new URL(shellInfo.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, path, method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Alice's device names as a page of hers lists them, polled until `done` holds (at most 5 s). */
async function aliceDeviceNames(page: Page, done: (names: string[]) => boolean): Promise<string[]> {
  let names: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    names = ((await page.call('cpm:command:listDevices', [])).value as { name: string }[]).map((d) => d.name).sort();
    if (done(names)) return names;
  }
  throw new Error(`Alice's devices stayed ${names.join(', ')}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpm-web-test-'));
  await mkdir(join(dir, 'renderer'));
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>CPM Handoff</title>');
  await writeFile(join(dir, 'secret.txt'), 'not for the web');
  shell = new WebShell({ staticRoot: join(dir, 'renderer'), dataDir: join(dir, 'data'), log: (line) => logLines.push(line) });
  shellInfo = await shell.start();
}, 60_000);

afterAll(async () => {
  for (const p of pages) p.socket.terminate();
  await shell?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the browser shell', () => {
  it('announces its URL and one page URL per device, each with its own token', () => {
    expect(shell.state).toBe(WebShellState.Running);
    expect(shellInfo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(shellInfo.devices.map(({ id, user, name }) => ({ id, user, name }))).toEqual([
      { id: 'alice-laptop', user: 'sip:alice@a.example', name: 'Laptop' },
      { id: 'alice-desktop', user: 'sip:alice@a.example', name: 'Desktop' },
      { id: 'bob-desktop', user: 'sip:bob@b.example', name: 'Desktop' },
    ]);
    const tokens = shellInfo.devices.map((d) => {
      const url = new URL(d.url);
      expect(`${url.origin}/`).toBe(shellInfo.url);
      expect(url.searchParams.get('device')).toBe(d.id);
      return url.searchParams.get('token') ?? '';
    });
    expect(new Set(tokens).size).toBe(3);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(logLines.join('\n')).not.toContain(tokens[0]);
  });

  it('drives the devices over the bridge: Alice’s Laptop chats with Bob’s Desktop, events arrive on Bob’s page', async () => {
    const alice = await openDevicePage('alice-laptop');
    const bob = await openDevicePage('bob-desktop');

    const account = await alice.call('cpm:command:getAccount', []);
    expect(account).toMatchObject({ ok: true, value: { uri: 'sip:alice@a.example', deviceName: 'Laptop', registration: 'registered' } });
    // Both of Alice's devices, from the reg event the Conversation Server serves.
    expect(await aliceDeviceNames(alice, (names) => names.length === 2)).toEqual(['Desktop', 'Laptop']);
    const devices = (await alice.call('cpm:command:listDevices', [])).value as { name: string; self: boolean }[];
    expect(devices.find((d) => d.self)?.name).toBe('Laptop');

    const started = await alice.call('cpm:command:startChat', ['sip:bob@b.example']);
    expect(started.ok).toBe(true);
    const conversationId = (started.value as { id: string }).id;
    const incoming = await bob.event('incomingSession', (p) => p['conversationId'] === conversationId);
    expect(incoming['peerUri']).toBe('sip:alice@a.example');
    expect(await bob.call('cpm:command:acceptSession', [incoming['sessionId']])).toEqual({ id: expect.any(Number), ok: true });
    await alice.event('sessionState', (p) => p['conversationId'] === conversationId && p['state'] === 'active');

    const sent = await alice.call('cpm:command:sendMessage', [conversationId, 'hello Bob, from a browser']);
    expect(sent).toMatchObject({ ok: true, value: { direction: 'outgoing', text: 'hello Bob, from a browser' } });
    const messageId = (sent.value as { id: string }).id;
    const received = await bob.event('message', (p) => p['id'] === messageId);
    expect(received).toMatchObject({ direction: 'incoming', text: 'hello Bob, from a browser', senderUri: 'sip:alice@a.example', conversationId });
    await alice.event('messageStatus', (p) => p['messageId'] === messageId && p['status'] === 'delivered');
    // Each page hears its own device only: Bob's alert never reached Alice's page.
    expect(alice.frames.some((f) => f['event'] === 'cpm:event:incomingSession')).toBe(false);
    const history = await bob.call('cpm:command:getMessages', [conversationId, { limit: 10 }]);
    expect((history.value as { messages: { text: string }[] }).messages.map((m) => m.text)).toEqual(['hello Bob, from a browser']);
  });

  it('refuses a bridge without the token, with a wrong one, with another device’s, or from a foreign origin', async () => {
    const laptop = deviceUrl('alice-laptop').searchParams.get('token')!;
    const bobToken = deviceUrl('bob-desktop').searchParams.get('token')!;
    const before = shell.server!.connectedPages();
    await expect(openPage(bridgeUrl('alice-laptop', null))).rejects.toThrow('refused: 400');
    await expect(openPage(bridgeUrl('alice-laptop', 'not-the-token'))).rejects.toThrow('refused: 403');
    await expect(openPage(bridgeUrl('alice-laptop', bobToken))).rejects.toThrow('refused: 403');
    await expect(openPage(bridgeUrl('carol-phone', laptop))).rejects.toThrow('refused: 403');
    await expect(openPage(bridgeUrl('alice-laptop', laptop), 'http://evil.example')).rejects.toThrow('refused: 403');
    await expect(openPage(bridgeUrl('alice-laptop', laptop), null)).rejects.toThrow('refused: 403');
    expect(shell.server!.connectedPages()).toEqual(before);
    expect(logLines.filter((l) => l.startsWith('bridge: refused a page:'))).toHaveLength(6);
    // The device was not driven: still exactly the one conversation the previous scenario started.
    const alice = pages[0]!;
    const conversations = await alice.call('cpm:command:listConversations', []);
    expect((conversations.value as unknown[]).length).toBe(1);
  });

  it('answers an invalid payload with a clear error frame, and keeps serving the page', async () => {
    const page = await openDevicePage('alice-desktop');
    expect(await page.call('cpm:command:sendMessage', ['conv-1', '  '])).toEqual({ id: 1, ok: false, error: '[invalid-argument] sendMessage.text: must not be blank' });
    expect(await page.call('cpm:command:startChat', [42])).toMatchObject({ ok: false, error: expect.stringMatching(/^\[invalid-argument\] startChat\.uri: must be/) });
    expect(await page.call('cpm:command:reboot', [])).toMatchObject({ ok: false, error: '[invalid-argument] cpm:command:reboot is not a DeviceApi command channel' });
    page.sendRaw('{"id": "x"');
    const problem = await page.event('error');
    expect(problem).toEqual({ code: 'invalid-argument', message: 'bridge: the frame is not JSON; the frame was ignored', conversationId: null });
    expect(await page.call('cpm:command:getAccount', [])).toMatchObject({ ok: true, value: { deviceName: 'Desktop' } });
    expect(page.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('serves the renderer with strict headers, GET and HEAD only, and refuses traversal and foreign Host names', async () => {
    const page = await http('/?device=alice-laptop&token=whatever');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>CPM Handoff</title>');
    expect(page.headers['content-security-policy']).toContain(`connect-src 'self' ws://${new URL(shellInfo.url).host}`);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect((await http('/index.html', { method: 'HEAD' })).status).toBe(200);
    expect((await http('/index.html', { method: 'POST' })).status).toBe(405);
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const res = await http(path);
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.body).not.toContain('not for the web');
    }
    expect((await http('/', { host: 'evil.example' })).status).toBe(403);
  });

  it('npm run web on the running lab (--lab-json): one JSON line, its device registers, SIGTERM signs it out and exits 0', async () => {
    const labFile = join(dir, 'lab.json');
    await writeFile(labFile, `${JSON.stringify(shell.lab!.description)}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'electron/web/main.ts', '--lab-json', labFile, '--device', 'sip:alice@a.example,Tablet', '--static', join(dir, 'renderer')], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited with ${code} before printing: ${stderr}`)));
      });
      const described = JSON.parse(first) as WebShellDescription;
      expect(described.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(described.url).not.toBe(shellInfo.url);
      expect(described.devices.map(({ id, user, name }) => ({ id, user, name }))).toEqual([{ id: 'alice-tablet', user: 'sip:alice@a.example', name: 'Tablet' }]);
      expect(described.devices[0]!.url).toMatch(new RegExp(`^${described.url.replace(/[.]/g, '\\.')}\\?device=alice-tablet&token=[A-Za-z0-9_-]{43}$`));
      // The program's Tablet is on this lab: Alice's Laptop now lists it, and stops listing it once it has signed out.
      const laptop = pages[0]!;
      expect(await aliceDeviceNames(laptop, (names) => names.includes('Tablet'))).toEqual(['Desktop', 'Laptop', 'Tablet']);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await aliceDeviceNames(laptop, (names) => !names.includes('Tablet'))).toEqual(['Desktop', 'Laptop']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('stops cleanly: every page is told the shell is going away (1001)', async () => {
    const page = pages[0]!;
    await shell.stop();
    expect(await page.closed).toEqual({ code: 1001, reason: 'the shell is stopping' });
    expect(shell.state).toBe(WebShellState.Stopped);
    await expect(http('/')).rejects.toThrow();
  });
});
