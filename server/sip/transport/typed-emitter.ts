/**
 * A small typed event emitter for the transport layer and its connections.
 *
 * Unlike Node's `EventEmitter`, an `error` event with no listener is not thrown, and a listener that
 * throws never unwinds into a socket callback: the exception goes to the `onListenerError` hook (by
 * default a process warning). Bad input must never crash the element.
 */

/** A map from event name to listener signature (an interface works: no index signature needed). */
export type EventMap<Events> = { [K in keyof Events]: (...args: never[]) => void };

/** Called when a listener throws; receives the event name and the exception. */
export type ListenerErrorHook = (event: string, error: unknown) => void;

const warnListenerError: ListenerErrorHook = (event, error) => {
  const detail = error instanceof Error ? error.stack ?? error.message : String(error);
  process.emitWarning(`listener for '${event}' threw: ${detail}`, { code: 'SIP_TRANSPORT_LISTENER' });
};

/** Typed emitter with listener isolation (see the module comment). */
export class TypedEmitter<Events extends EventMap<Events>> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  constructor(private readonly onListenerError: ListenerErrorHook = warnListenerError) {}

  /** Add a listener. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  /** Remove a listener added with `on`. */
  off<E extends keyof Events>(event: E, listener: Events[E]): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  /** Number of listeners of an event. */
  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Call every listener of `event` in order; returns whether there was any. */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (error) {
        this.onListenerError(String(event), error);
      }
    }
    return true;
  }
}
