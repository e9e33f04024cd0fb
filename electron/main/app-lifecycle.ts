/**
 * The life of the app process, as a state machine:
 *
 * ```
 *   starting ──── window and agent up ────► running ──── quit requested ────► quitting ──► stopped
 *      │                                                                                     ▲
 *      └──── another instance holds this profile, or start-up failed ────────────────────────┘
 * ```
 *
 * `transition` is the only way to change the state; an illegal move throws.
 */
import { TypedEmitter } from '../../protocol/common/typed-emitter';

/** States of the app (see the diagram). */
export enum AppState {
  Starting = 'starting',
  Running = 'running',
  Quitting = 'quitting',
  Stopped = 'stopped',
}

const TRANSITIONS: Readonly<Record<AppState, readonly AppState[]>> = {
  [AppState.Starting]: [AppState.Running, AppState.Quitting, AppState.Stopped],
  [AppState.Running]: [AppState.Quitting],
  [AppState.Quitting]: [AppState.Stopped],
  [AppState.Stopped]: [],
};

/** Events of the lifecycle. */
export type AppLifecycleEvents = {
  stateChange: (state: AppState, from: AppState, reason: string) => void;
};

/** The app's lifecycle state machine. */
export class AppLifecycle extends TypedEmitter<AppLifecycleEvents> {
  private current: AppState = AppState.Starting;

  /** The current state. */
  get state(): AppState {
    return this.current;
  }

  /** Move to `to`, saying why; throws on a move the diagram does not have. */
  transition(to: AppState, reason: string): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`app lifecycle: illegal transition ${from} → ${to} (${reason})`);
    this.current = to;
    this.emit('stateChange', to, from, reason);
  }
}
