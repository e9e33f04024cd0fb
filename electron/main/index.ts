/**
 * Entry point of the Electron main process (bundled to dist/electron/main/index.js by
 * scripts/build-electron.mjs). Works out where the bundled preload, renderer and images are, then starts
 * the app with the real DeviceAgent and the local lab.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import { loadDeviceAgent } from './device-agent-factory';
import { startDesktopApp } from './desktop-app';
import { loadLocalLab } from './local-lab-loader';
import type { RendererSource } from './main-window';

const here = dirname(fileURLToPath(import.meta.url)); // dist/electron/main
const distRoot = join(here, '..', '..'); // dist

/** A renderer dev server (`vite` on loopback) when CPM_RENDERER_URL names one; the built files otherwise. */
function rendererSource(): RendererSource {
  const url = process.env['CPM_RENDERER_URL'];
  if (url !== undefined && /^http:\/\/(127\.0\.0\.1|localhost):\d+\/?$/.test(url)) return { kind: 'url', url };
  return { kind: 'file', path: join(distRoot, 'renderer', 'index.html') };
}

const assets = app.isPackaged ? process.resourcesPath : join(distRoot, '..', 'assets');

startDesktopApp({
  argv: process.argv.slice(1),
  platform: process.platform,
  agentFactory: loadDeviceAgent,
  preloadPath: join(here, '..', 'preload', 'index.cjs'),
  renderer: rendererSource(),
  trayImageDir: join(assets, 'tray'),
  // electron-builder.yml copies assets/icons/512x512.png to resources/icon.png.
  iconPath: app.isPackaged ? join(assets, 'icon.png') : join(assets, 'icons', '512x512.png'),
  // "Try it locally": the lab runs in this process, or in the profile that started it (see local-lab.ts).
  localLab: (rootDir) => loadLocalLab({ rootDir, log: (line) => console.log(`[main] ${line}`) }),
});
