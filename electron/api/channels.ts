/**
 * IPC channel names of the DeviceApi, derived from the command and event name lists so that they exist in
 * one place. Commands travel on `cpm:command:<name>` (ipcRenderer.invoke / ipcMain.handle, or the web
 * shell's request frames), events on `cpm:event:<name>` (webContents.send / ipcRenderer.on).
 */
import {
  DEVICE_COMMAND_NAMES,
  DEVICE_EVENT_NAMES,
  isDeviceCommandName,
  isDeviceEventName,
  type DeviceCommandName,
  type DeviceEventName,
} from './device-api';

/** Prefix of every command channel. */
export const COMMAND_CHANNEL_PREFIX = 'cpm:command:';
/** Prefix of every event channel. */
export const EVENT_CHANNEL_PREFIX = 'cpm:event:';

/** The channel a command travels on. */
export type CommandChannel<K extends DeviceCommandName = DeviceCommandName> = `${typeof COMMAND_CHANNEL_PREFIX}${K}`;
/** The channel an event travels on. */
export type EventChannel<E extends DeviceEventName = DeviceEventName> = `${typeof EVENT_CHANNEL_PREFIX}${E}`;

/** The channel of one command. */
export function commandChannel<K extends DeviceCommandName>(name: K): CommandChannel<K> {
  return `${COMMAND_CHANNEL_PREFIX}${name}`;
}

/** The channel of one event. */
export function eventChannel<E extends DeviceEventName>(name: E): EventChannel<E> {
  return `${EVENT_CHANNEL_PREFIX}${name}`;
}

/** Every command channel (for ipcMain.handle registration and for the preload's allow-list). */
export const COMMAND_CHANNELS: readonly CommandChannel[] = Object.freeze(DEVICE_COMMAND_NAMES.map((n) => commandChannel(n)));

/** Every event channel. */
export const EVENT_CHANNELS: readonly EventChannel[] = Object.freeze(DEVICE_EVENT_NAMES.map((n) => eventChannel(n)));

/** The command a channel carries, or undefined for anything that is not a command channel. */
export function commandForChannel(channel: unknown): DeviceCommandName | undefined {
  if (typeof channel !== 'string' || !channel.startsWith(COMMAND_CHANNEL_PREFIX)) return undefined;
  const name = channel.slice(COMMAND_CHANNEL_PREFIX.length);
  return isDeviceCommandName(name) ? name : undefined;
}

/** The event a channel carries, or undefined for anything that is not an event channel. */
export function eventForChannel(channel: unknown): DeviceEventName | undefined {
  if (typeof channel !== 'string' || !channel.startsWith(EVENT_CHANNEL_PREFIX)) return undefined;
  const name = channel.slice(EVENT_CHANNEL_PREFIX.length);
  return isDeviceEventName(name) ? name : undefined;
}
