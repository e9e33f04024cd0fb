/**
 * A DeviceApi test double for the shell's unit tests: every command records its arguments and answers
 * with what the test scripted (or `undefined`), and `emit` raises an event to every listener.
 */
import { EventEmitter } from 'node:events';
import {
  DEVICE_COMMAND_NAMES,
  type DeviceApi,
  type DeviceCommandName,
  type DeviceCommands,
  type DeviceEventListener,
  type DeviceEventMap,
  type DeviceEventName,
} from '../../api/device-api';

/** One recorded command. */
export interface RecordedCommand {
  name: DeviceCommandName;
  args: unknown[];
}

/** A scripted device. */
export interface FakeDevice {
  api: DeviceApi;
  calls: RecordedCommand[];
  /** Make `name` answer with `answer(args)` (a throw or rejection becomes the command's rejection). */
  script(name: DeviceCommandName, answer: (...args: unknown[]) => unknown): void;
  emit<E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]): void;
  /** Listeners currently registered, all events together. */
  listenerCount(): number;
}

/** A new fake device. */
export function createFakeDevice(): FakeDevice {
  const events = new EventEmitter();
  const calls: RecordedCommand[] = [];
  const answers = new Map<DeviceCommandName, (...args: unknown[]) => unknown>();
  const commands: Partial<Record<DeviceCommandName, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const name of DEVICE_COMMAND_NAMES) {
    commands[name] = async (...args: unknown[]) => {
      calls.push({ name, args });
      return answers.get(name)?.(...args);
    };
  }
  const on = <E extends DeviceEventName>(event: E, listener: DeviceEventListener<E>): (() => void) => {
    events.on(event, listener);
    return () => events.off(event, listener);
  };
  return {
    api: { ...(commands as DeviceCommands), on },
    calls,
    script: (name, answer) => answers.set(name, answer),
    emit: (event, payload) => events.emit(event, payload),
    listenerCount: () => events.eventNames().reduce((n, e) => n + events.listenerCount(e), 0),
  };
}
