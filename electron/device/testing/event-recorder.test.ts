import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DeviceEventMap, DeviceEventName } from '../../api/device-api';
import type { RegistrationStatus } from '../../api/payloads';
import { recordEvents } from './event-recorder';

function status(state: RegistrationStatus['state']): RegistrationStatus {
  return { state, cause: null, pubGruu: null, expiresAt: null };
}

/** The `on` of a DeviceAgent, over a plain emitter the test raises events on. */
function fakeAgent() {
  const emitter = new EventEmitter();
  return {
    on<E extends DeviceEventName>(event: E, listener: (payload: DeviceEventMap[E]) => void): () => void {
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
    raise<E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]): void {
      emitter.emit(event, payload);
    },
  };
}

describe('recording what a DeviceAgent raises', () => {
  it('keeps every event in the order raised, and answers per type', () => {
    const agent = fakeAgent();
    const log = recordEvents(agent, 'Laptop');
    agent.raise('registrationState', status('registering'));
    agent.raise('error', { code: 'not-found', message: 'gone', conversationId: null });
    agent.raise('registrationState', status('registered'));
    expect(log.events.map((e) => e.type)).toEqual(['registrationState', 'error', 'registrationState']);
    expect(log.of('registrationState').map((s) => s.state)).toEqual(['registering', 'registered']);
    expect(log.events[1]!.at).toBeGreaterThanOrEqual(log.events[0]!.at);
  });

  it('waits for a matching event raised later', async () => {
    const agent = fakeAgent();
    const log = recordEvents(agent, 'Laptop');
    const registered = log.until('registrationState', (s) => s.state === 'registered');
    agent.raise('registrationState', status('registering'));
    setTimeout(() => agent.raise('registrationState', status('registered')), 5);
    await expect(registered).resolves.toEqual(status('registered'));
  });

  it('names the device and the event when the wait times out', async () => {
    const log = recordEvents(fakeAgent(), 'Desktop');
    await expect(log.until('joinRequest', () => true, 30)).rejects.toThrow('timed out waiting for Desktop: joinRequest');
  });
});
