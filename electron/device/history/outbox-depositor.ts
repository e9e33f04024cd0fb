/**
 * Drains the durable outbox of a device's history into the Message Store (proxy mode, PROFILE.md "History
 * continuity": the device deposits what it sends and receives). Batches of up to `MAX_BATCH`; a failed
 * deposit (network, 5xx, lost acknowledgement) is retried with exponential back-off and jitter until
 * acknowledged. A retry after a lost acknowledgement never stores a message twice: the store is idempotent by
 * (owner, Conversation-ID, imdn.Message-ID). The outbox lives in SQLite, so a restart resumes where it stopped.
 *
 * ```
 *              start() / kick()                      batch acknowledged, more due: stays sending
 *    idle ─────────────────────────► sending ◄──────────────────────────────────┐
 *     ▲                               │  │ └──────────────────────────────────────┘
 *     └──────── nothing left ─────────┘  │ deposit failed, or entries due later
 *                                        ▼
 *                          waiting ──(timer / drain())──► sending
 *
 *    idle | sending | waiting ──stop()──► stopped   (final)
 * ```
 */
import { TypedEmitter } from '../../../protocol/common/typed-emitter';
import { MAX_BATCH, type DepositResult, type MessageInput } from '../../../protocol/store/store-types';
import type { OutboxEntry, SqliteMessageHistory } from './sqlite-message-history';

/** States of the depositor. */
export enum OutboxDepositorState {
  Idle = 'idle',
  Sending = 'sending',
  Waiting = 'waiting',
  Stopped = 'stopped',
}

const TRANSITIONS: Readonly<Record<OutboxDepositorState, readonly OutboxDepositorState[]>> = {
  [OutboxDepositorState.Idle]: [OutboxDepositorState.Sending, OutboxDepositorState.Stopped],
  [OutboxDepositorState.Sending]: [OutboxDepositorState.Idle, OutboxDepositorState.Waiting, OutboxDepositorState.Stopped],
  [OutboxDepositorState.Waiting]: [OutboxDepositorState.Sending, OutboxDepositorState.Stopped],
  [OutboxDepositorState.Stopped]: [],
};

/** The part of the history the depositor uses. */
export type DepositLedger = Pick<SqliteMessageHistory, 'dueOutbox' | 'acknowledgeOutbox' | 'deferOutbox' | 'nextOutboxAttempt' | 'on' | 'off'>;

/** The part of the store client the depositor uses. */
export interface DepositTarget {
  deposit(messages: readonly MessageInput[]): Promise<DepositResult>;
}

/** Options of an `OutboxDepositor`. */
export interface OutboxDepositorOptions {
  history: DepositLedger;
  client: DepositTarget;
  /** First retry delay, ms (doubled per attempt, with jitter). Default 1,000. */
  baseDelayMs?: number;
  /** Longest retry delay, ms. Default 5 minutes. */
  maxDelayMs?: number;
  /** Messages per deposit, ≤ MAX_BATCH. Default MAX_BATCH. */
  batchSize?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Uniform [0, 1), for the jitter; for tests. */
  random?: () => number;
}

/** Events of the depositor. */
export type OutboxDepositorEvents = {
  stateChange: (to: OutboxDepositorState, from: OutboxDepositorState) => void;
  /** A batch was acknowledged: how many messages were new to the store, how many it already had. */
  deposited: (stored: number, duplicates: number) => void;
  /** A deposit failed (it will be retried) or the history refused an entry. */
  error: (error: unknown) => void;
};

/** The outbox's state machine. */
export class OutboxDepositor extends TypedEmitter<OutboxDepositorEvents> {
  private current = OutboxDepositorState.Idle;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly batchSize: number;
  // Not inside the history's write: the pass starts on the next microtask.
  private readonly onOutbox = (): void => queueMicrotask(() => this.kick());

  constructor(private readonly options: OutboxDepositorOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.batchSize = Math.min(options.batchSize ?? MAX_BATCH, MAX_BATCH);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
    options.history.on('outbox', this.onOutbox);
  }

  /** The current state. */
  get state(): OutboxDepositorState {
    return this.current;
  }

  /** Deposit whatever is due (at start, and whenever the history commits outbox entries). */
  kick(): void {
    if (this.current === OutboxDepositorState.Idle) this.runPass();
    // sending: the running pass reads the outbox again before it stops; waiting: the back-off timer decides.
  }

  /** Run a pass now, even while waiting for a back-off, and resolve when it is over (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.running !== undefined) await this.running;
    if (this.current === OutboxDepositorState.Stopped) return;
    this.runPass();
    await this.running;
  }

  /** Stop for good: no further deposits; resolves once a deposit in flight is over. */
  async stop(): Promise<void> {
    if (this.current !== OutboxDepositorState.Stopped) this.transition(OutboxDepositorState.Stopped);
    this.clearTimer();
    this.options.history.off('outbox', this.onOutbox);
    await this.running;
  }

  /** The back-off before attempt `attempts + 1`: base·2^(attempts−1), capped, times a jitter in [0.5, 1). */
  retryDelay(attempts: number): number {
    const base = this.options.baseDelayMs ?? 1000;
    const max = this.options.maxDelayMs ?? 300_000;
    const exp = Math.min(max, base * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
    return Math.round(exp * (0.5 + this.random() / 2));
  }

  private runPass(): void {
    this.clearTimer();
    if (this.current !== OutboxDepositorState.Sending) this.transition(OutboxDepositorState.Sending);
    const pass = this.pass().finally(() => {
      if (this.running === pass) this.running = undefined;
    });
    this.running = pass;
  }

  /** Deposit due batches until none is left or one fails. Never rejects: a failure of the history itself is reported and retried. */
  private async pass(): Promise<void> {
    try {
      await this.depositDue();
    } catch (error) {
      this.emit('error', error);
      this.settle(this.now() + this.retryDelay(1));
    }
  }

  private async depositDue(): Promise<void> {
    const { history, client } = this.options;
    for (;;) {
      const entries: OutboxEntry[] = history.dueOutbox(this.now(), this.batchSize);
      if (entries.length === 0) return this.settle(history.nextOutboxAttempt());
      let result: DepositResult;
      try {
        result = await client.deposit(entries.map((e) => e.message));
      } catch (error) {
        if (this.stopped()) return;
        const attempts = Math.max(...entries.map((e) => e.attempts)) + 1;
        const at = this.now() + this.retryDelay(attempts);
        history.deferOutbox(entries, at);
        this.emit('error', error);
        return this.settle(at);
      }
      // After stop() the history may be closed; an unacknowledged entry is deposited again next time (a no-op).
      if (this.stopped()) return;
      history.acknowledgeOutbox(entries);
      this.emit('deposited', result.stored, result.duplicates);
    }
  }

  /** After a pass: idle when the outbox is empty, else wait for its next due entry. */
  private settle(nextAt: number | undefined): void {
    if (this.stopped()) return;
    if (nextAt === undefined) {
      this.transition(OutboxDepositorState.Idle);
      return;
    }
    this.transition(OutboxDepositorState.Waiting);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current === OutboxDepositorState.Waiting) this.runPass();
    }, Math.max(0, nextAt - this.now()));
    this.timer.unref?.();
  }

  private stopped(): boolean {
    return this.current === OutboxDepositorState.Stopped;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The one place the state changes; throws on a move the diagram does not have. */
  private transition(to: OutboxDepositorState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`outbox depositor: illegal transition ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', to, from);
  }
}
