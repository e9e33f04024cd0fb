/**
 * A tiny typed event emitter for protocol/ (Node's `EventEmitter` is not available here).
 *
 * `Events` maps event names to listener signatures. Listeners run synchronously in registration order;
 * a listener added or removed during an emit takes effect from the next emit. A listener that throws
 * propagates to the emitter's caller, as with Node's emitter.
 */
/** Event name → listener signature. */
export type EventMap = { [event: string]: (...args: never[]) => void };

/** A typed emitter; subclass it or hold one. */
export class TypedEmitter<Events extends EventMap> {
  private readonly listeners = new Map<keyof Events, Array<Events[keyof Events]>>();

  /** Add a listener. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return this;
  }

  /** Add a listener that runs once. */
  once<E extends keyof Events>(event: E, listener: Events[E]): this {
    const wrapper = ((...args: Parameters<Events[E]>) => {
      this.off(event, wrapper);
      listener(...args);
    }) as unknown as Events[E];
    return this.on(event, wrapper);
  }

  /** Remove a listener (the first registration of it). */
  off<E extends keyof Events>(event: E, listener: Events[E]): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.listeners.delete(event);
    return this;
  }

  /** Number of listeners for an event. */
  listenerCount<E extends keyof Events>(event: E): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Call every listener of `event` with `args`; returns whether there were any. */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const listener of [...list]) (listener as (...a: Parameters<Events[E]>) => void)(...args);
    return true;
  }
}
