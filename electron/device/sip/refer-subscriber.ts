/**
 * The sending side of an out-of-dialog REFER (RFC 3515) and the implicit `refer` subscription it creates
 * (RFC 6665): sends the request with JsSIP's OutgoingRequest + RequestSender (digest handled there), makes
 * the subscription dialog on the 2xx (or on a NOTIFY that overtakes it, RFC 6665 §4.1.2.4) so that NOTIFYs
 * match instead of getting 481, answers each NOTIFY and surfaces its sipfrag status.
 *
 * ```
 *            2xx, or a first NOTIFY              NOTIFY terminated, subscription expiry,
 *   ┌──────┐ ─────────────────────────► ┌──────────┐ ────────────────────────────────► ┌────────────┐
 *   │ sent │                            │ accepted │                                    │ terminated │
 *   └──────┘ ─────────────────────────────────────────────────────────────────────────► └────────────┘
 *        final ≥ 300, timeout, transport error, NOTIFY terminated before any 2xx, cancel()
 * ```
 */
import { EventEmitter } from 'node:events';
import type { UA } from 'jssip';
import {
  Dialog,
  OutgoingRequest,
  RequestSender,
  Utils,
  type JsSipDialog,
  type JsSipIncomingRequest,
  type JsSipIncomingResponse,
  type JsSipUri,
} from './jssip-internals';
import { parseSipfragStatus, parseSubscriptionState, type SipfragStatus, type SubscriptionStateHeader } from '../../../protocol/sip/refer-headers';

/** States of the subscription (see the diagram). */
export enum ReferSubscriberState {
  Sent = 'sent',
  Accepted = 'accepted',
  Terminated = 'terminated',
}

const TRANSITIONS: Readonly<Record<ReferSubscriberState, readonly ReferSubscriberState[]>> = {
  [ReferSubscriberState.Sent]: [ReferSubscriberState.Accepted, ReferSubscriberState.Terminated],
  [ReferSubscriberState.Accepted]: [ReferSubscriberState.Terminated],
  [ReferSubscriberState.Terminated]: [],
};

/** One NOTIFY as the owner sees it. */
export interface ReferNotification {
  /** The referred request's status, from the sipfrag body (100 Trying, 200 OK, 603 Decline…). */
  sipfrag: SipfragStatus;
  subscriptionState: SubscriptionStateHeader;
  /** The whole NOTIFY, for anything else (P-Asserted-Identity…). */
  request: JsSipIncomingRequest;
}

/** Why the subscription ended. */
export type ReferTermination =
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'notified'; sipfrag: SipfragStatus | null; reason: string | null }
  | { kind: 'expired' }
  | { kind: 'timeout' }
  | { kind: 'transport-error' }
  | { kind: 'cancelled' };

/** Events. */
export interface ReferSubscriberEvents {
  stateChange: (to: ReferSubscriberState, from: ReferSubscriberState) => void;
  /** A final response to the REFER. */
  response: (status: number, reason: string, response: JsSipIncomingResponse) => void;
  notify: (notification: ReferNotification) => void;
}

/** What to send. Header values are given without their names. */
export interface OutgoingReferOptions {
  /** Request-URI (and To): where the REFER goes, e.g. the transfer service URI X. */
  target: string;
  /** Refer-To value: a URI (angle brackets added) or a name-addr. Embedded headers must already be escaped. */
  referTo: string;
  /** Referred-By value (RFC 3892), e.g. our pub-gruu. */
  referredBy?: string;
  /** Target-Dialog value (RFC 4538), see formatTargetDialog. */
  targetDialog?: string;
  /** More header lines, `Name: value`. */
  extraHeaders?: string[];
  /** A body and its Content-Type. */
  body?: { contentType: string; text: string };
}

/** A dialog owner: JsSIP's Dialog hands in-dialog requests to `receiveRequest`. */
interface Owner {
  _ua: UA;
  receiveRequest(request: JsSipIncomingRequest): void;
}

/** Grace added to a subscription's expiry before we consider it gone (RFC 6665 §4.1.2.2 lets the notifier be late). */
const EXPIRY_GRACE_MS = 5_000;

/** The REFER in flight and its subscription. Create it through CpmUserAgent.sendOutOfDialogRefer. */
export class ReferSubscriber extends EventEmitter {
  /** Call-ID of the REFER (and of the subscription dialog). */
  readonly callId: string;
  /** Our From tag. */
  readonly localTag: string;
  private current = ReferSubscriberState.Sent;
  private cseq: number;
  private dialog: JsSipDialog | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private terminationValue: ReferTermination | null = null;
  private readonly owner: Owner;

  /**
   * Sends the REFER at once. `contact` is our Contact value (the pub-gruu once registered);
   * `onTerminated` lets the UA forget the subscription.
   */
  constructor(
    ua: UA,
    target: JsSipUri,
    options: OutgoingReferOptions,
    contact: string,
    private readonly onTerminated: (subscriber: ReferSubscriber) => void,
  ) {
    super();
    this.owner = { _ua: ua, receiveRequest: (request) => this.receiveInDialogRequest(request) };
    this.localTag = Utils.newTag();
    const headers = [`Refer-To: ${options.referTo.includes('<') ? options.referTo : `<${options.referTo}>`}`, `Contact: ${contact}`];
    if (options.referredBy !== undefined) headers.push(`Referred-By: ${options.referredBy.includes('<') ? options.referredBy : `<${options.referredBy}>`}`);
    if (options.targetDialog !== undefined) headers.push(`Target-Dialog: ${options.targetDialog}`);
    if (options.body) headers.push(`Content-Type: ${options.body.contentType}`);
    headers.push(...(options.extraHeaders ?? []));
    const request = new OutgoingRequest('REFER', target, ua, { to_uri: target, from_tag: this.localTag }, headers, options.body?.text);
    this.callId = request.call_id;
    this.cseq = request.cseq;
    const sender = new RequestSender(ua, request, {
      onAuthenticated: (resent) => {
        this.cseq = resent.cseq; // the NOTIFYs' Event id follows the CSeq of the REFER that was accepted
      },
      onReceiveResponse: (response) => this.receiveResponse(response),
      onRequestTimeout: () => this.terminate({ kind: 'timeout' }),
      onTransportError: () => this.terminate({ kind: 'transport-error' }),
    });
    sender.send();
  }

