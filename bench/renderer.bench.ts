/**
 * Renderer benchmark: `npx tsx bench/renderer.bench.ts [--runs N] [--trace FILE]` (`--trace` keeps the last
 * run's Chromium trace of the scroll, for chrome://tracing or the DevTools performance panel).
 *
 * The real app (the built renderer, served by the browser shell, over the WebSocket bridge to a real
 * DeviceAgent on an in-process lab) in Debian's headless Chromium, with a 100,000-message conversation seeded
 * straight into the device's SQLite history before the shell starts. Chromium renders in software here
 * (`--disable-gpu`, no GPU in the container): the frame times are CPU rasterization and say more about
 * main-thread work than about what a desktop GPU would show.
 *
 * Each run opens a fresh page and measures:
 * - app ready: navigation start → the conversation list painted (the account, the device and the list
 *   fetched over the bridge);
 * - thread painted: the click on the conversation → the first message rows painted (a MutationObserver
 *   sees the rows, then two animation frames: the frame that contains them has been produced);
 * - scrolling up through the history, 100 px per animation frame for 400 frames (about 40,000 px, some 800
 *   rows, paging older messages in over the bridge as it goes), from Chromium's performance trace of the
 *   scroll at 60 Hz: the frames that missed a vsync (interval between presented frames,
 *   `AnimationFrame::Presentation`, over 1.5 × 16.7 ms; rAF deltas give a cross-check), the longest
 *   main-thread task (`RunTask`), the long tasks (≥ 50 ms, PerformanceObserver) and how far back it got.
 *   At 60 Hz the interval between frames is 16.7 ms by construction whatever a frame costs (headless
 *   Chromium's begin-frame clock jitters it to 16.6–16.8 ms), so it cannot tell the frame time;
 * - the **frame time**: the same scroll, traced, in a second Chromium with the frame rate unlimited
 *   (`--disable-frame-rate-limit --disable-gpu-vsync`): frames are produced back to back, so the interval
 *   between presented frames is what each frame costs end to end (script, style, layout, paint, raster,
 *   draw); its p95 against 16.7 ms says whether 60 Hz is sustained. (The trace's `AnimationFrame` spans are
 *   no substitute at 60 Hz: they run from the frame's first task to its rendering and include idle time.)
 * Prints a markdown table of the medians over the runs and writes it to bench/results/renderer.md, with
 * every run's figures in bench/results/renderer.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import type { ChatMessage } from '../electron/api/payloads';
import { historyPath, SqliteMessageHistory } from '../electron/device/history/sqlite-message-history';
import { WebShell } from '../electron/web/web-shell';
import { CHROMIUM_ARGS, freshRenderer, launchChromium, REPO_ROOT, type ChromiumSession, type PageGlobals } from '../test/helpers/browser';

const MESSAGES = 100_000;
const SELF = 'sip:alice@a.example';
const PEER = 'sip:bob@b.example';
const CONVERSATION = 'bench-conversation-100k';
const SCROLL_FRAMES = 400;
const SCROLL_STEP_PX = 100;
const VIEWPORT = { width: 1100, height: 720 };
/** Chromium flags for the unpaced scroll: no frame rate limit, no vsync. */
const UNPACED_ARGS = ['--disable-frame-rate-limit', '--disable-gpu-vsync'] as const;
/** A rAF delta above this missed at least one 60 Hz vsync. */
const MISSED_FRAME_MS = 1.5 * (1000 / 60);

/** One run's figures, ms. */
interface RunFigures {
  appReadyMs: number;
  threadPaintedMs: number;
  rowsInDom: number;
  frames: number;
  /** Frames that missed a vsync: interval between presented frames over 1.5 × the 60 Hz interval. */
  missedFrames: number;
  /** The same, from rAF deltas (a cross-check of the trace). */
  missedFramesRaf: number;
  /** Interval between presented frames (trace), p95: the paced cadence, ~16.7 ms when no vsync is missed. */
  presentIntervalP95Ms: number;
  longestTaskMs: number;
  longTasks: number;
  scrolledPx: number;
  /** How many messages back from the newest the scroll reached. */
  messagesBack: number;
}

/** A chat message of the seeded conversation: alternate sides, varied lengths, one minute apart. */
function seedMessage(i: number): ChatMessage {
  const outgoing = i % 3 !== 0;
  const words = ['sure', 'see you at six', 'the train is late again', 'can you send me the slides from this morning?', 'ok', 'on my way'];
  return {
    id: `seed-${i}`,
    conversationId: CONVERSATION,
    direction: outgoing ? 'outgoing' : 'incoming',
    senderUri: outgoing ? SELF : PEER,
    text: `${words[i % words.length]} (#${i})`,
    timestamp: Date.UTC(2026, 0, 1) + i * 60_000,
    status: outgoing ? 'displayed' : 'delivered',
  };
}

