/**
 * One domain's SIP/IP core for the lab: registrar + stateful proxy, with the routing of PROFILE.md.
 *
 * - Client-facing listeners (WS, WSS, UDP, TCP) serve devices; one internal TLS listener serves the
 *   domain's Conversation Server and peer cores. `P-Asserted-Identity` (RFC 3325) is trusted only on what
 *   arrives on the internal listener; from clients it is stripped and replaced by the identity the core
 *   authenticated (the user registered over the same flow, or Digest with 407, RFC 3261 §22.3).
 * - Routing: a GRUU reaches exactly its device (RFC 5627 §7); an AOR forks to every binding in parallel; a
 *   registered contact URI reaches its binding over its flow (RFC 5626 §5.3); another domain goes to that
 *   domain's core; CPM-session INVITEs of local users visit the Conversation Server first, originating then
 *   terminating, like an IMS initial filter criterion with an original-dialog identifier (`odi`) in the
 *   Route that brings the request back; the transfer service URI and `reg` SUBSCRIBEs go to the
 *   Conversation Server.
 * - After every registration change the core sends the Conversation Server a third-party REGISTER carrying
 *   every binding of the AOR (and those just removed, with `expires=0`). A refresh that changes nothing the
 *   server knows (same parameters) is a change only once what the server was told has less than
 *   {@link REPORT_AGAIN_BELOW} of the new expiry left: a device refreshing at half-life, as UAs do, is reported
 *   every time; one that re-registers every few seconds is not reported every time.
 */
import { hasCpmFeatureTag } from '../../protocol/cpm/cpm-headers';
import { getUriParam, parseUri, type SipUri } from '../sip/message/sip-uri';
import { parseNameAddr } from '../sip/message/name-addr';
import { checkRequest, type RequestCheckOptions } from '../sip/message/request-check';
import { createRequest, type SipRequest } from '../sip/message/sip-message';
import { ProxyCore } from '../sip/proxy/proxy-core';
import type { ProxyContext, ProxyTarget } from '../sip/proxy/proxy-hooks';
import type { Rejection } from '../sip/proxy/request-validation';
import { buildResponse } from '../sip/transaction/response-builder';
import type { TimerConfig } from '../sip/transaction/timers';
import { TransactionLayer, type ServerTransaction } from '../sip/transaction/transaction-layer';
import { createTransportLayer } from '../sip/transport/sip-transport-layer';
import type { ListenerOptions, TlsClientOptions, TlsCredentials, TransportTrace } from '../sip/transport/transport-options';
import type { Endpoint, ReceivedMessage, SendTarget, SipTransportLayer } from '../sip/transport/transport-types';
import { DelayedTransport } from './delayed-transport';
import { LocationService, type Binding } from './location-service';
import { randomHex } from './random-hex';
import { Registrar, type DomainUser } from './registrar';

/** Configuration of one domain core. */
export interface DomainCoreOptions {
  domain: string;
  users: readonly DomainUser[];
  /** Client-facing listeners. Default: WS, UDP and TCP on 127.0.0.1, ephemeral ports. */
  listeners?: ListenerOptions[];
  /** The internal (trusted) listener, TLS. Default 127.0.0.1, ephemeral port. */
  internal?: { host?: string; port?: number };
  tls?: TlsCredentials;
  tlsClient?: TlsClientOptions;
  /** The Conversation Server's internal address (TLS), when the domain has one. */
  conversationServer?: Endpoint;
  /** User part of the transfer service URI (PROFILE.md: `sip:cpm-transfer@<domain>`). */
  transferServiceUser?: string;
  /**
   * User-part prefix of the Conversation Server's public service identities (default `cpm-cs-`): a request for
   * `sip:cpm-cs-…@<domain>` from anywhere is routed to the Conversation Server, so that the server's Contact
   * (a session leg's URI) is routable across domains (PROFILE.md: "A Conversation Server's Contact is its own
   * routable address"), like an IMS PSI.
   */
  serviceIdentityPrefix?: string;
  /** Per-hop delay added to everything this core sends (lab `--delay-ms`). */
  delayMs?: number;
  timers?: Partial<TimerConfig>;
  trace?: TransportTrace;
  /** Registrar expiry bounds (s). */
  minExpires?: number;
  defaultExpires?: number;
  maxExpires?: number;
}

