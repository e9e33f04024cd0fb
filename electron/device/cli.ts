/**
 * `npm run device`: one DeviceAgent in a terminal.
 *
 * ```
 * npm run device -- --ws ws://127.0.0.1:5062 --user sip:alice@a.example --password alice-secret \
 *                   --device Laptop [--data ./alice-laptop] [--json] [--ca lab.pem] \
 *                   [--transfer sip:cpm-transfer@a.example] [--store http://127.0.0.1:41234 [--deposit]]
 * ```
 * Commands on stdin: `/chat <uri>`, `/devices`, `/accept`, `/decline`, `/end`, `/move <device name>`,
 * `/autoaccept on|off` (on by default here), `/join` / `/nojoin` (answer a Join prompt), `/quit`; any other
 * line is sent to the current conversation. With `--json` every event is one JSON line with a `type`
 * (`registered`, `registration`, `devices`, `incoming`, `session`, `message`, `delivered`, `displayed`,
 * `failed`, `ended`, `transfer`, `join`, `error`, `ready`, `bye`); without, readable text.
 *
 * `--transfer` is the Conversation Server's transfer service URI (default `sip:cpm-transfer@<your domain>`);
 * `--store` the domain's Message Store (history is then kept in SQLite in the data folder and synchronised);
 * `--deposit` deposits what is sent and received (when the domain's Conversation Server is a proxy).
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { DeviceApiError } from '../api/device-api';
import { DeviceAgent, sqliteHistory } from './device-agent';
import { otherCpmDevices } from './device-list';

/** Parsed command line. */
export interface CliOptions {
  ws: string;
  user: string;
  password: string;
  device: string;
  data: string;
  json: boolean;
  ca: string | undefined;
  /** The transfer service URI X. */
  transfer: string;
  /** The Message Store's base URL, or undefined (history in memory). */
  store: string | undefined;
  deposit: boolean;
}

const USAGE =
  'usage: npm run device -- --ws <url> --user <sip uri> --password <pw> --device <name> [--data <folder>] [--json] [--ca <pem file>] [--transfer <sip uri>] [--store <url> [--deposit]]';

/** Parse argv (without node and the script); throws an Error with the usage on bad input. */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  const values = new Map<string, string>();
  let json = false;
  let deposit = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json' || arg === '--deposit') {
      if (arg === '--json') json = true;
      else deposit = true;
      continue;
    }
    if (!['--ws', '--user', '--password', '--device', '--data', '--ca', '--transfer', '--store'].includes(arg)) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value\n${USAGE}`);
    values.set(arg.slice(2), value);
    i++;
  }
  const need = (name: string): string => {
    const v = values.get(name);
    if (v === undefined || v === '') throw new Error(`--${name} is required\n${USAGE}`);
    return v;
  };
  const ws = need('ws');
  if (!/^wss?:\/\//i.test(ws)) throw new Error(`--ws must be a ws:// or wss:// URL\n${USAGE}`);
  const user = need('user');
  if (!/^sips?:[^@\s]+@[^@\s]+$/i.test(user)) throw new Error(`--user must be a SIP URI such as sip:alice@a.example\n${USAGE}`);
  const device = need('device');
  const safe = `${user.replace(/^sips?:/i, '')}-${device}`.replace(/[^A-Za-z0-9._@-]/g, '_');
  const transfer = values.get('transfer') ?? `sip:cpm-transfer@${user.split('@')[1] ?? ''}`;
  if (!/^sips?:[^@\s]+@[^@\s]+$/i.test(transfer)) throw new Error(`--transfer must be a SIP URI such as sip:cpm-transfer@a.example\n${USAGE}`);
  const store = values.get('store');
  if (store !== undefined && !/^https?:\/\//i.test(store)) throw new Error(`--store must be an http:// or https:// URL\n${USAGE}`);
  if (deposit && store === undefined) throw new Error(`--deposit needs --store\n${USAGE}`);
  return { ws, user, password: need('password'), device, data: values.get('data') ?? join(homedir(), '.cpm-device', safe), json, ca: values.get('ca'), transfer, store, deposit };
}