  /** The current state. */
  get state(): ReferSubscriberState {
    return this.current;
  }

  /** CSeq number of the REFER (RFC 3515 §2.4.6: the NOTIFYs' `Event: refer;id=`). */
  get referCseq(): number {
    return this.cseq;
  }

  /** Why it ended, once terminated. */
  get termination(): ReferTermination | null {
    return this.terminationValue;
  }

  override on<E extends keyof ReferSubscriberEvents>(event: E, listener: ReferSubscriberEvents[E]): this {
    return super.on(event, listener);
  }

  override once<E extends keyof ReferSubscriberEvents>(event: E, listener: ReferSubscriberEvents[E]): this {
    return super.once(event, listener);
  }

  /** Stop caring: forget the dialog; later NOTIFYs get 481. */
  cancel(): void {
    this.terminate({ kind: 'cancelled' });
  }

  /** True when a request with this Call-ID and To tag belongs to this subscription (a NOTIFY before the 2xx). */
  matches(callId: string, toTag: string | undefined): boolean {
    return callId === this.callId && toTag === this.localTag;
  }

  /**
   * Called by the UA for a NOTIFY that matches no dialog but matches this REFER: the NOTIFY creates the
   * dialog (RFC 6665 §4.1.2.4), as its UAS; the UA then routes the NOTIFY into it as usual.
   */
  createDialogFromNotify(request: JsSipIncomingRequest): void {
    if (this.dialog || this.current === ReferSubscriberState.Terminated) return;
    this.adoptDialog(new Dialog(this.owner, request, 'UAS'));
  }

  private adoptDialog(dialog: JsSipDialog): void {
    if (dialog.error !== undefined) return; // no Contact: wait for a NOTIFY to make the dialog
    this.dialog = dialog;
    this.dialog.local_seqnum = this.cseq;
  }

  private receiveResponse(response: JsSipIncomingResponse): void {
    if (response.status_code < 200 || this.current === ReferSubscriberState.Terminated) return;
    this.emit('response', response.status_code, response.reason_phrase, response);
    if (response.status_code >= 300) {
      this.terminate({ kind: 'rejected', status: response.status_code, reason: response.reason_phrase });
      return;
    }
    if (!this.dialog) this.adoptDialog(new Dialog(this.owner, response, 'UAC'));
    if (this.current === ReferSubscriberState.Sent) this.transition(ReferSubscriberState.Accepted);
    // RFC 3515 §2.4.4: the implicit subscription lasts as the notifier says; until the first NOTIFY, use 60 s.
    if (!this.expiryTimer) this.armExpiry(60);
  }

  private receiveInDialogRequest(request: JsSipIncomingRequest): void {
    if (request.method !== 'NOTIFY') {
      request.reply(405);
      return;
    }
    if (this.current === ReferSubscriberState.Terminated) {
      request.reply(481, 'Subscription does not exist');
      return;
    }
    // RFC 6665 §8.2.1 / RFC 3515 §2.4.6: Event must be refer, and its id the CSeq of our REFER.
    const event = request.event;
    if (!event || event.event.toLowerCase() !== 'refer') {
      request.reply(489);
      return;
    }
    const id = event.params['id'];
    if (id !== undefined && id !== null && id !== String(this.cseq)) {
      request.reply(481, 'Subscription does not exist');
      return;
    }
    let subscriptionState: SubscriptionStateHeader;
    let sipfrag: SipfragStatus;
    try {
      const header = request.getHeader('subscription-state');
      if (header === undefined) throw new Error('Subscription-State: missing');
      subscriptionState = parseSubscriptionState(header);
      sipfrag = parseSipfragStatus(request.body ?? '');
    } catch (error) {
      request.reply(400, error instanceof Error ? error.message.slice(0, 100) : 'Bad Request');
      return;
    }
    request.reply(200);
    if (this.current === ReferSubscriberState.Sent) this.transition(ReferSubscriberState.Accepted);
    this.emit('notify', { sipfrag, subscriptionState, request });
    if (subscriptionState.state === 'terminated') {
      this.terminate({ kind: 'notified', sipfrag, reason: subscriptionState.reason ?? null });
    } else if (subscriptionState.expires !== undefined) {
      this.armExpiry(subscriptionState.expires);
    }
  }

  private armExpiry(seconds: number): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.terminate({ kind: 'expired' }), seconds * 1000 + EXPIRY_GRACE_MS);
    this.expiryTimer.unref();
  }

  private terminate(reason: ReferTermination): void {
    if (this.current === ReferSubscriberState.Terminated) return;
    this.terminationValue = reason;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.dialog?.terminate();
    this.transition(ReferSubscriberState.Terminated);
    this.onTerminated(this);
  }

  /** The one transition function. */
  private transition(to: ReferSubscriberState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`ReferSubscriber: illegal transition ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', to, from);
  }
}
