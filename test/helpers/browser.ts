/**
 * Driving the real app in Debian's Chromium (playwright-core), for the browser tests and the renderer bench:
 * launching one headless Chromium with a fresh profile (and killing it for sure at the end), pages that record
 * every page error, screenshots under test-artifacts/, and the renderer build the browser shell serves,
 * rebuilt first when its sources changed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserServer, type Page } from 'playwright-core';
import { ensureRendererBuilt } from '../../electron/web/renderer-build';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Debian's Chromium. */
export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';

/**
 * Its flags: new headless mode, no sandbox (containers), software rendering (`--disable-gpu`: every frame
 * time measured here is CPU rasterization), and nothing that phones home or prompts.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]);

/** Where screenshots go (git-ignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'browser');

/** A colour scheme the renderer follows (`prefers-color-scheme`). */
export type Theme = 'light' | 'dark';

/** A page that keeps what went wrong on it. */
export interface WatchedPage {
  page: Page;
  /** Uncaught exceptions and console errors, in order. */
  errors: string[];
}

/** A running Chromium. */
export interface ChromiumSession {
  browser: Browser;
  /** A new isolated context (its own cookies and storage), 1100×720 unless told otherwise. */
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  /** A new page in `context` in `theme`, recording its errors; not navigated yet. */
  newPage(context: BrowserContext, theme?: Theme): Promise<WatchedPage>;
  /** Close the browser; SIGKILL its process if it does not exit within 5 s. Idempotent. */
  close(): Promise<void>;
}

/**
 * Launch Chromium. Playwright gives each launch a fresh temporary profile (user data dir) and removes it
 * when the browser closes. The browser runs as a server so that its process can be killed if closing hangs.
 * `extraArgs` are added after CHROMIUM_ARGS (the renderer benchmark's unpaced frames, for one).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<ChromiumSession> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM_EXECUTABLE,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint());
  } catch (error) {
    server.process().kill('SIGKILL');
    throw error;
  }
  let closing: Promise<void> | null = null;
  return {
    browser,
    newContext: (options = {}) => browser.newContext({ viewport: options.viewport ?? { width: 1100, height: 720 } }),
    newPage: async (context, theme = 'light') => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      await page.emulateMedia({ colorScheme: theme });
      return { page, errors };
    },
    close: () =>
      (closing ??= (async () => {
        const child = server.process();
        const exited = new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
        });
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), 5_000);
        });
        await browser.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        if ((await Promise.race([exited.then(() => 'exited' as const), deadline])) === 'late') {
          child.kill('SIGKILL');
          await exited;
        }
        clearTimeout(timer);
      })()),
  };
}

/** An element, as the page scripts here use it. */
export interface PageElement {
  readonly textContent: string | null;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { top: number; bottom: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  click(): void;
}

/**
 * The browser globals the page scripts here use (`page.evaluate` callbacks run in Chromium). The Node
 * typecheck (tsconfig.node.json) has no DOM library, on purpose; a script reads them as
 * `const w = globalThis as unknown as PageGlobals`.
 */
export interface PageGlobals {
  document: { activeElement: unknown; body: PageElement; querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement> };
  performance: { now(): number };
  requestAnimationFrame(callback: (time: number) => void): number;
  MutationObserver: new (callback: () => void) => { observe(target: PageElement, options: { childList: boolean; subtree: boolean }): void; disconnect(): void };
  PerformanceObserver: new (callback: (list: { getEntries(): { duration: number }[] }) => void) => { observe(options: { type: string }): void; disconnect(): void };
}

/** Two animation frames: what was rendered is painted (a screenshot or a measurement may follow). */
export async function afterPaint(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as PageGlobals;
    return new Promise<void>((resolve) => w.requestAnimationFrame(() => w.requestAnimationFrame(() => resolve())));
  });
}

/**
 * Screenshot of `page` as `<name>-<theme>.png` in {@link ARTIFACTS_DIR}, once per theme in `themes` (the
 * page's colour scheme is switched for each, then put back to the first). Returns the files written.
 */
export async function screenshot(page: Page, name: string, themes: readonly Theme[] = ['light']): Promise<string[]> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: use lower-case letters, digits and dashes`);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const files: string[] = [];
  for (const theme of themes) {
    await page.emulateMedia({ colorScheme: theme });
    await afterPaint(page);
    const path = join(ARTIFACTS_DIR, `${name}-${theme}.png`);
    await page.screenshot({ path });
    files.push(path);
  }
  if (themes.length > 1) await page.emulateMedia({ colorScheme: themes[0]! });
  return files;
}

/** The built renderer the shell serves, rebuilt first when a source is newer (electron/web/renderer-build.ts). */
export function freshRenderer(log?: (line: string) => void): Promise<string> {
  return ensureRendererBuilt(REPO_ROOT, log, { rebuildIfStale: true });
}
