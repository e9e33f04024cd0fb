/**
 * The move on real DeviceAgents over the lab network with both Conversation Servers in proxy mode (PROFILE.md
 * "The transfer, step by step", the seed's flow 2): alice on Laptop and Desktop, bob on one device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LabNetwork } from '../server/lab/lab-network';
import {
  allMessages,
  ChatLoad,
  deliveryReport,
  instanceOf,
  setUpChat,
  waitUntil,
  type ChatSetup,
} from '../electron/device/testing/transfer-scenario';

let lab: LabNetwork | undefined;
let setup: ChatSetup | undefined;

afterEach(async () => {
  if (setup) await Promise.allSettled([setup.laptop.close(), setup.desktop.close(), setup.bob.close()]);
  setup = undefined;
  await lab?.close();
  lab = undefined;
});

describe('moving a live chat Laptop → Desktop, both Conversation Servers proxying', () => {
  it('delivers every message once and in order to the device that ends up with the conversation', async () => {
    lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy' });
    setup = await setUpChat(lab);
    const { laptop, desktop, bob, conversationId } = setup;
    const load = new ChatLoad(setup);
    load.start();
    await new Promise((r) => setTimeout(r, 200));
    lab.trace.clear();
    lab.trace.enable();
    const transferId = await laptop.agent.moveConversation(conversationId, instanceOf(desktop));
    const done = await laptop.until('transferProgress', (p) => p.transferId === transferId && ['completed', 'declined', 'timed-out', 'failed'].includes(p.phase));
    expect(done).toMatchObject({ phase: 'completed', outcome: 'moved', description: 'Moved to Desktop' });
    await desktop.until('transferProgress', (p) => p.role === 'target' && p.phase === 'replaced');
    await new Promise((r) => setTimeout(r, 300));
    load.stop();

    const alice = load.sent.filter((s) => s.sender === 'alice');
    const fromBob = load.sent.filter((s) => s.sender === 'bob');
    // bob has every message alice sent (from either device), once, in order.
    await waitUntil('bob has all of alice', async () => deliveryReport(alice, await allMessages(bob, conversationId)).lost === 0, 10_000).catch(() => undefined);
    const atBob = deliveryReport(alice, await allMessages(bob, conversationId));
    expect(atBob).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Desktop has everything both sent, including what reached Laptop during the move (from the Message Store).
    const everything = [...alice, ...fromBob];
    await waitUntil('Desktop has the whole conversation', async () => deliveryReport(everything, await allMessages(desktop, conversationId)).lost === 0, 15_000).catch(() => undefined);
    const atDesktop = deliveryReport(everything, await allMessages(desktop, conversationId));
    expect(atDesktop).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(fromBob.length).toBeGreaterThan(20);
    console.log(JSON.stringify({atBob, atDesktop, refused: load.refused}));
    console.log(lab.trace.ladder({ elements: ["Laptop", "core A", "CS A", "Desktop", "core B", "CS B", "Bob"], times: true }));
  });
});
