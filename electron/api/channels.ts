/**
 * IPC channel names of the DeviceApi, derived from the command and event name lists so that they exist in
 * one place. Commands travel on `cpm:command:<name>` (ipcRenderer.invoke / ipcMain.handle, or the web
 * shell's request frames), events on `cpm:event:<name>` (webContents.send / ipcRenderer.on).
 */
import {
  DEVICE_COMMAND_NAMES,
  DEVICE_EVENT_NAMES,
  SHELL_COMMAND_NAMES,
  isDeviceCommandName,
  isDeviceEventName,
  isShellCommandName,
  type DeviceCommandName,
  type DeviceEventName,
  type ShellCommandName,
} from './device-api';

/** Prefix of every command channel. */
export const COMMAND_CHANNEL_PREFIX = 'cpm:command:';
/** Prefix of every event channel. */
export const EVENT_CHANNEL_PREFIX = 'cpm:event:';

/** The channel a command (the agent's or the shell's) travels on. */
export type CommandChannel<K extends DeviceCommandName | ShellCommandName = DeviceCommandName | ShellCommandName> = `${typeof COMMAND_CHANNEL_PREFIX}${K}`;
/** The channel an event travels on. */
export type EventChannel<E extends DeviceEventName = DeviceEventName> = `${typeof EVENT_CHANNEL_PREFIX}${E}`;

/** The channel of one command (the agent's or the shell's). */
export function commandChannel<K extends DeviceCommandName | ShellCommandName>(name: K): CommandChannel<K> {
  return `${COMMAND_CHANNEL_PREFIX}${name}`;
}

/** The channel of one event. */
export function eventChannel<E extends DeviceEventName>(name: E): EventChannel<E> {
  return `${EVENT_CHANNEL_PREFIX}${name}`;
}

/** Every channel of the agent's commands (for ipcMain.handle registration and for the preload's allow-list). */
export const COMMAND_CHANNELS: readonly CommandChannel<DeviceCommandName>[] = Object.freeze(DEVICE_COMMAND_NAMES.map((n) => commandChannel(n)));

/** Every channel of the shell's commands (registered beside COMMAND_CHANNELS). */
export const SHELL_COMMAND_CHANNELS: readonly CommandChannel<ShellCommandName>[] = Object.freeze(SHELL_COMMAND_NAMES.map((n) => commandChannel(n)));

/** Every event channel. */
export const EVENT_CHANNELS: readonly EventChannel[] = Object.freeze(DEVICE_EVENT_NAMES.map((n) => eventChannel(n)));

/** The command a channel carries, or undefined for anything that is not a command channel. */
export function commandForChannel(channel: unknown): DeviceCommandName | undefined {
  if (typeof channel !== 'string' || !channel.startsWith(COMMAND_CHANNEL_PREFIX)) return undefined;
  const name = channel.slice(COMMAND_CHANNEL_PREFIX.length);
  return isDeviceCommandName(name) ? name : undefined;
}

/** The shell command a channel carries, or undefined for anything that is not a shell command channel. */
export function shellCommandForChannel(channel: unknown): ShellCommandName | undefined {
  if (typeof channel !== 'string' || !channel.startsWith(COMMAND_CHANNEL_PREFIX)) return undefined;
  const name = channel.slice(COMMAND_CHANNEL_PREFIX.length);
  return isShellCommandName(name) ? name : undefined;
}

/** The event a channel carries, or undefined for anything that is not an event channel. */
export function eventForChannel(channel: unknown): DeviceEventName | undefined {
  if (typeof channel !== 'string' || !channel.startsWith(EVENT_CHANNEL_PREFIX)) return undefined;
  const name = channel.slice(EVENT_CHANNEL_PREFIX.length);
  return isDeviceEventName(name) ? name : undefined;
}
