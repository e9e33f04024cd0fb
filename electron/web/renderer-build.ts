/**
 * The built renderer the shell serves: `dist/renderer/` (what `npm run build:renderer` writes). When it is
 * missing — or, if asked, older than its sources — it is built with Vite's API and the repository's
 * vite.config.ts.
 */
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the built renderer lives under the repository root. */
export function rendererDistDir(repoRoot: string): string {
  return join(repoRoot, 'dist', 'renderer');
}

/** What the renderer build is made of, relative to the repository root (folders are walked). */
export const RENDERER_SOURCES: readonly string[] = Object.freeze(['renderer', 'electron/api', 'vite.config.ts', 'tsconfig.web.json']);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Tests and the harness page are not part of the app's bundle: editing them needs no rebuild. */
function isBuildInput(name: string): boolean {
  return !/\.test\.tsx?$/.test(name) && !name.endsWith('.md') && name !== 'harness';
}

/** The newest modification time under `path` (a file or a folder, walked), in ms; 0 when it does not exist. */
async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (info === null) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (!isBuildInput(entry.name)) continue;
    newest = Math.max(newest, await newestMtime(join(path, entry.name)));
  }
  return newest;
}

/**
 * True when `dist/renderer/index.html` is missing or older than one of the renderer's sources
 * ({@link RENDERER_SOURCES}, tests and the harness left out).
 */
export async function rendererBuildIsStale(repoRoot: string): Promise<boolean> {
  const built = await stat(join(rendererDistDir(repoRoot), 'index.html')).catch(() => null);
  if (built === null) return true;
  for (const source of RENDERER_SOURCES) if ((await newestMtime(join(repoRoot, source))) > built.mtimeMs) return true;
  return false;
}

/** Options of {@link ensureRendererBuilt}. */
export interface EnsureRendererOptions {
  /** Also rebuild when a source is newer than the build (the browser tests and the bench; default false). */
  rebuildIfStale?: boolean;
}

/**
 * Returns the folder of the built renderer, building it first when its `index.html` is missing (or, with
 * `rebuildIfStale`, older than its sources). Throws an Error saying what to run when it cannot be built.
 */
export async function ensureRendererBuilt(repoRoot: string, log: (line: string) => void = () => undefined, options: EnsureRendererOptions = {}): Promise<string> {
  const dir = rendererDistDir(repoRoot);
  const present = await exists(join(dir, 'index.html'));
  if (present && !(options.rebuildIfStale && (await rendererBuildIsStale(repoRoot)))) return dir;
  const configFile = join(repoRoot, 'vite.config.ts');
  log(`web: ${present ? `${dir} is older than the renderer's sources` : `${dir} has no index.html`}; building the renderer with ${configFile}…`);
  try {
    const vite = await import('vite');
    await vite.build({ configFile, logLevel: 'warn' });
  } catch (error) {
    throw new Error(`web: cannot build the renderer (${error instanceof Error ? error.message : String(error)}); run \`npm run build:renderer\` and try again`);
  }
  if (!(await exists(join(dir, 'index.html')))) throw new Error(`web: the renderer build wrote no ${join(dir, 'index.html')}; run \`npm run build:renderer\``);
  return dir;
}
