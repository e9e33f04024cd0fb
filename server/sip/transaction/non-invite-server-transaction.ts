import type { SipRequest, SipResponse } from '../message/sip-message';
import type { SendTarget, SipTransportLayer } from '../transport/transport-types';
import type { ServerDisposition } from './invite-server-transaction';
import type { TransitionTable } from './state-machine';
import type { TimerConfig } from './timers';
import { Transaction, type MachineSpec } from './transaction';

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
const MACHINE: MachineSpec<NonInviteServerState> = {
  name: 'NonInviteServerTransaction',
  transitions: TRANSITIONS,
  initial: S.Trying,
  terminated: S.Terminated,
  reportFailureIn: [S.Trying, S.Proceeding, S.Completed], // §17.2.4
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
export class NonInviteServerTransaction extends Transaction<NonInviteServerState, 'J'> {
  /** Discriminant shared by every transaction kind. */
  readonly kind = 'non-invite-server' as const;
  private lastResponse: SipResponse | undefined;

  /**
   * @param key the server transaction key (see `serverTransactionKey`)
   * @param request the request that created the transaction (neither INVITE nor ACK)
   * @param target where responses go (see `responseTarget`, §18.2.2)
   */
  constructor(key: string, request: SipRequest, target: SendTarget, transport: SipTransportLayer, config?: Partial<TimerConfig>) {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`NonInviteServerTransaction cannot carry ${request.method}`);
    }
    super(MACHINE, key, request, target, transport, config);
  }

  /** Send a response from the TU (§17.2.2). Throws once a final response was sent: that is a TU bug. */
  respond(response: SipResponse): void {
    if (this.state !== S.Trying && this.state !== S.Proceeding) {
      throw new Error(`NonInviteServerTransaction: cannot send ${response.status} in state ${this.state}`);
    }
    this.lastResponse = response;
    if (response.status < 200) {
      if (this.state === S.Trying) this.transition(S.Proceeding);
      this.send(response);
    } else {
      this.send(response);
      this.transition(S.Completed);
    }
  }

  /** Feed a retransmission of the request (§17.2.2); always absorbed. */
  receiveRequest(_request: SipRequest): ServerDisposition {
    if ((this.state === S.Proceeding || this.state === S.Completed) && this.lastResponse) this.send(this.lastResponse);
    return 'absorbed';
  }

  protected enter(to: NonInviteServerState): void {
    if (to === S.Completed) this.after('J', this.t.j, S.Terminated);
  }
}
