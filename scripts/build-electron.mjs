#!/usr/bin/env node
/**
 * Bundles the Electron shell with esbuild (installed with Vite):
 *   electron/main/index.ts        → dist/electron/main/index.js       (ESM; Electron 45's main process)
 *   electron/preload/index.ts     → dist/electron/preload/index.cjs   (CommonJS: sandboxed preloads cannot be ESM)
   (the DeviceAgent, electron/device/, is bundled into the main script and evaluated on first use)
 * `electron` and every npm package stay external (node_modules is shipped; better-sqlite3 is native).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds the shell; resolves with the list of outputs. */
export async function buildElectron() {
  const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node22', sourcemap: true, packages: 'external', external: ['electron'], logLevel: 'warning' };
  const outputs = [];
  await build({ ...common, entryPoints: ['electron/main/index.ts'], format: 'esm', outfile: 'dist/electron/main/index.js' });
  outputs.push('dist/electron/main/index.js');
  await build({ ...common, entryPoints: ['electron/preload/index.ts'], format: 'cjs', outfile: 'dist/electron/preload/index.cjs', packages: undefined });
  outputs.push('dist/electron/preload/index.cjs');
  return outputs;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildElectron()
    .then((outputs) => console.log(`build-electron: wrote ${outputs.join(', ')}`))
    .catch((error) => {
      console.error(`build-electron: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}
