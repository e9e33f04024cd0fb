/**
 * The configuration of `npm run conversation-server` (server/conversation-server.ts): one domain's
 * Conversation Server as its own process, from a JSON file (`--config`) and/or flags (a flag wins over the
 * file). Every value is checked here, before anything starts; a bad one is a {@link ConversationServerConfigError}
 * naming the setting, which the program prints and exits with code 2.
 *
 * The JSON file has the flags' names in camelCase; paths in it are relative to the file's folder:
 * ```json
 * { "domain": "a.example", "mode": "in-path", "host": "127.0.0.1", "port": 5071,
 *   "tlsKey": "cs-key.pem", "tlsCert": "cs-cert.pem", "tlsCa": "core-ca.pem", "core": "127.0.0.1:5062",
 *   "store": "/var/lib/cpm/a.example.sqlite", "storeSynchronous": "FULL",
 *   "msrpHost": "127.0.0.1", "msrpPort": 2855, "delayMs": 0, "timers": { "t1": 500 },
 *   "transferTargetAnswerMs": 60000 }
 * ```
 * It also defines the JSON line the program prints first on stdout ({@link ConversationServerDescription}).
 */
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { TimerConfig } from '../sip/transaction/timers';
import type { Endpoint } from '../sip/transport/transport-types';
import { CONVERSATION_MODES, isConversationMode, type ConversationMode } from './conversation-mode';

/** A bad setting (or an unreadable file it names); the message says which and why. */
export class ConversationServerConfigError extends Error {
  override readonly name = 'ConversationServerConfigError';
}

/** Everything the program needs to run one Conversation Server; file paths are absolute. */
export interface ConversationServerConfig {
  /** The SIP domain served (`a.example`). */
  domain: string;
  mode: ConversationMode;
  /** IP literal of the internal TLS listener (default `127.0.0.1`). */
  host: string;
  /** Port of the internal TLS listener (default 0: ephemeral, read it from the description line). */
  port: number;
  /** PEM files: our key and certificate, and the CA certificate(s) the core's certificate must verify with (default: the system store). */
  tls: { keyFile: string; certFile: string; caFile?: string };
  /** The domain core's internal TLS endpoint, where the server sends what leaves it. */
  core: Endpoint;
  /** The domain's Message Store (a SQLite file shared with the store's HTTP API; WAL lets both write). */
  store?: { file: string; synchronous: 'FULL' | 'NORMAL' };
  /** Where an in-path server's MSRP relay listens (default: `host`, ephemeral port). */
  msrp: { host: string; port: number };
  /** Per-hop delay added to what the server sends (ms; lab `--delay-ms`). */
  delayMs: number;
  /** SIP timer bases (RFC 3261 §17.1.1.1); defaults per RFC. */
  timers?: Partial<TimerConfig>;
  /** How long a transfer's target may take to answer (ms; PROFILE.md: 60 s). */
  transferTargetAnswerMs?: number;
}

/** What the program prints as its first stdout line. */
export interface ConversationServerDescription {
  domain: string;
  mode: ConversationMode;
  /** The server's SIP address: `sip:127.0.0.1:5071;transport=tls`. */
  sip: string;
  /** The internal TLS listening point. */
  address: Endpoint;
  /** An in-path server's MSRP relay listening point. */
  msrp?: { host: string; port: number };
  pid: number;
  /** The V8 flags the process set for itself (server/conversation/v8-tuning.ts). */
  v8Flags: string[];
}

/** Reads a file as text (injectable for tests). */
export type ReadText = (path: string) => string;

/** Usage text of the program. */
export const CONVERSATION_SERVER_USAGE = `usage: npm run conversation-server -- [--config FILE] [--domain a.example] [--mode in-path|proxy]
         [--host 127.0.0.1] [--port 0] --tls-key FILE --tls-cert FILE [--tls-ca FILE] --core HOST:PORT
         [--store FILE] [--store-synchronous FULL|NORMAL] [--msrp-host IP] [--msrp-port N]
         [--delay-ms N] [--t1 MS] [--t2 MS] [--t4 MS] [--transfer-target-answer-ms MS]
Runs one domain's CPM Conversation Server (its internal TLS listener, for the domain's core only).
Prints one JSON line describing it on stdout, logs to stderr, stops on SIGINT/SIGTERM.
A flag wins over the same setting in the --config JSON file (camelCase keys, timers as {"t1","t2","t4"}).
Exit codes: 0 stopped, 1 failed while running or starting, 2 bad configuration.
`;

