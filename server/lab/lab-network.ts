/**
 * The lab network: every domain of the config with its SIP/IP core and Conversation Server, on loopback,
 * peered with each other. System tests start it in-process; `npm run lab` runs it as a program.
 *
 * Each domain's Conversation Server runs in its own mode (`in-path` or `proxy`), in the lab's process (the
 * default: `lab.domain(d).conversation` is the server itself) or, with `conversationServers: 'process'`, as
 * its own process (server/conversation-server.ts, forked: `lab.domain(d).conversationProcess`), as in
 * production. Every element feeds the lab-wide SIP trace (`lab.trace`), which records nothing until enabled;
 * a forked server sends its entries over IPC while it is, each stamped with when the server saw the message
 * (`enableTrace()` waits until every forked server has confirmed). Elements are named after the first label
 * of their domain: `core A` and `CS A` for a.example (the whole domain when first labels clash).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDevCertificate, type DevCertificate } from '../sip/transport/dev-certificate';
import type { ConversationMode } from '../conversation/conversation-mode';
import { ConversationServer } from '../conversation/conversation-server';
import { inPathFactory } from '../conversation/in-path/in-path-factory';
import { DomainCore, type DomainCoreOptions } from '../core/domain-core';
import { timerValues, type TimerConfig } from '../sip/transaction/timers';
import type { Endpoint } from '../sip/transport/transport-types';
import { ConversationServerProcess } from './conversation-server-process';
import { DEFAULT_LAB_CONFIG, type LabConfig, type LabDomainConfig } from './lab-config';
import { MessageStores } from './message-stores';
import { SipTrace, type SipTraceEnableOptions } from './sip-trace';

/** Options of the lab. */
export interface LabOptions {
  config?: LabConfig;
  /** Per-hop delay added by every element (ms). */
  delayMs?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** Registrar expiry bounds, for tests that watch expiry. */
  minExpires?: number;
  /** Mode of the first domain's Conversation Server (default `proxy`). */
  modeA?: ConversationMode;
  /** Mode of the second domain's Conversation Server (default `proxy`). */
  modeB?: ConversationMode;
  /** Modes by domain name; wins over `modeA` / `modeB`. */
  modes?: Readonly<Record<string, ConversationMode>>;
  /** Diagnostics of the elements (such as an in-path server that proxies for now), one line each. */
  log?: (line: string) => void;
  /** How long a transfer's target may take to answer, ms (PROFILE.md: 60 s; tests shorten it). */
  transferTargetAnswerMs?: number;
  /**
   * SIP timer bases (T1, T2, T4; RFC 3261 §17.1.1.1) of every core and Conversation Server; defaults per RFC.
   * Tests shorten them to reach time-outs (Timer B/F = 64·T1) in milliseconds. `start` rejects a value that is not
   * a positive number with a RangeError, before anything starts.
   */
  timers?: Partial<TimerConfig>;
}

/** Where the lab runs each domain's Conversation Server: inside the lab's process (default) or as a child process each. */
export type ConversationServerPlacement = 'in-process' | 'process';

/** What `LabNetwork.start` takes: the lab's options and where its Conversation Servers run. */
export type LabStartOptions = LabOptions & {
  /**
   * `in-process` (default): each `ConversationServer` runs in the lab's process. `process`: each runs as
   * server/conversation-server.ts, forked with an IPC channel; a child that exits unexpectedly is logged
   * (`log`, else stderr), and its core answers what it routes there with a 5xx.
   */
  conversationServers?: ConversationServerPlacement;
};

/** What the lab prints as its first stdout line (and what tests read). */
export interface LabDescription {
  domains: {
    domain: string;
    ws: string;
    wss: string;
    udp: number;
    tcp: number;
    host: string;
    transferService: string;
    conversationServer: string;
    /** The Conversation Server's mode as configured. */
    mode: ConversationMode;
    /** Names of the domain's elements in the trace. */
    elements: { core: string; conversationServer: string };
    /** Base URL of the domain's Message Store HTTP API (Digest, the user's SIP credentials). */
    store: string;
  }[];
  users: { uri: string; password: string }[];
  /** The lab's self-signed certificate (PEM), for clients that connect over WSS. */
  certificate: string;
}

/** What a domain of a running lab has, wherever its Conversation Server runs. */
interface LabDomainBase {
  domain: string;
  core: DomainCore;
  /** Trace names of the core and the Conversation Server (`core A`, `CS A`). */
  names: { core: string; conversationServer: string };
}

/** One domain of a running lab whose Conversation Server runs in the lab's process (the default). */
export interface LabDomain extends LabDomainBase {
  placement: 'in-process';
  conversation: ConversationServer;
}

