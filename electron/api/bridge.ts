/**
 * Derives both ends of the DeviceApi from a generic message transport, so that the command list exists only
 * in device-api.ts:
 *
 *   UI side (preload, browser shell)                     agent side (ipcMain, web shell server)
 *   createDeviceApiClient(transport) ── invoke(channel, args) ──► createCommandDispatcher(agent)
 *                                    ◄── subscribe(channel) ───── createEventSender(send)
 *
 * Both ends validate what they receive (validate.ts): the dispatcher the arguments, the client the events.
 * The shell's own commands (`ShellCommandMap`, e.g. `tryLocally`) ride the same way: the client has them,
 * and the dispatcher calls the shell's implementation when it was given one.
 */
import { commandChannel, commandForChannel, eventChannel, shellCommandForChannel, type CommandChannel, type EventChannel } from './channels';
import {
  DEVICE_COMMAND_NAMES,
  DeviceApiError,
  SHELL_COMMAND_NAMES,
  isDeviceEventName,
  type AppApi,
  type DeviceCommandName,
  type DeviceCommands,
  type DeviceEventListener,
  type DeviceEventMap,
  type DeviceEventName,
  type ShellCommandName,
  type ShellCommands,
} from './device-api';
import { validateCommandArgs, validateEventPayload, validateShellCommandArgs, type ValidationResult } from './validate';

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
 * A DeviceApi (with the shell's commands: an AppApi) that forwards every command over `transport`. Arguments
 * are validated before sending (a bad call rejects at once with an `invalid-argument` DeviceApiError);
 * rejections from the other side are turned back into DeviceApiErrors; event payloads that do not validate
 * are dropped and reported.
 */
export function createDeviceApiClient(transport: DeviceApiTransport, options: DeviceApiClientOptions = {}): AppApi {
  const commands: Partial<Record<DeviceCommandName | ShellCommandName, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const name of [...DEVICE_COMMAND_NAMES, ...SHELL_COMMAND_NAMES]) {
    commands[name] = async (...args: unknown[]): Promise<unknown> => {
      const checked = validateAnyCommandArgs(name, args);
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
  return Object.freeze({ ...(commands as DeviceCommands & ShellCommands), on });
}

function validateAnyCommandArgs(name: DeviceCommandName | ShellCommandName, args: unknown): ValidationResult<readonly unknown[]> {
  return isShellName(name) ? validateShellCommandArgs(name, args) : validateCommandArgs(name, args);
}

function isShellName(name: DeviceCommandName | ShellCommandName): name is ShellCommandName {
  return (SHELL_COMMAND_NAMES as readonly string[]).includes(name);
}

/** Handles one command message on the agent side. */
export type CommandDispatcher = (channel: string, args: unknown) => Promise<unknown>;

/**
 * The agent side of the commands: looks the channel up, validates the arguments and calls `agent` (or, for a
 * shell command, `shell`). Rejects with a DeviceApiError: `invalid-argument` for an unknown channel or bad
 * arguments, `invalid-state` for a shell command this shell does not offer, the callee's own DeviceApiError
 * as is, and `internal` (with the message) for anything else it throws.
 */
export function createCommandDispatcher(agent: DeviceCommands, shell: Partial<ShellCommands> = {}): CommandDispatcher {
  return async (channel, args) => {
    const shellName = shellCommandForChannel(channel);
    if (shellName !== undefined) return dispatchShellCommand(shell, shellName, args);
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

async function dispatchShellCommand(shell: Partial<ShellCommands>, name: ShellCommandName, args: unknown): Promise<unknown> {
  const checked = validateShellCommandArgs(name, args);
  if (!checked.ok) throw new DeviceApiError('invalid-argument', checked.error);
  const method = shell[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (method === undefined) throw new DeviceApiError('invalid-state', `${name} is not available in this app shell`);
  try {
    return await method.apply(shell, [...checked.value]);
  } catch (error) {
    throw DeviceApiError.fromUnknown(error);
  }
}

/** Sends one event: typed on the agent side. */
export type DeviceEventSender = <E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]) => void;

/** A typed event sender over a raw `send(channel, payload)` (webContents.send, a WebSocket frame…). */
export function createEventSender(send: (channel: EventChannel, payload: unknown) => void): DeviceEventSender {
  return (event, payload) => send(eventChannel(event), payload);
}
