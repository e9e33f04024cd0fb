/**
 * The DeviceApi over Electron IPC, main side: one `ipcMain.handle` per command channel, the agent's and the
 * shell's (derived from the contract, so a new command needs no change here), every payload validated by
 * `createCommandDispatcher`, and every agent event forwarded to the window on its event channel.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { createCommandDispatcher } from '../api/bridge';
import { COMMAND_CHANNELS, SHELL_COMMAND_CHANNELS, eventChannel, type EventChannel } from '../api/channels';
import { DEVICE_EVENT_NAMES, DeviceApiError, type DeviceApi, type DeviceCommands, type DeviceEventName, type ShellCommands } from '../api/device-api';

/** Decides whether an IPC message comes from the app's own page (and not from some other frame). */
export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

/**
 * Registers a handler for every command channel, the shell's included. Each handler refuses a sender that
 * fails `isTrustedSender` (`forbidden`), validates the arguments and calls `commands` (a shell command it
 * does not have is refused with `invalid-state`); errors reach the renderer as `[code] detail` messages.
 * Returns the function that removes the handlers.
 */
export function registerCommandHandlers(commands: DeviceCommands & Partial<ShellCommands>, isTrustedSender: SenderCheck): () => void {
  const dispatch = createCommandDispatcher(commands, commands);
  const channels = [...COMMAND_CHANNELS, ...SHELL_COMMAND_CHANNELS];
  for (const channel of channels) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isTrustedSender(event)) throw new DeviceApiError('forbidden', `${channel}: the sender is not the app's page`);
      return dispatch(channel, args);
    });
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}

/** Where events go (normally `webContents.send`, skipped while the window is gone). */
export type EventSink = (channel: EventChannel, payload: unknown) => void;

/** Forwards every DeviceApi event of `agent` to `sink`; returns the function that stops forwarding. */
export function forwardAgentEvents(agent: Pick<DeviceApi, 'on'>, sink: EventSink): () => void {
  const stops = DEVICE_EVENT_NAMES.map(<E extends DeviceEventName>(name: E) =>
    agent.on(name, (payload) => sink(eventChannel(name), payload)),
  );
  return () => {
    for (const stop of stops) stop();
  };
}
