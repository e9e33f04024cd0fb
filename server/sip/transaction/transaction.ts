/**
 * What the four transaction state machines of RFC 3261 §17 share: the state and the one transition function,
 * named timers with the states they live in, the retransmission schedule (UDP only), sending with failure
 * handling (§17.1.1.2, §17.1.2.2, §17.2.4), and termination.
 *
 * What makes each machine what it is stays in its own file, next to its diagram: the state enum, the
 * transition table, the entry actions of each state (`enter`), and how messages from the wire and from the
 * TU move it.
 */
import { EventEmitter } from 'node:events';
import type { SipMessage, SipRequest, SipResponse } from '../message/sip-message';
import { isReliable, type SendTarget, type SipTransportLayer } from '../transport/transport-types';
import { assertTransition, type TransitionTable } from './state-machine';
import { TimerSet } from './timer-set';
import { timerValues, type TimerConfig, type TimerValues } from './timers';

/** Events of a transaction. */
export type TransactionEvents<S extends string> = {
  /** Every state change, after the entry actions of `to` ran. */
  stateChange: [from: S, to: S];
  /** Client transactions only: a response the TU must see (provisional, final, and for INVITE every 2xx). */
  response: [response: SipResponse];
  /** Timer B, F or H fired (client: the TU treats it as 408, §8.1.3.1; server: the ACK never came, §17.2.1). */
  timeout: [];
  /** A message could not be sent (§8.1.3.1: a client TU treats it as 503; §17.2.4). */
  transportError: [error: Error];
};

/** The shape of one transaction state machine. */
export interface MachineSpec<S extends string> {
  /** Class name, for `IllegalTransitionError`. */
  name: string;
  transitions: TransitionTable<S>;
  initial: S;
  terminated: S;
  /**
   * States in which a failed send is reported to the TU as `transportError`. A failure in any other state
   * (after the TU has its answer) only ends the machine.
   */
  reportFailureIn: readonly S[];
}

/** Normalize a rejection reason. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Timer values are the same for every transaction of a layer: computed once per configuration object and
 * transport reliability, and shared (read-only), rather than one object per transaction.
 */
const DEFAULT_TIMERS: readonly [Readonly<TimerValues>, Readonly<TimerValues>] = [timerValues(undefined, false), timerValues(undefined, true)];
const timersByConfig = new WeakMap<Partial<TimerConfig>, readonly [Readonly<TimerValues>, Readonly<TimerValues>]>();

function sharedTimerValues(config: Partial<TimerConfig> | undefined, reliable: boolean): Readonly<TimerValues> {
  let pair = config === undefined ? DEFAULT_TIMERS : timersByConfig.get(config);
  if (pair === undefined) {
    pair = [timerValues(config, false), timerValues(config, true)];
    timersByConfig.set(config as Partial<TimerConfig>, pair);
  }
  return reliable ? pair[1] : pair[0];
}

/**
 * The base of every transaction. `S` is the state enum, `N` the names of the machine's timers.
 * Subclasses describe their states with `enter` and start timers with `during`, `after` and `retransmit`.
 */
export abstract class Transaction<S extends string, N extends string> extends EventEmitter<TransactionEvents<S>> {
  /** Every timer duration for this transaction's transport (Table 4 of RFC 3261); shared, read-only. */
  protected readonly t: Readonly<TimerValues>;
  /** Created with the first timer: many transactions end without one (Timer J or K of 0, a forgotten one). */
  private timerSet: TimerSet<N> | undefined;
  /** For each running timer that must stop when the machine leaves some states: the states it lives in (lazily). */
  private lifetimeMap: Map<N, readonly S[]> | undefined;
  private current: S;
  /** A move a zero-length timer asked for, taken right after the current state change. */
  private queued: S | undefined;
  private flowId: string | undefined;

  /**
   * @param spec the machine's states and table
   * @param key the transaction key (`clientTransactionKey` or `serverTransactionKey`)
   * @param request the request of the transaction; it must not be modified afterwards
   * @param target where messages go: the request's destination (client), or where responses go (server,
   *   `responseTarget`, §18.2.2)
   * @param transport the transport layer to send on
   * @param config T1/T2/T4 (read once per configuration object: do not change it afterwards)
   */
  protected constructor(
    private readonly spec: MachineSpec<S>,
    readonly key: string,
    readonly request: SipRequest,
    readonly target: SendTarget,
    private readonly transport: SipTransportLayer,
    config: Partial<TimerConfig> | undefined,
  ) {
    super();
    this.current = spec.initial;
    this.t = sharedTimerValues(config, isReliable(target.protocol));
  }

  /** Current state. */
  get state(): S {
    return this.current;
  }

  /** True once the machine reached Terminated. */
  get terminated(): boolean {
    return this.current === this.spec.terminated;
  }

