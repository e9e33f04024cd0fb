import { serializeMessage } from '../message/serialize';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { isReliable, type SendTarget, type SipTransportLayer } from '../transport/transport-types';
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
 * Called when a transaction over an unreliable transport enters Completed with its final response as bytes:
 * whoever takes it answers retransmissions of the request with `finalResponse` until Timer J. With `keep`, it
 * also runs Timer J for the transaction (calling `timerJFired`) and reports a failed retransmission to it
 * (`retransmissionFailed`); without, the TU has let go of the transaction, which ends at once.
 */
export type RetireHandler = (transaction: NonInviteServerTransaction, finalResponse: Uint8Array, keep: boolean) => void;

/** Options of {@link NonInviteServerTransaction.respond}. */
export interface RespondOptions {
  /**
   * The TU will not look at this transaction again after this final response (a registrar, say): over UDP the
   * transaction then hands its Completed state to the layer and ends at once (see the class comment).
   */
  forget?: boolean;
}

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
 *   transport error (any state)          | J fires (0: reliable transport,
 *   ----------------------------------+  v          or handed over and forgotten)
 *                                     +-->+------------+
 *                                         | Terminated |
 *                                         +------------+
 * ```
 * Timer J is 0 over reliable transports. Events: `stateChange`, `transportError`.
 *
 * Completed over UDP lasts 32 s (64·T1) and a busy registrar holds tens of thousands of transactions there,
 * each only to answer a retransmission with the same bytes. Given a {@link RetireHandler} (the transaction
 * layer passes one) and a transport that sends serialized messages, the transaction hands its final response
 * over as bytes on entering Completed: the layer's small record answers retransmissions until Timer J.
 * - By default the layer also runs Timer J for the transaction, holding it only weakly, so that its request
 *   and parsed response can be collected once the TU lets go (a weakly held object still lives until the next
 *   full garbage collection).
 * - When the TU said it will not look at the transaction again (`respond(r, { forget: true })`), the layer
 *   keeps no reference to it at all and the transaction moves to Terminated at once, as over a reliable
 *   transport: it is garbage as soon as the response is sent, while its Completed duties go on in the layer.
 */
export class NonInviteServerTransaction extends Transaction<NonInviteServerState, 'J'> {
  /** Discriminant shared by every transaction kind. */
  readonly kind = 'non-invite-server' as const;
  private lastResponse: SipResponse | undefined;
  /** The final response as sent as bytes, between `respond` and the hand-over in `enter(Completed)`. */
  private finalBytes: Uint8Array | undefined;
  /** The TU let go of the transaction with its final response (see {@link RespondOptions}). */
  private forgotten = false;

  /**
   * @param key the server transaction key (see `serverTransactionKey`)
   * @param request the request that created the transaction (neither INVITE nor ACK)
   * @param target where responses go (see `responseTarget`, §18.2.2)
   * @param retire who takes over Completed over an unreliable transport (see {@link RetireHandler}); without
   *   it, the transaction runs Timer J itself
   */
  constructor(
    key: string,
    request: SipRequest,
    target: SendTarget,
    transport: SipTransportLayer,
    config?: Partial<TimerConfig>,
    private readonly retire?: RetireHandler,
  ) {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`NonInviteServerTransaction cannot carry ${request.method}`);
    }
    super(MACHINE, key, request, target, transport, config);
  }

  /** Send a response from the TU (§17.2.2). Throws once a final response was sent: that is a TU bug. */
  respond(response: SipResponse, options?: RespondOptions): void {
    if (this.state !== S.Trying && this.state !== S.Proceeding) {
      throw new Error(`NonInviteServerTransaction: cannot send ${response.status} in state ${this.state}`);
    }
    if (response.status < 200) {
      this.lastResponse = response;
      if (this.state === S.Trying) this.transition(S.Proceeding);
      this.send(response);
      return;
    }
    const bytes = this.retire !== undefined && !isReliable(this.target.protocol) && this.canSendSerialized ? serializedOrUndefined(response) : undefined;
    if (bytes === undefined) {
      this.lastResponse = response;
      this.send(response);
    } else {
      this.lastResponse = undefined;
      this.finalBytes = bytes;
      this.forgotten = options?.forget === true;
      this.sendSerialized(bytes);
    }
    this.transition(S.Completed);
  }

  /**
   * Feed a retransmission of the request (§17.2.2); always absorbed. Once the final response was handed over
   * (see the class comment), the layer answers retransmissions and no longer passes them here.
   */
  receiveRequest(_request: SipRequest): ServerDisposition {
    if ((this.state === S.Proceeding || this.state === S.Completed) && this.lastResponse) this.send(this.lastResponse);
    return 'absorbed';
  }

  /** Timer J, run by whoever took it over (see {@link RetireHandler}), fired: Completed ends. */
  timerJFired(): void {
    if (this.state === S.Completed) this.transition(S.Terminated);
  }

  /** A retransmission of the final response sent by whoever took over Completed failed (§17.2.4). */
  retransmissionFailed(error: Error): void {
    this.sendFailed(error);
  }

  protected enter(to: NonInviteServerState): void {
    if (to !== S.Completed) return;
    const bytes = this.finalBytes;
    if (this.retire === undefined || bytes === undefined) {
      this.after('J', this.t.j, S.Terminated);
      return;
    }
    // Handed over: the layer's record answers retransmissions from now on.
    this.finalBytes = undefined;
    this.retire(this, bytes, !this.forgotten);
    if (this.forgotten) this.after('J', 0, S.Terminated);
  }
}

/** The bytes of a response, or undefined when it does not serialize (then `send` reports why). */
function serializedOrUndefined(response: SipResponse): Uint8Array | undefined {
  try {
    return serializeMessage(response);
  } catch {
    return undefined;
  }
}
