/**
 * A scripted DeviceAgent for the shell's tests: every command is a vitest spy with a plausible default
 * answer, and `emit` plays an event as the real agent would send it.
 */
import { vi, type Mock } from 'vitest';
import { DEVICE_COMMAND_NAMES, type DeviceCommandName, type DeviceEventListener, type DeviceEventMap, type DeviceEventName } from '../../api/device-api';
import type { AccountConfig, AccountInfo } from '../../api/payloads';
import type { DeviceAgentHandle } from '../device-agent-factory';

type Spy = Mock<(...args: unknown[]) => Promise<unknown>>;

/** The fake agent: the handle plus its spies and an event trigger. */
export type FakeDeviceAgent = DeviceAgentHandle & {
  readonly spies: { readonly [K in DeviceCommandName]: Spy };
  readonly close: Mock<() => Promise<void>>;
  emit<E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]): void;
  listenerCount(event: DeviceEventName): number;
};

/** The AccountInfo a fake signIn answers with. */
export function accountInfoFor(config: AccountConfig): AccountInfo {
  return {
    uri: config.uri,
    displayName: config.displayName,
    deviceName: config.deviceName,
    instanceId: 'urn:uuid:00000000-0000-4000-8000-000000000001',
    pubGruu: null,
    websocketUrl: config.websocketUrl,
    transferServiceUri: config.transferServiceUri ?? null,
    registration: 'registering',
  };
}

/** A new fake agent. */
export function createFakeDeviceAgent(): FakeDeviceAgent {
  const listeners = new Map<DeviceEventName, Set<(payload: unknown) => void>>();
  const spies = {} as Record<DeviceCommandName, Spy>;
  for (const name of DEVICE_COMMAND_NAMES) spies[name] = vi.fn(async () => undefined);
  spies.getAccount.mockResolvedValue(null);
  spies.listDevices.mockResolvedValue([]);
  spies.listConversations.mockResolvedValue([]);
  spies.getMessages.mockResolvedValue({ messages: [], hasMore: false });
  spies.signIn.mockImplementation(async (...args: unknown[]) => accountInfoFor(args[0] as AccountConfig));

  const agent = {
    ...(spies as unknown as DeviceAgentHandle),
    spies,
    close: vi.fn(async () => undefined),
    on<E extends DeviceEventName>(event: E, listener: DeviceEventListener<E>): () => void {
      const set = listeners.get(event) ?? new Set();
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      listeners.set(event, set);
      return () => set.delete(wrapped);
    },
    emit<E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]): void {
      for (const listener of [...(listeners.get(event) ?? [])]) listener(payload);
    },
    listenerCount(event: DeviceEventName): number {
      return listeners.get(event)?.size ?? 0;
    },
  };
  return agent;
}
