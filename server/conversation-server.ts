/**
 * `npm run conversation-server`: one domain's CPM Conversation Server as its own process, beside the domain's
 * SIP/IP core (Kamailio in production, the lab core in `npm run lab`). Prints one JSON line describing itself
 * (`ConversationServerDescription`: its SIP address, mode, MSRP relay, pid) as its first stdout line, logs to
 * stderr, and shuts down cleanly on SIGINT or SIGTERM.
 *
 *   npm run conversation-server -- --config cs.json
 *   npm run conversation-server -- --domain a.example --mode in-path --tls-key key.pem --tls-cert cert.pem \
 *                                  --tls-ca core-ca.pem --core 127.0.0.1:5062 --store a.example.sqlite
 *
 * Settings: server/conversation/conversation-server-config.ts (`--help` prints them). A bad setting is one
 * line on stderr and exit code 2.
 *
 * Forked with an IPC channel (the lab's `conversationServers: 'process'`), it also sends its log lines and,
 * while its supervisor asks for them, its SIP trace entries, each stamped with when it saw the message, over
 * the channel (server/conversation/conversation-server-ipc.ts), and shuts down when the channel closes (the
 * parent went away).
 */
import { readFileSync } from 'node:fs';
import { ConversationServer } from './conversation/conversation-server';
import {
  CONVERSATION_SERVER_USAGE,
  ConversationServerConfigError,
  parseConversationServerArgs,
  readTlsFiles,
  sipAddressOf,
  type ConversationServerConfig,
  type ConversationServerDescription,
} from './conversation/conversation-server-config';
import { isToChild, type FromChild } from './conversation/conversation-server-ipc';
import { inPathFactory } from './conversation/in-path/in-path-factory';
import { messageStoreSink, type MessageSink } from './store/message-sink';
import { SqliteMessageStore } from './store/sqlite-message-store';
import type { TransportTrace } from './sip/transport/transport-options';
import { applyConversationServerV8Flags, appliedV8Flags } from './conversation/v8-tuning';

// Before anything is served: how and why, in v8-tuning.ts.
applyConversationServerV8Flags();

/** Exit codes (the usage text says them too). */
const EXIT_STOPPED = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_CONFIG = 2;

function log(line: string): void {
  process.stderr.write(`conversation-server: ${line}\n`);
}

/** Send to the supervisor, when there is one and the channel is open (a closed channel is not an error here). */
function toParent(message: FromChild): void {
  if (process.send === undefined || !process.connected) return;
  try {
    process.send(message);
  } catch {
    // the channel closed meanwhile: the 'disconnect' handler stops the server
  }
}

async function main(): Promise<void> {
  let config: ConversationServerConfig;
  let tls: ReturnType<typeof readTlsFiles>;
  try {
    const args = parseConversationServerArgs(process.argv.slice(2), { cwd: process.cwd(), readText: (p) => readFileSync(p, 'utf8') });
    if (args.help) {
      process.stdout.write(CONVERSATION_SERVER_USAGE);
      return;
    }
    config = args.config;
    tls = readTlsFiles(config, (p) => readFileSync(p, 'utf8'));
  } catch (error) {
    if (!(error instanceof ConversationServerConfigError)) throw error;
    log(`${error.message}\n(npm run conversation-server -- --help for the settings)`);
    process.exitCode = EXIT_BAD_CONFIG;
    return;
  }

  let store: SqliteMessageStore | undefined;
  if (config.store) {
    try {
      store = SqliteMessageStore.open({ path: config.store.file, synchronous: config.store.synchronous });
    } catch (error) {
      log(`cannot open the Message Store ${config.store.file}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = EXIT_BAD_CONFIG;
      return;
    }
  }
  const sink: MessageSink | undefined = store ? messageStoreSink(store, (error) => log(`Message Store: ${error instanceof Error ? error.message : String(error)}`)) : undefined;

  // Trace entries go to the supervisor only while it asks for them (each costs a copy over the channel).
  let tracing = false;
  const trace: TransportTrace | undefined = process.send === undefined ? undefined : (direction, bytes, endpoints) => {
    if (!tracing) return;
    // Stamped here, where the message was seen: the supervisor's own clock is the same on Linux (CLOCK_MONOTONIC).
    const timestampNs = process.hrtime.bigint();
    toParent({ type: 'trace', direction, bytes, local: endpoints.local, remote: endpoints.remote, ...(endpoints.flowId !== undefined ? { flowId: endpoints.flowId } : {}), timestampNs });
  };
  const serverLog = (line: string): void => {
    log(line);
    toParent({ type: 'log', line });
  };

  let msrp: { host: string; port: number } | undefined;
  let server: ConversationServer;
  try {
    const inPath = config.mode === 'in-path'
      ? await inPathFactory({ host: config.msrp.host, port: config.msrp.port, onCreated: (handler) => (msrp = handler.msrpAddress) })
      : undefined;
    server = await ConversationServer.start({
      domain: config.domain,
      host: config.host,
      port: config.port,
      tls: { key: tls.key, cert: tls.cert },
      ...(tls.ca !== undefined ? { tlsClient: { ca: tls.ca } } : {}),
      mode: config.mode,
      ...(inPath ? { inPath } : {}),
      core: config.core,
      ...(sink ? { messageSink: sink } : {}),
      ...(trace ? { trace } : {}),
      log: serverLog,
      ...(config.delayMs ? { delayMs: config.delayMs } : {}),
      ...(config.timers ? { timers: config.timers } : {}),
      ...(config.transferTargetAnswerMs !== undefined ? { transferTargetAnswerMs: config.transferTargetAnswerMs } : {}),
    });
  } catch (error) {
    store?.close();
    log(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = EXIT_FAILED;
    return;
  }

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${why}, shutting down`);
    server.close().then(
      () => {
        store?.close();
        process.exit(EXIT_STOPPED);
      },
      (error: unknown) => {
        log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (process.send !== undefined) {
    process.on('disconnect', () => stop('supervisor gone (IPC channel closed)'));
    process.on('message', (message: unknown) => {
      if (!isToChild(message)) return;
      if (message.type !== 'trace') return;
      tracing = message.enabled;
      toParent({ type: 'tracing', enabled: tracing });
    });
  }

  const description: ConversationServerDescription = {
    domain: config.domain,
    mode: server.sessions.mode,
    sip: sipAddressOf(server.address),
    address: server.address,
    ...(msrp ? { msrp: { host: msrp.host, port: msrp.port } } : {}),
    pid: process.pid,
    v8Flags: appliedV8Flags(),
  };
  process.stdout.write(`${JSON.stringify(description)}\n`);
  log(`${config.domain}: ${description.mode} Conversation Server at ${description.sip}, core ${sipAddressOf(config.core)}${config.store ? `, Message Store ${config.store.file}` : ''}`);
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT_FAILED);
});
