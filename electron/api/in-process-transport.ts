/**
 * A DeviceApiTransport inside one process, for test doubles and harnesses that run the real client and
 * dispatcher back to back without IPC or a WebSocket: commands go straight to a dispatcher, and what is
 * published on an event channel reaches that channel's subscribers, as the preload and ipcMain would carry it.
 *
 *   createDeviceApiClient(transport) ── invoke ──► dispatch (createCommandDispatcher(agent, shell))
 *                                    ◄── subscribe ── publish ◄── createEventSender(transport.publish)
 */
import type { CommandDispatcher, DeviceApiTransport } from './bridge';

/** An in-process transport, and the agent side's end of its event channels. */
export interface InProcessTransport extends DeviceApiTransport {
  /** Deliver `payload` on an event channel to every listener subscribed to it when the call starts. */
  publish(channel: string, payload: unknown): void;
}

/** A transport whose commands `dispatch` answers and whose events `publish` sends. */
export function createInProcessTransport(dispatch: CommandDispatcher): InProcessTransport {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  return {
    invoke: (channel, args) => dispatch(channel, args),
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return () => set.delete(listener);
    },
    publish(channel, payload) {
      // a copy: a listener may unsubscribe (or subscribe another) while the event is delivered
      for (const listener of [...(listeners.get(channel) ?? [])]) listener(payload);
    },
  };
}
