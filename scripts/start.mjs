#!/usr/bin/env node
/**
 * `npm start`: runs the desktop app.
 *
 * If the Electron binary is installed (node_modules/electron/path.txt names it and it exists), makes sure
 * the native modules (better-sqlite3) are built for Electron's ABI, builds the renderer and the shell and
 * launches Electron, passing on any arguments (e.g. `npm start -- --profile laptop`).
 *
 * Native modules: npm builds better-sqlite3 for Node; Electron needs it built for its own ABI. The first
 * `npm start` (and any start after Electron or better-sqlite3 changed) runs `npx electron-builder
 * install-app-deps`, then writes a stamp (node_modules/.cache/cpm-handoff/electron-native.json) naming the
 * Electron version, the better-sqlite3 version and a hash of the addon it built, so later starts skip it.
 * The rebuild downloads Electron's headers: offline it fails, start says so and launches anyway (the app then
 * keeps history in memory and says why). This runs only here, never in postinstall (npm ci must stay offline-safe).
 * The rebuilt addon no longer loads in plain Node (tests, `npm run web`): `npm rebuild better-sqlite3` brings the
 * Node build back, and the next `npm start` notices (the hash changed) and rebuilds for Electron again. Where the binary could not be obtained (the electron package downloads it from GitHub on
 * first install, which fails offline), it says so and runs the browser shell (`npm run web`) instead,
 * passing the arguments on (e.g. `npm start -- --data ./web-data`). The shell's first stdout line, one JSON
 * object with the URLs, is passed through unchanged; the URL of each device follows, one per line.
 * `ELECTRON_OVERRIDE_DIST_PATH` names another folder holding the Electron binary.
 *
 * It never `require`s the electron package: its index.js would try to download the binary.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The Electron executable, or null with the reason it is not usable. */
export function findElectronBinary(repoRoot = root, env = process.env) {
  const dir = join(repoRoot, 'node_modules', 'electron');
  if (!existsSync(join(dir, 'package.json'))) return { path: null, reason: 'the electron package is not installed (run npm ci)' };
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const override = join(env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron');
    return existsSync(override) ? { path: override, reason: null } : { path: null, reason: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${override})` };
  }
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { path: null, reason: "Electron's binary was never downloaded (it comes from GitHub on first install, which is not reachable here)" };
  const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { path: binary, reason: null } : { path: null, reason: `Electron's binary is missing (${binary})` };
}

/** Where the stamp of the last native rebuild for Electron lives, relative to the repository root. */
export const NATIVE_STAMP_PATH = join('node_modules', '.cache', 'cpm-handoff', 'electron-native.json');

/** The native addon whose ABI must match Electron's, relative to the repository root. */
const SQLITE_ADDON = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

/** The `version` of an installed package, or null when it is absent or unreadable. */
function installedVersion(repoRoot, name) {
  try {
    const version = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
    return typeof version === 'string' ? version : null;
  } catch {
    return null;
  }
}

/**
 * What the native modules are now: the Electron version they must match, better-sqlite3's version and the
 * SHA-256 of its addon (null when not built). Null when Electron or better-sqlite3 is not installed.
 * @param {string} [repoRoot]
 */
export function nativeFingerprint(repoRoot = root) {
  const electron = installedVersion(repoRoot, 'electron');
  const betterSqlite3 = installedVersion(repoRoot, 'better-sqlite3');
  if (electron === null || betterSqlite3 === null) return null;
  let addonSha256 = null;
  try {
    addonSha256 = createHash('sha256').update(readFileSync(join(repoRoot, SQLITE_ADDON))).digest('hex');
  } catch {
    // Not built yet: a rebuild is due.
  }
  return { electron, betterSqlite3, addonSha256 };
}

/** The stamp written after the last successful rebuild, or null when there is none (or it does not parse). */
export function readNativeStamp(repoRoot = root) {
  try {
    const stamp = JSON.parse(readFileSync(join(repoRoot, NATIVE_STAMP_PATH), 'utf8'));
    if (typeof stamp !== 'object' || stamp === null || typeof stamp.electron !== 'string') return null;
    return stamp;
  } catch {
    return null;
  }
}

/**
 * Why the native modules must be rebuilt for Electron, or null when the stamp matches what is installed.
 * @param {{ electron: string, betterSqlite3: string, addonSha256: string | null }} now
 * @param {{ electron: string, betterSqlite3?: unknown, addonSha256?: unknown } | null} stamp
 */
export function nativeRebuildReason(now, stamp) {
  if (stamp === null) return `they were never rebuilt for Electron ${now.electron}`;
  if (stamp.electron !== now.electron) return `they were rebuilt for Electron ${stamp.electron}, and Electron ${now.electron} is installed`;
  if (stamp.betterSqlite3 !== now.betterSqlite3) return `better-sqlite3 ${now.betterSqlite3} was installed since the last rebuild (for ${String(stamp.betterSqlite3)})`;
  if (now.addonSha256 === null) return 'better-sqlite3 has no built addon';
  if (stamp.addonSha256 !== now.addonSha256) return 'better-sqlite3 was rebuilt since (for Node, perhaps by npm rebuild or npm install)';
  return null;
}

/**
 * Makes sure the native modules match Electron's ABI: rebuilds them with `npx electron-builder
 * install-app-deps` when the stamp says so, then writes the stamp. A failed rebuild (offline: it downloads
 * Electron's headers) is reported and start goes on; no stamp is written, so the next start tries again.
 * @param {{ repoRoot?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<{ action: 'skipped' | 'up-to-date' | 'rebuilt' | 'failed', reason: string }>}
 */
export async function ensureNativeModules(options = {}) {
  const repoRoot = options.repoRoot ?? root;
  const log = options.log ?? ((line) => console.log(line));
  const now = nativeFingerprint(repoRoot);
  if (now === null) return { action: 'skipped', reason: 'Electron or better-sqlite3 is not installed' };
  const reason = nativeRebuildReason(now, readNativeStamp(repoRoot));
  if (reason === null) return { action: 'up-to-date', reason: `built for Electron ${now.electron}` };
  log(`start: rebuilding native modules (better-sqlite3) for Electron ${now.electron}: ${reason}.`);
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const code = await run(npx, ['--no', 'electron-builder', 'install-app-deps'], undefined, repoRoot);
  if (code !== 0) {
    const failure = `the rebuild for Electron ${now.electron} failed (exit code ${code}; it downloads Electron's headers, so it needs network access)`;
    log(`start: ${failure}. Starting anyway: the app keeps history in memory this run and says so; npm start tries again next time.`);
    return { action: 'failed', reason: failure };
  }
  const built = nativeFingerprint(repoRoot) ?? now;
  const stampPath = join(repoRoot, NATIVE_STAMP_PATH);
  mkdirSync(dirname(stampPath), { recursive: true });
  writeFileSync(`${stampPath}.tmp`, `${JSON.stringify({ ...built, rebuiltAt: new Date().toISOString() }, null, 2)}\n`);
  renameSync(`${stampPath}.tmp`, stampPath);
  log(`start: native modules rebuilt for Electron ${built.electron}. Plain Node (tests, npm run web) needs \`npm rebuild better-sqlite3\` to use them again.`);
  return { action: 'rebuilt', reason };
}

/** True when package.json defines `npm run <name>`. */
export function hasScript(name, repoRoot = root) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  return typeof pkg.scripts?.[name] === 'string';
}

