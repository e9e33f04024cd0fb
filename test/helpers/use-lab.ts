/**
 * The lab network of one test file: started in the file's `beforeAll`, closed in its `afterAll` once what
 * the file started on it (agents, devices) has been closed. `useLabWithAgents` (lab-agent.ts) and
 * `useLabWithDevices` (lab-device.ts) build on it. The Conversation Servers run in the test's process unless
 * the options say `conversationServers: 'process'` (then `lab` is a `LabNetwork<ProcessLabDomain>`).
 *
 * Helpers that start something on a lab take only the parts of it they use (`LabView`), so that they work on
 * a lab of either placement.
 */
import { afterAll, beforeAll } from 'vitest';
import { LabNetwork, type AnyLabDomain, type LabStartOptions, type ProcessLabDomain } from '../../server/lab/lab-network';
import type { SipTraceEnableOptions } from '../../server/lab/sip-trace';

/**
 * Options of {@link useLab}: the lab's own (placement included), and whether to enable its SIP trace at start
 * (`true`, or how: `{ raw: true }` keeps each message's text).
 */
export type UseLabOptions = LabStartOptions & { trace?: boolean | SipTraceEnableOptions };

/** A lab whose Conversation Servers run anywhere. */
export type AnyLab = LabNetwork<AnyLabDomain>;

/** The parts `K` of a running lab of either placement: what a helper that starts something on it takes. */
export type LabView<K extends keyof AnyLab> = Pick<AnyLab, K>;

/** A test file's lab. */
export interface LabHandle<L extends AnyLab = LabNetwork> {
  /** The running lab (inside tests and hooks that run after this file's `beforeAll`); throws before. */
  readonly lab: L;
}

/**
 * Register this file's `beforeAll` (start the lab; with `trace`, enable its trace and wait until every forked
 * server sends its entries) and `afterAll` (`beforeClose`, then close the lab).
 */
export function useLab(options?: UseLabOptions & { conversationServers?: 'in-process' }, beforeClose?: () => Promise<void>): LabHandle;
export function useLab(options: UseLabOptions & { conversationServers: 'process' }, beforeClose?: () => Promise<void>): LabHandle<LabNetwork<ProcessLabDomain>>;
export function useLab(options: UseLabOptions, beforeClose?: () => Promise<void>): LabHandle<AnyLab>;
export function useLab(options: UseLabOptions = {}, beforeClose: () => Promise<void> = async () => undefined): LabHandle<AnyLab> {
  const { trace, ...labOptions } = options;
  let lab: AnyLab | undefined;

  beforeAll(async () => {
    lab = await LabNetwork.start(labOptions);
    if (trace) await lab.enableTrace(trace === true ? {} : trace);
  });

  afterAll(async () => {
    await beforeClose();
    await lab?.close();
  });

  return {
    get lab() {
      if (!lab) throw new Error('lab: not started (use it inside a test or a later hook)');
      return lab;
    },
  };
}
