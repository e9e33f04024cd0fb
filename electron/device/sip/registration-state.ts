/**
 * The registration state of one device contact (RFC 3261 §10, RFC 5626, RFC 5627), tracked from every
 * REGISTER the UA sends and every final response it gets: JsSIP itself fires `registered` only on the first
 * success, so refreshes and re-registrations after a reconnect are invisible in its events.
 *
 * ```
 *                  REGISTER sent              2xx                  refresh sent
 *   unregistered ─────────────────► registering ──────► registered ──────────────► refreshing
 *        ▲                            │      ▲              ▲                        │    │
 *        │                      error │      │ REGISTER     └───────── 2xx ──────────┘    │
 *        │                            ▼      │ sent (retry)                               │
 *        │                           failed ◄─────────────────────── error ─────────────┘
 *        │
 *        └── un-REGISTER answered or transport lost (from registering, registered, refreshing),
 *            stop (from failed)
 * ```
 */
import { EventEmitter } from 'node:events';

/** Registration states (see the diagram). */
export enum RegistrationState {
  Unregistered = 'unregistered',
  Registering = 'registering',
  Registered = 'registered',
  Refreshing = 'refreshing',
  Failed = 'failed',
}

const TRANSITIONS: Readonly<Record<RegistrationState, readonly RegistrationState[]>> = {
  [RegistrationState.Unregistered]: [RegistrationState.Registering],
  [RegistrationState.Registering]: [RegistrationState.Registered, RegistrationState.Failed, RegistrationState.Unregistered],
  [RegistrationState.Registered]: [RegistrationState.Refreshing, RegistrationState.Unregistered],
  [RegistrationState.Refreshing]: [RegistrationState.Registered, RegistrationState.Failed, RegistrationState.Unregistered],
  [RegistrationState.Failed]: [RegistrationState.Registering, RegistrationState.Unregistered],
};

/** What the UA knows about the current binding. */
export interface RegistrationSnapshot {
  state: RegistrationState;
  /** Why the last transition happened ("401 Unauthorized", "connection error"…), or null. */
  cause: string | null;
  /** Public GRUU from the last 2xx (RFC 5627 §5.1), or null. */
  pubGruu: string | null;
  /** Temporary GRUU from the last 2xx, or null. */
  tempGruu: string | null;
  /** Epoch ms when the binding expires, null unless registered or refreshing. */
  expiresAt: number | null;
}

/** Events of the state machine. */
export interface RegistrationStateEvents {
  stateChange: (snapshot: RegistrationSnapshot, from: RegistrationState) => void;
}

/** Details that go with a transition. */
export interface RegistrationDetails {
  cause?: string | null;
  pubGruu?: string | null;
  tempGruu?: string | null;
  expiresAt?: number | null;
}

/** The state machine. Only `transition` changes the state; an illegal move throws. */
export class RegistrationStateMachine extends EventEmitter {
  private snapshotValue: RegistrationSnapshot = {
    state: RegistrationState.Unregistered,
    cause: null,
    pubGruu: null,
    tempGruu: null,
    expiresAt: null,
  };

  /** The current state. */
  get state(): RegistrationState {
    return this.snapshotValue.state;
  }

  /** A copy of the state and its details. */
  get snapshot(): RegistrationSnapshot {
    return { ...this.snapshotValue };
  }

  override on<E extends keyof RegistrationStateEvents>(event: E, listener: RegistrationStateEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof RegistrationStateEvents>(event: E, listener: RegistrationStateEvents[E]): this {
    return super.off(event, listener);
  }

  /** True when the diagram has the move `state → to`. */
  can(to: RegistrationState): boolean {
    return TRANSITIONS[this.state].includes(to);
  }

  /**
   * Move to `to`, recording the details (GRUUs are kept across refreshes unless given; expiry is cleared
   * outside registered/refreshing). Throws on a move the diagram does not have.
   */
  transition(to: RegistrationState, details: RegistrationDetails = {}): void {
    const from = this.state;
    if (!this.can(to)) throw new Error(`RegistrationState: illegal transition ${from} → ${to}`);
    const bound = to === RegistrationState.Registered || to === RegistrationState.Refreshing;
    this.snapshotValue = {
      state: to,
      cause: details.cause ?? null,
      pubGruu: details.pubGruu !== undefined ? details.pubGruu : this.snapshotValue.pubGruu,
      tempGruu: details.tempGruu !== undefined ? details.tempGruu : this.snapshotValue.tempGruu,
      expiresAt: bound ? (details.expiresAt !== undefined ? details.expiresAt : this.snapshotValue.expiresAt) : null,
    };
    this.emit('stateChange', this.snapshot, from);
  }
}
