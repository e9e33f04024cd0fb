import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { isReliable, type SendTarget, type SipTransportLayer } from '../transport/transport-types';
import { assertTransition, type TransitionTable } from './state-machine';
import { TimerSet } from './timer-set';
import { timerValues, type TimerConfig, type TimerValues } from './timers';
import type { ClientTransactionEvents } from './transaction-events';

/** States of the non-INVITE client transaction (RFC 3261 §17.1.2). */
export enum NonInviteClientState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteClientState;
const TRANSITIONS: TransitionTable<NonInviteClientState> = {
  [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Terminated]: [],
};

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2).
 *
 * ```
 *   start: send request, Timer E (unreliable only), Timer F
 *        +--------+  E: resend, E = min(2E, T2)
 *        | Trying |  F or transport error: timeout/error to TU ------------+
 *        +--------+                                                       |
 *      1xx  |    | 200-699: to TU, Timer K                                |
 *     to TU v    +---------------------------+                            |
 *   +------------+  E: resend, E = T2         |                           |
 *   | Proceeding |  1xx: to TU                |                           |
 *   +------------+  F or transport error -----|-------------------------->|
 *           | 200-699: to TU, Timer K         v                           v
 *           |                          +-----------+  K fires   +------------+
 *           +------------------------->| Completed |----------->| Terminated |
 *                                      +-----------+            +------------+
 * ```
 * Timer K is 0 over reliable transports. Events: `stateChange`, `response`, `timeout`, `transportError`.
 */
export class NonInviteClientTransaction extends EventEmitter<ClientTransactionEvents<NonInviteClientState>> {
  readonly kind = 'non-invite-client' as const;
  private current = NonInviteClientState.Trying;
  private readonly timers = new TimerSet<'E' | 'F' | 'K'>();
  private readonly t: TimerValues;
  private readonly reliable: boolean;
  private flowId: string | undefined;
  private started = false;

  /**
   * @param key the client transaction key (see `clientTransactionKey`)
   * @param request any request but INVITE and ACK; it must not be modified afterwards
   * @param target where to send it
   */
  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly target: SendTarget,
    private readonly transport: SipTransportLayer,
    config?: Partial<TimerConfig>,
  ) {
    super();
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`NonInviteClientTransaction cannot carry ${request.method}`);
    }
    this.reliable = isReliable(target.protocol);
    this.t = timerValues(config, this.reliable);
  }

  /** Current state. */
  get state(): NonInviteClientState {
    return this.current;
  }

  /** The connection the request went out on (reliable transports), once known. */
  get flow(): string | undefined {
    return this.flowId;
  }

  /** Send the request and start Timers E and F (§17.1.2.2). Call once. */
  start(): void {
    if (this.started) throw new Error('NonInviteClientTransaction.start() called twice');
    this.started = true;
    this.send(true);
    if (!this.reliable) this.scheduleE(this.t.e);
    this.timers.start('F', this.t.f, () => {
      if (this.current === S.Trying || this.current === S.Proceeding) this.endWith(() => this.emit('timeout'));
    });
  }

  /** Feed a response that matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    if (this.current !== S.Trying && this.current !== S.Proceeding) return; // Completed absorbs retransmissions
    if (response.status < 200) {
      if (this.current === S.Trying) this.transition(S.Proceeding);
      this.emit('response', response);
      return;
    }
    this.transition(S.Completed);
    this.emit('response', response);
  }

  /** Abandon the transaction now (shutdown). */
  terminate(): void {
    if (this.current !== S.Terminated) this.transition(S.Terminated);
  }

  /** The one transition function: checks the move, runs the entry actions, emits `stateChange`. */
  private transition(to: NonInviteClientState): void {
    const from = this.current;
    assertTransition('NonInviteClientTransaction', TRANSITIONS, from, to);
    this.current = to;
    switch (to) {
      case S.Proceeding:
        break; // Timer E keeps running; its next interval becomes T2 (see scheduleE)
      case S.Completed:
        this.timers.stop('E');
        this.timers.stop('F');
        if (this.t.k > 0) this.timers.start('K', this.t.k, () => this.transition(S.Terminated));
        break;
      case S.Terminated:
        this.timers.stopAll();
        break;
      default:
        break;
    }
    this.emit('stateChange', from, to);
    if (to === S.Completed && this.t.k === 0) this.transition(S.Terminated);
  }

  private scheduleE(interval: number): void {
    this.timers.start('E', interval, () => {
      if (this.current !== S.Trying && this.current !== S.Proceeding) return;
      this.send(false);
      this.scheduleE(this.current === S.Proceeding ? this.t.t2 : Math.min(2 * interval, this.t.t2));
    });
  }

  private send(first: boolean): void {
    const target = this.flowId === undefined ? this.target : { ...this.target, flowId: this.flowId };
    this.transport.send(this.request, target).then(
      (result) => {
        if (first && result.flowId !== undefined) this.flowId = result.flowId;
      },
      (error: unknown) => {
        if (this.current !== S.Trying && this.current !== S.Proceeding) return;
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
