/**
 * The `reg` event notifier (RFC 3680, RFC 6665; RFC 5628 GRUUs in the document) for the users of one domain,
 * fed by the {@link DeviceRegistry}. PROFILE.md: a user may subscribe to their own AOR only (else 403); the
 * first NOTIFY carries full state, later ones partial state with the changed contacts.
 *
 * Each subscription is a small state machine:
 *
 * ```
 *   (SUBSCRIBE accepted) ──► active ──(refresh)──► active
 *                              │
 *            (Expires: 0, expiry, NOTIFY rejected) ──► terminated
 * ```
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { buildReginfo } from '../../../protocol/reginfo/reginfo';
import { parseNameAddr } from '../../sip/message/name-addr';
import { createRequest, type SipRequest } from '../../sip/message/sip-message';
import { parseSipUri } from '../../sip/message/sip-uri';
import { targetFromUri } from '../../sip/proxy/next-hop';
import { buildResponse } from '../../sip/transaction/response-builder';
import type { ServerTransaction, TransactionLayer } from '../../sip/transaction/transaction-layer';
import type { Endpoint, ReceivedMessage } from '../../sip/transport/transport-types';
import type { DeviceChange, DeviceRegistry } from './device-registry';

/** States of a reg subscription. */
export enum RegSubscriptionState {
  Active = 'active',
  Terminated = 'terminated',
}

const TRANSITIONS: Readonly<Record<RegSubscriptionState, readonly RegSubscriptionState[]>> = {
  [RegSubscriptionState.Active]: [RegSubscriptionState.Active, RegSubscriptionState.Terminated],
  [RegSubscriptionState.Terminated]: [],
};

/** One subscriber's dialog (we are the notifier, RFC 6665 §4.2). */
export class RegSubscription extends EventEmitter<{ stateChange: [from: RegSubscriptionState, to: RegSubscriptionState] }> {
  state = RegSubscriptionState.Active;
  version = 0;
  cseq = 1;
  expiresAt = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly aor: string,
    readonly callId: string,
    readonly localTag: string,
    readonly remoteTag: string,
    readonly remoteUri: string,
    readonly localUri: string,
    readonly remoteTarget: string,
    readonly routeSet: readonly string[],
  ) {
    super();
  }

  /** The one transition function: throws on an illegal move. */
  transition(to: RegSubscriptionState): void {
    const from = this.state;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`reg subscription: illegal transition ${from} → ${to}`);
    this.state = to;
    this.emit('stateChange', from, to);
  }
}

/** Options of the notifier. */
export interface RegEventNotifierOptions {
  domain: string;
  registry: DeviceRegistry;
  layer: TransactionLayer;
  /** Our own TLS address (Via and Contact). */
  self: Endpoint;
  /** Longest subscription granted (s). */
  maxExpires?: number;
}

/** Serves SUBSCRIBE for `reg` and sends the NOTIFYs. */
export class RegEventNotifier {
  private readonly subscriptions = new Map<string, RegSubscription>();

  constructor(private readonly options: RegEventNotifierOptions) {
    options.registry.onChange((changes) => this.onChanges(changes));
  }

  /** Live subscriptions (tests check that they end). */
  size(): number {
    return this.subscriptions.size;
  }

  /** Handle a SUBSCRIBE (initial or refresh) with `Event: reg`. */
  handleSubscribe(tx: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message as SipRequest;
    const reply = (status: number, reason?: string, headers: { name: string; value: string }[] = []): void =>
      tx.respond(buildResponse(request, status, { toTag: randomTag(), headers, ...(reason ? { reason } : {}) }));
    try {
      const target = aorOf(request.uri);
      const asserted = aorOfNameAddr(request.headers.first('P-Asserted-Identity'));
      if (!asserted) return reply(403, 'Forbidden: no asserted identity');
      if (!target || target !== asserted) return reply(403, 'Forbidden: subscribe to your own registration only');
      if (!target.endsWith(`@${this.options.domain.toLowerCase()}`)) return reply(404, 'Not Found');
      const expiresHeader = request.headers.get('Expires');
      const requested = expiresHeader === undefined ? 3600 : Number(expiresHeader.trim());
      if (!Number.isInteger(requested) || requested < 0) return reply(400, 'Bad Expires');
      const expires = Math.min(requested, this.options.maxExpires ?? 3600);
      const callId = request.headers.get('Call-ID') ?? '';
      const from = parseNameAddr(request.headers.get('From') ?? '');
      const remoteTag = from.params.find((p) => p.name.toLowerCase() === 'tag')?.value ?? '';
      const to = parseNameAddr(request.headers.get('To') ?? '');
      const existingTag = to.params.find((p) => p.name.toLowerCase() === 'tag')?.value;

      let sub: RegSubscription | undefined;
      if (existingTag) {
        sub = this.subscriptions.get(key(callId, existingTag, remoteTag));
        if (!sub) return reply(481, 'Subscription Does Not Exist');
      } else {
        const contact = request.headers.first('Contact');
        if (!contact) return reply(400, 'Missing Contact');
        const remoteTarget = serializeTarget(contact);
        const routeSet = request.headers.values('Record-Route');
        sub = new RegSubscription(target, callId, randomTag(), remoteTag, from.uriText, to.uriText, remoteTarget, routeSet);
        this.subscriptions.set(key(callId, sub.localTag, remoteTag), sub);
      }
      tx.respond(
        buildResponse(request, 200, {
          toTag: sub.localTag,
          headers: [
            { name: 'Expires', value: String(expires) },
            { name: 'Contact', value: `<sip:${hostPort(this.options.self)};transport=tls>` },
          ],
        }),
      );
      if (expires === 0) {
        this.notify(sub, 'full', [], 'terminated;reason=timeout');
        this.end(sub);
        return;
      }
      sub.expiresAt = Date.now() + expires * 1000;
      if (sub.timer) clearTimeout(sub.timer);
      const s = sub;
      sub.timer = setTimeout(() => {
        this.notify(s, 'full', [], 'terminated;reason=timeout');
        this.end(s);
      }, expires * 1000);
      sub.timer.unref();
      this.notify(sub, 'full', [], `active;expires=${expires}`);
    } catch (error) {
      reply(400, error instanceof Error ? `Bad Request: ${error.message}`.slice(0, 120) : 'Bad Request');
    }
  }

