/**
 * Renders the production SIP/IP core config (Kamailio 5.6) of one domain from `kamailio.cfg.template`:
 * listeners, users (digest HA1, RFC 3261 §22.4 / RFC 2617 §3.2.2.2), the Conversation Server's address,
 * peer cores and the TLS files. Bad options are a clear error naming the option, never a broken config.
 *
 * CLI: `npx tsx deploy/kamailio/render-config.ts <options.json> <out-dir>` writes `kamailio.cfg` and
 * `tls.cfg` into `<out-dir>`; the JSON is a {@link KamailioCoreOptions}.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A user of the domain (the static user table). */
export interface KamailioUser {
  /** User part of the AOR (`alice` for `sip:alice@a.example`). */
  user: string;
  password: string;
}

/** A host and port. */
export interface HostPort {
  /** An IP literal. */
  host: string;
  port: number;
}

/** A peer domain's core, reached over TLS on its internal listener. */
export interface KamailioPeer extends HostPort {
  domain: string;
}

/** Everything one domain's core needs. */
export interface KamailioCoreOptions {
  domain: string;
  users: readonly KamailioUser[];
  /** Where every listener binds (default `127.0.0.1`). */
  listenHost?: string;
  /** SIP over WebSocket (RFC 7118), plain. */
  wsPort: number;
  /** SIP over secure WebSocket, when set (uses the TLS certificate). */
  wssPort?: number;
  /** UDP and TCP. */
  sipPort: number;
  /** The internal TLS listener (Conversation Server and peer cores). */
  internalPort: number;
  /** The Conversation Server's internal TLS address; without it no service routing and no third-party REGISTER. */
  conversationServer?: HostPort;
  /** Peer cores by domain. */
  peers?: readonly KamailioPeer[];
  /** Certificate and key (PEM files) of the TLS listeners; `caFile` verifies the Conversation Server and peers. */
  tls: { certFile: string; keyFile: string; caFile?: string };
  /** User part of the transfer service URI (default `cpm-transfer`). */
  transferServiceUser?: string;
  /** User-part prefix of the Conversation Server's identities (default `cpm-cs-`). */
  serviceIdentityPrefix?: string;
  /** Secret for nonces and odi signatures (default: random per rendering). */
  secret?: string;
  /** Registrar bounds, seconds (defaults 60, 600, 3600). */
  minExpires?: number;
  defaultExpires?: number;
  maxExpires?: number;
  /** Kamailio log level, -5..3 (default 1: notices and above; 3 logs every request the core routes). */
  debugLevel?: number;
  /** Module directory (default Debian's `/usr/lib/x86_64-linux-gnu/kamailio/modules`). */
  modulePath?: string;
}

/** The rendered files. */
export interface RenderedKamailioConfig {
  /** `kamailio.cfg`; it names `tls.cfg` by the path given to {@link renderKamailioConfig}. */
  kamailioCfg: string;
  tlsCfg: string;
}

const TEMPLATE_PATH = fileURLToPath(new URL('./kamailio.cfg.template', import.meta.url));
const DEFAULT_MODULE_PATH = '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const USER = /^[A-Za-z0-9][A-Za-z0-9._~+-]*$/;

/** Digest HA1 = MD5(user ":" realm ":" password) (RFC 2617 §3.2.2.2); the realm is the domain. */
export function digestHa1(user: string, realm: string, password: string): string {
  return createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');
}

/**
 * Render the config of one domain. `tlsCfgPath` is where `tls.cfg` will be written (kamailio.cfg refers to
 * it). Throws a TypeError or RangeError naming the bad option.
 */
