import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { isReliable, type SendTarget, type SipTransportLayer } from '../transport/transport-types';
import type { ServerDisposition } from './invite-server-transaction';
import { assertTransition, type TransitionTable } from './state-machine';
import { TimerSet } from './timer-set';
import { timerValues, type TimerConfig, type TimerValues } from './timers';
import type { ServerTransactionEvents } from './transaction-events';

/** States of the non-INVITE server transaction (RFC 3261 §17.2.2). */
export enum NonInviteServerState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteServerState;
const TRANSITIONS: TransitionTable<NonInviteServerState> = {
  [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Terminated]: [],
};

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2).
 *
 * ```
 *    request received
 *        +--------+  request retransmission: discarded
 *        | Trying |
 *        +--------+
 *   1xx from TU |  | 200-699 from TU: send, Timer J
 *         send  v  +-------------------------+
 *   +------------+  request: resend 1xx      |
 *   | Proceeding |  1xx from TU: send        |
 *   +------------+                           v
 *          | 200-699 from TU:      +-----------+  request: resend final
 *          | send, Timer J         | Completed |
 *          +---------------------->+-----------+
 *   transport error (any state)          | J fires
 *   ----------------------------------+  v
 *                                     +-->+------------+
 *                                         | Terminated |
 *                                         +------------+
 * ```
 * Timer J is 0 over reliable transports. Events: `stateChange`, `transportError`.
 */
export class NonInviteServerTransaction extends EventEmitter<ServerTransactionEvents<NonInviteServerState>> {
  readonly kind = 'non-invite-server' as const;
  private current = NonInviteServerState.Trying;
  private readonly timers = new TimerSet<'J'>();
  private readonly t: TimerValues;
  private lastResponse: SipResponse | undefined;

  /**
   * @param key the server transaction key (see `serverTransactionKey`)
   * @param request the request that created the transaction (neither INVITE nor ACK)
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
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`NonInviteServerTransaction cannot carry ${request.method}`);
    }
    this.t = timerValues(config, isReliable(responseTarget.protocol));
  }

  /** Current state. */
  get state(): NonInviteServerState {
    return this.current;
  }

  /** Send a response from the TU (§17.2.2). Throws once a final response was sent: that is a TU bug. */
  respond(response: SipResponse): void {
    if (this.current !== S.Trying && this.current !== S.Proceeding) {
      throw new Error(`NonInviteServerTransaction: cannot send ${response.status} in state ${this.current}`);
    }
    this.lastResponse = response;
    if (response.status < 200) {
      if (this.current === S.Trying) this.transition(S.Proceeding);
      this.send(response);
    } else {
      this.send(response);
      this.transition(S.Completed);
    }
  }

  /** Feed a retransmission of the request (§17.2.2); always absorbed. */
  receiveRequest(_request: SipRequest): ServerDisposition {
    if ((this.current === S.Proceeding || this.current === S.Completed) && this.lastResponse) this.send(this.lastResponse);
    return 'absorbed';
  }

  /** Abandon the transaction now (shutdown). */
  terminate(): void {
    if (this.current !== S.Terminated) this.transition(S.Terminated);
  }

  /** The one transition function: checks the move, runs the entry actions, emits `stateChange`. */
  private transition(to: NonInviteServerState): void {
    const from = this.current;
    assertTransition('NonInviteServerTransaction', TRANSITIONS, from, to);
    this.current = to;
    if (to === S.Completed && this.t.j > 0) this.timers.start('J', this.t.j, () => this.transition(S.Terminated));
    if (to === S.Terminated) this.timers.stopAll();
    this.emit('stateChange', from, to);
    if (to === S.Completed && this.t.j === 0) this.transition(S.Terminated);
  }

  private send(response: SipResponse): void {
    this.transport.send(response, this.responseTarget).then(
      () => undefined,
      (error: unknown) => {
        if (this.current === S.Terminated) return;
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