const NO_TARGETS: readonly ProxyTarget[] = [];

/** The UAS checks (RFC 3261 §8.2) of a REGISTER before the registrar sees it; it supports GRUU and outbound. */
const REGISTRAR_CHECKS: RequestCheckOptions = { role: 'registrar', allowedMethods: ['REGISTER'], supportedExtensions: ['gruu', 'outbound'] };

/** One running domain core. Create with {@link DomainCore.start}. */
export class DomainCore {
  readonly location: LocationService;
  readonly registrar: Registrar;
  private readonly proxy: ProxyCore;
  private readonly users: Map<string, DomainUser>;
  private readonly peers = new Map<string, Endpoint>();
  private conversationServer: Endpoint | undefined;
  private readonly identities = new WeakMap<ReceivedMessage, string>();
  private readonly serviceRoutes = new WeakMap<ProxyTarget, string[]>();
  private readonly odiTokens = new Map<string, { kind: 'orig' | 'term'; expires: number }>();
  private closed = false;
  private lastUri: { text: string; uri: ReturnType<typeof parseUri> } | undefined;

  private constructor(
    private readonly options: DomainCoreOptions,
    readonly transport: SipTransportLayer,
    readonly layer: TransactionLayer,
    readonly internal: Endpoint,
  ) {
    this.users = new Map(options.users.map((u) => [u.user, u]));
    this.location = new LocationService({ domain: options.domain });
    this.registrar = new Registrar({
      domain: options.domain,
      users: (user) => this.users.get(user),
      location: this.location,
      newTag,
      ...(options.minExpires !== undefined ? { minExpires: options.minExpires } : {}),
      ...(options.defaultExpires !== undefined ? { defaultExpires: options.defaultExpires } : {}),
      ...(options.maxExpires !== undefined ? { maxExpires: options.maxExpires } : {}),
    });
    this.conversationServer = options.conversationServer;
    this.proxy = new ProxyCore({
      transport,
      layer,
      listen: false,
      domains: [options.domain],
      ...(options.timers ? { timers: options.timers } : {}),
      hooks: {
        authorize: (request, context) => this.authorize(request, context),
        isResponsibleFor: (uri) => this.isResponsibleFor(uri),
        locate: (request, context) => this.locate(request, context),
        rewriteRequest: (outgoing, target, context) => this.rewrite(outgoing, target, context),
      },
    });
    this.proxy.on('error', () => {
      // reported per message; the core goes on
    });
    layer.on('request', (tx, received) => this.onRequest(tx, received));
    layer.on('ack', (received) => this.proxy.handleAck(received));
    layer.on('response', (received) => this.proxy.handleResponse(received));
    layer.on('error', () => {
      // malformed input already answered or dropped by the layers below
    });
    transport.on('flowClosed', (flowId) => this.location.removeFlow(flowId));
    // Every change to a binding reaches the Conversation Server: removals (un-REGISTER, expiry, a flow that
    // closed) are emitted by the location service itself, additions and refreshes by handleRegister.
    this.location.onChange((changes) => {
      if (!this.conversationServer) return;
      const now = Date.now();
      const reported = changes.filter((c) => c.event !== 'refreshed' || !alreadyReported(c.binding, now));
      if (reported.length === 0) return;
      const aors = new Set(reported.map((c) => c.binding.aor));
      for (const aor of aors) {
        const removed = reported.filter((c) => c.binding.aor === aor && c.binding.expiresAt === 0).map((c) => c.binding);
        this.thirdPartyRegister(aor, removed);
      }
    });
  }

