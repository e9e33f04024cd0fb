/**
 * `npm run web`: the browser shell as a program.
 *
 *   npm run web -- [--lab-json FILE] [--device AOR,NAME]… [--data DIR] [--port N] [--static DIR]
 *
 * Without `--lab-json` it starts the two-domain lab in-process; with it, it puts the devices on the running
 * lab that file describes (save the first line `npm run lab` prints). `--device` (repeatable) replaces the
 * default devices (sip:alice@a.example,Laptop; sip:alice@a.example,Desktop; sip:bob@b.example,Desktop).
 * `--data` keeps the devices' data folders there (default: a temporary folder removed at exit). `--static`
 * serves another folder than dist/renderer/ (which is built first when missing).
 *
 * The first stdout line is one JSON object: `{"url": "http://127.0.0.1:…/", "devices": [{"id", "user",
 * "name", "url"}, …]}`; open a device's `url` in a browser. Diagnostics go to stderr. SIGINT or SIGTERM stop
 * everything cleanly (a second signal exits at once).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadLabDescription } from './lab-description';
import { ensureRendererBuilt } from './renderer-build';
import { parseDeviceSpec } from './shell-devices';
import { WebShell } from './web-shell';

const USAGE = 'usage: npm run web -- [--lab-json FILE] [--device AOR,NAME]... [--data DIR] [--port N] [--static DIR]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'lab-json': { type: 'string' },
      device: { type: 'string', multiple: true },
      data: { type: 'string' },
      port: { type: 'string' },
      static: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number (0–65535)\n${USAGE}`);
  const devices = values.device?.map(parseDeviceSpec);
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const staticRoot = values.static ?? (await ensureRendererBuilt(repoRoot, log));
  const lab = values['lab-json'] === undefined ? undefined : await loadLabDescription(values['lab-json']);

  const shell = new WebShell({
    staticRoot,
    port,
    log,
    ...(lab ? { lab } : {}),
    ...(devices ? { devices } : {}),
    ...(values.data ? { dataDir: values.data } : {}),
  });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(130);
    signalled = true;
    log(`web: ${signal}, shutting down`);
    shell.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`web: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const description = await shell.start();
  process.stdout.write(`${JSON.stringify(description)}\n`);
  return -1; // keep running until a signal
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`web: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