/** The flags, as `node:util` parseArgs options. */
const FLAGS = {
  config: { type: 'string' },
  domain: { type: 'string' },
  mode: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-ca': { type: 'string' },
  core: { type: 'string' },
  store: { type: 'string' },
  'store-synchronous': { type: 'string' },
  'msrp-host': { type: 'string' },
  'msrp-port': { type: 'string' },
  'delay-ms': { type: 'string' },
  t1: { type: 'string' },
  t2: { type: 'string' },
  t4: { type: 'string' },
  'transfer-target-answer-ms': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** The settings of the JSON file, by key, with the flag of the same setting. */
const FILE_KEYS: Readonly<Record<string, string>> = {
  domain: 'domain', mode: 'mode', host: 'host', port: 'port', tlsKey: 'tls-key', tlsCert: 'tls-cert', tlsCa: 'tls-ca',
  core: 'core', store: 'store', storeSynchronous: 'store-synchronous', msrpHost: 'msrp-host', msrpPort: 'msrp-port',
  delayMs: 'delay-ms', timers: 'timers', transferTargetAnswerMs: 'transfer-target-answer-ms',
};

/** File settings that name files (relative to the file's folder). */
const PATH_KEYS = new Set(['tlsKey', 'tlsCert', 'tlsCa', 'store']);

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

/** The outcome of reading the command line: a configuration, or a request for the usage text. */
export type ConversationServerArgs = { help: true } | { help: false; config: ConversationServerConfig };

/**
 * Read the command line (and the `--config` file it names); throws {@link ConversationServerConfigError}.
 * `cwd` resolves relative paths given as flags; `readText` reads the config file.
 */
export function parseConversationServerArgs(argv: readonly string[], io: { cwd: string; readText: ReadText }): ConversationServerArgs {
  const values = readFlags(argv);
  if (values.help) return { help: true };
  const settings = new Map<string, Setting>();
  if (values.config !== undefined) {
    const file = resolve(io.cwd, values.config);
    for (const [flag, setting] of readConfigFile(file, io.readText)) settings.set(flag, setting);
  }
  for (const [flag, value] of Object.entries(values)) {
    if (flag === 'config' || flag === 'help' || typeof value !== 'string') continue;
    settings.set(flag, { value, where: `--${flag}`, base: io.cwd });
  }
  return { help: false, config: buildConfig(settings) };
}

function readFlags(argv: readonly string[]): ReturnType<typeof parseArgs<{ args: string[]; options: typeof FLAGS; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs says which flag is unknown or lacks its value
    throw new ConversationServerConfigError(error instanceof Error ? error.message : String(error));
  }
}

/** One setting as given: its raw value, where it came from (for errors), and the folder its paths are relative to. */
interface Setting {
  value: unknown;
  where: string;
  base: string;
}

