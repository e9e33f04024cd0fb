/**
 * Every event a DeviceAgent raises, recorded in order with the monotonic time it was raised, and the two
 * questions a test, the demo or a bench asks of them: which payloads of one type came so far (`of`), and
 * "wait until one of this type matches" (`until`).
 */
import { performance } from 'node:perf_hooks';
import type { DeviceEventMap, DeviceEventName } from '../../api/device-api';
import type { DeviceAgent } from '../device-agent';
import { waitUntil } from './wait-until';

/** Every event name of the DeviceApi. */
export const DEVICE_EVENT_NAMES: readonly DeviceEventName[] = [
  'registrationState', 'devices', 'conversationUpdated', 'message', 'messageStatus', 'incomingSession', 'sessionState', 'error', 'transferProgress', 'joinRequest',
];

/** One recorded event, with the monotonic time it was raised (`performance.now()`, ms). */
export type RecordedEvent = { [E in DeviceEventName]: { type: E; payload: DeviceEventMap[E]; at: number } }[DeviceEventName];

/** What an agent raised since recording began. */
export interface EventLog {
  /** Every event, in the order raised. */
  events: RecordedEvent[];
  /** Payloads of one event type, in order. */
  of<E extends DeviceEventName>(type: E): DeviceEventMap[E][];
  /** Wait until an event of `type` satisfies `match` (default 10 s); resolves with its payload. */
  until<E extends DeviceEventName>(type: E, match?: (payload: DeviceEventMap[E]) => boolean, timeoutMs?: number): Promise<DeviceEventMap[E]>;
}

/** A DeviceAgent under test: who it is, where its data lives, what it raised, and how to close it. */
export interface RecordedAgent extends EventLog {
  agent: DeviceAgent;
  user: string;
  /** Its device name; time-out errors of `until` start with it. */
  name: string;
  dataDir: string;
  close(): Promise<void>;
}

/** Record every event `agent` raises from now on; `name` labels the time-out errors of `until`. */
export function recordEvents(agent: Pick<DeviceAgent, 'on'>, name: string): EventLog {
  const events: RecordedEvent[] = [];
  for (const type of DEVICE_EVENT_NAMES) agent.on(type, (payload) => events.push({ type, payload, at: performance.now() } as RecordedEvent));
  const of = <E extends DeviceEventName>(type: E): DeviceEventMap[E][] =>
    events.filter((e) => e.type === type).map((e) => e.payload as DeviceEventMap[E]);
  const until = <E extends DeviceEventName>(type: E, match: (payload: DeviceEventMap[E]) => boolean = () => true, timeoutMs = 10_000): Promise<DeviceEventMap[E]> =>
    waitUntil(`${name}: ${type}`, () => of(type).find(match), timeoutMs);
  return { events, of, until };
}

/**
 * Record `agent`'s events, start it and wait until it is registered. `cleanUp` runs after the agent closes
 * (removing its data folder, closing its history…): from the returned `close`, or at once when the start
 * fails, before the error is passed on.
 */
export async function startRecordedAgent(
  agent: DeviceAgent,
  who: { user: string; name: string; dataDir: string },
  cleanUp: () => Promise<void> = async () => undefined,
): Promise<RecordedAgent> {
  const log = recordEvents(agent, who.name);
  const close = async (): Promise<void> => {
    await agent.close();
    await cleanUp();
  };
  try {
    await agent.start();
    await log.until('registrationState', (s) => s.state === 'registered');
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { ...log, ...who, agent, close };
}