/** Run the CLI until `/quit` or end of input. */
export async function runCli(argv: readonly string[], io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = { input: process.stdin, output: process.stdout }): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const print = (type: string, fields: Record<string, unknown>, text: string): void => {
    io.output.write(options.json ? `${JSON.stringify({ type, ...fields })}\n` : `${text}\n`);
  };
  let ca: string | undefined;
  if (options.ca) {
    try {
      ca = await readFile(options.ca, 'utf8');
    } catch (error) {
      print('error', { code: 'invalid-argument', message: `cannot read --ca: ${(error as Error).message}` }, `! cannot read --ca: ${(error as Error).message}`);
      return 2;
    }
  }
  const agent = new DeviceAgent({
    dataDir: options.data,
    deviceName: options.device,
    autoAccept: true,
    account: {
      uri: options.user,
      password: options.password,
      wsUrl: options.ws,
      transferServiceUri: options.transfer,
      ...(ca ? { trustedCertificatePem: ca } : {}),
      ...(options.store ? { messageStoreUrl: options.store, depositHistory: options.deposit } : {}),
    },
    ...(options.store ? { history: sqliteHistory(options.data) } : {}),
  });
  let joinPrompt: string | null = null;
  let conversation: string | null = null;
  let ringing: string | null = null;
  let session: string | null = null;

  agent.on('registrationState', (s) => {
    if (s.state === 'registered') print('registered', { pubGruu: s.pubGruu, expiresAt: s.expiresAt }, `* registered as ${s.pubGruu ?? options.user}`);
    else print('registration', { state: s.state, cause: s.cause }, `* registration ${s.state}${s.cause ? ` (${s.cause})` : ''}`);
  });
  agent.on('devices', (list) => {
    const others = otherCpmDevices(list);
    print('devices', { devices: list }, `* my other devices: ${others.length ? others.map((d) => d.name).join(', ') : '(none)'}`);
  });
  agent.on('incomingSession', (s) => {
    ringing = s.sessionId;
    print('incoming', { ...s }, `* ${s.peerDisplayName || s.peerUri} wants to chat: /accept or /decline`);
  });
  agent.on('sessionState', (s) => {
    if (s.state === 'active') {
      session = s.sessionId;
      conversation = s.conversationId;
    }
    if (s.state === 'ended' || s.state === 'failed') {
      if (session === s.sessionId) session = null;
      if (ringing === s.sessionId) ringing = null;
      print('ended', { ...s }, `* session ${s.state}${s.cause ? `: ${s.cause}` : ''}`);
    } else print('session', { ...s }, `* session ${s.state}`);
  });
  agent.on('message', (m) => {
    if (m.direction === 'incoming') print('message', { ...m }, `< ${m.senderUri}: ${m.text}`);
    else print('sending', { ...m }, `> ${m.text}`);
  });
  agent.on('messageStatus', (s) => {
    const type = s.status === 'delivered' || s.status === 'displayed' || s.status === 'failed' ? s.status : 'status';
    print(type, { ...s }, `  (${s.messageId.slice(0, 8)}… ${s.status})`);
  });
  agent.on('transferProgress', (p) => {
    if (joinPrompt === p.transferId && p.phase !== 'requested') joinPrompt = null;
    const text = p.description ?? `${p.role === 'source' ? 'move' : 'join'} ${p.phase}${p.statusCode ? ` (${p.statusCode})` : ''}`;
    print('transfer', { ...p }, `* ${text}`);
  });
  agent.on('joinRequest', (j) => {
    joinPrompt = j.joinId;
    print('join', { ...j }, `* Continue your conversation with ${j.peerDisplayName || j.peerUri} here? (moved from ${j.sourceDeviceName}): /join or /nojoin`);
  });
  agent.on('error', (e) => print('error', { ...e }, `! ${e.message}`));

  try {
    await agent.start();
  } catch (error) {
    print('error', { code: 'internal', message: (error as Error).message }, `! ${(error as Error).message}`);
    return 1;
  }
  print(
    'ready',
    { instanceId: agent.instance, dataDir: options.data, pid: process.pid },
    `* device ${options.device} (${agent.instance}); /chat <uri>, /devices, /accept, /decline, /end, /move <device>, /autoaccept on|off, /join, /nojoin, /quit`,
  );

  const lines = createInterface({ input: io.input, terminal: false });
  // Ctrl-C or a polite kill: leave like /quit (BYE, un-REGISTER) instead of vanishing.
  const stop = (): void => lines.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const run = async (line: string): Promise<boolean> => {
    const trimmed = line.trim();
    if (trimmed === '') return true;
    const [command, ...rest] = trimmed.split(/\s+/);
    switch (command) {
      case '/quit':
        return false;
      case '/chat': {
        const summary = await agent.startChat(rest.join(' '));
        conversation = summary.id;
        print('conversation', { ...summary }, `* chatting with ${summary.peerUri}`);
        return true;
      }
      case '/devices': {
        const list = await agent.listDevices();
        print('devices', { devices: list }, list.map((d) => `  ${d.self ? '*' : ' '} ${d.name} ${d.pubGruu}${d.cpmCapable ? '' : ' (no CPM)'}`).join('\n') || '  (none)');
        return true;
      }
      case '/accept':
      case '/decline': {
        if (!ringing) throw new DeviceApiError('invalid-state', 'nothing is ringing');
        const id = ringing;
        ringing = null;
        if (command === '/accept') await agent.acceptSession(id);
        else await agent.declineSession(id);
        return true;
      }
      case '/move': {
        if (!conversation) throw new DeviceApiError('invalid-state', 'no conversation: /chat <uri> first');
        const name = rest.join(' ');
        const target = (await agent.listDevices()).find((d) => !d.self && d.name.toLowerCase() === name.toLowerCase());
        if (!target) throw new DeviceApiError('not-found', `no other device named ${JSON.stringify(name)}: see /devices`);
        const transferId = await agent.moveConversation(conversation, target.instanceId);
        print('moving', { transferId, conversationId: conversation, target: target.name }, `* moving the conversation to ${target.name}…`);
        return true;
      }
      case '/autoaccept': {
        const value = rest[0]?.toLowerCase();
        if (value !== 'on' && value !== 'off') throw new DeviceApiError('invalid-argument', 'usage: /autoaccept on|off');
        await agent.setAutoAccept(value === 'on');
        print('autoaccept', { enabled: value === 'on' }, `* auto-accept ${value}`);
        return true;
      }
      case '/join':
      case '/nojoin': {
        if (!joinPrompt) throw new DeviceApiError('invalid-state', 'no Join request is waiting');
        const id = joinPrompt;
        joinPrompt = null;
        if (command === '/join') await agent.acceptJoin(id);
        else await agent.declineJoin(id);
        return true;
      }
      case '/end': {
        if (!session) throw new DeviceApiError('invalid-state', 'no active session');
        await agent.endSession(session);
        return true;
      }
      default: {
        if (trimmed.startsWith('/')) throw new DeviceApiError('invalid-argument', `unknown command ${command}`);
        if (!conversation) throw new DeviceApiError('invalid-state', 'no conversation: /chat <uri> first');
        await agent.sendMessage(conversation, line);
        return true;
      }
    }
  };
  for await (const line of lines) {
    let go = true;
    try {
      go = await run(line);
    } catch (error) {
      const e = DeviceApiError.fromUnknown(error);
      print('error', { code: e.code, message: e.detail }, `! ${e.detail}`);
    }
    if (!go) break;
  }
  lines.close();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await agent.close();
  print('bye', {}, '* bye');
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && /cli\.[cm]?[jt]s$/.test(process.argv[1]);
if (invokedDirectly) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
