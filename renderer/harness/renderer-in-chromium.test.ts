/**
 * Component tests of the renderer in Debian's Chromium (playwright-core): the harness page is built with
 * Vite, served on loopback, and the app runs over an in-page scripted DeviceAgent (a test double of the
 * contract). Screenshots go to test-artifacts/renderer/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountInfo, ConversationSummary, DeviceInfo } from '../../electron/api/payloads';
import { rendererViteConfig } from '../../vite.config';
import type { HarnessHandle } from './harness';
import type { HarnessSeed, RecordedCall } from './scripted-device-agent';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(REPO, 'test-artifacts', 'renderer');
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const ACCOUNT: AccountInfo = {
  uri: 'sip:alice@a.example', displayName: 'Alice', deviceName: 'Laptop', instanceId: 'urn:uuid:00000000-0000-4000-8000-0000000000a1',
  pubGruu: 'sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-0000000000a1', websocketUrl: 'ws://127.0.0.1:5066',
  transferServiceUri: 'sip:cpm-transfer@a.example', registration: 'registered',
};
const SELF: DeviceInfo = { instanceId: ACCOUNT.instanceId, name: 'Laptop', pubGruu: ACCOUNT.pubGruu!, self: true, cpmCapable: true };
const DESKTOP: DeviceInfo = { instanceId: 'urn:uuid:00000000-0000-4000-8000-0000000000d1', name: 'Desktop', pubGruu: 'sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-0000000000d1', self: false, cpmCapable: true };
const TABLET: DeviceInfo = { instanceId: 'urn:uuid:00000000-0000-4000-8000-0000000000e1', name: 'Tablet', pubGruu: 'sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-0000000000e1', self: false, cpmCapable: true };
const BOB: ConversationSummary = { id: 'conv-bob', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: 'See you at 6', updatedAt: Date.UTC(2026, 0, 2), unreadCount: 3, activeSessionId: 'sess-1' };
const CAROL: ConversationSummary = { id: 'conv-carol', peerUri: 'sip:carol@c.example', peerDisplayName: 'Carol', lastMessageText: null, updatedAt: Date.UTC(2026, 0, 1), unreadCount: 0, activeSessionId: null };

const SIGNED_IN: HarnessSeed = {
  account: ACCOUNT,
  devices: [SELF, DESKTOP, TABLET],
  conversations: [CAROL, BOB],
  bulkCount: 300,
  bulkConversationId: 'conv-bob',
};

let context: BrowserContext;
let server: Server;
let baseUrl: string;
let buildDir: string;
let profileDir: string;

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'cpm-harness-build-'));
  profileDir = mkdtempSync(join(tmpdir(), 'cpm-chromium-profile-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const config = rendererViteConfig({ entry: 'harness', outDir: buildDir });
  await build({ ...config, configFile: false, build: { ...config.build, sourcemap: false } });
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const file = resolve(buildDir, normalize(path === '/' ? 'index.html' : `.${path}`));
    if (!file.startsWith(buildDir + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      response.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1000, height: 700 },
  });
}, 90_000);

afterAll(async () => {
  await context?.close();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
});

/** A fresh page running the app over the scripted device with `seed`; `fakeClock` installs Playwright's clock first. */
async function open(seed: HarnessSeed, colorScheme: 'light' | 'dark' = 'light', fakeClock = false): Promise<Page> {
  const page = await context.newPage();
  if (fakeClock) await page.clock.install();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.emulateMedia({ colorScheme });
  await page.goto(baseUrl);
  await page.evaluate((s) => (window as unknown as { harness: HarnessHandle }).harness.start(s), seed);
  pageErrors.set(page, errors);
  return page;
}

const pageErrors = new WeakMap<Page, string[]>();

/** Closes the page, failing the test if the page logged an error or threw. */
async function finish(page: Page): Promise<void> {
  const errors = pageErrors.get(page) ?? [];
  await page.close();
  expect(errors).toEqual([]);
}

