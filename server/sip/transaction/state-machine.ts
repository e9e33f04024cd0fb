/**
 * The one rule every protocol state machine in this folder follows: a table of legal moves, and a single
 * transition check that throws on anything else, so that a bug shows up as a clear error rather than as a
 * transaction quietly drifting into a state the RFC does not have.
 */

/** Legal moves: for each state, the states it may move to. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/** Thrown when code asks a state machine for a move its table does not allow. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${machine}: illegal transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Throw `IllegalTransitionError` unless `table` allows `from → to`. */
export function assertTransition<S extends string>(machine: string, table: TransitionTable<S>, from: S, to: S): void {
  if (!table[from].includes(to)) throw new IllegalTransitionError(machine, from, to);
}
