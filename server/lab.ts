/**
 * `npm run lab`: the two-domain lab network on loopback. Prints one JSON line describing it (URLs, ports,
 * users), then runs until SIGINT or SIGTERM and shuts down cleanly.
 *
 *   npm run lab -- [--config lab.json] [--delay-ms 20] [--host 127.0.0.1]
 *                  [--mode-a in-path|proxy] [--mode-b in-path|proxy] [--trace] [--in-process]
 *
 * Each domain's Conversation Server runs as its own process (server/conversation-server.ts, as in
 * production), its log lines and trace entries coming to the lab over IPC; `--in-process` runs them in the
 * lab's process instead. `--mode-a` / `--mode-b` set the mode of the first / second domain's Conversation
 * Server (default proxy). `--trace` records every SIP message of the lab and prints the ladder diagram to
 * stderr on shutdown.
 */
import { parseArgs } from 'node:util';
import { parseConversationMode } from './conversation/conversation-mode';
import { loadLabConfig } from './lab/lab-config';
import { LabNetwork } from './lab/lab-network';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'delay-ms': { type: 'string' },
      host: { type: 'string' },
      'mode-a': { type: 'string' },
      'mode-b': { type: 'string' },
      trace: { type: 'boolean' },
      'in-process': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run lab -- [--config FILE] [--delay-ms N] [--host 127.0.0.1] [--mode-a in-path|proxy] [--mode-b in-path|proxy] [--trace] [--in-process]\n' +
        '  Each domain\'s Conversation Server runs as its own process (npm run conversation-server); --in-process runs them inside the lab.\n',
    );
    return;
  }
  const modeA = values['mode-a'] === undefined ? undefined : parseConversationMode(values['mode-a'], '--mode-a');
  const modeB = values['mode-b'] === undefined ? undefined : parseConversationMode(values['mode-b'], '--mode-b');
  const delayMs = values['delay-ms'] === undefined ? 0 : Number(values['delay-ms']);
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 10_000) throw new Error('--delay-ms must be a number of milliseconds (0–10000)');
  const lab = await LabNetwork.start({
    ...(values.config ? { config: loadLabConfig(values.config) } : {}),
    ...(delayMs ? { delayMs } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(modeA ? { modeA } : {}),
    ...(modeB ? { modeB } : {}),
    conversationServers: values['in-process'] ? 'in-process' : 'process',
    log: (line: string) => process.stderr.write(`lab: ${line}\n`),
  });
  if (values.trace) await lab.enableTrace();
  process.stdout.write(`${JSON.stringify(lab.description)}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`lab: ${signal}, shutting down\n`);
    if (values.trace) process.stderr.write(lab.trace.ladder());
    lab.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`lab: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