/** The commands the app sent so far. */
function calls(page: Page, name?: string): Promise<RecordedCall[]> {
  return page.evaluate((n) => {
    const all = (window as unknown as { harness: HarnessHandle }).harness.device?.calls ?? [];
    return JSON.parse(JSON.stringify(n === undefined ? all : all.filter((c) => c.name === n))) as RecordedCall[];
  }, name);
}

/** Plays an event from the scripted device. */
async function emit(page: Page, event: string, payload: unknown): Promise<void> {
  await page.evaluate(([e, p]) => {
    const emitter = (window as unknown as { harness: HarnessHandle }).harness.device?.emit as ((event: string, payload: unknown) => void) | undefined;
    emitter?.(e as string, p);
  }, [event, payload] as const);
}

describe('renderer in Chromium, over a scripted DeviceApi (test double)', () => {
  it('signs in with the manual account form, naming a bad field first, then shows the registration', async () => {
    const page = await open({});
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('Enter your address');
    await page.getByLabel('SIP address').fill('alice@a.example');
    await page.getByLabel('Password').fill('secret');
    await page.getByLabel('WebSocket URL').fill('ws://127.0.0.1:5066');
    await page.getByLabel('Transfer service (optional)').fill('sip:cpm-transfer@a.example');
    await page.getByLabel('This device’s name').last().fill('Laptop');
    await page.screenshot({ path: join(ARTIFACTS, 'welcome-light.png') });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status', { name: 'Registration: Online' }).waitFor();
    expect((await calls(page, 'signIn'))[0]?.args[0]).toEqual({
      uri: 'sip:alice@a.example', displayName: '', deviceName: 'Laptop', password: 'secret', websocketUrl: 'ws://127.0.0.1:5066', transferServiceUri: 'sip:cpm-transfer@a.example',
    });
    await finish(page);
  });

  it('"Try it locally" calls the lab command with the device name when the contract offers it, and is disabled otherwise', async () => {
    const page = await open({ withTryLocally: true });
    await page.getByRole('button', { name: 'Try it locally' }).click();
    await page.getByRole('status', { name: 'Registration: Online' }).waitFor();
    expect(await calls(page, 'tryLocally')).toEqual([{ name: 'tryLocally', args: ['Laptop'] }]);
    await finish(page);
    const without = await open({});
    expect(await without.getByRole('button', { name: 'Try it locally' }).isDisabled()).toBe(true);
    await finish(without);
  });

  it('shows the auto-accept switch as the shell saved it', async () => {
    const page = await open({ ...SIGNED_IN, account: { ...ACCOUNT, autoAccept: true } });
    await page.getByRole('button', { name: 'Settings' }).click();
    expect(await page.getByRole('switch', { name: 'Accept moves from my own devices without asking' }).isChecked()).toBe(true);
    await finish(page);
  });

  it('lists conversations most recent first with unread counts and the last message', async () => {
    const page = await open(SIGNED_IN);
    const list = page.getByRole('list', { name: 'Conversations' });
    await list.getByRole('button').first().waitFor();
    expect(await list.getByRole('button').allInnerTexts()).toEqual([expect.stringMatching(/Bob[\s\S]*See you at 6[\s\S]*3/), expect.stringMatching(/Carol[\s\S]*No messages yet/)]);
    expect(await list.getByRole('button', { name: 'Bob, 3 unread' }).count()).toBe(1);
    await finish(page);
  });

  it('renders a 100,000-message history as a window of rows, paging newest-first and loading older pages on scroll up', async () => {
    const page = await open({ ...SIGNED_IN, bulkCount: 100_000 });
    await page.getByRole('button', { name: /^Bob/ }).click();
    const feed = page.getByRole('feed', { name: 'Messages with Bob' });
    await feed.getByText('Message 99999', { exact: true }).waitFor();
    expect((await calls(page, 'getMessages'))[0]?.args).toEqual(['conv-bob', { limit: 100 }]);
    const rendered = await feed.getByRole('article').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(80);
    for (let i = 0; i < 3; i++) {
      await feed.evaluate((el) => el.scrollTo({ top: 0 }));
      await page.waitForFunction((n) => ((window as unknown as { harness: HarnessHandle }).harness.device?.calls.filter((c) => c.name === 'getMessages').length ?? 0) > n, i + 1);
    }
    const pages = await calls(page, 'getMessages');
    expect(pages[1]?.args).toEqual(['conv-bob', { before: 'm99900', limit: 100 }]);
    expect(pages[2]?.args).toEqual(['conv-bob', { before: 'm99800', limit: 100 }]);
    expect(await feed.getByRole('article').count()).toBeLessThan(80);
    // The viewport stays on what the user was reading while older pages arrive above it (once the last page
    // asked for has arrived and been laid out: the request is seen before its rows are).
    await expect.poll(() => feed.evaluate((el) => el.scrollTop), { timeout: 5_000 }).toBeGreaterThan(0);
    await finish(page);
  });

  it('keeps scrolling through 100,000 loaded messages to a window of rows, wherever the viewport goes', async () => {
    const page = await open({ ...SIGNED_IN, bulkCount: 100_000, preloadBulk: true });
    await page.getByRole('button', { name: /^Bob/ }).click();
    const feed = page.getByRole('feed', { name: 'Messages with Bob' });
    await feed.getByText('Message 99999', { exact: true }).waitFor();
    expect(await feed.getAttribute('aria-busy')).toBe('false');
    const shownNumbers = async () =>
      (await feed.getByRole('article').allInnerTexts()).flatMap((t) => /Message (\d+)/.exec(t)?.[1] ?? []).map(Number);
    for (const fraction of [0.5, 0.25, 0]) {
      await feed.evaluate((el, f) => el.scrollTo({ top: Math.floor(el.scrollHeight * f) }), fraction);
      const expected = 100_000 * fraction;
      // Wait until the rows around the new position are rendered, then check only a window of them is.
      await expect.poll(async () => (await shownNumbers()).some((n) => Math.abs(n - expected) < 5_000)).toBe(true);
      const count = await feed.getByRole('article').count();
      expect(count).toBeGreaterThan(5);
      expect(count).toBeLessThan(80);
    }
    await feed.getByText(/^Message 0: a longer line/).waitFor();
    expect((await calls(page, 'getMessages')).length).toBe(0);
    await finish(page);
  });

  it('shows day separators, sends with Enter, marks what it reads, and follows delivery and display ticks', async () => {
    const at = (day: number, hour: number) => new Date(2026, 2, day, hour).getTime();
    const carolSays = (id: string, timestamp: number) => ({ id, conversationId: 'conv-carol', direction: 'incoming' as const, senderUri: CAROL.peerUri, text: id, timestamp, status: 'sent' as const });
    const page = await open({ ...SIGNED_IN, messages: { 'conv-carol': [carolSays('first', at(3, 9)), carolSays('second', at(3, 18)), carolSays('third', at(4, 8))] } });
    await page.getByRole('button', { name: /^Carol/ }).click();
    const carolFeed = page.getByRole('feed', { name: 'Messages with Carol' });
    await carolFeed.getByText('third', { exact: true }).waitFor();
    expect(await carolFeed.locator('.day-separator').allInnerTexts()).toEqual([
      expect.stringMatching(/March.*2026|2026.*March|3/),
      expect.stringMatching(/March.*2026|2026.*March|4/),
    ]);
    expect(await carolFeed.getByRole('article').allInnerTexts()).toEqual([expect.any(String), expect.stringContaining('first'), expect.stringContaining('second'), expect.any(String), expect.stringContaining('third')]);

    await page.getByRole('button', { name: /^Bob/ }).click();
    const feed = page.getByRole('feed', { name: 'Messages with Bob' });
    await feed.getByText('Message 299', { exact: true }).waitFor();
    await page.waitForFunction(() => (window as unknown as { harness: HarnessHandle }).harness.device?.calls.some((c) => c.name === 'markDisplayed'));
    expect((await calls(page, 'markDisplayed'))[0]?.args).toEqual(['conv-bob', 'm299']);
    const composer = page.getByLabel('Message to Bob');
    await composer.fill('On my way');
    await composer.press('Enter');
    await feed.getByText('On my way').waitFor();
    expect(await composer.inputValue()).toBe('');
    const sent = (await calls(page, 'sendMessage'))[0]!;
    expect(sent.args).toEqual(['conv-bob', 'On my way']);
    const row = feed.getByRole('article').filter({ hasText: 'On my way' });
    await row.getByRole('img', { name: 'Sent' }).waitFor();
    const id = await page.evaluate(() => (window as unknown as { harness: HarnessHandle }).harness.store!.getState().histories['conv-bob']!.messages.at(-1)!.id);
    await emit(page, 'messageStatus', { conversationId: 'conv-bob', messageId: id, status: 'delivered', at: Date.now() });
    await row.getByRole('img', { name: 'Delivered' }).waitFor();
    await emit(page, 'messageStatus', { conversationId: 'conv-bob', messageId: id, status: 'displayed', at: Date.now() });
    await row.getByRole('img', { name: 'Read' }).waitFor();
    await finish(page);
  });

  it('moves a conversation: Ctrl+Shift+M opens the picker, arrows and Enter choose, progress shows without blocking, then the thread says where it went', async () => {
    const page = await open(SIGNED_IN);
    await page.getByRole('button', { name: /^Bob/ }).click();
    await page.getByRole('feed').getByText('Message 299', { exact: true }).waitFor();
    await page.keyboard.press('Control+Shift+M');
    const dialog = page.getByRole('dialog', { name: 'Move this conversation to…' });
    await dialog.waitFor();
    expect(await dialog.getByRole('option').allInnerTexts()).toEqual([expect.stringMatching(/Desktop\s*Online/), expect.stringMatching(/Tablet\s*Online/)]);
    await page.screenshot({ path: join(ARTIFACTS, 'move-picker-light.png') });
    await page.keyboard.press('ArrowDown');
    expect(await dialog.getByRole('option', { selected: true }).innerText()).toContain('Tablet');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect(await calls(page, 'moveConversation')).toEqual([{ name: 'moveConversation', args: ['conv-bob', DESKTOP.instanceId] }]);

    const banner = page.getByRole('status').filter({ hasText: 'Desktop' });
    await emit(page, 'transferProgress', { transferId: 'transfer-1', conversationId: 'conv-bob', role: 'source', phase: 'accepted', statusCode: 100 });
    await banner.getByText('Waiting for Desktop to accept…').waitFor();
    // The chat is not blocked while the move runs.
    await page.getByLabel('Message to Bob').fill('still here');
    await page.getByLabel('Message to Bob').press('Enter');
    await page.getByRole('feed').getByText('still here').waitFor();

    await emit(page, 'transferProgress', { transferId: 'transfer-1', conversationId: 'conv-bob', role: 'source', phase: 'completed', statusCode: 200 });
    await page.getByRole('note').getByText('This conversation moved to').waitFor();
    expect(await page.getByLabel('Message to Bob').count()).toBe(0);
    await page.getByRole('feed').getByText(/Moved to Desktop/).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'moved-away-light.png') });
    await finish(page);
  });

  it('shows a refused move with its reason and keeps the chat, and Esc closes the picker', async () => {
    const page = await open(SIGNED_IN);
    await page.getByRole('button', { name: /^Bob/ }).click();
    await page.getByRole('button', { name: 'Move to…' }).click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await calls(page, 'moveConversation')).toEqual([]);
    await page.getByRole('button', { name: 'Move to…' }).click();
    await page.getByRole('option', { name: /Tablet/ }).click();
    await emit(page, 'transferProgress', { transferId: 'transfer-1', conversationId: 'conv-bob', role: 'source', phase: 'failed', statusCode: 480 });
    await page.getByText('The move failed: that device is not reachable right now. The chat stays here.').waitFor();
    expect(await page.getByLabel('Message to Bob').count()).toBe(1);
    await emit(page, 'transferProgress', { transferId: 'transfer-1', conversationId: 'conv-bob', role: 'source', phase: 'declined', statusCode: 603 });
    await page.getByText('Tablet declined the move.').waitFor();
    await finish(page);
  });

  it('disables the picker, saying why, when no other device can take the chat', async () => {
    const page = await open({ ...SIGNED_IN, devices: [SELF] });
    await page.getByRole('button', { name: /^Bob/ }).click();
    await page.keyboard.press('Meta+Shift+M');
    const dialog = page.getByRole('dialog', { name: 'Move this conversation to…' });
    await dialog.getByText('None of your other devices is online.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Move', exact: true }).isDisabled()).toBe(true);
    await finish(page);
  });

  it('on the target, the join prompt counts down from its arrival, accepts, and the banner goes when the session is replaced', async () => {
    const page = await open({ ...SIGNED_IN, conversations: [CAROL] }, 'dark', true);
    await page.getByRole('list', { name: 'Conversations' }).waitFor();
    // The page has been open a while (the fake clock moved on 5 minutes) when the request arrives.
    await page.clock.fastForward('05:00');
    const sentAt = await page.evaluate(() => Date.now());
    await emit(page, 'joinRequest', { joinId: 'join-1', conversationId: 'conv-bob', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', sourceDeviceName: 'Laptop', expiresAt: sentAt + 60_000 });
    const prompt = page.getByRole('alertdialog');
    await prompt.getByText('Continue your conversation with Bob here? (moved from Laptop)').waitFor();
    expect(await prompt.getByText(/s left$/).textContent()).toBe('60 s left');
    await page.clock.runFor(20_000);
    await prompt.getByText('40 s left').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'join-prompt-dark.png') });
    await emit(page, 'conversationUpdated', BOB);
    await prompt.getByRole('button', { name: 'Accept' }).click();
    await prompt.waitFor({ state: 'detached' });
    expect(await calls(page, 'acceptJoin')).toEqual([{ name: 'acceptJoin', args: ['join-1'] }]);
    await page.getByRole('feed', { name: 'Messages with Bob' }).getByText('Message 299', { exact: true }).waitFor();
    await emit(page, 'transferProgress', { transferId: 'join-1', conversationId: 'conv-bob', role: 'target', phase: 'joining', statusCode: null });
    const banner = page.getByRole('status').filter({ hasText: 'Bringing the chat over from Laptop…' });
    await banner.waitFor();
    // The device's last event for a move that worked, on the target (electron/device/transfer).
    await emit(page, 'transferProgress', { transferId: 'join-1', conversationId: 'conv-bob', role: 'target', phase: 'replaced', statusCode: 200 });
    await banner.waitFor({ state: 'detached' });
    await page.getByRole('feed').getByText(/Moved here from Laptop/).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'conversation-dark.png') });
    await finish(page);
  });

  it('declining a join prompt answers the device and removes the prompt', async () => {
    const page = await open(SIGNED_IN);
    await emit(page, 'joinRequest', { joinId: 'join-2', conversationId: 'conv-bob', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', sourceDeviceName: 'Desktop', expiresAt: Date.now() + 60_000 });
    await page.getByRole('alertdialog').getByRole('button', { name: 'Decline' }).click();
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect(await calls(page, 'declineJoin')).toEqual([{ name: 'declineJoin', args: ['join-2'] }]);
    await finish(page);
  });

  it('gives every control an accessible name and follows the dark colour scheme', async () => {
    const page = await open(SIGNED_IN, 'dark');
    await page.getByRole('button', { name: /^Bob/ }).click();
    await page.getByRole('feed').getByText('Message 299', { exact: true }).waitFor();
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, input, textarea, [role="option"], [role="switch"]')]
        .filter((el) => {
          const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el as HTMLInputElement).labels?.length;
          return !labelled && !(el.textContent ?? '').trim();
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim());
    expect(background).toBe('#14171c');
    await page.getByRole('button', { name: 'Settings' }).click();
    const autoAccept = page.getByRole('switch', { name: 'Accept moves from my own devices without asking' });
    expect(await autoAccept.isChecked()).toBe(false);
    await autoAccept.check();
    expect(await calls(page, 'setAutoAccept')).toEqual([{ name: 'setAutoAccept', args: [true] }]);
    await page.screenshot({ path: join(ARTIFACTS, 'settings-dark.png') });
    await finish(page);
  });
});