function readConfigFile(file: string, readText: ReadText): Map<string, Setting> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (error) {
    throw new ConversationServerConfigError(`cannot read config ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConversationServerConfigError(`config ${file}: must be a JSON object`);
  const out = new Map<string, Setting>();
  for (const [key, value] of Object.entries(parsed)) {
    const flag = FILE_KEYS[key];
    if (flag === undefined) throw new ConversationServerConfigError(`config ${file}: unknown setting "${key}" (known: ${Object.keys(FILE_KEYS).join(', ')})`);
    if (flag === 'timers') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConversationServerConfigError(`config ${file}: timers must be an object like {"t1": 500}`);
      for (const [name, v] of Object.entries(value)) {
        if (name !== 't1' && name !== 't2' && name !== 't4') throw new ConversationServerConfigError(`config ${file}: timers.${name} is not a timer (t1, t2, t4)`);
        out.set(name, { value: v, where: `config ${file}: timers.${name}`, base: dirname(file) });
      }
      continue;
    }
    out.set(flag, { value, where: `config ${file}: ${key}`, base: dirname(file) });
    if (PATH_KEYS.has(key) && typeof value !== 'string') throw new ConversationServerConfigError(`config ${file}: ${key} must be a file path`);
  }
  return out;
}

function buildConfig(settings: ReadonlyMap<string, Setting>): ConversationServerConfig {
  const fail = (setting: Setting | string, what: string): never => {
    throw new ConversationServerConfigError(`${typeof setting === 'string' ? setting : setting.where}: ${what}`);
  };
  const text = (flag: string): { value: string; setting: Setting } | undefined => {
    const s = settings.get(flag);
    if (s === undefined) return undefined;
    if (typeof s.value !== 'string' || s.value.trim() === '') return fail(s, 'must be a non-empty string');
    return { value: s.value.trim(), setting: s };
  };
  const number = (flag: string, check: (n: number) => boolean, what: string): number | undefined => {
    const s = settings.get(flag);
    if (s === undefined) return undefined;
    const n = typeof s.value === 'number' ? s.value : typeof s.value === 'string' && s.value.trim() !== '' ? Number(s.value) : Number.NaN;
    if (!Number.isFinite(n) || !check(n)) return fail(s, `must be ${what} (got ${JSON.stringify(s.value)})`);
    return n;
  };
  const ip = (flag: string): string | undefined => {
    const t = text(flag);
    if (t === undefined) return undefined;
    const host = t.value.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) === 0) return fail(t.setting, `must be an IP literal such as 127.0.0.1 or ::1 (got ${JSON.stringify(t.value)})`);
    return host;
  };
  const path = (flag: string): string | undefined => {
    const t = text(flag);
    return t === undefined ? undefined : resolve(t.setting.base, t.value);
  };
  const port = (flag: string): number | undefined => number(flag, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0–65535)');
  const positiveMs = (flag: string): number | undefined => number(flag, (n) => n > 0 && n <= 3_600_000, 'a positive number of milliseconds (at most 3600000)');

  const domainText = text('domain');
  if (domainText === undefined) return fail('--domain', 'is required (the SIP domain served, e.g. a.example)');
  if (!DOMAIN.test(domainText.value)) return fail(domainText.setting, `must be a domain name (got ${JSON.stringify(domainText.value)})`);
  const modeText = text('mode');
  if (modeText !== undefined && !isConversationMode(modeText.value)) {
    return fail(modeText.setting, `must be one of ${CONVERSATION_MODES.join(', ')} (got ${JSON.stringify(modeText.value)})`);
  }
  const mode: ConversationMode = modeText !== undefined && isConversationMode(modeText.value) ? modeText.value : 'proxy';
  const host = ip('host') ?? '127.0.0.1';
  const keyFile = path('tls-key');
  const certFile = path('tls-cert');
  if (keyFile === undefined || certFile === undefined) return fail(keyFile === undefined ? '--tls-key' : '--tls-cert', 'is required (PEM files of the server’s TLS key and certificate; the core must trust the certificate)');
  const caFile = path('tls-ca');
  const core = coreEndpoint(text('core'), fail);
  const storeFile = path('store');
  const syncText = text('store-synchronous');
  if (syncText !== undefined && syncText.value !== 'FULL' && syncText.value !== 'NORMAL') return fail(syncText.setting, `must be FULL or NORMAL (got ${JSON.stringify(syncText.value)})`);
  if (syncText !== undefined && storeFile === undefined) return fail(syncText.setting, 'needs --store');
  const timers: Partial<TimerConfig> = {};
  for (const name of ['t1', 't2', 't4'] as const) {
    const value = positiveMs(name);
    if (value !== undefined) timers[name] = value;
  }
  const transferTargetAnswerMs = positiveMs('transfer-target-answer-ms');
  const msrpHost = ip('msrp-host');
  const msrpPort = port('msrp-port');
  if (mode !== 'in-path' && (msrpHost !== undefined || msrpPort !== undefined)) {
    return fail(settings.get('msrp-host') ?? settings.get('msrp-port')!, 'applies to an in-path server only (--mode in-path)');
  }
  return {
    domain: domainText.value.toLowerCase(),
    mode,
    host,
    port: port('port') ?? 0,
    tls: { keyFile, certFile, ...(caFile !== undefined ? { caFile } : {}) },
    core,
    ...(storeFile !== undefined ? { store: { file: storeFile, synchronous: syncText?.value === 'NORMAL' ? 'NORMAL' : 'FULL' } } : {}),
    msrp: { host: msrpHost ?? host, port: msrpPort ?? 0 },
    delayMs: number('delay-ms', (n) => n >= 0 && n <= 10_000, 'a number of milliseconds (0–10000)') ?? 0,
    ...(Object.keys(timers).length > 0 ? { timers } : {}),
    ...(transferTargetAnswerMs !== undefined ? { transferTargetAnswerMs } : {}),
  };
}

/** `127.0.0.1:5062` or `[::1]:5062` (optionally prefixed `tls:`), the core's internal TLS listener. */
function coreEndpoint(t: { value: string; setting: Setting } | undefined, fail: (setting: Setting | string, what: string) => never): Endpoint {
  if (t === undefined) return fail('--core', 'is required (the core’s internal TLS endpoint, HOST:PORT)');
  const m = /^(?:tls:)?(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/i.exec(t.value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    return fail(t.setting, `must be the core's internal TLS endpoint as IP:PORT or [IPv6]:PORT (got ${JSON.stringify(t.value)})`);
  }
  return { protocol: 'tls', host, port };
}

