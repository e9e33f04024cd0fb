/**
 * One session transfer as Conversation Server A drives it (PROFILE.md, "The transfer, step by step").
 *
 * ```
 *                REFER X authorized: 202 + NOTIFY 100 to the source, Join REFER sent
 *   (new) ──────────────────────────────────────────────► joining
 *                                                           │ Join REFER 2xx
 *                                                           ▼
 *                 NOTIFY 603 / Join REFER non-2xx /     awaiting-target ◄── NOTIFY 1xx
 *       failed ◄── 60 s without an answer / session gone ──┤
 *         ▲                                                 │ NOTIFY sipfrag 200 (Session Replaced)
 *         │ session ended before the release                ▼
 *         └──────────────────────────────────────────── replaced
 *                                                           │ release NOTIFY 200 sent to the source
 *                                                           ▼
 *                                                       releasing
 *                                                           │ the source's BYE on T (or the time-out)
 *                                                           ▼
 *                                                       completed
 * ```
 * `failed` and `completed` are final; a failed transfer leaves the source's session as it was.
 */
import { EventEmitter } from 'node:events';

/** States of a transfer at Conversation Server A. */
export enum TransferState {
  Joining = 'joining',
  AwaitingTarget = 'awaiting-target',
  Replaced = 'replaced',
  Releasing = 'releasing',
  Completed = 'completed',
  Failed = 'failed',
}

const T = TransferState;
const TRANSITIONS: Readonly<Record<TransferState, readonly TransferState[]>> = {
  [T.Joining]: [T.AwaitingTarget, T.Replaced, T.Failed],
  [T.AwaitingTarget]: [T.Replaced, T.Failed],
  [T.Replaced]: [T.Releasing, T.Failed],
  [T.Releasing]: [T.Completed],
  [T.Completed]: [],
  [T.Failed]: [],
};

/** Thrown on a move the diagram does not allow. */
export class IllegalTransferTransition extends Error {
  override readonly name = 'IllegalTransferTransition';
}

/** The state holder: one transition function, a `stateChange` event. */
export class TransferStateMachine extends EventEmitter<{ stateChange: [from: TransferState, to: TransferState, why: string] }> {
  private current: TransferState = T.Joining;

  get state(): TransferState {
    return this.current;
  }

  /** True when `to` is a legal next state. */
  can(to: TransferState): boolean {
    return TRANSITIONS[this.current].includes(to);
  }

  /** True once completed or failed. */
  get final(): boolean {
    return this.current === T.Completed || this.current === T.Failed;
  }

  /** Move to `to`; throws {@link IllegalTransferTransition} when the diagram does not allow it. */
  transition(to: TransferState, why: string): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new IllegalTransferTransition(`transfer: ${from} → ${to} is not allowed (${why})`);
    this.current = to;
    this.emit('stateChange', from, to, why);
  }
}
