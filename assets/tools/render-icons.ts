/**
 * Renders the app icon and the tray images from their SVG sources with headless Chromium, and packs the
 * Windows .ico and macOS .icns from the PNGs. Run after changing an SVG:
 *
 *   npx tsx assets/tools/render-icons.ts
 *
 * Output (committed): assets/icons/<N>x<N>.png for every size the targets use, icons/icon.ico,
 * icons/icon.icns; assets/tray/trayTemplate(@2x).png (macOS template: black + alpha),
 * tray-light(@2x).png (light glyph for dark panels) and tray-dark(@2x).png (dark glyph for light panels).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { writeIcns } from './icns-writer';
import { writeIco } from './ico-writer';
import { ICON_SIZES, ICO_SIZES, TRAY_VARIANTS } from './icon-sizes';
import { readPngInfo } from './png-info';

const ASSETS = fileURLToPath(new URL('..', import.meta.url));

async function render(page: Page, svg: string, size: number): Promise<Uint8Array> {
  await page.setViewportSize({ width: size, height: size });
  const source = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
  await page.setContent(
    `<!doctype html><html><body style="margin:0;background:transparent"><img id="i" src="${source}" style="display:block;width:${size}px;height:${size}px"></body></html>`,
  );
  await page.waitForFunction('document.getElementById("i")?.complete === true');
  const png = new Uint8Array(await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
  const info = readPngInfo(png);
  if (info.width !== size || info.height !== size) throw new Error(`rendered ${info.width}x${info.height} for ${size}`);
  return png;
}

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'cpm-icons-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    deviceScaleFactor: 1,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await context.newPage();
    const icon = readFileSync(join(ASSETS, 'icon.svg'), 'utf8');
    mkdirSync(join(ASSETS, 'icons'), { recursive: true });
    const pngs = new Map<number, Uint8Array>();
    for (const size of ICON_SIZES) {
      const png = await render(page, icon, size);
      pngs.set(size, png);
      writeFileSync(join(ASSETS, 'icons', `${size}x${size}.png`), png);
    }
    writeFileSync(join(ASSETS, 'icons', 'icon.ico'), writeIco(ICO_SIZES.map((size) => ({ png: pngs.get(size)! }))));
    writeFileSync(join(ASSETS, 'icons', 'icon.icns'), writeIcns(pngs));

    const tray = readFileSync(join(ASSETS, 'tray.svg'), 'utf8');
    mkdirSync(join(ASSETS, 'tray'), { recursive: true });
    for (const { stem, colour } of TRAY_VARIANTS) {
      const svg = tray.replaceAll('currentColor', colour);
      writeFileSync(join(ASSETS, 'tray', `${stem}.png`), await render(page, svg, 16));
      writeFileSync(join(ASSETS, 'tray', `${stem}@2x.png`), await render(page, svg, 32));
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

await main();