  /** The connection the messages went out on (reliable transports), once known. */
  get flow(): string | undefined {
    return this.flowId;
  }

  /** Abandon the transaction now (shutdown): no event but `stateChange`. */
  terminate(): void {
    if (!this.terminated) this.transition(this.spec.terminated);
  }

  /**
   * The one transition function: checks the move against the table (throws `IllegalTransitionError`), stops
   * the timers that do not live in the new state (all of them on Terminated), runs the entry actions of the
   * new state, emits `stateChange`, then takes the move a zero-length timer asked for (Timer D, I, J or K
   * over a reliable transport), so that its `stateChange` follows.
   */
  protected transition(to: S): void {
    const from = this.current;
    assertTransition(this.spec.name, this.spec.transitions, from, to);
    this.current = to;
    this.queued = undefined; // a move asked for in an earlier state is void once the machine moved on
    if (to === this.spec.terminated) {
      this.timerSet?.stopAll();
      this.lifetimeMap?.clear();
    } else {
      const lifetimes = this.lifetimeMap;
      if (lifetimes !== undefined) {
        for (const [name, states] of lifetimes) {
          if (states.includes(to)) continue;
          this.timers.stop(name);
          lifetimes.delete(name);
        }
      }
      this.enter(to, from);
    }
    this.emit('stateChange', from, to);
    const next = this.queued;
    this.queued = undefined;
    if (next !== undefined) this.transition(next);
  }

  private get timers(): TimerSet<N> {
    return (this.timerSet ??= new TimerSet<N>());
  }

  /** The entry actions of `to` (Terminated has none: its timers are stopped by `transition`). */
  protected abstract enter(to: S, from: S): void;

  /** Start timer `name` that runs `fire` after `ms` unless the machine left `states` first. */
  protected during(name: N, ms: number, states: readonly S[], fire: () => void): void {
    const lifetimes = (this.lifetimeMap ??= new Map());
    lifetimes.set(name, states);
    this.timers.start(name, ms, () => {
      lifetimes.delete(name);
      fire();
    });
  }

  /** Start timer `name` that moves the machine to `to` when it fires; with `ms` 0 the move is immediate. */
  protected after(name: N, ms: number, to: S): void {
    if (ms > 0) this.timers.start(name, ms, () => this.transition(to));
    else this.queued = to;
  }

  /**
   * Over an unreliable transport only: resend `message` when timer `name` fires, first after `interval`,
   * then after `next(previous interval)`, for as long as the machine stays in `states`.
   */
  protected retransmit(name: N, interval: number, message: SipMessage, states: readonly S[], next: (interval: number) => number): void {
    if (isReliable(this.target.protocol)) return;
    this.during(name, interval, states, () => {
      this.send(message);
      this.retransmit(name, next(interval), message, states, next);
    });
  }

  /** Send `message` to the target, over the connection the first send used once it is known. */
  protected send(message: SipMessage): void {
    const target = this.flowId === undefined ? this.target : { ...this.target, flowId: this.flowId };
    this.transport.send(message, target).then(
      (result) => {
        if (this.flowId === undefined && result.flowId !== undefined) this.flowId = result.flowId;
      },
      (error: unknown) => this.sendFailed(asError(error)),
    );
  }

  /**
   * Send bytes made by `serializeMessage` (the transport must have `sendSerialized`: check with
   * `canSendSerialized`), with the same connection reuse and failure handling as `send`.
   */
  protected sendSerialized(bytes: Uint8Array): void {
    const transport = this.transport;
    if (transport.sendSerialized === undefined) throw new Error('the transport cannot send serialized messages');
    const target = this.flowId === undefined ? this.target : { ...this.target, flowId: this.flowId };
    transport.sendSerialized(bytes, target).then(
      (result) => {
        if (this.flowId === undefined && result.flowId !== undefined) this.flowId = result.flowId;
      },
      (error: unknown) => this.sendFailed(asError(error)),
    );
  }

  /** Whether the transport takes serialized messages (`sendSerialized`). */
  protected get canSendSerialized(): boolean {
    return this.transport.sendSerialized !== undefined;
  }

  /** Timer B, F or H: tell the TU, then terminate. */
  protected timeOut(): void {
    this.endWith(() => this.emit('timeout'));
  }

  /** A send failed (§17.1.1.2, §17.1.2.2, §17.2.4): tell the TU if the state says so, then terminate. */
  protected sendFailed(error: Error): void {
    if (this.terminated) return;
    const report = this.spec.reportFailureIn.includes(this.current);
    this.endWith(() => {
      if (report) this.emit('transportError', error);
    });
  }

  /** Inform the TU, then terminate even if a listener threw. */
  private endWith(inform: () => void): void {
    try {
      inform();
    } finally {
      if (!this.terminated) this.transition(this.spec.terminated);
    }
  }
}
