#!/usr/bin/env node
/**
 * `npm start`: runs the desktop app.
 *
 * If the Electron binary is installed (node_modules/electron/path.txt names it and it exists), builds the
 * renderer and the shell and launches Electron, passing on any arguments (e.g. `npm start -- --profile
 * laptop`). Where the binary could not be obtained (the electron package downloads it from GitHub on
 * first install, which fails offline), it says so and runs the browser shell (`npm run web`) instead,
 * passing the arguments on (e.g. `npm start -- --data ./web-data`). The shell's first stdout line, one JSON
 * object with the URLs, is passed through unchanged; the URL of each device follows, one per line.
 * `ELECTRON_OVERRIDE_DIST_PATH` names another folder holding the Electron binary.
 *
 * It never `require`s the electron package: its index.js would try to download the binary.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
 */
function run(command, args, extraLines) {
  return new Promise((resolve) => {
    const stdio = extraLines ? ['inherit', 'pipe', 'inherit'] : 'inherit';
    const child = spawn(command, args, { cwd: root, stdio, shell: process.platform === 'win32' });
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