export function renderKamailioConfig(options: KamailioCoreOptions, tlsCfgPath: string, template = readFileSync(TEMPLATE_PATH, 'utf8')): RenderedKamailioConfig {
  const o = validate(options);
  const csHostPort = o.conversationServer ? hostPort(o.conversationServer) : '0.0.0.0:0';
  const trusted = [...new Set([...(o.conversationServer ? [o.conversationServer.host] : []), ...o.peers.map((p) => p.host)])];
  const values: Record<string, string> = {
    DOMAIN: o.domain,
    LISTEN_HOST: o.listenHost,
    WS_PORT: String(o.wsPort),
    SIP_PORT: String(o.sipPort),
    INTERNAL_PORT: String(o.internalPort),
    WSS_LISTEN: o.wssPort === undefined ? '' : `listen=tls:${o.listenHost}:${o.wssPort}`,
    WS_PORT_CHECK: o.wssPort === undefined ? `$Rp != ${o.wsPort}` : `$Rp != ${o.wsPort} && $Rp != ${o.wssPort}`,
    MODULE_PATH: o.modulePath,
    TLS_CFG: tlsCfgPath,
    DEBUG_LEVEL: String(o.debugLevel),
    MIN_EXPIRES: String(o.minExpires),
    DEFAULT_EXPIRES: String(o.defaultExpires),
    MAX_EXPIRES: String(o.maxExpires),
    DEVICE_TTL: String(o.maxExpires + 60),
    SECRET: o.secret,
    USER_TABLE: o.users.map((u) => `\t$sht(users=>${u.user}) = "${digestHa1(u.user, o.domain, u.password)}";`).join('\n'),
    TRUSTED_SOURCES: trusted.length === 0 ? '0' : trusted.map((h) => `$si == "${h}"`).join(' || '),
    CS_HOSTPORT: csHostPort,
    SERVICE_PREFIX: o.serviceIdentityPrefix,
    SERVICE_PREFIX_RE: o.serviceIdentityPrefix.replace(/[.+-]/g, (c) => `\\${c}`),
    TRANSFER_USER: o.transferServiceUser,
    THIRD_PARTY_GUARD: o.conversationServer ? '' : '\treturn;',
    SERVICES_GUARD: o.conversationServer ? '' : '\treturn;',
    PEER_ROUTES: o.peers
      .map(
        (p) =>
          `\t\tif ($rd == "${p.domain}") {\n\t\t\t$du = "sip:${hostPort(p)};transport=tls";\n\t\t\t$fs = "tls:${o.listenHost}:${o.internalPort}";\n\t\t\troute(RELAY);\n\t\t}`,
      )
      .join('\n'),
  };
  const kamailioCfg = template.replace(/@@([A-Z_]+)@@/g, (match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`kamailio.cfg.template: unknown placeholder ${match}`);
    return value;
  });
  const verify = o.tls.caFile !== undefined;
  const tlsCfg = [
    '# cpm-handoff core TLS (rendered by deploy/kamailio/render-config.ts)',
    '[server:default]',
    'method = TLSv1.2+',
    'verify_certificate = no',
    'require_certificate = no',
    `certificate = ${o.tls.certFile}`,
    `private_key = ${o.tls.keyFile}`,
    '',
    '[client:default]',
    'method = TLSv1.2+',
    `verify_certificate = ${verify ? 'yes' : 'no'}`,
    `require_certificate = ${verify ? 'yes' : 'no'}`,
    ...(verify ? [`ca_list = ${o.tls.caFile}`] : []),
    '',
  ].join('\n');
  return { kamailioCfg, tlsCfg };
}

/** Render and write `kamailio.cfg` and `tls.cfg` into `dir`; resolves with the path of `kamailio.cfg`. */
export async function writeKamailioConfig(options: KamailioCoreOptions, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tlsPath = resolve(dir, 'tls.cfg');
  const rendered = renderKamailioConfig(options, tlsPath, await readFile(TEMPLATE_PATH, 'utf8'));
  const cfgPath = resolve(dir, 'kamailio.cfg');
  await writeFile(tlsPath, rendered.tlsCfg, { mode: 0o600 });
  await writeFile(cfgPath, rendered.kamailioCfg, { mode: 0o600 });
  return cfgPath;
}

type Resolved = Required<Omit<KamailioCoreOptions, 'conversationServer' | 'wssPort'>> & Pick<KamailioCoreOptions, 'conversationServer' | 'wssPort'>;