/** Write the 100,000-message conversation into the device's SQLite history (what it would hold after years). */
function seedHistory(deviceDataDir: string): void {
  mkdirSync(deviceDataDir, { recursive: true });
  const history = SqliteMessageHistory.open({ path: historyPath(deviceDataDir, SELF), self: SELF });
  try {
    for (let i = 0; i < MESSAGES; i++) {
      history.append(seedMessage(i));
      if (i % 1000 === 999) history.flush();
    }
    history.flush();
    const last = seedMessage(MESSAGES - 1);
    history.saveConversation({ id: CONVERSATION, peerUri: PEER, peerDisplayName: 'Bob', lastMessageText: last.text, updatedAt: last.timestamp, unreadCount: 0 });
  } finally {
    history.close();
  }
}

/** Nearest-rank percentile. */
function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

const median = (samples: readonly number[]): number => percentile(samples, 0.5);

/** Chromium trace events we read. */
interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string };
}

function traceEvents(trace: Buffer): TraceEvent[] {
  const parsed = JSON.parse(trace.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  return Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
}

/** The intervals (ms) between consecutive presented frames of a trace (`AnimationFrame::Presentation` marks). */
function presentIntervals(trace: Buffer): number[] {
  const presented = traceEvents(trace)
    .filter((e) => e.name === 'AnimationFrame::Presentation')
    .map((e) => e.ts)
    .sort((a, b) => a - b);
  return presented.slice(1).map((t, i) => (t - presented[i]!) / 1000);
}

/** The longest `RunTask` (ms) on the busiest renderer main thread of a trace. */
function longestRendererTask(trace: Buffer): number {
  const events = traceEvents(trace);
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map<string, { total: number; longest: number }>();
  for (const e of events) {
    if (e.name !== 'RunTask' || e.ph !== 'X' || e.dur === undefined) continue;
    const key = `${e.pid}:${e.tid}`;
    if (!mains.has(key)) continue;
    const t = byThread.get(key) ?? { total: 0, longest: 0 };
    t.total += e.dur;
    t.longest = Math.max(t.longest, e.dur);
    byThread.set(key, t);
  }
  const busiest = [...byThread.values()].sort((a, b) => b.total - a.total)[0];
  if (!busiest) throw new Error('the trace has no RunTask on a renderer main thread');
  return busiest.longest / 1000;
}

/** Navigation start → the conversation's row in the list painted. */
async function appReady(page: Page, url: string): Promise<number> {
  await page.goto(url);
  await page.getByRole('button', { name: /^Bob/ }).waitFor({ timeout: 30_000 });
  return page.evaluate(() => {
    const w = globalThis as unknown as PageGlobals;
    return new Promise<number>((resolve) => w.requestAnimationFrame(() => w.requestAnimationFrame(() => resolve(w.performance.now()))));
  });
}

/** Click → first message rows painted, in page time. */
function threadPainted(page: Page): Promise<{ ms: number; rows: number }> {
  return page.evaluate(() => {
    const w = globalThis as unknown as PageGlobals;
    return new Promise<{ ms: number; rows: number }>((resolve, reject) => {
      const rows = (): number => w.document.querySelectorAll('[role="feed"] .message').length;
      const button = [...w.document.querySelectorAll('button.conversation')].find((b) => b.textContent?.includes('Bob'));
      if (!button) {
        reject(new Error('no conversation with Bob in the list'));
        return;
      }
      const timer = setTimeout(() => reject(new Error('no message rows within 30 s')), 30_000);
      let start = 0;
      const observer = new w.MutationObserver(() => {
        if (rows() === 0) return;
        observer.disconnect();
        // The frame that holds the rows has been produced once the next one starts.
        w.requestAnimationFrame(() =>
          w.requestAnimationFrame(() => {
            clearTimeout(timer);
            resolve({ ms: w.performance.now() - start, rows: rows() });
          }),
        );
      });
      observer.observe(w.document.body, { childList: true, subtree: true });
      start = w.performance.now();
      button.click();
    });
  });
}

/** What one scroll gave. */
interface ScrollResult {
  deltas: number[];
  longTasks: number[];
  scrolledPx: number;
  /** The seeded index of the oldest message in view at the end (-1: none found). */
  oldestInView: number;
}

/** Scroll the history up, one step per animation frame; rAF deltas and long tasks. */
function scrollUp(page: Page, frames: number, stepPx: number): Promise<ScrollResult> {
  return page.evaluate(
    ([frameCount, step]) => {
      const w = globalThis as unknown as PageGlobals;
      return new Promise<ScrollResult>((resolve, reject) => {
        const feed = w.document.querySelector('[role="feed"]');
        if (!feed) {
          reject(new Error('no feed'));
          return;
        }
        const longTasks: number[] = [];
        const observer = new w.PerformanceObserver((list) => {
          for (const entry of list.getEntries()) longTasks.push(entry.duration);
        });
        observer.observe({ type: 'longtask' });
        const deltas: number[] = [];
        let scrolled = 0;
        let last = -1;
        let n = 0;
        const frame = (t: number): void => {
          if (last >= 0) deltas.push(t - last);
          last = t;
          if (n++ >= frameCount) {
            observer.disconnect();
            // The oldest message in view: the seeded texts end with `(#index)`.
            const top = feed.getBoundingClientRect().top;
            const inView = [...feed.querySelectorAll('.message')].find((m) => m.getBoundingClientRect().bottom > top);
            const index = /\(#(\d+)\)/.exec(inView?.textContent ?? '')?.[1];
            resolve({ deltas, longTasks, scrolledPx: scrolled, oldestInView: index === undefined ? -1 : Number(index) });
            return;
          }
          const before = feed.scrollTop;
          feed.scrollTop = Math.max(0, before - step);
          scrolled += before - feed.scrollTop;
          w.requestAnimationFrame(frame);
        };
        w.requestAnimationFrame(frame);
      });
    },
    [frames, stepPx] as const,
  );
}

/** A Chromium (with `extraArgs`) and a browser context for the length of `body`. */
async function withChromium(extraArgs: readonly string[], body: (chromium: ChromiumSession, context: BrowserContext) => Promise<void>): Promise<void> {
  const chromium = await launchChromium(extraArgs);
  try {
    const context = await chromium.newContext({ viewport: VIEWPORT });
    // tsx compiles this file with esbuild's keepNames: functions inside the page scripts call its `__name`
    // helper, which the page does not have. It only names functions; the identity is enough.
    await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
    await body(chromium, context);
  } finally {
    await chromium.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, trace: { type: 'string' } }, strict: true });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs must be an integer from 1 to 20');

  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const staticRoot = await freshRenderer(log);
  const dataDir = mkdtempSync(join(tmpdir(), 'cpm-renderer-bench-'));
  const tSeed = performance.now();
  seedHistory(join(dataDir, 'alice-laptop'));
  log(`seeded ${MESSAGES.toLocaleString('en-US')} messages in ${((performance.now() - tSeed) / 1000).toFixed(1)} s`);

  const shell = new WebShell({ staticRoot, dataDir, devices: [{ id: 'alice-laptop', user: SELF, name: 'Laptop' }], log: () => undefined });
  const figures: RunFigures[] = [];
  const unpaced: { frames: number; frameP95Ms: number; frameMedianMs: number; frameMaxMs: number; rafP95Ms: number }[] = [];
  try {
    const described = await shell.start();
    const url = described.devices[0]!.url;
    // Paced (60 Hz, as a user sees it): load, open, and the traced scroll.
    await withChromium([], async (chromium, context) => {
      for (let run = 0; run < runs; run++) {
        const { page, errors } = await chromium.newPage(context);
        const ready = await appReady(page, url);
        const painted = await threadPainted(page);
        await chromium.browser.startTracing(undefined, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel'] });
        const scrolled = await scrollUp(page, SCROLL_FRAMES, SCROLL_STEP_PX);
        const trace = await chromium.browser.stopTracing();
        if (values.trace !== undefined) writeFileSync(values.trace, trace);
        if (errors.length > 0) throw new Error(`the page reported errors: ${errors.join('; ')}`);
        const presentIntervalsMs = presentIntervals(trace);
        if (presentIntervalsMs.length < SCROLL_FRAMES / 2) throw new Error(`the trace has ${presentIntervalsMs.length + 1} presented frames for ${SCROLL_FRAMES}`);
        figures.push({
          appReadyMs: ready,
          threadPaintedMs: painted.ms,
          rowsInDom: painted.rows,
          frames: presentIntervalsMs.length + 1,
          missedFrames: presentIntervalsMs.filter((d) => d > MISSED_FRAME_MS).length,
          missedFramesRaf: scrolled.deltas.filter((d) => d > MISSED_FRAME_MS).length,
          presentIntervalP95Ms: percentile(presentIntervalsMs, 0.95),
          longestTaskMs: longestRendererTask(trace),
          longTasks: scrolled.longTasks.length,
          scrolledPx: scrolled.scrolledPx,
          messagesBack: scrolled.oldestInView < 0 ? -1 : MESSAGES - 1 - scrolled.oldestInView,
        });
        log(`paced run ${run + 1}/${runs}: ${JSON.stringify(figures.at(-1))}`);
        await page.close();
      }
    });
    // Unpaced: frames back to back, so the interval between them is what each costs.
    await withChromium(UNPACED_ARGS, async (chromium, context) => {
      for (let run = 0; run < runs; run++) {
        const { page, errors } = await chromium.newPage(context);
        await appReady(page, url);
        await threadPainted(page);
        await chromium.browser.startTracing(undefined, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel'] });
        const scrolled = await scrollUp(page, SCROLL_FRAMES, SCROLL_STEP_PX);
        const frameMs = presentIntervals(await chromium.browser.stopTracing());
        if (errors.length > 0) throw new Error(`the page reported errors: ${errors.join('; ')}`);
        if (frameMs.length < SCROLL_FRAMES / 2) throw new Error(`the unpaced trace has ${frameMs.length + 1} presented frames for ${SCROLL_FRAMES}`);
        unpaced.push({
          frames: frameMs.length + 1,
          frameP95Ms: percentile(frameMs, 0.95),
          frameMedianMs: median(frameMs),
          frameMaxMs: Math.max(...frameMs),
          rafP95Ms: percentile(scrolled.deltas, 0.95),
        });
        log(`unpaced run ${run + 1}/${runs}: ${JSON.stringify(unpaced.at(-1))}`);
        await page.close();
      }
    });
  } finally {
    await shell.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const pick = (f: (r: RunFigures) => number): number[] => figures.map(f);
  const rows: { measurement: string; value: number; unit: string; detail: string }[] = [
    { measurement: 'app ready (navigation → conversation list painted)', value: median(pick((r) => r.appReadyMs)), unit: 'ms', detail: 'page load, bridge, account + list' },
    { measurement: 'thread painted (click → first rows painted)', value: median(pick((r) => r.threadPaintedMs)), unit: 'ms', detail: `${MESSAGES.toLocaleString('en-US')}-message conversation, newest page fetched over the bridge` },
    { measurement: 'scroll: p95 frame time', value: median(unpaced.map((u) => u.frameP95Ms)), unit: 'ms', detail: `Chromium trace, interval between presented frames with frames back to back (${UNPACED_ARGS.join(' ')}); ${SCROLL_FRAMES} frames, ${SCROLL_STEP_PX} px per frame, paging older messages in; median ${median(unpaced.map((u) => u.frameMedianMs)).toFixed(1)} ms; rAF p95 ${median(unpaced.map((u) => u.rafP95Ms)).toFixed(1)} ms` },
    { measurement: 'scroll: longest frame', value: median(unpaced.map((u) => u.frameMaxMs)), unit: 'ms', detail: 'the same trace' },
    { measurement: 'scroll at 60 Hz: missed frames', value: median(pick((r) => r.missedFrames)), unit: 'count', detail: `of ${SCROLL_FRAMES}: presented-frame interval over ${MISSED_FRAME_MS.toFixed(1)} ms, trace (rAF deltas: ${median(pick((r) => r.missedFramesRaf))})` },
    { measurement: 'scroll at 60 Hz: p95 interval between presented frames', value: median(pick((r) => r.presentIntervalP95Ms)), unit: 'ms', detail: '16.7 ms by construction when on time (the begin-frame clock jitters it): the cadence, not the cost' },
    { measurement: 'scroll at 60 Hz: longest main-thread task', value: median(pick((r) => r.longestTaskMs)), unit: 'ms', detail: 'Chromium trace, RunTask on the renderer main thread' },
    { measurement: 'scroll at 60 Hz: long tasks (≥ 50 ms)', value: median(pick((r) => r.longTasks)), unit: 'count', detail: 'PerformanceObserver longtask' },
    { measurement: 'scroll: reached', value: median(pick((r) => r.messagesBack)), unit: 'messages back', detail: 'the oldest message in view at the end, counted from the newest' },
  ];
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  const lines = [
    `Median of ${runs} runs; headless Chromium (${CHROMIUM_ARGS.join(' ')}), software rendering (no GPU); ${cpus().length} CPUs, load average ${load}.`,
    '',
    '| measurement | value | unit | detail |',
    '| --- | ---: | --- | --- |',
    ...rows.map((r) => `| ${r.measurement} | ${r.unit === 'ms' ? r.value.toFixed(1) : String(r.value)} | ${r.unit} | ${r.detail} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const report = {
    benchmark: 'renderer',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverage: loadavg(),
    chromium: { args: CHROMIUM_ARGS, rendering: 'software (--disable-gpu, no GPU)', viewport: VIEWPORT },
    conversation: { messages: MESSAGES },
    scroll: { frames: SCROLL_FRAMES, stepPx: SCROLL_STEP_PX },
    medians: rows,
    runs: figures,
    unpacedRuns: unpaced,
  };
  writeFileSync(join(dir, 'renderer.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'renderer.md'), `# Renderer benchmark, ${report.date}\n\n${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
