/**
 * The built app page (renderer/index.html, with its CSP) in Chromium, talking to a stand-in for the browser
 * shell: a loopback HTTP server with a `/bridge` WebSocket that speaks the documented framing in front of the
 * in-page test double's agent logic (here run in Node). Checks that main.tsx finds the bridge from the page
 * URL, that commands and events cross it, and what the page says without a device or after losing it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createCommandDispatcher, createEventSender } from '../../electron/api/bridge';
import type { DeviceCommands } from '../../electron/api/device-api';
import type { AccountInfo } from '../../electron/api/payloads';
import { rendererViteConfig } from '../../vite.config';

const ACCOUNT: AccountInfo = {
  uri: 'sip:alice@a.example', displayName: 'Alice', deviceName: 'Laptop', instanceId: 'urn:uuid:00000000-0000-4000-8000-0000000000a1',
  pubGruu: null, websocketUrl: 'ws://127.0.0.1:5066', transferServiceUri: null, registration: 'registering',
};

/** A scripted agent (test double): signed in, no devices, no conversations; records command names. */
function scriptedAgent(log: string[]): DeviceCommands {
  const answer = <T>(name: string, value: T) => async (): Promise<T> => {
    log.push(name);
    return value;
  };
  return {
    getAccount: answer('getAccount', ACCOUNT),
    signIn: answer('signIn', ACCOUNT),
    signOut: answer('signOut', undefined),
    listDevices: answer('listDevices', []),
    listConversations: answer('listConversations', []),
    getMessages: answer('getMessages', { messages: [], hasMore: false }),
    startChat: answer('startChat', { id: 'c', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: null, updatedAt: 1, unreadCount: 0, activeSessionId: null }),
    sendMessage: async () => Promise.reject(new Error('[invalid-state] not in this test')),
    markDisplayed: answer('markDisplayed', undefined),
    acceptSession: answer('acceptSession', undefined),
    declineSession: answer('declineSession', undefined),
    endSession: answer('endSession', undefined),
    moveConversation: answer('moveConversation', 't'),
    acceptJoin: answer('acceptJoin', undefined),
    declineJoin: answer('declineJoin', undefined),
    setAutoAccept: answer('setAutoAccept', undefined),
  };
}

const TOKEN = 'token-123';
const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

let buildDir: string;
let profileDir: string;
let server: Server;
let bridge: WebSocketServer;
let origin: string;
let context: BrowserContext;
const sockets = new Set<WebSocket>();
const commands: string[] = [];
const refusedUpgrades: string[] = [];

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'cpm-app-build-'));
  profileDir = mkdtempSync(join(tmpdir(), 'cpm-app-profile-'));
  const config = rendererViteConfig({ outDir: buildDir });
  await build({ ...config, configFile: false, build: { ...config.build, sourcemap: false } });

  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = resolve(buildDir, normalize(path === '/' ? 'index.html' : `.${path}`));
    if (!file.startsWith(buildDir + sep)) {
      response.writeHead(403).end();
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  bridge = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname !== '/bridge' || url.searchParams.get('device') !== 'laptop' || url.searchParams.get('token') !== TOKEN) {
      refusedUpgrades.push(url.pathname + url.search);
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    bridge.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      const dispatch = createCommandDispatcher(scriptedAgent(commands));
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { id: number; channel: string; args: unknown[] };
        dispatch(frame.channel, frame.args).then(
          (value) => ws.send(JSON.stringify({ id: frame.id, ok: true, value })),
          (error: Error) => ws.send(JSON.stringify({ id: frame.id, ok: false, error: error.message })),
        );
      });
      ws.on('close', () => sockets.delete(ws));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 90_000);

afterAll(async () => {
  await context?.close();
  for (const ws of sockets) ws.terminate();
  bridge?.close();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
});

describe('the built app page over the browser-shell bridge', () => {
  it('connects to /bridge with the device and token of its URL, loads the account and shows events', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/?device=laptop&token=${TOKEN}`);
    await page.getByRole('status', { name: 'Registration: Connecting…' }).waitFor();
    expect(commands).toEqual(expect.arrayContaining(['getAccount', 'listDevices', 'listConversations']));
    const send = createEventSender((channel, payload) => {
      for (const ws of sockets) ws.send(JSON.stringify({ event: channel, payload }));
    });
    send('registrationState', { state: 'registered', cause: null, pubGruu: null, expiresAt: null });
    await page.getByRole('status', { name: 'Registration: Online' }).waitFor();

    for (const ws of sockets) ws.close(1001, 'shell stopping');
    await page.getByRole('alert').getByText('The connection to this device was lost.').waitFor();
    await page.close();
    expect(errors).toEqual([]);
  });

  it('explains what to open when the page has no device to talk to, and never connects', async () => {
    const page = await context.newPage();
    const before = refusedUpgrades.length + sockets.size;
    await page.goto(`${origin}/`);
    await page.getByRole('alert').getByText(/No device to talk to/).waitFor();
    expect(refusedUpgrades.length + sockets.size).toBe(before);
    await page.close();
  });
});
