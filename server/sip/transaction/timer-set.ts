import { COARSE_MIN_MS, cancelCoarse, startCoarse, type CoarseTimer } from './coarse-timers';

type Handle = { coarse: false; timeout: ReturnType<typeof setTimeout> } | { coarse: true; timer: CoarseTimer };

/**
 * Named one-shot timers owned by one state machine, so that leaving a state can stop exactly its timers.
 * Timers of a second or more share slotted Node timers (`coarse-timers.ts`): they fire no earlier than asked
 * and at most one slot (100 ms) later.
 */
export class TimerSet<N extends string> {
  private readonly handles = new Map<N, Handle>();

  /** (Re)start timer `name`; `fire` runs once after `ms` unless the timer is stopped first. */
  start(name: N, ms: number, fire: () => void): void {
    this.stop(name);
    const run = (): void => {
      this.handles.delete(name);
      fire();
    };
    if (ms >= COARSE_MIN_MS) {
      this.handles.set(name, { coarse: true, timer: startCoarse(ms, run) });
      return;
    }
    const timeout = setTimeout(run, ms);
    // A pending SIP timer alone must not keep the process alive.
    if (typeof timeout === 'object' && 'unref' in timeout) timeout.unref();
    this.handles.set(name, { coarse: false, timeout });
  }

  /** Stop timer `name` if pending. */
  stop(name: N): void {
    const handle = this.handles.get(name);
    if (handle === undefined) return;
    cancel(handle);
    this.handles.delete(name);
  }

  /** Stop every pending timer. */
  stopAll(): void {
    for (const handle of this.handles.values()) cancel(handle);
    this.handles.clear();
  }

  /** True while timer `name` is pending. */
  running(name: N): boolean {
    return this.handles.has(name);
  }
}

function cancel(handle: Handle): void {
  if (handle.coarse) cancelCoarse(handle.timer);
  else clearTimeout(handle.timeout);
}