/** The PEM texts the configuration names; throws {@link ConversationServerConfigError} naming a file that cannot be read. */
export function readTlsFiles(config: ConversationServerConfig, readText: ReadText): { key: string; cert: string; ca?: string } {
  const read = (what: string, file: string): string => {
    let pem: string;
    try {
      pem = readText(file);
    } catch (error) {
      throw new ConversationServerConfigError(`cannot read the ${what} ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!/-----BEGIN [A-Z ]+-----/.test(pem)) throw new ConversationServerConfigError(`the ${what} ${file} is not PEM`);
    return pem;
  };
  const key = read('TLS key', config.tls.keyFile);
  const cert = read('TLS certificate', config.tls.certFile);
  return { key, cert, ...(config.tls.caFile !== undefined ? { ca: read('CA certificate', config.tls.caFile) } : {}) };
}

/** The program's SIP address for its listening point, `sip:127.0.0.1:5071;transport=tls` (RFC 3261 §19.1.1). */
export function sipAddressOf(address: Endpoint): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `sip:${host}:${address.port};transport=tls`;
}

/** Check the program's description line (what a supervisor such as the lab reads); throws an Error saying what is wrong. */
export function parseConversationServerDescription(line: string): ConversationServerDescription {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`conversation server description: not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
  const fail = (what: string): never => {
    throw new Error(`conversation server description: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('must be an object');
  const v = value as Record<string, unknown>;
  if (typeof v.domain !== 'string') return fail('domain must be a string');
  if (!isConversationMode(v.mode)) return fail('mode must be in-path or proxy');
  if (typeof v.sip !== 'string' || !v.sip.startsWith('sip:')) return fail('sip must be a SIP URI');
  if (typeof v.pid !== 'number') return fail('pid must be a number');
  const v8Flags = v.v8Flags ?? [];
  if (!Array.isArray(v8Flags) || !v8Flags.every((f): f is string => typeof f === 'string')) return fail('v8Flags must be a list of strings');
  const address = endpointOf(v.address);
  if (address === undefined || address.protocol !== 'tls') return fail('address must be a TLS endpoint');
  let msrp: { host: string; port: number } | undefined;
  if (v.msrp !== undefined) {
    const m = v.msrp as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || typeof m.host !== 'string' || typeof m.port !== 'number') return fail('msrp must be {host, port}');
    msrp = { host: m.host, port: m.port };
  }
  return { domain: v.domain, mode: v.mode, sip: v.sip, address, pid: v.pid, v8Flags, ...(msrp ? { msrp } : {}) };
}

function endpointOf(value: unknown): Endpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (e.protocol !== 'tls' || typeof e.host !== 'string' || typeof e.port !== 'number' || !Number.isInteger(e.port)) return undefined;
  return { protocol: 'tls', host: e.host, port: e.port };
}
