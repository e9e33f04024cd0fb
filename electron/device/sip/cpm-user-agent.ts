/**
 * The device's SIP user agent: JsSIP's `UA` plus what the CPM transfer profile needs (PROFILE.md
 * "Registration and the device list", "The transfer, step by step"):
 *
 * - registration with a stable `+sip.instance` and `reg-id` (RFC 5626 §4.1), `Supported: gruu` (JsSIP adds
 *   it), the CPM session feature tag (`+g.3gpp.icsi-ref`, RFC 3840) and `+cpm.device-name`; the pub-gruu
 *   and temp-gruu of every 2xx are read (JsSIP then uses the pub-gruu as Contact, RFC 5627 §4.2);
 * - a `RegistrationStateMachine` fed by every REGISTER sent and every final response, because JsSIP fires
 *   `registered` only once;
 * - out-of-dialog REFER received: JsSIP would answer 405; here an async `IncomingReferHandler` decides
 *   (202 or a failure status), and on 202 the implicit subscription is created and its first NOTIFY sent;
 * - out-of-dialog REFER sent (`sendOutOfDialogRefer`) with Refer-To / Referred-By / Target-Dialog, whose
 *   NOTIFYs are matched to a subscription dialog (JsSIP would answer them 481).
 *
 * Everything else (MESSAGE, OPTIONS, INVITE through `rtc_peer_connection_factory`, in-dialog requests) is
 * JsSIP's own behaviour.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { UA, type Socket } from 'jssip';
import type { UAConfiguration } from 'jssip/lib/UA';
import {
  Dialog,
  Transactions,
  Utils,
  internalsOf,
  type JsSipClientTransaction,
  type JsSipIncomingRequest,
  type JsSipIncomingResponse,
  type JsSipNameAddr,
  type JsSipSocketLike,
  type JsSipUri,
} from './jssip-internals';
import { CPM_FEATURE_TAG, DEVICE_NAME_PARAM } from '../../../protocol/cpm/cpm-headers';
import { quoteString } from '../../../protocol/sip/refer-headers';
import { ReferNotifier } from './refer-notifier';
import { ReferSubscriber, type OutgoingReferOptions } from './refer-subscriber';
import { RegistrationState, RegistrationStateMachine } from './registration-state';

// The CPM feature tag as a Contact parameter name and value (RFC 3840 §9), split for JsSIP's setExtraContactParams.
const [FEATURE_TAG_NAME, FEATURE_TAG_VALUE] = splitParam(CPM_FEATURE_TAG);

function splitParam(param: string): [string, string] {
  const eq = param.indexOf('=');
  return [param.slice(0, eq), param.slice(eq + 1)];
}

/** Where the device's `+sip.instance` is kept, so that it stays the same across restarts (RFC 5626 §4.1). */
export interface InstanceIdStore {
  load(): Promise<string | null>;
  save(instanceId: string): Promise<void>;
}

/** The stored instance id, or a new `urn:uuid:` one (RFC 4122 version 4), saved before it is returned. */
export async function loadOrCreateInstanceId(store: InstanceIdStore): Promise<string> {
  const stored = await store.load();
  if (stored !== null) {
    if (!UUID_URN.test(stored)) throw new Error(`InstanceIdStore: stored instance id ${JSON.stringify(stored)} is not a urn:uuid`);
    return stored.toLowerCase();
  }
  const created = `urn:uuid:${randomUUID()}`;
  await store.save(created);
  return created;
}

const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An out-of-dialog REFER that reached us, for the handler to judge. */
export interface IncomingRefer {
  /** The whole request (P-Asserted-Identity, body, anything else). */
  request: JsSipIncomingRequest;
  /** Refer-To value as received (a name-addr, embedded headers still escaped). */
  referTo: string;
  /** Referred-By value, or null. */
  referredBy: string | null;
  /** Target-Dialog value, or null. */
  targetDialog: string | null;
  /** The REFER's CSeq number (the NOTIFYs' Event id). */
  cseq: number;
}

/** The handler's decision: accept (202), or refuse with a 3xx–6xx status. */
export type ReferVerdict = { accept: true } | { accept: false; status: number; reason?: string };

/** Decides on incoming out-of-dialog REFERs and then drives the subscription. */
export interface IncomingReferHandler {
  /** Decide. A rejection (or no answer within the timeout) is answered 500. */
  authorize(refer: IncomingRefer): Promise<ReferVerdict>;
  /** Called after the 202 and the first NOTIFY (100 Trying) went out: report progress and the outcome here. */
  accepted(refer: IncomingRefer, subscription: ReferNotifier): void;
}

