import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { isReliable, type SendTarget, type SipTransportLayer } from '../transport/transport-types';
import { tagParam } from './header-fields';
import { assertTransition, type TransitionTable } from './state-machine';
import { TimerSet } from './timer-set';
import { timerValues, type TimerConfig, type TimerValues } from './timers';
import type { ServerTransactionEvents } from './transaction-events';

/** States of the INVITE server transaction (RFC 3261 §17.2.1, with RFC 6026's Accepted). */
export enum InviteServerState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteServerState;
const TRANSITIONS: TransitionTable<InviteServerState> = {
  [S.Proceeding]: [S.Completed, S.Accepted, S.Terminated],
  [S.Completed]: [S.Confirmed, S.Terminated],
  [S.Confirmed]: [S.Terminated],
  [S.Accepted]: [S.Terminated],
  [S.Terminated]: [],
};

/** What the transaction layer does with a request that matched a server transaction. */
export type ServerDisposition = 'absorbed' | 'pass-to-tu';

/**
 * INVITE server transaction (RFC 3261 §17.2.1; RFC 6026 §8.5–8.7 for Accepted and Timer L).
 *
 * ```
 *    INVITE received (the TU may send 100 Trying at once)
 *          +------------+  INVITE: resend last provisional
 *          | Proceeding |  1xx from TU: send
 *          +------------+
 *  300-699 from TU |    | 2xx from TU: send, Timer L
 *  send, Timers G  |    +-------------------------------+
 *  (unreliable), H v                                    v
 *          +-----------+  INVITE: resend final    +----------+  2xx from TU: send
 *          | Completed |  G: resend, G=min(2G,T2) | Accepted |  INVITE: absorbed
 *          +-----------+                          +----------+  ACK: to TU
 *      ACK  |        | H fires / transport error:       | L fires
 *  Timer I  v        | inform TU                        |
 *   +-----------+    |                                  |
 *   | Confirmed |    |                                  |
 *   +-----------+    |                                  |
 *     I fires |      v                                  v
 *             +--->+------------------------------------------+
 *                  |                Terminated                |
 *                  +------------------------------------------+
 * ```
 * Timer G only over unreliable transports; Timer I is 0 over reliable ones. Events: `stateChange`, `timeout`
 * (no ACK before Timer H), `transportError`.
 */
export class InviteServerTransaction extends EventEmitter<ServerTransactionEvents<InviteServerState>> {
  readonly kind = 'invite-server' as const;
  private current = InviteServerState.Proceeding;
  private readonly timers = new TimerSet<'G' | 'H' | 'I' | 'L'>();
  private readonly t: TimerValues;
  private lastProvisional: SipResponse | undefined;
  private finalResponse: SipResponse | undefined;

  /**
   * @param key the server transaction key (see `serverTransactionKey`)
   * @param request the INVITE that created the transaction
   * @param responseTarget where responses go (see `responseTarget`, §18.2.2)
   */
  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly responseTarget: SendTarget,
    private readonly transport: SipTransportLayer,
    config?: Partial<TimerConfig>,
  ) {
    super();
    this.t = timerValues(config, isReliable(responseTarget.protocol));
  }

  /** Current state. */
  get state(): InviteServerState {
    return this.current;
  }

  /** The last final response sent, if any (its To tag is the one an RFC 2543 ACK must carry). */
  get finalSent(): SipResponse | undefined {
    return this.finalResponse;
  }

  /**
   * Send a response from the TU (§17.2.1). Provisional and final responses are legal in Proceeding; in
   * Accepted only 2xx (retransmissions of the 2xx, or further 2xx a forking proxy forwards).
   * Throws when the state allows no such response: that is a TU bug.
   */
  respond(response: SipResponse): void {
    const status = response.status;
    if (this.current === S.Proceeding) {
      if (status < 200) {
        this.lastProvisional = response;
        this.send(response);
      } else if (status < 300) {
        this.finalResponse = response;
        this.transition(S.Accepted);
        this.send(response);
      } else {
        this.finalResponse = response;
        this.transition(S.Completed);
        this.send(response);
      }
      return;
    }
    if (this.current === S.Accepted && status >= 200 && status < 300) {
      this.send(response);
      return;
    }
    throw new Error(`InviteServerTransaction: cannot send ${status} in state ${this.current}`);
  }

  /**
   * Feed a request that matched this transaction: an INVITE retransmission or an ACK (§17.2.1).
   * Returns 'pass-to-tu' for an ACK in Accepted (RFC 6026 §8.7), else 'absorbed'.
   */
  receiveRequest(request: SipRequest): ServerDisposition {
    if (request.method === 'ACK') {
      if (this.current === S.Completed) {
        if (!this.ackMatchesTag(request)) return 'pass-to-tu';
        this.transition(S.Confirmed);
      } else if (this.current === S.Accepted) {
        return 'pass-to-tu';
      }
      return 'absorbed';
    }
    if (this.current === S.Proceeding && this.lastProvisional) this.send(this.lastProvisional);
    else if (this.current === S.Completed && this.finalResponse) this.send(this.finalResponse);
    return 'absorbed';
  }

  /** Abandon the transaction now (shutdown). */
  terminate(): void {
    if (this.current !== S.Terminated) this.transition(S.Terminated);
  }

  /** The one transition function: checks the move, runs the entry actions, emits `stateChange`. */
  private transition(to: InviteServerState): void {
    const from = this.current;
    assertTransition('InviteServerTransaction', TRANSITIONS, from, to);
    this.current = to;
    switch (to) {
      case S.Completed:
        if (!isReliable(this.responseTarget.protocol)) this.scheduleG(this.t.g);
        this.timers.start('H', this.t.h, () => {
          if (this.current === S.Completed) this.endWith(() => this.emit('timeout'));
        });
        break;
      case S.Confirmed:
        this.timers.stop('G');
        this.timers.stop('H');
        if (this.t.i > 0) this.timers.start('I', this.t.i, () => this.transition(S.Terminated));
        break;
      case S.Accepted:
        this.timers.start('L', this.t.l, () => this.transition(S.Terminated));
        break;
      case S.Terminated:
        this.timers.stopAll();
        break;
      default:
        break;
    }
    this.emit('stateChange', from, to);
    if (to === S.Confirmed && this.t.i === 0) this.transition(S.Terminated);
  }

  /** RFC 2543 peers: an ACK matches only if its To tag is the tag of our final response (§17.2.3). */
  private ackMatchesTag(ack: SipRequest): boolean {
    if (this.key.startsWith('3261|') || !this.finalResponse) return true;
    return tagParam(ack.headers.get('To')) === tagParam(this.finalResponse.headers.get('To'));
  }

  private scheduleG(interval: number): void {
    this.timers.start('G', interval, () => {
      if (this.current !== S.Completed || !this.finalResponse) return;
      this.send(this.finalResponse);
      this.scheduleG(Math.min(2 * interval, this.t.t2));
    });
  }

  private send(response: SipResponse): void {
    this.transport.send(response, this.responseTarget).then(
      () => undefined,
      (error: unknown) => {
        if (this.current === S.Terminated) return;
        // §17.2.4: the transport could not deliver a response; inform the TU and give up.
        this.endWith(() => this.emit('transportError', error instanceof Error ? error : new Error(String(error))));
      },
    );
  }

  /** Inform the TU, then terminate even if a listener threw. */
  private endWith(inform: () => void): void {
    try {
      inform();
    } finally {
      if (this.current !== S.Terminated) this.transition(S.Terminated);
    }
  }
}
