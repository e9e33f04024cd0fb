/**
 * The lab network: every domain of the config with its SIP/IP core and Conversation Server, on loopback,
 * peered with each other. System tests start it in-process; `npm run lab` runs it as a program.
 *
 * Each domain's Conversation Server runs in its own mode (`in-path` or `proxy`); every element feeds the
 * lab-wide SIP trace (`lab.trace`), which records nothing until enabled. Elements are named after the first
 * label of their domain: `core A` and `CS A` for a.example (the whole domain when first labels clash).
 */
import { generateDevCertificate, type DevCertificate } from '../sip/transport/dev-certificate';
import type { ConversationMode } from '../conversation/conversation-mode';
import { ConversationServer } from '../conversation/conversation-server';
import { inPathFactory } from '../conversation/in-path/in-path-factory';
import { DomainCore } from '../core/domain-core';
import { timerValues, type TimerConfig } from '../sip/transaction/timers';
import type { Endpoint } from '../sip/transport/transport-types';
import { DEFAULT_LAB_CONFIG, type LabConfig } from './lab-config';
import { MessageStores } from './message-stores';
import { SipTrace } from './sip-trace';

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

/** One domain of a running lab. */
export interface LabDomain {
  domain: string;
  core: DomainCore;
  conversation: ConversationServer;
  /** Trace names of the core and the Conversation Server (`core A`, `CS A`). */
  names: { core: string; conversationServer: string };
}

/** A running lab network. */
export class LabNetwork {
  private constructor(
    readonly domains: LabDomain[],
    readonly description: LabDescription,
    readonly certificate: DevCertificate,
    /** The lab-wide SIP trace (enable it to record). */
    readonly trace: SipTrace,
    /** Every domain's Message Store. */
    readonly stores: MessageStores,
  ) {}

  /** Start every element of the lab. */
  static async start(options: LabOptions = {}): Promise<LabNetwork> {
    const config = options.config ?? DEFAULT_LAB_CONFIG;
    const host = options.host ?? '127.0.0.1';
    // The elements derive their timers lazily, per transaction: refuse a bad value here, before anything starts.
    if (options.timers) timerValues(options.timers, false);
    const certificate = await generateDevCertificate();
    const tls = { key: certificate.key, cert: certificate.cert };
    const tlsClient = { ca: certificate.cert };
    const trace = new SipTrace();
    const labels = elementLabels(config.domains.map((d) => d.domain));
    const started: LabDomain[] = [];
    // First, so that each domain's elements can be handed its store (`stores.domain(d).sink` for an in-path CS).
    const stores = await MessageStores.start({ domains: config.domains, host });
    try {
      for (const [index, d] of config.domains.entries()) {
        const label = labels[index]!;
        const names = { core: `core ${label}`, conversationServer: `CS ${label}` };
        const mode = options.modes?.[d.domain] ?? (index === 0 ? options.modeA : index === 1 ? options.modeB : undefined) ?? 'proxy';
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
          domain: d.domain,
          users: d.users,
          listeners: [
            { protocol: 'ws', host, port: d.ports?.ws ?? 0 },
            { protocol: 'wss', host, port: d.ports?.wss ?? 0 },
            { protocol: 'udp', host, port: d.ports?.udp ?? 0 },
            { protocol: 'tcp', host, port: d.ports?.tcp ?? 0 },
          ],
          internal: { host },
          tls,
          tlsClient,
          conversationServer: conversation.address,
          trace: trace.hook(names.core),
          ...(options.delayMs ? { delayMs: options.delayMs } : {}),
          ...(options.minExpires !== undefined ? { minExpires: options.minExpires } : {}),
          ...(options.timers ? { timers: options.timers } : {}),
        }).catch(async (error: unknown) => {
          await conversation.close();
          throw error;
        });
        conversation.setCore(core.internal);
        started.push({ domain: d.domain, core, conversation, names });
        for (const point of conversation.transport.listeningPoints()) trace.nameEndpoint(point, names.conversationServer);
        for (const point of core.listeningPoints()) trace.nameEndpoint(point, names.core);
      }
      for (const a of started) for (const b of started) if (a !== b) a.core.setPeer(b.domain, b.core.internal);
    } catch (error) {
      await Promise.allSettled([...started.flatMap((s) => [s.core.close(), s.conversation.close()]), stores.close()]);
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
          conversationServer: `sip:${hp(s.conversation.address)};transport=tls`,
          mode: s.conversation.mode,
          elements: { ...s.names },
          store: stores.url(s.domain),
        };
      }),
      users: config.domains.flatMap((d) => d.users.map((u) => ({ uri: `sip:${u.user}@${d.domain}`, password: u.password }))),
      certificate: certificate.cert,
    };
    return new LabNetwork(started, description, certificate, trace, stores);
  }

  /** The domain named `domain`; throws when the lab has none. */
  domain(domain: string): LabDomain {
    const d = this.domains.find((x) => x.domain === domain);
    if (!d) throw new Error(`lab: no domain ${domain}`);
    return d;
  }

  /** Stop every element. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.domains.flatMap((d) => [d.core.close(), d.conversation.close()]), this.stores.close()]);
  }
}

/**
 * The label of each domain in element names: its first DNS label upper-cased (`a.example` → `A`), or the
 * whole domain when two domains share a first label.
 */
export function elementLabels(domains: readonly string[]): string[] {
  const first = domains.map((d) => (d.split('.')[0] ?? d).toUpperCase());
  return domains.map((d, i) => (first.filter((f) => f === first[i]).length > 1 ? d : first[i]!));
}