/** One domain of a running lab whose Conversation Server is a child process. */
export interface ProcessLabDomain extends LabDomainBase {
  placement: 'process';
  /** The forked server: its pid, SIP address, mode, state; `close()` is the lab's. */
  conversationProcess: ConversationServerProcess;
}

/** A domain of a lab with either placement (narrow it on `placement`). */
export type AnyLabDomain = LabDomain | ProcessLabDomain;

/** A running lab network; `D` says where its Conversation Servers run (in-process unless started otherwise). */
export class LabNetwork<D extends AnyLabDomain = LabDomain> {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly domains: D[],
    readonly description: LabDescription,
    readonly certificate: DevCertificate,
    private readonly labTrace: LabTrace,
    /** Every domain's Message Store. */
    readonly stores: MessageStores,
    /** The folder of the forked servers' config and PEM files (removed on close). */
    private readonly processDir: string | undefined,
  ) {}

  /** Start every element of the lab, each Conversation Server in the lab's process. */
  static start(options?: LabOptions & { conversationServers?: 'in-process' }): Promise<LabNetwork>;
  /** Start every element of the lab, each Conversation Server as its own process. */
  static start(options: LabOptions & { conversationServers: 'process' }): Promise<LabNetwork<ProcessLabDomain>>;
  /** Start every element of the lab, the Conversation Servers where `conversationServers` says. */
  static start(options: LabStartOptions): Promise<LabNetwork<AnyLabDomain>>;
  static async start(options: LabStartOptions = {}): Promise<LabNetwork<AnyLabDomain>> {
    const config = options.config ?? DEFAULT_LAB_CONFIG;
    const host = options.host ?? '127.0.0.1';
    // The elements derive their timers lazily, per transaction: refuse a bad value here, before anything starts.
    if (options.timers) timerValues(options.timers, false);
    const placement = options.conversationServers ?? 'in-process';
    if (placement !== 'in-process' && placement !== 'process') throw new RangeError(`lab: conversationServers must be in-process or process (got ${JSON.stringify(placement)})`);
    const certificate = await generateDevCertificate();
    const tls = { key: certificate.key, cert: certificate.cert };
    const tlsClient = { ca: certificate.cert };
    const trace = new LabTrace();
    const labels = elementLabels(config.domains.map((d) => d.domain));
    const modeOf = (d: LabDomainConfig, index: number): ConversationMode =>
      options.modes?.[d.domain] ?? (index === 0 ? options.modeA : index === 1 ? options.modeB : undefined) ?? 'proxy';
    const started: AnyLabDomain[] = [];
    // First, so that each domain's elements can be handed its store (`stores.domain(d).sink` for an in-path CS).
    const stores = await MessageStores.start({ domains: config.domains, host });
    let processDir: string | undefined;
    try {
      if (placement === 'process') processDir = mkdtempSync(join(tmpdir(), 'cpm-lab-cs-'));
      if (processDir !== undefined) started.push(...(await startProcessDomains({ options, config, host, certificate, trace, stores, processDir, labels, modeOf })));
      else for (const [index, d] of config.domains.entries()) {
        const label = labels[index]!;
        const names = { core: `core ${label}`, conversationServer: `CS ${label}` };
        const mode = modeOf(d, index);
        const conversation = await ConversationServer.start({
          domain: d.domain,
          host,
          tls,
          tlsClient,
          mode,
          ...(mode === 'in-path' ? { inPath: await inPathFactory({ host }) } : {}),
          trace: trace.hook(names.conversationServer),
          messageSink: stores.domain(d.domain).sink,
          ...(options.log ? { log: options.log } : {}),
          ...(options.delayMs ? { delayMs: options.delayMs } : {}),
          ...(options.transferTargetAnswerMs !== undefined ? { transferTargetAnswerMs: options.transferTargetAnswerMs } : {}),
          ...(options.timers ? { timers: options.timers } : {}),
        });
        const core = await DomainCore.start({
          ...coreOptions(d, options, host, certificate),
          conversationServer: conversation.address,
          trace: trace.hook(names.core),
        }).catch(async (error: unknown) => {
          await conversation.close();
          throw error;
        });
        conversation.setCore(core.internal);
        started.push({ placement: 'in-process', domain: d.domain, core, conversation, names });
        for (const point of conversation.transport.listeningPoints()) trace.nameEndpoint(point, names.conversationServer);
        for (const point of core.listeningPoints()) trace.nameEndpoint(point, names.core);
      }
      for (const a of started) for (const b of started) if (a !== b) a.core.setPeer(b.domain, b.core.internal);
    } catch (error) {
      await closeDomains(started);
      await stores.close();
      if (processDir !== undefined) rmSync(processDir, { recursive: true, force: true });
      throw error;
    }
    const description: LabDescription = {
      domains: started.map((s) => {
        const points = s.core.listeningPoints();
        const find = (p: Endpoint['protocol']): Endpoint => {
          const e = points.find((x) => x.protocol === p && x.port !== s.core.internal.port);
          if (!e) throw new Error(`lab: ${s.domain} has no ${p} listener`);
          return e;
        };
        const hp = (e: Endpoint): string => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
        return {
          domain: s.domain,
          ws: `ws://${hp(find('ws'))}`,
          wss: `wss://${hp(find('wss'))}`,
          udp: find('udp').port,
          tcp: find('tcp').port,
          host,
          transferService: `sip:cpm-transfer@${s.domain}`,
          conversationServer: `sip:${hp(conversationAddress(s))};transport=tls`,
          mode: s.placement === 'in-process' ? s.conversation.mode : s.conversationProcess.mode,
          elements: { ...s.names },
          store: stores.url(s.domain),
        };
      }),
      users: config.domains.flatMap((d) => d.users.map((u) => ({ uri: `sip:${u.user}@${d.domain}`, password: u.password }))),
      certificate: certificate.cert,
    };
    return new LabNetwork(started, description, certificate, trace, stores, processDir);
  }

  /** The lab-wide SIP trace (enable it to record; with forked servers, `enableTrace` waits until they send). */
  get trace(): SipTrace {
    return this.labTrace;
  }

  /**
   * Enable the trace and wait until every forked Conversation Server has confirmed it sends its entries, so that
   * nothing a test does next is missed (in-process elements record at once). A server that has exited is skipped
   * (its end is logged).
   */
  async enableTrace(options?: SipTraceEnableOptions): Promise<void> {
    this.labTrace.enable(options);
    await this.labTrace.applied();
  }

  /** The domain named `domain`; throws when the lab has none. */
  domain(domain: string): D {
    const d = this.domains.find((x) => x.domain === domain);
    if (!d) throw new Error(`lab: no domain ${domain}`);
    return d;
  }

  /** Stop every element (and wait until each forked server has exited). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // The forked servers have the store files open: they go first.
      await closeDomains(this.domains);
      await this.stores.close();
      if (this.processDir !== undefined) rmSync(this.processDir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

/** Close the cores and Conversation Servers (in-process or forked) of `domains`; never throws. */
async function closeDomains(domains: readonly AnyLabDomain[]): Promise<void> {
  await Promise.allSettled(domains.flatMap((d) => [d.core.close(), d.placement === 'in-process' ? d.conversation.close() : d.conversationProcess.close()]));
}

