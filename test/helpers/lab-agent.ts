/**
 * DeviceAgents on the lab network, for system tests: each with its own temporary data folder, every event
 * it raises recorded in order, and helpers to wait for one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceEventMap, DeviceEventName } from '../../electron/api/device-api';
import { DeviceAgent } from '../../electron/device/device-agent';
import type { LabNetwork } from '../../server/lab/lab-network';
import { waitFor } from './lab-device';

/** One recorded event. */
export type RecordedEvent = { [E in DeviceEventName]: { type: E; payload: DeviceEventMap[E] } }[DeviceEventName];

/** A running agent and what it raised. */
export interface LabAgent {
  agent: DeviceAgent;
  user: string;
  name: string;
  dataDir: string;
  events: RecordedEvent[];
  /** Payloads of one event type, in order. */
  of<E extends DeviceEventName>(type: E): DeviceEventMap[E][];
  /** Wait until an event of `type` satisfies `match`; resolves with its payload. */
  until<E extends DeviceEventName>(type: E, match?: (payload: DeviceEventMap[E]) => boolean, timeoutMs?: number): Promise<DeviceEventMap[E]>;
  close(): Promise<void>;
}

const ALL_EVENTS: DeviceEventName[] = [
  'registrationState', 'devices', 'conversationUpdated', 'message', 'messageStatus', 'incomingSession', 'sessionState', 'error', 'transferProgress', 'joinRequest',
];

/** Start an agent for `user` on the lab (WS, or WSS with the lab's certificate) and wait until it is registered. */
export async function startLabAgent(
  lab: LabNetwork,
  user: string,
  name: string,
  options: {
    secure?: boolean;
    dataDir?: string;
    /** Connect here instead of the domain's ws URL. */
    wsUrl?: string;
    /** DeviceAgent's liveness probe interval (default: the agent's). */
    sessionKeepAliveMs?: number;
  } = {},
): Promise<LabAgent> {
  const domain = user.split('@')[1] ?? '';
  const d = lab.description.domains.find((x) => x.domain === domain);
  if (!d) throw new Error(`no lab domain for ${user}`);
  const password = lab.description.users.find((u) => u.uri === user)?.password ?? '';
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cpm-agent-')));
  const agent = new DeviceAgent({
    dataDir,
    deviceName: name,
    ...(options.sessionKeepAliveMs !== undefined ? { sessionKeepAliveMs: options.sessionKeepAliveMs } : {}),
    account: {
      uri: user,
      password,
      wsUrl: options.wsUrl ?? (options.secure ? d.wss : d.ws),
      transferServiceUri: d.transferService,
      ...(options.secure ? { trustedCertificatePem: lab.description.certificate } : {}),
    },
  });
  const events: RecordedEvent[] = [];
  for (const type of ALL_EVENTS) agent.on(type, (payload) => events.push({ type, payload } as RecordedEvent));
  const of = <E extends DeviceEventName>(type: E): DeviceEventMap[E][] =>
    events.filter((e) => e.type === type).map((e) => e.payload as DeviceEventMap[E]);
  const until = <E extends DeviceEventName>(type: E, match: (payload: DeviceEventMap[E]) => boolean = () => true, timeoutMs = 10_000) =>
    waitFor(`${name}: ${type}`, () => of(type).find(match), timeoutMs);
  await agent.start();
  await until('registrationState', (s) => s.state === 'registered');
  return {
    agent,
    user,
    name,
    dataDir,
    events,
    of,
    until,
    close: async () => {
      await agent.close();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
