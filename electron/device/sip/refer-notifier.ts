/**
 * The notifier side of the implicit subscription an accepted REFER creates (RFC 3515 §2.4.4–2.4.7,
 * RFC 6665 §4.2.2): sends NOTIFYs with `Event: refer;id=<REFER CSeq>` and a `message/sipfrag` status line
 * in the dialog the 202 created. PROFILE.md: the first NOTIFY says `active;expires=120` (it must outlive the
 * 60 s prompt), the last `terminated;reason=noresource`.
 *
 * ```
 *   ┌────────┐   finish(), expiry (NOTIFY terminated;reason=timeout),    ┌────────────┐
 *   │ active │ ────────────────────────────────────────────────────────► │ terminated │
 *   └────────┘   a NOTIFY answered 481/408 or lost (RFC 6665 §4.2.2)     └────────────┘
 * ```
 */
import { EventEmitter } from 'node:events';
import type { JsSipDialog, JsSipIncomingRequest } from './jssip-internals';
import { formatSipfrag } from '../../../protocol/sip/refer-headers';

/** States (see the diagram). */
export enum ReferNotifierState {
  Active = 'active',
  Terminated = 'terminated',
}

const TRANSITIONS: Readonly<Record<ReferNotifierState, readonly ReferNotifierState[]>> = {
  [ReferNotifierState.Active]: [ReferNotifierState.Terminated],
  [ReferNotifierState.Terminated]: [],
};

/** Events. */
export interface ReferNotifierEvents {
  stateChange: (to: ReferNotifierState, from: ReferNotifierState) => void;
}

/** The outcome of one NOTIFY: the subscriber's final status, or what went wrong. */
export type NotifyOutcome = { status: number } | { error: 'timeout' | 'transport-error' | 'terminated' };

/** Default subscription duration, seconds (PROFILE.md). */
export const REFER_SUBSCRIPTION_SECONDS = 120;

/** The subscription of one accepted REFER. Created by CpmUserAgent after it answered 202. */
export class ReferNotifier extends EventEmitter {
  private current = ReferNotifierState.Active;
  private readonly expiresAt: number;
  private readonly expiryTimer: NodeJS.Timeout;
  private lastStatus: { status: number; reason: string } = { status: 100, reason: 'Trying' };

  /**
   * @param dialog the dialog made by our 202 (its local tag is the 202's To tag)
   * @param refer the REFER (its CSeq becomes the Event id)
   * @param contact our Contact value (the pub-gruu once registered)
   */
  constructor(
    private readonly dialog: JsSipDialog,
    readonly refer: JsSipIncomingRequest,
    private readonly contact: string,
    private readonly onTerminated: (notifier: ReferNotifier) => void,
    seconds: number = REFER_SUBSCRIPTION_SECONDS,
  ) {
    super();
    this.expiresAt = Date.now() + seconds * 1000;
    this.expiryTimer = setTimeout(() => {
      if (this.current === ReferNotifierState.Active) void this.send(this.lastStatus.status, this.lastStatus.reason, 'timeout');
    }, seconds * 1000);
    this.expiryTimer.unref();
  }

  /** The current state. */
  get state(): ReferNotifierState {
    return this.current;
  }

  override on<E extends keyof ReferNotifierEvents>(event: E, listener: ReferNotifierEvents[E]): this {
    return super.on(event, listener);
  }

  /** Report progress (`SIP/2.0 100 Trying`, `180 Ringing`…): the subscription stays active. */
  progress(status: number, reason: string): Promise<NotifyOutcome> {
    if (status >= 200) throw new Error('ReferNotifier.progress: a final status ends the subscription: use finish()');
    return this.send(status, reason, null);
  }

  /** Report the final status of the referred request and end the subscription (`terminated;reason=noresource`). */
  finish(status: number, reason: string): Promise<NotifyOutcome> {
    if (status < 200) throw new Error('ReferNotifier.finish: needs a final status (≥ 200)');
    return this.send(status, reason, 'noresource');
  }

