/**
 * The remote party's role (PROFILE.md: T's far side, B-D1 when no Conversation Server is in the path): once a
 * continuation of T is accepted, it sends only on the new session, still takes what the old peer sends until
 * that peer's BYE, then discards; if no BYE comes it ends the old dialog itself after 32 s (64·T1).
 *
 * ```
 *   live ──continuation accepted──► superseded ──BYE from the old peer──► released
 *                                        │
 *                                        └──32 s without BYE (we send BYE)──► expired
 * ```
 */
import { EventEmitter } from 'node:events';

/** States of the old dialog at the far side. */
export enum RemoteContinuationState {
  Live = 'live',
  Superseded = 'superseded',
  Released = 'released',
  Expired = 'expired',
}

const S = RemoteContinuationState;
const TRANSITIONS: Readonly<Record<RemoteContinuationState, readonly RemoteContinuationState[]>> = {
  [S.Live]: [S.Superseded],
  [S.Superseded]: [S.Released, S.Expired],
  [S.Released]: [],
  [S.Expired]: [],
};

/** Thrown on an illegal state move. */
export class IllegalContinuationTransition extends Error {
  override readonly name = 'IllegalContinuationTransition';
}

/** The old dialog of a continued session, at the far side. */
export class RemoteContinuation extends EventEmitter<{ stateChange: [from: RemoteContinuationState, to: RemoteContinuationState] }> {
  private current: RemoteContinuationState = S.Live;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** End the old dialog ourselves (BYE). */
    private readonly endOldDialog: () => void,
    /** PROFILE.md: 32 s. */
    private readonly graceMs = 32_000,
  ) {
    super();
  }

  get state(): RemoteContinuationState {
    return this.current;
  }

  /** Whether a message arriving on the old dialog is still taken (until its BYE). */
  get acceptsOldMedia(): boolean {
    return this.current === S.Live || this.current === S.Superseded;
  }

  /** Whether to send on the old dialog (only while nothing replaced it). */
  get sendsOnOld(): boolean {
    return this.current === S.Live;
  }

  /** The continuation was accepted: switch sending, start the grace timer. */
  superseded(): void {
    this.transition(S.Superseded);
    this.timer = setTimeout(() => {
      if (this.current !== S.Superseded) return;
      this.transition(S.Expired);
      this.endOldDialog();
    }, this.graceMs);
    this.timer.unref();
  }

  /** The old peer's BYE arrived. */
  released(): void {
    if (this.current !== S.Superseded) return;
    if (this.timer) clearTimeout(this.timer);
    this.transition(S.Released);
  }

  /** Stop the timer (shutdown). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private transition(to: RemoteContinuationState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new IllegalContinuationTransition(`remote continuation: ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', from, to);
  }
}
