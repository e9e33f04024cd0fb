/**
 * Vite builds the renderer (`npm run build:renderer` → dist/renderer/). Relative asset URLs (`base: './'`)
 * so that the same build loads from `file:` in Electron and from the browser shell's HTTP server.
 * No React plugin: esbuild's automatic JSX runtime is all the renderer needs.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';

const root = fileURLToPath(new URL('./renderer', import.meta.url));

/** The renderer's Vite config; `entry` picks the app page or the test harness page, `outDir` where it goes. */
export function rendererViteConfig(options: { entry?: 'app' | 'harness'; outDir?: string } = {}): UserConfig {
  const entry = options.entry ?? 'app';
  return {
    root: entry === 'app' ? root : `${root}/harness`,
    base: './',
    publicDir: false,
    logLevel: 'warn',
    esbuild: { jsx: 'automatic' },
    build: {
      outDir: options.outDir ?? fileURLToPath(new URL('./dist/renderer', import.meta.url)),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      // One small app: no need for a vendor chunk warning.
      chunkSizeWarningLimit: 1024,
    },
    server: { host: '127.0.0.1', strictPort: false },
  };
}

export default defineConfig(rendererViteConfig());