/** Options of the user agent. */
export interface CpmUserAgentOptions {
  /** Address of record, `sip:alice@a.example`. */
  uri: string;
  /** Digest credentials (MD5, what JsSIP speaks). */
  password?: string;
  authorizationUser?: string;
  displayName?: string;
  /** `+cpm.device-name` ("Laptop"). */
  deviceName: string;
  /** `urn:uuid:…`, from loadOrCreateInstanceId. */
  instanceId: string;
  /** The SIP-over-WebSocket connection (a WsSocket under Node). */
  socket: JsSipSocketLike;
  /** Requested registration lifetime, seconds (default 600). */
  registerExpires?: number;
  /** Reconnection back-off bounds, seconds (JsSIP's Transport does the recovery; defaults 2 and 30). */
  connectionRecovery?: { minIntervalSeconds: number; maxIntervalSeconds: number };
  /** Builds the RTCPeerConnection look-alike of each INVITE session (patched JsSIP: `rtc_peer_connection_factory`). */
  peerConnectionFactory?: (configuration: unknown, constraints: unknown) => unknown;
  /** Decides on incoming out-of-dialog REFERs; without one they are refused with 403. */
  referHandler?: IncomingReferHandler;
  /** How long `referHandler.authorize` may take before the REFER is answered 500 (default 10 000 ms). */
  referAuthorizationTimeoutMs?: number;
  /** User-Agent header value. */
  userAgent?: string;
}

/** UA configuration with the field patches/jssip+3.13.8.patch adds. */
type PatchedUAConfiguration = UAConfiguration & { rtc_peer_connection_factory?: (configuration: unknown, constraints: unknown) => unknown };

/** How long a NOTIFY that overtook its SUBSCRIBE's 2xx is held (RFC 6665 §4.1.2.4). */
const EARLY_NOTIFY_HOLD_MS = 2_000;

const baseReceiveRequest = (UA.prototype as unknown as { receiveRequest(request: JsSipIncomingRequest): void }).receiveRequest;

/** The CPM device user agent. Call `start()` to connect and register. */
export class CpmUserAgent extends UA {
  /** Registration state, refreshes included. */
  readonly registration = new RegistrationStateMachine();
  readonly instanceId: string;
  readonly deviceName: string;
  private readonly subscribers = new Set<ReferSubscriber>();
  /** Call-IDs of our SUBSCRIBEs whose NOTIFYs may overtake the 2xx. */
  private readonly pendingSubscribeCallIds = new Set<string>();
  private readonly notifiers = new Set<ReferNotifier>();
  /** The dialogs of our REFER subscriptions (we notify): in-dialog SUBSCRIBEs on them are ours. */
  private readonly notifierDialogs = new WeakSet<object>();
  private readonly referHandler: IncomingReferHandler | undefined;
  private readonly referTimeoutMs: number;

  /** Throws a TypeError for a bad instance id or device name, JsSIP's ConfigurationError for the rest. */
  constructor(options: CpmUserAgentOptions) {
    if (!UUID_URN.test(options.instanceId)) {
      throw new TypeError(`CpmUserAgent: instanceId must be a urn:uuid (got ${JSON.stringify(options.instanceId)})`);
    }
    const deviceName = quoteString(options.deviceName); // throws on control characters
    const configuration: PatchedUAConfiguration = {
      sockets: [options.socket as unknown as Socket],
      uri: options.uri,
      instance_id: options.instanceId.slice('urn:uuid:'.length).toLowerCase(),
      register: true,
      register_expires: options.registerExpires ?? 600,
      session_timers: false,
      connection_recovery_min_interval: options.connectionRecovery?.minIntervalSeconds ?? 2,
      connection_recovery_max_interval: options.connectionRecovery?.maxIntervalSeconds ?? 30,
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.authorizationUser !== undefined ? { authorization_user: options.authorizationUser } : {}),
      ...(options.displayName !== undefined && options.displayName !== '' ? { display_name: options.displayName } : {}),
      ...(options.userAgent !== undefined ? { user_agent: options.userAgent } : {}),
      ...(options.peerConnectionFactory ? { rtc_peer_connection_factory: options.peerConnectionFactory } : {}),
    };
    super(configuration); // JsSIP throws its ConfigurationError naming the parameter
    this.instanceId = options.instanceId.toLowerCase();
    this.deviceName = options.deviceName;
    this.referHandler = options.referHandler;
    this.referTimeoutMs = options.referAuthorizationTimeoutMs ?? 10_000;

