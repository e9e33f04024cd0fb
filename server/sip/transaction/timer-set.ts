/** Named one-shot timers owned by one state machine, so that leaving a state can stop exactly its timers. */
export class TimerSet<N extends string> {
  private readonly handles = new Map<N, ReturnType<typeof setTimeout>>();

  /** (Re)start timer `name`; `fire` runs once after `ms` unless the timer is stopped first. */
  start(name: N, ms: number, fire: () => void): void {
    this.stop(name);
    const handle = setTimeout(() => {
      this.handles.delete(name);
      fire();
    }, ms);
    // A pending SIP timer alone must not keep the process alive.
    if (typeof handle === 'object' && 'unref' in handle) handle.unref();
    this.handles.set(name, handle);
  }

  /** Stop timer `name` if pending. */
  stop(name: N): void {
    const handle = this.handles.get(name);
    if (handle !== undefined) clearTimeout(handle);
    this.handles.delete(name);
  }

  /** Stop every pending timer. */
  stopAll(): void {
    for (const handle of this.handles.values()) clearTimeout(handle);
    this.handles.clear();
  }

  /** True while timer `name` is pending. */
  running(name: N): boolean {
    return this.handles.has(name);
  }
}