  /**
   * Send one NOTIFY; `terminatedReason` null keeps the subscription active with the time left, `''` ends it
   * without a reason (the subscriber asked), any other value ends it with that reason.
   */
  private send(status: number, reason: string, terminatedReason: string | null): Promise<NotifyOutcome> {
    if (this.current === ReferNotifierState.Terminated) return Promise.resolve({ error: 'terminated' });
    const body = formatSipfrag(status, reason);
    this.lastStatus = { status, reason };
    const remaining = Math.max(0, Math.ceil((this.expiresAt - Date.now()) / 1000));
    const subscriptionState =
      terminatedReason === null ? `active;expires=${remaining}` : terminatedReason === '' ? 'terminated' : `terminated;reason=${terminatedReason}`;
    const headers = [
      `Event: refer;id=${this.refer.cseq}`,
      `Subscription-State: ${subscriptionState}`,
      `Contact: ${this.contact}`,
      'Content-Type: message/sipfrag',
    ];
    const outcome = new Promise<NotifyOutcome>((resolve) => {
      this.dialog.sendRequest('NOTIFY', {
        extraHeaders: headers,
        body,
        eventHandlers: {
          onSuccessResponse: (response) => resolve({ status: response.status_code }),
          onErrorResponse: (response) => {
            // RFC 6665 §4.2.2: a failure response other than a 5xx/6xx with Retry-After removes the subscription.
            this.end();
            resolve({ status: response.status_code });
          },
          onDialogError: (response) => {
            this.end();
            resolve({ status: response.status_code });
          },
          onRequestTimeout: () => {
            this.end();
            resolve({ error: 'timeout' });
          },
          onTransportError: () => {
            this.end();
            resolve({ error: 'transport-error' });
          },
        },
      });
    });
    if (terminatedReason !== null) this.end();
    return outcome;
  }

  /**
   * An in-dialog request on the subscription (CpmUserAgent routes them here). A SUBSCRIBE refreshes it or,
   * with `Expires: 0`, ends it: 200, then a last NOTIFY saying `terminated` (RFC 6665 §4.2.1.2, §4.2.1.4;
   * RFC 3515 §2.4.4); that is how Conversation Server A withdraws a Join the user did not answer in time.
   * A subscription that is over answers 481; other methods 405.
   */
  receiveRequest(request: JsSipIncomingRequest): void {
    if (request.method !== 'SUBSCRIBE') {
      request.reply(405);
      return;
    }
    if (this.current === ReferNotifierState.Terminated) {
      request.reply(481, 'Subscription does not exist');
      return;
    }
    const event = request.getHeader('Event') ?? '';
    if (!/^\s*refer\b/i.test(event)) {
      request.reply(489, 'Bad Event');
      return;
    }
    const asked = Number.parseInt(request.getHeader('Expires') ?? '', 10);
    const remaining = Math.max(0, Math.ceil((this.expiresAt - Date.now()) / 1000));
    if (asked === 0) {
      request.reply(200, null, ['Expires: 0']);
      void this.send(this.lastStatus.status, this.lastStatus.reason, '');
      return;
    }
    // A refresh: the REFER's subscription keeps the duration it was given (RFC 6665 §4.2.1.2 lets us shorten).
    request.reply(200, null, [`Expires: ${Number.isFinite(asked) ? Math.min(asked, remaining) : remaining}`]);
  }

  /** Start: the mandatory immediate NOTIFY (RFC 3515 §2.4.5), 100 Trying. */
  start(): Promise<NotifyOutcome> {
    return this.send(100, 'Trying', null);
  }

  private end(): void {
    if (this.current === ReferNotifierState.Terminated) return;
    clearTimeout(this.expiryTimer);
    this.transition(ReferNotifierState.Terminated);
    // Responses match by transaction, not dialog: the last NOTIFY's answer still arrives.
    this.dialog.terminate();
    this.onTerminated(this);
  }

  /** The one transition function. */
  private transition(to: ReferNotifierState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`ReferNotifier: illegal transition ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', to, from);
  }
}