    const registrator = internalsOf(this)._registrator;
    // We do not do ICE: drop the `+sip.ice` feature tag JsSIP puts on every registered Contact (RFC 5768).
    registrator._contact = registrator._contact.replace(';+sip.ice', '');
    registrator.setExtraContactParams({ [FEATURE_TAG_NAME]: FEATURE_TAG_VALUE, [DEVICE_NAME_PARAM]: deviceName });

    EventEmitter.prototype.on.call(this, 'newTransaction', (event: { transaction: JsSipClientTransaction }) => this.watchTransaction(event.transaction));
    this.on('registrationFailed', (event) => {
      const response = event.response as unknown as JsSipIncomingResponse | null;
      const cause = response ? `${response.status_code} ${response.reason_phrase}` : String(event.cause ?? 'failed');
      if (this.registration.can(RegistrationState.Failed)) this.registration.transition(RegistrationState.Failed, { cause });
    });
    this.on('unregistered', (event) => {
      const { state } = this.registration;
      if (state === RegistrationState.Unregistered || state === RegistrationState.Failed) return;
      const response = event.response as unknown as JsSipIncomingResponse | null;
      const cause = event.cause ? String(event.cause) : response ? `${response.status_code} ${response.reason_phrase}` : 'connection lost';
      this.registration.transition(RegistrationState.Unregistered, { cause, pubGruu: null, tempGruu: null });
    });
  }

  /** Our Contact value: `<pub-gruu>` once registered with a GRUU-capable registrar, else the registered URI. */
  get contactHeader(): string {
    return this.contact.toString();
  }

  /** The pub-gruu assigned at the last registration, or null. */
  get pubGruu(): string | null {
    return internalsOf(this)._contact.pub_gruu;
  }

  /** Stop: end subscriptions, unregister, close sessions and the connection (JsSIP's stop()). */
  override stop(): void {
    for (const subscriber of [...this.subscribers]) subscriber.cancel();
    for (const notifier of [...this.notifiers]) void notifier.finish(487, 'Request Terminated');
    super.stop();
    if (this.registration.state === RegistrationState.Failed) this.registration.transition(RegistrationState.Unregistered, { cause: 'stopped' });
  }

  /**
   * Send an out-of-dialog REFER (PROFILE.md steps 2–3: A-D1 → X) and follow its subscription. Contact is our
   * pub-gruu. Throws a TypeError when the target is not a valid SIP URI.
   */
  sendOutOfDialogRefer(options: OutgoingReferOptions): ReferSubscriber {
    const target = (this as unknown as { normalizeTarget(t: string): JsSipUri | undefined }).normalizeTarget(options.target);
    if (!target) throw new TypeError(`sendOutOfDialogRefer: invalid target ${JSON.stringify(options.target)}`);
    const subscriber = new ReferSubscriber(this, target, options, this.contactHeader, (s) => this.subscribers.delete(s));
    if (subscriber.state !== 'terminated') this.subscribers.add(subscriber);
    return subscriber;
  }

  /**
   * Called by JsSIP's transport for every incoming request. Out-of-dialog REFER goes to the handler; a NOTIFY
   * that overtook the 2xx of our REFER creates its subscription dialog first; the rest is JsSIP's.
   */
  receiveRequest(request: JsSipIncomingRequest): void {
    if (request.method === 'REFER' && !request.to_tag) {
      this.receiveOutOfDialogRefer(request);
      return;
    }
    if (request.method === 'SUBSCRIBE' && request.to_tag) {
      // JsSIP answers every SUBSCRIBE 405 unless the application takes `newSubscribe`, even inside a dialog:
      // a SUBSCRIBE on one of our REFER subscriptions (a refresh or an unsubscribe, RFC 6665 §4.2.1) is ours.
      const dialog = internalsOf(this)._findDialog(request.call_id, request.from_tag, request.to_tag);
      if (dialog && this.notifierDialogs.has(dialog)) {
        if (Transactions.checkTransaction(this, request)) return; // a retransmission
        new Transactions.NonInviteServerTransaction(this, internalsOf(this)._transport, request);
        dialog.receiveRequest(request);
        return;
      }
    }
    if (request.method === 'NOTIFY' && request.to_tag) {
      const internals = internalsOf(this);
      if (!internals._findDialog(request.call_id, request.from_tag, request.to_tag)) {
        for (const subscriber of this.subscribers) {
          if (subscriber.matches(request.call_id, request.to_tag)) subscriber.createDialogFromNotify(request);
        }
        if (!internals._findDialog(request.call_id, request.from_tag, request.to_tag) && this.holdEarlyNotify(request)) return;
      }
    }
    baseReceiveRequest.call(this, request);
  }

  /**
   * RFC 6665 §4.1.2.4: a NOTIFY may overtake the 2xx to its SUBSCRIBE (they travel on different paths through
   * the core). JsSIP's Subscriber creates its dialog only on the 2xx and would answer such a NOTIFY 481, leaving
   * the device list empty until the next refresh. Hold it (bounded) until the dialog exists, then deliver it.
   * Returns false when the NOTIFY is not for a subscription we are waiting on.
   */
  private holdEarlyNotify(request: JsSipIncomingRequest): boolean {
    if (!this.pendingSubscribeCallIds.has(request.call_id)) return false;
    const started = Date.now();
    const retry = (): void => {
      const dialog = internalsOf(this)._findDialog(request.call_id, request.from_tag, request.to_tag ?? '');
      if (dialog || Date.now() - started > EARLY_NOTIFY_HOLD_MS || !this.pendingSubscribeCallIds.has(request.call_id)) {
        baseReceiveRequest.call(this, request); // delivered to the dialog, or answered 481 as before
        return;
      }
      setTimeout(retry, 10).unref();
    };
    setTimeout(retry, 10).unref();
    return true;
  }

  /** JsSIP's subscribe, remembering the Call-ID so that an early NOTIFY is held, not refused. */
  override subscribe(...args: Parameters<UA['subscribe']>): ReturnType<UA['subscribe']> {
    const subscriber = super.subscribe(...args);
    const callId = (subscriber as unknown as { _params?: { call_id?: string } })._params?.call_id;
    if (typeof callId === 'string') this.trackSubscription(callId);
    return subscriber;
  }

  /** Note the Call-ID of a SUBSCRIBE we send, so an early NOTIFY for it is held rather than refused. */
  trackSubscription(callId: string, settledAfterMs = 64 * 500): void {
    this.pendingSubscribeCallIds.add(callId);
    setTimeout(() => this.pendingSubscribeCallIds.delete(callId), settledAfterMs).unref();
  }

  // ─── Registration tracking ──────────────────────────────────────────────────────────────────────────────

  private watchTransaction(transaction: JsSipClientTransaction): void {
    const request = transaction.request;
    if (request.method !== 'REGISTER') return;
    const removing = request.getHeader('Expires') === '0';
    if (removing) return;
    const { state } = this.registration;
    if (state === RegistrationState.Registered) this.registration.transition(RegistrationState.Refreshing);
    else if (state === RegistrationState.Unregistered || state === RegistrationState.Failed) this.registration.transition(RegistrationState.Registering);
    const original = transaction.receiveResponse.bind(transaction);
    transaction.receiveResponse = (response) => {
      original(response);
      if (response.status_code >= 200 && response.status_code < 300) this.onRegisterSuccess(response);
    };
  }

  private onRegisterSuccess(response: JsSipIncomingResponse): void {
    const { state } = this.registration;
    if (state !== RegistrationState.Registering && state !== RegistrationState.Refreshing) return;
    const ours = this.findOwnContact(response);
    if (!ours) {
      this.registration.transition(RegistrationState.Failed, { cause: `${response.status_code} without our Contact` });
      return;
    }
    const expiresParam = ours.getParam('expires');
    const expiresHeader = response.getHeader('expires');
    const seconds = Number(expiresParam ?? expiresHeader ?? NaN);
    const unquote = (v: string | null | undefined): string | null => (v ? v.replace(/^"|"$/g, '') : null);
    this.registration.transition(RegistrationState.Registered, {
      cause: `${response.status_code} ${response.reason_phrase}`,
      pubGruu: unquote(ours.getParam('pub-gruu')) ?? this.registration.snapshot.pubGruu,
      tempGruu: unquote(ours.getParam('temp-gruu')) ?? this.registration.snapshot.tempGruu,
      expiresAt: Number.isFinite(seconds) ? Date.now() + seconds * 1000 : null,
    });
  }

  /** The Contact of a REGISTER 2xx that is ours: same `+sip.instance` and `reg-id` (RFC 5626 §6). */
  private findOwnContact(response: JsSipIncomingResponse): JsSipNameAddr | undefined {
    const registrator = internalsOf(this)._registrator;
    const count = response.getHeaders('contact').length;
    for (let i = 0; i < count; i++) {
      const parsed = response.parseHeader('contact', i);
      const list = (Array.isArray(parsed) ? parsed : [parsed]) as JsSipNameAddr[];
      for (const contact of list) {
        if (!contact || typeof contact.getParam !== 'function') continue;
        const instance = contact.getParam('+sip.instance');
        if (instance === registrator._sipInstance && Number(contact.getParam('reg-id')) === registrator._reg_id) return contact;
      }
    }
    return undefined;
  }

  // ─── Incoming out-of-dialog REFER ───────────────────────────────────────────────────────────────────────

  private receiveOutOfDialogRefer(request: JsSipIncomingRequest): void {
    const internals = internalsOf(this);
    // The checks JsSIP's receiveRequest makes before creating a server transaction (RFC 3261 §8.2.2.1, §17.2.3).
    if (request.ruri.user !== internals._configuration.uri.user && request.ruri.user !== internals._contact.uri.user) {
      request.reply_sl(404);
      return;
    }
    if (request.ruri.scheme === 'sips') {
      request.reply_sl(416);
      return;
    }
    if (Transactions.checkTransaction(this, request)) return; // a retransmission
    new Transactions.NonInviteServerTransaction(this, internals._transport, request);

    // RFC 3515 §2.4.1: exactly one Refer-To.
    const referTo = request.getHeader('refer-to');
    if (referTo === undefined || !request.refer_to) {
      request.reply(400, 'Missing or invalid Refer-To');
      return;
    }
    if (!request.hasHeader('contact')) {
      request.reply(400, 'Missing Contact');
      return;
    }
    const refer: IncomingRefer = {
      request,
      referTo,
      referredBy: request.getHeader('referred-by') ?? request.getHeader('b') ?? null,
      targetDialog: request.getHeader('target-dialog') ?? null,
      cseq: request.cseq,
    };
    const handler = this.referHandler;
    if (!handler) {
      request.reply(403, 'REFER not accepted here');
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('authorization timed out')), this.referTimeoutMs);
    });
    Promise.race([Promise.resolve().then(() => handler.authorize(refer)), timeout])
      .then((verdict) => this.answerRefer(refer, handler, verdict))
      .catch(() => {
        request.reply(500, 'REFER authorization failed');
      })
      .finally(() => clearTimeout(timer));
  }

  private answerRefer(refer: IncomingRefer, handler: IncomingReferHandler, verdict: ReferVerdict): void {
    const { request } = refer;
    if (!verdict.accept) {
      const status = verdict.status;
      if (!Number.isInteger(status) || status < 300 || status > 699) throw new Error(`refused REFER with invalid status ${status}`);
      // A reason phrase must not smuggle header lines (RFC 3261 §25.1 Reason-Phrase has no CR/LF).
      if (verdict.reason !== undefined && /[\u0000-\u001f\u007f]/.test(verdict.reason)) throw new Error('reason phrase with control characters');
      request.reply(status, verdict.reason ?? null);
      return;
    }
    // The 202 creates the subscription dialog (RFC 3515 §2.4.4); its local tag is the 202's To tag.
    request.to_tag = Utils.newTag();
    const contact = this.contactHeader;
    request.reply(202, null, [`Contact: ${contact}`]);
    let notifier: ReferNotifier | undefined;
    const dialog = new Dialog({ _ua: this, receiveRequest: (r) => (notifier ? notifier.receiveRequest(r) : r.reply(405)) }, request, 'UAS');
    if (dialog.error !== undefined) return; // cannot happen: Contact was checked above
    this.notifierDialogs.add(dialog);
    notifier = new ReferNotifier(dialog, request, contact, (n) => this.notifiers.delete(n));
    this.notifiers.add(notifier);
    void notifier.start();
    try {
      handler.accepted(refer, notifier);
    } catch {
      // The REFER is already answered: report the failure in the subscription instead (RFC 3515 §2.4.5).
      void notifier.finish(500, 'Server Internal Error');
    }
  }
}
