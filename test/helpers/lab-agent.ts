/**
 * DeviceAgents on the lab network, for system tests: each with its own temporary data folder, every event
 * it raises recorded in order, and helpers to wait for one (`electron/device/testing/event-recorder.ts`).
 * `useLabWithAgents` gives a test file its lab and closes every agent started on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceAgent } from '../../electron/device/device-agent';
import { startRecordedAgent, type RecordedAgent } from '../../electron/device/testing/event-recorder';
import type { LabNetwork, ProcessLabDomain } from '../../server/lab/lab-network';
import { useLab, type AnyLab, type LabHandle, type LabView, type UseLabOptions } from './use-lab';

/** A running agent and what it raised. */
export type LabAgent = RecordedAgent;

/** Options of `startLabAgent`. */
export interface LabAgentOptions {
  /** WSS with the lab's certificate instead of WS. */
  secure?: boolean;
  /** The agent's data folder; the caller owns it (default: a temporary one, removed on close). */
  dataDir?: string;
  /** Connect here instead of the domain's ws URL. */
  wsUrl?: string;
  /** DeviceAgent's liveness probe interval (default: the agent's). */
  sessionKeepAliveMs?: number;
}

/** Start an agent for `user` on the lab (WS, or WSS with the lab's certificate) and wait until it is registered. */
export async function startLabAgent(lab: LabView<'description'>, user: string, name: string, options: LabAgentOptions = {}): Promise<LabAgent> {
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
  return startRecordedAgent(agent, { user, name, dataDir }, async () => {
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
  });
}

/** A test file's lab network and the agents started on it. */
export interface LabWithAgents<L extends AnyLab = LabNetwork> extends LabHandle<L> {
  /** Every agent started through `agent`, in the order they were started. */
  readonly agents: readonly LabAgent[];
  /** Start an agent on the lab (`startLabAgent`); `afterAll` closes it before the lab. */
  agent(user: string, name: string, options?: LabAgentOptions): Promise<LabAgent>;
}

/**
 * Start a lab network in this file's `beforeAll` (its SIP trace enabled when `trace` is set), and in its
 * `afterAll` close every agent started through the returned `agent`, then the lab. With
 * `conversationServers: 'process'` its Conversation Servers are forked.
 */
export function useLabWithAgents(options?: UseLabOptions & { conversationServers?: 'in-process' }): LabWithAgents;
export function useLabWithAgents(options: UseLabOptions & { conversationServers: 'process' }): LabWithAgents<LabNetwork<ProcessLabDomain>>;
export function useLabWithAgents(options: UseLabOptions = {}): LabWithAgents<AnyLab> {
  const agents: LabAgent[] = [];
  const handle = useLab(options, async () => {
    await Promise.all(agents.map((a) => a.close()));
  });
  return {
    get lab() {
      return handle.lab;
    },
    agents,
    async agent(user, name, agentOptions = {}) {
      const a = await startLabAgent(handle.lab, user, name, agentOptions);
      agents.push(a);
      return a;
    },
  };
}
