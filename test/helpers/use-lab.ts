/**
 * The lab network of one test file: started in the file's `beforeAll`, closed in its `afterAll` once what
 * the file started on it (agents, devices) has been closed. `useLabWithAgents` (lab-agent.ts) and
 * `useLabWithDevices` (lab-device.ts) build on it.
 */
import { afterAll, beforeAll } from 'vitest';
import { LabNetwork, type LabOptions } from '../../server/lab/lab-network';

/** Options of {@link useLab}: the lab's own, and whether to enable its SIP trace at start. */
export type UseLabOptions = LabOptions & { trace?: boolean };

/** A test file's lab. */
export interface LabHandle {
  /** The running lab (inside tests and hooks that run after this file's `beforeAll`); throws before. */
  readonly lab: LabNetwork;
}

/** Register this file's `beforeAll` (start the lab) and `afterAll` (`beforeClose`, then close the lab). */
export function useLab(options: UseLabOptions = {}, beforeClose: () => Promise<void> = async () => undefined): LabHandle {
  const { trace, ...labOptions } = options;
  let lab: LabNetwork | undefined;

  beforeAll(async () => {
    lab = await LabNetwork.start(labOptions);
    if (trace) lab.trace.enable();
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
