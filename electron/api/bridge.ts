/**
 * Derives both ends of the DeviceApi from a generic message transport, so that the command list exists only
 * in device-api.ts:
 *
 *   UI side (preload, browser shell)                     agent side (ipcMain, web shell server)
 *   createDeviceApiClient(transport) ── invoke(channel, args) ──► createCommandDispatcher(agent)
 *                                    ◄── subscribe(channel) ───── createEventSender(send)
 *
 * Both ends validate what they receive (validate.ts): the dispatcher the arguments, the client the events.
 */
import { commandChannel, commandForChannel, eventChannel, type CommandChannel, type EventChannel } from './channels';
import {
  DEVICE_COMMAND_NAMES,
  DeviceApiError,
  isDeviceEventName,
  type DeviceApi,
  type DeviceCommandName,
  type DeviceCommands,
  type DeviceEventListener,
  type DeviceEventMap,
  type DeviceEventName,
} from './device-api';
import { validateCommandArgs, validateEventPayload } from './validate';

/** What the client needs from the underlying channel (Electron IPC, a WebSocket, a test double). */
export interface DeviceApiTransport {
  /** Send a command and resolve with its result; reject with whatever the other side rejected with. */
  invoke(channel: CommandChannel, args: unknown[]): Promise<unknown>;
  /** Receive every payload sent on an event channel until the returned function is called. */
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}

/** Options of the client. */
export interface DeviceApiClientOptions {
  /** Called with the validator's message when an event payload is malformed (the event is dropped). */
  onInvalidEvent?: (event: DeviceEventName, error: string) => void;
}

/**
 * A DeviceApi that forwards every command over `transport`. Arguments are validated before sending
 * (a bad call rejects at once with an `invalid-argument` DeviceApiError); rejections from the other side
 * are turned back into DeviceApiErrors; event payloads that do not validate are dropped and reported.
 */
export function createDeviceApiClient(transport: DeviceApiTransport, options: DeviceApiClientOptions = {}): DeviceApi {
  const commands: Partial<Record<DeviceCommandName, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const name of DEVICE_COMMAND_NAMES) {
    commands[name] = async (...args: unknown[]): Promise<unknown> => {
      const checked = validateCommandArgs(name, args);
      if (!checked.ok) throw new DeviceApiError('invalid-argument', checked.error);
      try {
        return await transport.invoke(commandChannel(name), [...checked.value]);
      } catch (error) {
        throw DeviceApiError.fromUnknown(error);
      }
    };
  }
  const on = <E extends DeviceEventName>(event: E, listener: DeviceEventListener<E>): (() => void) => {
    if (!isDeviceEventName(event)) throw new DeviceApiError('invalid-argument', `on: ${String(event)} is not a DeviceApi event`);
    if (typeof listener !== 'function') throw new DeviceApiError('invalid-argument', 'on: listener must be a function');
    return transport.subscribe(eventChannel(event), (payload) => {
      const checked = validateEventPayload(event, payload);
      if (checked.ok) listener(checked.value);
      else options.onInvalidEvent?.(event, checked.error);
    });
  };
  return Object.freeze({ ...(commands as DeviceCommands), on });
}

/** Handles one command message on the agent side. */
export type CommandDispatcher = (channel: string, args: unknown) => Promise<unknown>;

/**
 * The agent side of the commands: looks the channel up, validates the arguments and calls `agent`.
 * Rejects with a DeviceApiError: `invalid-argument` for an unknown channel or bad arguments, the agent's
 * own DeviceApiError as is, and `internal` (with the message) for anything else the agent throws.
 */
export function createCommandDispatcher(agent: DeviceCommands): CommandDispatcher {
  return async (channel, args) => {
    const name = commandForChannel(channel);
    if (name === undefined) throw new DeviceApiError('invalid-argument', `${String(channel)} is not a DeviceApi command channel`);
    const checked = validateCommandArgs(name, args);
    if (!checked.ok) throw new DeviceApiError('invalid-argument', checked.error);
    const method = agent[name] as (...a: unknown[]) => Promise<unknown>;
    try {
      return await method.apply(agent, [...checked.value]);
    } catch (error) {
      throw DeviceApiError.fromUnknown(error);
    }
  };
}

/** Sends one event: typed on the agent side. */
export type DeviceEventSender = <E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]) => void;

/** A typed event sender over a raw `send(channel, payload)` (webContents.send, a WebSocket frame…). */
export function createEventSender(send: (channel: EventChannel, payload: unknown) => void): DeviceEventSender {
  return (event, payload) => send(eventChannel(event), payload);
}