/**
 * The lines that follow the browser shell's JSON line: where to open each device. Empty for a line that is
 * not the shell's description.
 * @param {string} line
 * @returns {string[]}
 */
export function describeShellLine(line) {
  let value;
  try {
    value = JSON.parse(line);
  } catch {
    return [];
  }
  if (typeof value !== 'object' || value === null || typeof value.url !== 'string' || !Array.isArray(value.devices)) return [];
  const devices = value.devices.filter((d) => d !== null && typeof d === 'object' && typeof d.url === 'string');
  return [
    `start: the browser shell runs at ${value.url}; open one page per device:`,
    ...devices.map((d) => `start:   ${String(d.user)} on ${String(d.name)}: ${d.url}`),
  ];
}

/**
 * Runs `command`, forwarding SIGINT/SIGTERM to it; resolves with its exit code.
 * @param {string} command
 * @param {string[]} args
 * @param {(line: string) => string[]} [extraLines] lines to print after each stdout line (stdout is then piped)
 * @param {string} [cwd] where to run it (default: the repository root)
 */
function run(command, args, extraLines, cwd = root) {
  return new Promise((resolve) => {
    const stdio = extraLines ? ['inherit', 'pipe', 'inherit'] : 'inherit';
    const child = spawn(command, args, { cwd, stdio, shell: process.platform === 'win32' });
    if (extraLines && child.stdout) {
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        process.stdout.write(`${line}\n`);
        for (const extra of extraLines(line)) process.stdout.write(`${extra}\n`);
      });
    }
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
    child.on('error', (error) => {
      console.error(`start: cannot run ${command}: ${error.message}`);
      resolve(1);
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const electron = findElectronBinary();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (electron.path !== null) {
    await ensureNativeModules();
    const built = await run(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build']);
    if (built !== 0) return built;
    const { buildElectron } = await import('./build-electron.mjs');
    await buildElectron();
    return run(electron.path, ['.', ...args]);
  }
  console.log(`start: cannot launch the desktop app: ${electron.reason}.`);
  if (!hasScript('web')) {
    console.log('start: the browser shell (npm run web) is not available in this checkout yet, so there is nothing to run.');
    return 1;
  }
  console.log('start: running the browser shell instead (npm run web); open the URLs it prints.');
  return run(npm, ['run', '--silent', 'web', '--', ...args], describeShellLine);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
