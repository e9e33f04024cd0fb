/**
 * The source role of a move (PROFILE.md "The transfer", A-D1): "move this conversation to device X".
 *
 * ```
 *   requesting ──202──► accepted ──NOTIFY 1xx──► moving
 *       │                  │                        │ NOTIFY sipfrag 200 (Release CPM Session Notification)
 *       │                  │                        ▼
 *       │                  │                    releasing ──history deposited, BYE sent on T──► moved
 *       │                  │                        │
 *       └─ non-2xx ────────┴─ failure NOTIFY ───────┴────────────────────────────────────────► failed
 * ```
 * On `failed` the session stays as it was: nothing is released and nothing lost (PROFILE.md: decline → 603,
 * no answer → 408). A move also fails when T ends before the release.
 */
import { EventEmitter } from 'node:events';

/** States of the source role. */
export enum SourceTransferState {
  Requesting = 'requesting',
  Accepted = 'accepted',
  Moving = 'moving',
  Releasing = 'releasing',
  Moved = 'moved',
  Failed = 'failed',
}

const S = SourceTransferState;
const TRANSITIONS: Readonly<Record<SourceTransferState, readonly SourceTransferState[]>> = {
  [S.Requesting]: [S.Accepted, S.Moving, S.Releasing, S.Failed],
  [S.Accepted]: [S.Moving, S.Releasing, S.Failed],
  [S.Moving]: [S.Releasing, S.Failed],
  [S.Releasing]: [S.Moved],
  [S.Moved]: [],
  [S.Failed]: [],
};

/** Why a move ended, for the UI ("moved", "declined", "no answer", "failed" with the reason). */
export type TransferOutcome = 'moved' | 'declined' | 'no-answer' | 'device-gone' | 'refused' | 'failed';

/** The outcome for a final status from the REFER or its NOTIFYs (PROFILE.md's step 4–5 statuses). */
export function outcomeOfStatus(status: number): TransferOutcome {
  if (status >= 200 && status < 300) return 'moved';
  if (status === 603 || status === 486 || status === 600) return 'declined';
  if (status === 408) return 'no-answer';
  if (status === 404 || status === 480 || status === 410) return 'device-gone';
  if (status === 403 || status === 481 || status === 488 || status === 491) return 'refused';
  return 'failed';
}

/** A human sentence for an outcome. */
export function describeOutcome(outcome: TransferOutcome, status: number, reason: string, target: string): string {
  switch (outcome) {
    case 'moved':
      return `Moved to ${target}`;
    case 'declined':
      return `${target} declined`;
    case 'no-answer':
      return `${target} did not answer`;
    case 'device-gone':
      return `${target} is not available (${status} ${reason})`;
    case 'refused':
      return `The move was refused (${status} ${reason})`;
    default:
      return `The move failed (${status} ${reason})`;
  }
}

/** What the role needs from the device: sending the REFER, depositing history, releasing T. */
export interface SourceTransferPorts {
  /**
   * Send `REFER X` with Refer-To the target's GRUU, Target-Dialog T, Referred-By our GRUU (PROFILE.md steps
   * 2–3); report the final response and each NOTIFY's sipfrag status through the callbacks.
   */
  sendRefer(handlers: {
    response: (status: number, reason: string) => void;
    notify: (status: number, reason: string, terminated: boolean) => void;
    failed: (status: number, reason: string) => void;
  }): void;
  /** Before the BYE: deposit every message sent or received during the move in the Message Store. */
  depositHistory(): Promise<void>;
  /** Release T: BYE (steps 22–25 / 32–45). */
  release(): void;
}

/** The result of a move. */
export interface SourceTransferResult {
  outcome: TransferOutcome;
  status: number;
  reason: string;
  description: string;
}

/** Events of the source role. */
export type SourceTransferEvents = {
  stateChange: [from: SourceTransferState, to: SourceTransferState];
  /** Progress for the UI (every NOTIFY). */
  progress: [status: number, reason: string];
  /** The move ended, either way. */
  done: [result: SourceTransferResult];
};

/** Thrown on an illegal state move. */
export class IllegalSourceTransition extends Error {
  override readonly name = 'IllegalSourceTransition';
}

/** One move, from the source's side. */
export class SourceTransfer extends EventEmitter<SourceTransferEvents> {
  private current: SourceTransferState = S.Requesting;
  private result: SourceTransferResult | undefined;

  constructor(
    private readonly ports: SourceTransferPorts,
    /** The target device's name, for messages. */
    readonly targetName: string,
  ) {
    super();
  }

  get state(): SourceTransferState {
    return this.current;
  }

  /** The result once `done` fired. */
  get outcome(): SourceTransferResult | undefined {
    return this.result;
  }

  /** Send the REFER. */
  start(): void {
    this.ports.sendRefer({
      response: (status, reason) => this.onResponse(status, reason),
      notify: (status, reason, terminated) => this.onNotify(status, reason, terminated),
      failed: (status, reason) => this.fail(status, reason),
    });
  }

  /** T ended (BYE from the far side, or it died) before the release: the move cannot complete. */
  sessionEnded(): void {
    if (this.current === S.Releasing || this.final) return;
    this.fail(487, 'Session Ended');
  }

  get final(): boolean {
    return this.current === S.Moved || this.current === S.Failed;
  }

  private onResponse(status: number, reason: string): void {
    if (this.final) return;
    if (status >= 200 && status < 300) {
      if (this.current === S.Requesting) this.transition(S.Accepted);
    } else if (status >= 300) {
      this.fail(status, reason);
    }
  }

  private onNotify(status: number, reason: string, terminated: boolean): void {
    if (this.final || this.current === S.Releasing) return;
    this.emit('progress', status, reason);
    if (status < 200) {
      if (this.current === S.Requesting || this.current === S.Accepted) this.transition(S.Moving);
      return;
    }
    if (status < 300) {
      this.transition(S.Releasing);
      void this.releaseAfterDeposit(status, reason);
      return;
    }
    if (terminated || status >= 300) this.fail(status, reason);
  }

  private async releaseAfterDeposit(status: number, reason: string): Promise<void> {
    try {
      await this.ports.depositHistory();
    } catch {
      // the deposit is retried by the history outbox; the release must not wait for the store forever
    }
    this.ports.release();
    this.transition(S.Moved);
    this.finish(status, reason);
  }

  private fail(status: number, reason: string): void {
    if (this.final || this.current === S.Releasing) return;
    this.transition(S.Failed);
    this.finish(status, reason);
  }

  private finish(status: number, reason: string): void {
    const outcome = outcomeOfStatus(status);
    this.result = { outcome, status, reason, description: describeOutcome(outcome, status, reason, this.targetName) };
    this.emit('done', this.result);
  }

  /** The one transition function. */
  private transition(to: SourceTransferState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new IllegalSourceTransition(`source transfer: ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', from, to);
  }
}