/** What a domain's core is started with, in either mode (the caller adds its trace hook and Conversation Server). */
function coreOptions(d: LabDomainConfig, options: LabOptions, host: string, certificate: DevCertificate): DomainCoreOptions {
  return {
    domain: d.domain,
    users: d.users,
    listeners: [
      { protocol: 'ws', host, port: d.ports?.ws ?? 0 },
      { protocol: 'wss', host, port: d.ports?.wss ?? 0 },
      { protocol: 'udp', host, port: d.ports?.udp ?? 0 },
      { protocol: 'tcp', host, port: d.ports?.tcp ?? 0 },
    ],
    internal: { host },
    tls: { key: certificate.key, cert: certificate.cert },
    tlsClient: { ca: certificate.cert },
    ...(options.delayMs ? { delayMs: options.delayMs } : {}),
    ...(options.minExpires !== undefined ? { minExpires: options.minExpires } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  };
}

function conversationAddress(d: AnyLabDomain): Endpoint {
  return d.placement === 'in-process' ? d.conversation.address : d.conversationProcess.address;
}

/** The lab's trace: a SipTrace that tells the forked Conversation Servers when to send their entries. */
class LabTrace extends SipTrace {
  private readonly toggled = new Set<(enabled: boolean) => Promise<void>>();
  private lastToggle: Promise<unknown> = Promise.resolve();

  /** Call `listener` on every `enable()` / `disable()`; it resolves once the setting is in effect. */
  onToggle(listener: (enabled: boolean) => Promise<void>): void {
    this.toggled.add(listener);
  }

  /** Resolves once every listener has applied the last `enable()` / `disable()` (or failed to). */
  async applied(): Promise<void> {
    await this.lastToggle;
  }

  override enable(options?: SipTraceEnableOptions): void {
    super.enable(options);
    this.toggle(true);
  }

  override disable(): void {
    super.disable();
    this.toggle(false);
  }

  private toggle(enabled: boolean): void {
    this.lastToggle = Promise.allSettled([...this.toggled].map((listener) => listener(enabled)));
  }
}

/** What {@link startProcessDomains} needs from `LabNetwork.start`. */
interface ProcessDomainsContext {
  options: LabStartOptions;
  config: LabConfig;
  host: string;
  certificate: DevCertificate;
  trace: LabTrace;
  stores: MessageStores;
  processDir: string;
  labels: readonly string[];
  modeOf: (d: LabDomainConfig, index: number) => ConversationMode;
}

/**
 * Every domain with its Conversation Server forked: the cores first (each without a server yet), then every
 * server at once, each configured by a JSON file in `processDir` with the lab's PEM files, its core's internal
 * endpoint and its domain's store file; then each core is pointed at its server. On failure, what was started
 * is closed again and the error says which server failed and why (its stderr).
 */
async function startProcessDomains(context: ProcessDomainsContext): Promise<ProcessLabDomain[]> {
  const { options, config, host, certificate, trace, stores, processDir, labels, modeOf } = context;
  const pem = (name: string, text: string): string => {
    const file = join(processDir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const keyFile = pem('key.pem', certificate.key);
  const certFile = pem('cert.pem', certificate.cert);
  const cores: DomainCore[] = [];
  const processes: ConversationServerProcess[] = [];
  // An unexpected end of a server is an operator-level event: it is logged even when the lab has no `log`.
  const report = options.log ?? ((line: string) => process.stderr.write(`lab: ${line}
`));
  try {
    for (const d of config.domains) {
      cores.push(await DomainCore.start({ ...coreOptions(d, options, host, certificate), trace: trace.hook(`core ${labels[cores.length]!}`) }));
    }
    const started = await Promise.allSettled(config.domains.map(async (d, index) => {
      const core = cores[index]!;
      const configFile = join(processDir, `${d.domain}.json`);
      // the server opens its own connection to the domain's store file (WAL lets both write)
      const storeFile = stores.file(d.domain);
      writeFileSync(configFile, JSON.stringify({
        domain: d.domain,
        mode: modeOf(d, index),
        host,
        tlsKey: keyFile,
        tlsCert: certFile,
        tlsCa: certFile,
        core: `${core.internal.host.includes(':') ? `[${core.internal.host}]` : core.internal.host}:${core.internal.port}`,
        store: storeFile,
        // as the lab's own connection to the file (message-stores.ts): fast, survives a process crash
        storeSynchronous: 'NORMAL',
        ...(options.delayMs ? { delayMs: options.delayMs } : {}),
        ...(options.timers ? { timers: options.timers } : {}),
        ...(options.transferTargetAnswerMs !== undefined ? { transferTargetAnswerMs: options.transferTargetAnswerMs } : {}),
      }, null, 2));
      return ConversationServerProcess.start({
        name: `CS ${labels[index]!}`,
        configFile,
        trace: trace.hook(`CS ${labels[index]!}`),
        ...(options.log ? { log: options.log } : {}),
      });
    }));
    for (const s of started) if (s.status === 'fulfilled') processes.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await Promise.allSettled([...cores.map((c) => c.close()), ...processes.map((p) => p.close())]);
    throw error;
  }
  return config.domains.map((d, index): ProcessLabDomain => {
    const core = cores[index]!;
    const child = processes[index]!;
    const names = { core: `core ${labels[index]!}`, conversationServer: `CS ${labels[index]!}` };
    core.setConversationServer(child.address);
    trace.nameEndpoint(child.address, names.conversationServer);
    for (const point of core.listeningPoints()) trace.nameEndpoint(point, names.core);
    // A server that has exited cannot confirm; its end is reported below.
    trace.onToggle((enabled) => child.setTracing(enabled));
    child.on('unexpectedExit', (exit) => {
      report(
        `${names.conversationServer} (${d.domain}, pid ${child.pid}) exited unexpectedly (${exit.signal ?? `code ${String(exit.code)}`}); ` +
          `${names.core} answers what it routes there with a 5xx${child.stderr ? `; its last stderr: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
      );
    });
    return { placement: 'process', domain: d.domain, core, conversationProcess: child, names };
  });
}

/**
 * The label of each domain in element names: its first DNS label upper-cased (`a.example` → `A`), or the
 * whole domain when two domains share a first label.
 */
export function elementLabels(domains: readonly string[]): string[] {
  const first = domains.map((d) => (d.split('.')[0] ?? d).toUpperCase());
  return domains.map((d, i) => (first.filter((f) => f === first[i]).length > 1 ? d : first[i]!));
}