  /** Bind the listeners and start serving. */
  static async start(options: DomainCoreOptions): Promise<DomainCore> {
    const internal: ListenerOptions = { protocol: 'tls', host: options.internal?.host ?? '127.0.0.1', port: options.internal?.port ?? 0 };
    const listeners = options.listeners ?? [
      { protocol: 'ws', host: '127.0.0.1', port: 0 },
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'tcp', host: '127.0.0.1', port: 0 },
    ];
    const raw = await createTransportLayer({
      listeners: [internal, ...listeners],
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.tlsClient ? { tlsClient: options.tlsClient } : {}),
      ...(options.trace ? { trace: options.trace } : {}),
    });
    const transport: SipTransportLayer = options.delayMs ? new DelayedTransport(raw, options.delayMs) : raw;
    const layer = new TransactionLayer(transport, { ...(options.timers ? { timers: options.timers } : {}), autoTrying: true });
    const point = raw.listeningPoint('tls');
    if (!point) throw new Error('internal TLS listener did not bind');
    return new DomainCore(options, transport, layer, point);
  }

  /** The domain served. */
  get domain(): string {
    return this.options.domain;
  }

  /** Every listening point (client-facing and internal). */
  listeningPoints(): Endpoint[] {
    return this.transport.listeningPoints();
  }

  /** Route requests for `domain` to that domain's core (its internal TLS endpoint). */
  setPeer(domain: string, endpoint: Endpoint): void {
    this.peers.set(domain.toLowerCase(), endpoint);
  }

  /** Set (or change) the Conversation Server's internal address. */
  setConversationServer(endpoint: Endpoint | undefined): void {
    this.conversationServer = endpoint;
  }

  /** Live transactions and response contexts (0 and 0 when idle). */
  load(): { transactions: number; contexts: number; connections: number; bindings: number } {
    return {
      transactions: this.layer.size(),
      contexts: this.proxy.contextCount(),
      connections: this.transport.connectionCount(),
      bindings: this.location.size(),
    };
  }

  /** Stop serving and close every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.location.close();
    this.layer.close();
    await this.transport.close();
  }

  // ---------------------------------------------------------------------------------------------------------

  private onRequest(tx: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message;
    if (request.type !== 'request') return;
    if (request.method === 'REGISTER' && this.isOurDomain(request.uri) && !this.isInternal(received)) {
      this.handleRegister(tx, request, received);
      return;
    }
    this.proxy.handleRequest(tx, received);
  }

  private handleRegister(tx: ServerTransaction, request: SipRequest, received: ReceivedMessage): void {
    // RFC 3261 §10.3 runs after the UAS checks of §8.2 (and RFC 4475 §3.1.2.4, §3.1.2.13, §3.3.4 expect a
    // registrar to answer a malformed REGISTER with 400, not with a challenge).
    const rejection = checkRequest(request, REGISTRAR_CHECKS);
    if (rejection) {
      tx.respond(buildResponse(request, rejection.status, { toTag: newTag(), reason: rejection.reason, headers: rejection.headers ?? [] }));
      return;
    }
    try {
      const result = this.registrar.register(request, received);
      // The core never looks at a REGISTER's transaction again: over UDP the transaction layer keeps only the
      // response bytes for Timer J (32 s of retransmissions absorbed) and the transaction object goes at once.
      if (tx.kind === 'non-invite-server') tx.respond(result.response, { forget: true });
      else tx.respond(result.response);
      // removals were already reported by the location service
      this.location.emit(result.changes.filter((c) => c.binding.expiresAt !== 0));
    } catch {
      tx.respond(buildResponse(request, 500, { toTag: newTag(), reason: 'Registrar Error' }));
    }
  }

  /**
   * The third-party REGISTER (like IMS's, TS 24.229 §5.4.1.7): To the AOR, every current binding in Contact
   * with its remaining expiry and GRUUs, and `removed` with `expires=0`.
   */
  private thirdPartyRegister(aor: string, removed: readonly Binding[]): void {
    const cs = this.conversationServer;
    if (!cs || this.closed) return;
    const now = Date.now();
    const contacts: string[] = [];
    const current = this.location.bindings(aor);
    for (const b of current) {
      contacts.push(bindingContact(b, Math.max(1, Math.round((b.expiresAt - now) / 1000))));
      b.reportedUntil = b.expiresAt;
      b.reportedParams = b.paramText;
    }
    for (const b of removed) contacts.push(bindingContact(b, 0));
    if (contacts.length === 0) return;
    // Unless the server takes it, it has not been told: the next refresh tells it again.
    const untold = (): void => {
      for (const b of current) b.reportedUntil = 0;
    };
    const csUri = `sip:${hostPort(cs)};transport=tls`;
    const request = createRequest('REGISTER', csUri, [
      { name: 'Via', value: `SIP/2.0/TLS ${hostPort(this.internal)};branch=z9hG4bK${randomHex(10)};rport` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `<sip:registrar@${this.options.domain}>;tag=${newTag()}` },
      { name: 'To', value: `<${aor}>` },
      { name: 'Call-ID', value: `3p-${randomHex(12)}@${this.options.domain}` },
      { name: 'CSeq', value: '1 REGISTER' },
      { name: 'Contact', value: contacts.join(', ') },
      { name: 'Expires', value: '600' },
    ]);
    try {
      const tx = this.layer.sendRequest(request, { protocol: 'tls', host: cs.host, port: cs.port });
      tx.on('transportError', untold);
      tx.on('timeout', untold);
      tx.on('response', (response) => {
        if (response.status >= 300) untold();
      });
    } catch {
      // the layer reports it; registration itself succeeded
      untold();
    }
  }

  /**
   * The Request-URI parsed, remembered for the message being handled: the REGISTER check, the proxy's
   * responsibility check and `locate` each need it. Throws SipParseError like `parseUri`. Read-only.
   */
  private uri(text: string): ReturnType<typeof parseUri> {
    const last = this.lastUri;
    if (last !== undefined && last.text === text) return last.uri;
    const uri = parseUri(text);
    this.lastUri = { text, uri };
    return uri;
  }

  private isInternal(received: ReceivedMessage): boolean {
    return received.local.protocol === 'tls' && received.local.port === this.internal.port && received.local.host === this.internal.host;
  }

  private isOurDomain(uriText: string): boolean {
    try {
      const uri = this.uri(uriText);
      return uri.kind === 'sip' && uri.host.toLowerCase() === this.options.domain.toLowerCase();
    } catch {
      return false;
    }
  }

  private isResponsibleFor(uriText: string): boolean {
    let uri: SipUri;
    try {
      const parsed = this.uri(uriText);
      if (parsed.kind !== 'sip') return false;
      uri = parsed;
    } catch {
      return false;
    }
    if (uri.host.toLowerCase() === this.options.domain.toLowerCase()) return true;
    if (this.peers.has(uri.host.toLowerCase())) return true;
    return this.bindingByContact(uriText) !== undefined;
  }

  private bindingByContact(uriText: string): Binding | undefined {
    // One pass (not bindings(aor) per AOR: each of those runs expire() over the whole table, O(AORs × bindings)).
    return this.location.byContact(uriText);
  }

  /**
   * Identity (RFC 3325): out-of-dialog requests from clients must come from an authenticated local user whose
   * AOR is their From; trusted elements keep their P-Asserted-Identity.
   */
  private authorize(request: SipRequest, context: ProxyContext): Rejection | undefined {
    const received = context.received;
    if (this.isInternal(received)) {
      const pai = request.headers.first('P-Asserted-Identity');
      if (pai) this.identities.set(received, pai);
      return undefined;
    }
    const inDialog = hasToTag(request);
    if (inDialog || request.method === 'ACK' || request.method === 'CANCEL') return undefined;
    const fromAor = aorOfHeader(request.headers.get('From'));
    if (!fromAor) return { status: 400, reason: 'Bad From' };
    const fromIsLocal = fromAor.endsWith(`@${this.options.domain.toLowerCase()}`);
    if (!fromIsLocal) return { status: 403, reason: 'Forbidden: From is not a user of this domain' };
    // A flow that registered as this user authenticates its requests (RFC 5626 §5).
    if (received.flowId && this.location.bindings(fromAor).some((b) => b.flowId === received.flowId)) {
      this.identities.set(received, `<${fromAor}>`);
      return undefined;
    }
    const auth = this.registrar.authenticate(request, 'Proxy-Authorization');
    if (!('user' in auth)) {
      return {
        status: 407,
        headers: this.registrar.authenticator.challenges({ stale: auth.stale }).map((value) => ({ name: 'Proxy-Authenticate', value })),
      };
    }
    if (`sip:${auth.user}@${this.options.domain}`.toLowerCase() !== fromAor) return { status: 403, reason: 'Forbidden: From is not you' };
    this.identities.set(received, `<${fromAor}>`);
    return undefined;
  }

  private rewrite(outgoing: SipRequest, target: ProxyTarget, context: ProxyContext): void {
    outgoing.headers.remove('P-Asserted-Identity');
    outgoing.headers.remove('Proxy-Authorization');
    const identity = this.identities.get(context.received);
    if (identity) outgoing.headers.set('P-Asserted-Identity', identity);
    const routes = this.serviceRoutes.get(target);
    if (routes) for (const r of [...routes].reverse()) outgoing.headers.prepend('Route', r);
  }

  private locate(request: SipRequest, context: ProxyContext): readonly ProxyTarget[] | Rejection {
    let uri: SipUri;
    try {
      const parsed = this.uri(request.uri);
      if (parsed.kind !== 'sip') return { status: 416 };
      uri = parsed;
    } catch {
      return { status: 400, reason: 'Bad Request-URI' };
    }
    const host = uri.host.toLowerCase();
    const cs = this.conversationServer;
    const initial = !hasToTag(request);

    // Service routing to the Conversation Server (iFC-like), once per direction.
    if (cs && initial) {
      const odi = this.consumeOdi(context.received);
      if (isCpmSession(request)) {
        const identity = this.identities.get(context.received);
        const originator = identity ? aorOfHeader(identity) : undefined;
        if (odi === undefined && originator?.endsWith(`@${this.options.domain.toLowerCase()}`)) return [this.viaConversationServer(request, cs, 'orig')];
        if (odi !== 'term' && host === this.options.domain.toLowerCase() && this.users.has(decode(uri.user ?? ''))) {
          return [this.viaConversationServer(request, cs, 'term')];
        }
      }
      if (host === this.options.domain.toLowerCase() && decode(uri.user ?? '') === (this.options.transferServiceUser ?? 'cpm-transfer')) {
        return [{ uri: request.uri, destination: tlsTarget(cs) }];
      }
    }
    // The Conversation Server's own identities (session legs): in-dialog requests too.
    if (cs && host === this.options.domain.toLowerCase() && decode(uri.user ?? '').startsWith(this.options.serviceIdentityPrefix ?? 'cpm-cs-')) {
      return [{ uri: request.uri, destination: tlsTarget(cs) }];
    }
    if (cs && initial) {
      if (request.method === 'SUBSCRIBE' && /^\s*reg\b/i.test(request.headers.get('Event') ?? '') && host === this.options.domain.toLowerCase()) {
        return [{ uri: request.uri, destination: tlsTarget(cs) }];
      }
    }

    // Another domain: its core.
    if (host !== this.options.domain.toLowerCase()) {
      const peer = this.peers.get(host);
      if (peer) return [{ uri: request.uri, destination: tlsTarget(peer) }];
      const byContact = this.bindingByContact(request.uri);
      if (byContact) return [bindingTarget(byContact, request.uri)];
      return { status: 404, reason: 'Not Found: unknown domain' };
    }

    // A GRUU: exactly that device (RFC 5627 §7).
    if (getUriParam(uri.params, 'gr') !== undefined) {
      const binding = this.location.byGruuUri(request.uri);
      if (binding) return [bindingTarget(binding, binding.contact)];
      const user = decode(uri.user ?? '');
      return this.users.has(user) ? { status: 480, reason: 'GRUU not currently registered' } : { status: 404, reason: 'Unknown GRUU' };
    }
    const byContact = this.bindingByContact(request.uri);
    if (byContact) return [bindingTarget(byContact, request.uri)];

    // An AOR: every binding, in parallel.
    const user = decode(uri.user ?? '');
    if (!this.users.has(user)) return { status: 404, reason: 'Not Found' };
    const bindings = this.location.bindings(`sip:${user}@${this.options.domain}`);
    if (bindings.length === 0) return NO_TARGETS;
    return bindings.map((b) => bindingTarget(b, b.contact));
  }

  /** Route the request to the Conversation Server, with a Route that brings it back to us marked `odi`. */
  private viaConversationServer(request: SipRequest, cs: Endpoint, kind: 'orig' | 'term'): ProxyTarget {
    const token = randomHex(8);
    const now = Date.now();
    this.odiTokens.set(token, { kind, expires: now + 64_000 });
    if (this.odiTokens.size > 1000) for (const [k, v] of this.odiTokens) if (v.expires < now) this.odiTokens.delete(k);
    const target: ProxyTarget = { uri: request.uri, destination: tlsTarget(cs) };
    this.serviceRoutes.set(target, [`<sip:${hostPort(cs)};transport=tls;lr;${kind}>`, `<sip:${hostPort(this.internal)};transport=tls;lr;odi=${token}>`]);
    return target;
  }

  /** The `odi` of the Route that brought a request back to us from the Conversation Server. */
  private consumeOdi(received: ReceivedMessage): 'orig' | 'term' | undefined {
    const message = received.message;
    if (message.type !== 'request' || !this.isInternal(received)) return undefined;
    const route = message.headers.first('Route');
    if (!route) return undefined;
    try {
      const na = parseNameAddr(route);
      if (na.uri.kind !== 'sip') return undefined;
      const token = getUriParam(na.uri.params, 'odi');
      if (typeof token !== 'string') return undefined;
      const entry = this.odiTokens.get(token);
      return entry?.kind;
    } catch {
      return undefined;
    }
  }
}

