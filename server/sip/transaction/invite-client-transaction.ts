import type { SipRequest, SipResponse } from '../message/sip-message';
import type { SendTarget, SipTransportLayer } from '../transport/transport-types';
import { buildNon2xxAck } from './request-builders';
import type { TransitionTable } from './state-machine';
import type { TimerConfig } from './timers';
import { Transaction, type MachineSpec } from './transaction';

/** States of the INVITE client transaction (RFC 3261 §17.1.1, with RFC 6026's Accepted). */
export enum InviteClientState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteClientState;
const TRANSITIONS: TransitionTable<InviteClientState> = {
  [S.Calling]: [S.Proceeding, S.Completed, S.Accepted, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Accepted, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Accepted]: [S.Terminated],
  [S.Terminated]: [],
};
const MACHINE: MachineSpec<InviteClientState> = {
  name: 'InviteClientTransaction',
  transitions: TRANSITIONS,
  initial: S.Calling,
  terminated: S.Terminated,
  // §17.1.1.2: a failure to send the INVITE is the TU's business; after a final response (an ACK lost in
  // Completed, or Accepted) it changes nothing the TU can act on, so the machine just ends.
  reportFailureIn: [S.Calling, S.Proceeding],
};

/**
 * INVITE client transaction (RFC 3261 §17.1.1; RFC 6026 §8.4 for Accepted and Timer M).
 *
 * ```
 *   start: send INVITE, Timer A (UDP only), Timer B
 *     |
 *     v               A fires: resend INVITE, A = 2A
 *   +-----------+     B fires, or transport error: tell the TU -----------------------+
 *   |  Calling  |---------------------------------------------------------------+     |
 *   +-----------+   2xx: to TU, Timer M                                          |     |
 *     | 1xx: to TU  ------------------------------------+                        |     |
 *     v                                                 v                        |     |
 *   +------------+   2xx: to TU, Timer M          +----------+  2xx: to TU       |     |
 *   | Proceeding |------------------------------->| Accepted |  (every one)      |     |
 *   +------------+   transport error: tell TU --+  +----------+                   |     |
 *     | 300-699 (also from Calling):            |       | M fires                |     |
 *     | send ACK, to TU, Timer D                |       v                        v     v
 *     v                                         +->+---------------------------------------+
 *   +-----------+   D fires                        |               Terminated              |
 *   | Completed |--------------------------------->+---------------------------------------+
 *   +-----------+   300-699 again: resend ACK
 * ```
 * Retransmissions (Timer A) only over unreliable transports; Timer D is 0 over reliable ones.
 * Events: `stateChange`, `response` (each response the TU must see), `timeout`, `transportError`.
 */
export class InviteClientTransaction extends Transaction<InviteClientState, 'A' | 'B' | 'D' | 'M'> {
  /** Discriminant shared by every transaction kind. */
  readonly kind = 'invite-client' as const;
  private ack: SipRequest | undefined;
  private started = false;

  /**
   * @param key the client transaction key (see `clientTransactionKey`)
   * @param request the INVITE; it must not be modified afterwards
   * @param target where to send it (already resolved by the TU, §8.1.2)
   */
  constructor(key: string, request: SipRequest, target: SendTarget, transport: SipTransportLayer, config?: Partial<TimerConfig>) {
    super(MACHINE, key, request, target, transport, config);
  }

  /** Send the INVITE and start Timers A and B (§17.1.1.2). Call once. */
  start(): void {
    if (this.started) throw new Error('InviteClientTransaction.start() called twice');
    this.started = true;
    this.send(this.request);
    this.retransmit('A', this.t.a, this.request, [S.Calling], (a) => 2 * a);
    this.during('B', this.t.b, [S.Calling], () => this.timeOut());
  }

  /** Feed a response that matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case S.Calling:
      case S.Proceeding:
        if (status < 200) {
          if (this.state === S.Calling) this.transition(S.Proceeding);
        } else if (status < 300) {
          this.transition(S.Accepted);
        } else {
          this.ack = buildNon2xxAck(this.request, response);
          this.transition(S.Completed);
          this.send(this.ack);
        }
        this.emit('response', response);
        return;
      case S.Completed:
        // Retransmitted final response: the ACK got lost (§17.1.1.2).
        if (status >= 300 && this.ack) this.send(this.ack);
        return;
      case S.Accepted:
        // RFC 6026 §8.4: further 2xx go to the TU (it ACKs each, or a proxy forwards each).
        if (status >= 200 && status < 300) this.emit('response', response);
        return;
      case S.Terminated:
        return;
    }
  }

  protected enter(to: InviteClientState): void {
    if (to === S.Completed) this.after('D', this.t.d, S.Terminated);
    else if (to === S.Accepted) this.after('M', this.t.m, S.Terminated);
  }
}
