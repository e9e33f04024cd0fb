import type { SipRequest, SipResponse } from '../message/sip-message';
import type { SendTarget, SipTransportLayer } from '../transport/transport-types';
import type { TransitionTable } from './state-machine';
import type { TimerConfig } from './timers';
import { Transaction, type MachineSpec } from './transaction';

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
const MACHINE: MachineSpec<NonInviteClientState> = {
  name: 'NonInviteClientTransaction',
  transitions: TRANSITIONS,
  initial: S.Trying,
  terminated: S.Terminated,
  reportFailureIn: [S.Trying, S.Proceeding], // §17.1.2.2
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
export class NonInviteClientTransaction extends Transaction<NonInviteClientState, 'E' | 'F' | 'K'> {
  /** Discriminant shared by every transaction kind. */
  readonly kind = 'non-invite-client' as const;
  private started = false;

  /**
   * @param key the client transaction key (see `clientTransactionKey`)
   * @param request any request but INVITE and ACK; it must not be modified afterwards
   * @param target where to send it
   */
  constructor(key: string, request: SipRequest, target: SendTarget, transport: SipTransportLayer, config?: Partial<TimerConfig>) {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`NonInviteClientTransaction cannot carry ${request.method}`);
    }
    super(MACHINE, key, request, target, transport, config);
  }

  /** Send the request and start Timers E and F (§17.1.2.2). Call once. */
  start(): void {
    if (this.started) throw new Error('NonInviteClientTransaction.start() called twice');
    this.started = true;
    this.send(this.request);
    const { t2 } = this.t;
    this.retransmit('E', this.t.e, this.request, [S.Trying, S.Proceeding], (e) => (this.state === S.Proceeding ? t2 : Math.min(2 * e, t2)));
    this.during('F', this.t.f, [S.Trying, S.Proceeding], () => this.timeOut());
  }

  /** Feed a response that matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    if (this.state !== S.Trying && this.state !== S.Proceeding) return; // Completed absorbs retransmissions
    if (response.status >= 200) this.transition(S.Completed);
    else if (this.state === S.Trying) this.transition(S.Proceeding);
    this.emit('response', response);
  }

  protected enter(to: NonInviteClientState): void {
    // Proceeding: Timer E keeps running, its next interval becomes T2 (see `start`).
    if (to === S.Completed) this.after('K', this.t.k, S.Terminated);
  }
}