function bindingTarget(binding: Binding, uri: string): ProxyTarget {
  if (binding.flowId) return { uri, destination: { ...binding.source, flowId: binding.flowId } as SendTarget };
  return { uri };
}

function bindingContact(b: Binding, expires: number): string {
  let value = `<${b.contact}>${b.paramText};expires=${expires}`;
  if (b.instance !== undefined) value += `;pub-gruu="${b.pubGruu ?? ''}";temp-gruu="${b.tempGruu ?? ''}"`;
  return value;
}

function tlsTarget(e: Endpoint): SendTarget {
  return { protocol: 'tls', host: e.host, port: e.port };
}

function hostPort(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

function hasToTag(request: SipRequest): boolean {
  return /;\s*tag\s*=/i.test(request.headers.get('To') ?? '');
}

function isCpmSession(request: SipRequest): boolean {
  if (request.method !== 'INVITE') return false;
  return request.headers.values('Accept-Contact').some((v) => hasCpmFeatureTag(v));
}

/** `sip:user@host` (lower-cased host) of a From / To / P-Asserted-Identity value, or undefined. */
export function aorOfHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const na = parseNameAddr(value);
    if (na.uri.kind !== 'sip' || na.uri.user === undefined) return undefined;
    return `sip:${decode(na.uri.user)}@${na.uri.host.toLowerCase()}`;
  } catch {
    return undefined;
  }
}

/** The display name of a From / To value (RFC 3261 §20.20), trimmed; undefined when it has none or does not parse. */
export function displayNameOfHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const name = parseNameAddr(value).displayName?.trim();
    return name ? name : undefined;
  } catch {
    return undefined;
  }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function newTag(): string {
  return randomHex(6);
}

/**
 * A refresh is reported again to the Conversation Server once what the server was last told has less than this
 * share of the new expiry left (RFC 3261 §10.2.1: UAs refresh at about half-life, so their refreshes are all
 * reported; the server's binding never lapses before the core's).
 */
export const REPORT_AGAIN_BELOW = 0.75;

/** Whether the Conversation Server already knows all a refresh of `b` would tell it (see {@link REPORT_AGAIN_BELOW}). */
function alreadyReported(b: Binding, now: number): boolean {
  return b.reportedParams === b.paramText && b.reportedUntil - now >= REPORT_AGAIN_BELOW * (b.expiresAt - now);
}
