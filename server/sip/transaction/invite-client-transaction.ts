import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { isReliable, type SendTarget, type SipTransportLayer } from '../transport/transport-types';
import { buildNon2xxAck } from './request-builders';
import { assertTransition, type TransitionTable } from './state-machine';
import { TimerSet } from './timer-set';
import { timerValues, type TimerConfig, type TimerValues } from './timers';
import type { ClientTransactionEvents } from './transaction-events';

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
export class InviteClientTransaction extends EventEmitter<ClientTransactionEvents<InviteClientState>> {
  /** Discriminant shared by every transaction kind. */
  readonly kind = 'invite-client' as const;
  private current = InviteClientState.Calling;
  private readonly timers = new TimerSet<'A' | 'B' | 'D' | 'M'>();
  private readonly t: TimerValues;
  private readonly reliable: boolean;
  private ack: SipRequest | undefined;
  private flowId: string | undefined;
  private started = false;

  /**
   * @param key the client transaction key (see `clientTransactionKey`)
   * @param request the INVITE; it must not be modified afterwards
   * @param target where to send it (already resolved by the TU, §8.1.2)
   */
  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly target: SendTarget,
    private readonly transport: SipTransportLayer,
    config?: Partial<TimerConfig>,
  ) {
    super();
    this.reliable = isReliable(target.protocol);
    this.t = timerValues(config, this.reliable);
  }

  /** Current state. */
  get state(): InviteClientState {
    return this.current;
  }

  /** The connection the INVITE went out on (reliable transports), once known. */
  get flow(): string | undefined {
    return this.flowId;
  }

  /** Send the INVITE and start Timers A and B (§17.1.1.2). Call once. */
  start(): void {
    if (this.started) throw new Error('InviteClientTransaction.start() called twice');
    this.started = true;
    this.send(this.request, true);
    if (!this.reliable) this.scheduleA(this.t.a);
    this.timers.start('B', this.t.b, () => {
      if (this.current === S.Calling) this.endWith(() => this.emit('timeout'));
    });
  }

  /** Feed a response that matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.current) {
      case S.Calling:
      case S.Proceeding:
        if (status < 200) {
          if (this.current === S.Calling) this.transition(S.Proceeding);
          this.emit('response', response);
        } else if (status < 300) {
          this.transition(S.Accepted);
          this.emit('response', response);
        } else {
          this.ack = buildNon2xxAck(this.request, response);
          this.transition(S.Completed);
          this.send(this.ack, false);
          this.emit('response', response);
        }
        return;
      case S.Completed:
        // Retransmitted final response: the ACK got lost (§17.1.1.2).
        if (status >= 300 && this.ack) this.send(this.ack, false);
        return;
      case S.Accepted:
        // RFC 6026 §8.4: further 2xx go to the TU (it ACKs each, or a proxy forwards each).
        if (status >= 200 && status < 300) this.emit('response', response);
        return;
      case S.Terminated:
        return;
    }
  }

  /** Abandon the transaction now (shutdown); no event but `stateChange`. */
  terminate(): void {
    if (this.current !== S.Terminated) this.transition(S.Terminated);
  }

  /** The one transition function: checks the move, runs the entry actions, emits `stateChange`. */
  private transition(to: InviteClientState): void {
    const from = this.current;
    assertTransition('InviteClientTransaction', TRANSITIONS, from, to);
    this.current = to;
    this.timers.stop('A');
    if (to !== S.Calling) this.timers.stop('B');
    switch (to) {
      case S.Completed:
        if (this.t.d > 0) this.timers.start('D', this.t.d, () => this.transition(S.Terminated));
        break;
      case S.Accepted:
        this.timers.start('M', this.t.m, () => this.transition(S.Terminated));
        break;
      case S.Terminated:
        this.timers.stopAll();
        break;
      default:
        break;
    }
    this.emit('stateChange', from, to);
    if (to === S.Completed && this.t.d === 0) this.transition(S.Terminated);
  }

  private scheduleA(interval: number): void {
    this.timers.start('A', interval, () => {
      if (this.current !== S.Calling) return;
      this.send(this.request, false);
      this.scheduleA(interval * 2);
    });
  }

  private send(message: SipRequest, first: boolean): void {
    const target = this.flowId === undefined ? this.target : { ...this.target, flowId: this.flowId };
    this.transport.send(message, target).then(
      (result) => {
        if (first && result.flowId !== undefined) this.flowId = result.flowId;
      },
      (error: unknown) => this.onTransportError(error),
    );
  }

  private onTransportError(error: unknown): void {
    if (this.current === S.Terminated) return;
    // §17.1.1.2: a transport failure while sending the INVITE is reported to the TU; after a final response
    // (ACK lost in Completed, or Accepted) it changes nothing the TU can act on, so the machine just ends.
    const reportable = this.current === S.Calling || this.current === S.Proceeding;
    this.endWith(() => {
      if (reportable) this.emit('transportError', error instanceof Error ? error : new Error(String(error)));
    });
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
