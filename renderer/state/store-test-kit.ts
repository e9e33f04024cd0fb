/**
 * For the store's unit tests: an app store over the real DeviceApi client and command dispatcher
 * (electron/api/bridge), in front of a scripted agent (a test double) instead of a device, with events the
 * test raises itself and a clock it moves by hand. Nothing here ships: only tests import it.
 */
import { createCommandDispatcher, createDeviceApiClient, createEventSender, type DeviceEventSender } from '../../electron/api/bridge';
import { createInProcessTransport } from '../../electron/api/in-process-transport';
import { DEVICE_COMMAND_NAMES, type DeviceCommandName, type DeviceCommands, type ShellCommands } from '../../electron/api/device-api';
import { type AppStore, connectDeviceEvents, createAppStore } from './app-store';

/** One test double per DeviceApi command, each made by `make` (a test passes `() => vi.fn(async () => undefined)`). */
export function commandDoubles<F>(make: () => F): Record<DeviceCommandName, F> {
  const doubles = {} as Record<DeviceCommandName, F>;
  for (const name of DEVICE_COMMAND_NAMES) doubles[name] = make();
  return doubles;
}

/** Options of {@link storeOverBridge}. */
export interface StoreOverBridgeOptions {
  /** The shell's commands behind the dispatcher (default: none). */
  shell?: Partial<ShellCommands>;
  /** The clock's reading at the start, ms (default 1 000). */
  clockStart?: number;
}

/** The store, and the hands the test drives it with. */
export interface StoreOverBridge {
  store: AppStore;
  /** Raise a device event, as the agent would, through the bridge's event channel. */
  emit: DeviceEventSender;
  /** Move the store's clock forward by `ms`; returns the new reading. */
  tick(ms: number): number;
  /** The store's clock now. */
  now(): number;
}

/** A store whose DeviceApi calls reach `agent` through the real client and dispatcher, and whose events the test raises. */
export function storeOverBridge(agent: DeviceCommands, options: StoreOverBridgeOptions = {}): StoreOverBridge {
  const transport = createInProcessTransport(createCommandDispatcher(agent, options.shell ?? {}));
  const api = createDeviceApiClient(transport);
  const emit = createEventSender(transport.publish);
  let clock = options.clockStart ?? 1_000;
  const store = createAppStore(api, () => clock);
  connectDeviceEvents(api, store);
  return { store, emit, tick: (ms) => (clock += ms), now: () => clock };
}
