import { toTag } from '../message/header-fields';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { SendTarget, SipTransportLayer } from '../transport/transport-types';
import type { TransitionTable } from './state-machine';
import type { TimerConfig } from './timers';
import { Transaction, type MachineSpec } from './transaction';

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
const MACHINE: MachineSpec<InviteServerState> = {
  name: 'InviteServerTransaction',
  transitions: TRANSITIONS,
  initial: S.Proceeding,
  terminated: S.Terminated,
  reportFailureIn: [S.Proceeding, S.Completed, S.Confirmed, S.Accepted], // §17.2.4
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
export class InviteServerTransaction extends Transaction<InviteServerState, 'G' | 'H' | 'I' | 'L'> {
  /** Discriminant shared by every transaction kind. */
  readonly kind = 'invite-server' as const;
  private lastProvisional: SipResponse | undefined;
  private finalResponse: SipResponse | undefined;

  /**
   * @param key the server transaction key (see `serverTransactionKey`)
   * @param request the INVITE that created the transaction
   * @param target where responses go (see `responseTarget`, §18.2.2)
   */
  constructor(key: string, request: SipRequest, target: SendTarget, transport: SipTransportLayer, config?: Partial<TimerConfig>) {
    super(MACHINE, key, request, target, transport, config);
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
    if (this.state === S.Proceeding) {
      if (status < 200) {
        this.lastProvisional = response;
      } else {
        this.finalResponse = response;
        this.transition(status < 300 ? S.Accepted : S.Completed);
      }
      this.send(response);
      return;
    }
    if (this.state === S.Accepted && status >= 200 && status < 300) {
      this.send(response);
      return;
    }
    throw new Error(`InviteServerTransaction: cannot send ${status} in state ${this.state}`);
  }

  /**
   * Feed a request that matched this transaction: an INVITE retransmission or an ACK (§17.2.1).
   * Returns 'pass-to-tu' for an ACK in Accepted (RFC 6026 §8.7), else 'absorbed'.
   */
  receiveRequest(request: SipRequest): ServerDisposition {
    if (request.method === 'ACK') {
      if (this.state === S.Completed) {
        if (!this.ackMatchesTag(request)) return 'pass-to-tu';
        this.transition(S.Confirmed);
      } else if (this.state === S.Accepted) {
        return 'pass-to-tu';
      }
      return 'absorbed';
    }
    if (this.state === S.Proceeding && this.lastProvisional) this.send(this.lastProvisional);
    else if (this.state === S.Completed && this.finalResponse) this.send(this.finalResponse);
    return 'absorbed';
  }

  protected enter(to: InviteServerState): void {
    switch (to) {
      case S.Completed:
        if (this.finalResponse) this.retransmit('G', this.t.g, this.finalResponse, [S.Completed], (g) => Math.min(2 * g, this.t.t2));
        this.during('H', this.t.h, [S.Completed], () => this.timeOut());
        break;
      case S.Confirmed:
        this.after('I', this.t.i, S.Terminated);
        break;
      case S.Accepted:
        this.after('L', this.t.l, S.Terminated);
        break;
      default:
        break;
    }
  }

  /** RFC 2543 peers: an ACK matches only if its To tag is the tag of our final response (§17.2.3). */
  private ackMatchesTag(ack: SipRequest): boolean {
    if (this.key.startsWith('3261|') || !this.finalResponse) return true;
    return toTag(ack) === toTag(this.finalResponse);
  }
}