function validate(options: KamailioCoreOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new TypeError('kamailio options: expected an object');
  const domain = options.domain;
  if (typeof domain !== 'string' || !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(domain)) {
    throw new TypeError(`kamailio options: domain must be a host name, got ${JSON.stringify(domain)}`);
  }
  const listenHost = options.listenHost ?? '127.0.0.1';
  if (isIP(listenHost) !== 4) throw new TypeError(`kamailio options: listenHost must be an IPv4 literal, got ${JSON.stringify(listenHost)}`);
  for (const name of ['wsPort', 'sipPort', 'internalPort'] as const) port(options[name], name);
  if (options.wssPort !== undefined) port(options.wssPort, 'wssPort');
  const ports = [options.wsPort, options.sipPort, options.internalPort, ...(options.wssPort !== undefined ? [options.wssPort] : [])];
  if (new Set(ports).size !== ports.length) throw new RangeError(`kamailio options: listener ports must differ, got ${ports.join(', ')}`);
  if (!Array.isArray(options.users) || options.users.length === 0) throw new TypeError('kamailio options: users must be a non-empty array');
  const seen = new Set<string>();
  for (const u of options.users) {
    if (typeof u?.user !== 'string' || !USER.test(u.user)) throw new TypeError(`kamailio options: bad user name ${JSON.stringify(u?.user)}`);
    if (typeof u.password !== 'string' || u.password === '') throw new TypeError(`kamailio options: user ${u.user} needs a password`);
    if (seen.has(u.user)) throw new TypeError(`kamailio options: user ${u.user} listed twice`);
    seen.add(u.user);
  }
  if (options.conversationServer !== undefined) endpoint(options.conversationServer, 'conversationServer');
  const peers = options.peers ?? [];
  for (const p of peers) {
    endpoint(p, 'peers[]');
    if (typeof p.domain !== 'string' || !TOKEN.test(p.domain) || p.domain === domain) throw new TypeError(`kamailio options: bad peer domain ${JSON.stringify(p.domain)}`);
  }
  const tls = options.tls;
  for (const f of ['certFile', 'keyFile'] as const) if (typeof tls?.[f] !== 'string' || !tls[f].startsWith('/')) throw new TypeError(`kamailio options: tls.${f} must be an absolute path`);
  if (tls.caFile !== undefined && !tls.caFile.startsWith('/')) throw new TypeError('kamailio options: tls.caFile must be an absolute path');
  const transferServiceUser = options.transferServiceUser ?? 'cpm-transfer';
  if (!USER.test(transferServiceUser)) throw new TypeError(`kamailio options: bad transferServiceUser ${JSON.stringify(transferServiceUser)}`);
  const serviceIdentityPrefix = options.serviceIdentityPrefix ?? 'cpm-cs-';
  if (!USER.test(serviceIdentityPrefix)) throw new TypeError(`kamailio options: bad serviceIdentityPrefix ${JSON.stringify(serviceIdentityPrefix)}`);
  const secret = options.secret ?? randomBytes(16).toString('hex');
  if (!/^[A-Za-z0-9]{16,}$/.test(secret)) throw new TypeError('kamailio options: secret must be at least 16 letters or digits');
  const minExpires = options.minExpires ?? 60;
  const defaultExpires = options.defaultExpires ?? 600;
  const maxExpires = options.maxExpires ?? 3600;
  for (const [name, v] of [['minExpires', minExpires], ['defaultExpires', defaultExpires], ['maxExpires', maxExpires]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`kamailio options: ${name} must be a positive integer, got ${v}`);
  }
  if (!(minExpires <= defaultExpires && defaultExpires <= maxExpires)) throw new RangeError('kamailio options: need minExpires ≤ defaultExpires ≤ maxExpires');
  const debugLevel = options.debugLevel ?? 1;
  if (!Number.isInteger(debugLevel) || debugLevel < -5 || debugLevel > 3) throw new RangeError(`kamailio options: debugLevel must be -5..3, got ${debugLevel}`);
  const modulePath = options.modulePath ?? DEFAULT_MODULE_PATH;
  if (!modulePath.startsWith('/') || /["\n]/.test(modulePath)) throw new TypeError('kamailio options: modulePath must be an absolute path');
  for (const f of [tls.certFile, tls.keyFile, tls.caFile ?? '/']) if (/[\n"]/.test(f)) throw new TypeError('kamailio options: TLS file paths must not contain quotes or newlines');
  return {
    domain,
    users: options.users,
    listenHost,
    wsPort: options.wsPort,
    ...(options.wssPort !== undefined ? { wssPort: options.wssPort } : {}),
    sipPort: options.sipPort,
    internalPort: options.internalPort,
    ...(options.conversationServer ? { conversationServer: options.conversationServer } : {}),
    peers,
    tls,
    transferServiceUser,
    serviceIdentityPrefix,
    secret,
    minExpires,
    defaultExpires,
    maxExpires,
    debugLevel,
    modulePath,
  };
}

function port(value: unknown, name: string): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) throw new RangeError(`kamailio options: ${name} must be a port 1..65535, got ${String(value)}`);
}

function endpoint(e: HostPort, name: string): void {
  if (typeof e?.host !== 'string' || isIP(e.host) !== 4) throw new TypeError(`kamailio options: ${name}.host must be an IPv4 literal, got ${JSON.stringify(e?.host)}`);
  port(e.port, `${name}.port`);
}

function hostPort(e: HostPort): string {
  return `${e.host}:${e.port}`;
}

async function main(argv: readonly string[]): Promise<void> {
  const [optionsFile, outDir] = argv;
  if (!optionsFile || !outDir) throw new Error('usage: render-config.ts <options.json> <out-dir>');
  const options = JSON.parse(await readFile(optionsFile, 'utf8')) as KamailioCoreOptions;
  const path = await writeKamailioConfig(options, outDir);
  process.stdout.write(`${path}\n${join(resolve(outDir), 'tls.cfg')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`render-config: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
