/**
 * A lab with alice's Laptop and Desktop and bob in a chat (`setUpChat`), started per test and torn down after
 * it: the set-up the transfer system tests share. `useChatLab()` registers the `afterEach` that closes, in
 * order, whatever else the test started (`alsoClose`), the three parties, then the lab.
 */
import { afterEach } from 'vitest';
import { LabNetwork, type LabOptions } from '../../server/lab/lab-network';
import { setUpChat, type ChatSetup } from '../../electron/device/testing/transfer-scenario';

/** Options of `setUpChat`. */
export type ChatOptions = Parameters<typeof setUpChat>[1];

/** What a test file gets from {@link useChatLab}. */
export interface ChatLab {
  /** Start the lab and the chat; both are closed after the test. */
  start(labOptions?: LabOptions, chatOptions?: ChatOptions): Promise<{ lab: LabNetwork; s: ChatSetup }>;
  /** Close `party` after the test, before the chat's parties and the lab. */
  alsoClose(party: { close(): Promise<void> | void }): void;
}

/** Register this file's teardown and give it a way to start the chat lab. */
export function useChatLab(): ChatLab {
  let lab: LabNetwork | undefined;
  let setup: ChatSetup | undefined;
  const extra: { close(): Promise<void> | void }[] = [];

  afterEach(async () => {
    await Promise.allSettled(extra.splice(0).map((p) => p.close()));
    if (setup) await Promise.allSettled([setup.laptop.close(), setup.desktop.close(), setup.bob.close()]);
    setup = undefined;
    await lab?.close();
    lab = undefined;
  });

  return {
    async start(labOptions = {}, chatOptions) {
      const running = await LabNetwork.start(labOptions);
      lab = running;
      const s = await setUpChat(running, chatOptions);
      setup = s;
      return { lab: running, s };
    },
    alsoClose(party) {
      extra.push(party);
    },
  };
}