  /** End every subscription (server shutdown). */
  close(): void {
    for (const sub of [...this.subscriptions.values()]) this.end(sub);
  }

  private onChanges(changes: DeviceChange[]): void {
    const aors = new Set(changes.map((c) => c.aor));
    for (const sub of this.subscriptions.values()) {
      if (!aors.has(sub.aor)) continue;
      const left = Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000));
      this.notify(sub, 'partial', changes, `active;expires=${left}`);
    }
  }

  private notify(sub: RegSubscription, state: 'full' | 'partial', changes: readonly DeviceChange[], subscriptionState: string): void {
    const registry = this.options.registry;
    const registration = state === 'full' ? registry.registration(sub.aor) : registry.partialRegistration(sub.aor, changes);
    const body = buildReginfo(sub.version++, state, [registration]);
    const request = this.inDialogRequest(sub, 'NOTIFY');
    request.headers.append('Event', 'reg');
    request.headers.append('Subscription-State', subscriptionState);
    request.headers.append('Content-Type', 'application/reginfo+xml');
    request.body = new TextEncoder().encode(body);
    this.send(sub, request);
  }

  /** An in-dialog request (RFC 3261 §12.2.1.1): loose routing through the route set. */
  private inDialogRequest(sub: RegSubscription, method: string): SipRequest {
    const self = this.options.self;
    const request = createRequest(method, sub.remoteTarget, [
      { name: 'Via', value: `SIP/2.0/TLS ${hostPort(self)};branch=z9hG4bK${randomBytes(10).toString('hex')};rport` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `<${sub.localUri}>;tag=${sub.localTag}` },
      { name: 'To', value: `<${sub.remoteUri}>;tag=${sub.remoteTag}` },
      { name: 'Call-ID', value: sub.callId },
      { name: 'CSeq', value: `${sub.cseq++} ${method}` },
      { name: 'Contact', value: `<sip:${hostPort(self)};transport=tls>` },
    ]);
    for (const r of sub.routeSet) request.headers.append('Route', r);
    return request;
  }

  private send(sub: RegSubscription, request: SipRequest): void {
    try {
      const first = request.headers.first('Route');
      const next = parseSipUri((first ? parseNameAddr(first).uriText : request.uri).replace(/^<|>$/g, ''));
      const tx = this.options.layer.sendRequest(request, targetFromUri(next));
      tx.on('response', (response) => {
        // RFC 6665 §4.2.2: a NOTIFY rejected with 481 (or any non-2xx final but 401/407/491) ends the subscription.
        if (response.status >= 300 && ![401, 407, 491].includes(response.status)) this.end(sub);
      });
      tx.on('timeout', () => this.end(sub));
      tx.on('transportError', () => this.end(sub));
    } catch {
      this.end(sub);
    }
  }

  private end(sub: RegSubscription): void {
    if (sub.state === RegSubscriptionState.Terminated) return;
    sub.transition(RegSubscriptionState.Terminated);
    if (sub.timer) clearTimeout(sub.timer);
    this.subscriptions.delete(key(sub.callId, sub.localTag, sub.remoteTag));
  }
}

function key(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}

function randomTag(): string {
  return randomBytes(6).toString('hex');
}

function hostPort(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

function aorOf(uriText: string): string | undefined {
  try {
    const uri = parseSipUri(uriText);
    if (uri.user === undefined) return undefined;
    return `sip:${decodeURIComponent(uri.user)}@${uri.host.toLowerCase()}`;
  } catch {
    return undefined;
  }
}

function aorOfNameAddr(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return aorOf(parseNameAddr(value).uriText.replace(/^<|>$/g, ''));
  } catch {
    return undefined;
  }
}

function serializeTarget(contact: string): string {
  return parseNameAddr(contact).uriText.replace(/^<|>$/g, '');
}
