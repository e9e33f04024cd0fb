/**
 * The built renderer the shell serves: `dist/renderer/` (what `npm run build:renderer` writes). When it is
 * missing, the shell builds it once with Vite's API and the repository's vite.config.ts.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the built renderer lives under the repository root. */
export function rendererDistDir(repoRoot: string): string {
  return join(repoRoot, 'dist', 'renderer');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Returns the folder of the built renderer, building it first when its `index.html` is missing.
 * Throws an Error saying what to run when it cannot be built.
 */
export async function ensureRendererBuilt(repoRoot: string, log: (line: string) => void = () => undefined): Promise<string> {
  const dir = rendererDistDir(repoRoot);
  if (await exists(join(dir, 'index.html'))) return dir;
  const configFile = join(repoRoot, 'vite.config.ts');
  log(`web: ${dir} has no index.html; building the renderer with ${configFile}…`);
  try {
    const vite = await import('vite');
    await vite.build({ configFile, logLevel: 'warn' });
  } catch (error) {
    throw new Error(`web: cannot build the renderer (${error instanceof Error ? error.message : String(error)}); run \`npm run build:renderer\` and try again`);
  }
  if (!(await exists(join(dir, 'index.html')))) throw new Error(`web: the renderer build wrote no ${join(dir, 'index.html')}; run \`npm run build:renderer\``);
  return dir;
}
