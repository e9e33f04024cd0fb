/**
 * The move under network delay: every lab element adds 20 ms per hop (`LabNetwork.start({ delayMs: 20 })`), bob
 * sends every 10 ms and alice every 25 ms on whichever device holds the conversation, neither coordinated with
 * the moves, while the conversation moves back and forth between Laptop and Desktop as many times as fit in the
 * time budget (the issue asks 100 moves; at delay 0 `transfer-proxy.test.ts` does 100; here each move takes
 * longer, so the count is whatever fits in `BUDGET_MS`, at least `MIN_MOVES`).
 *
 * Each move must see at least 3 of bob's messages sent between the source's REFER and its release (the
 * source's `completed` event, which comes just before its BYE, so the count is a lower bound), and at the end
 * nothing is lost, nothing duplicated, and each sender's order is kept.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransferProgress } from '../electron/api/payloads';
import { LabNetwork } from '../server/lab/lab-network';
import { allMessages, ChatLoad, deliveryReport, instanceOf, setUpChat, waitUntil, type ChatSetup, type Party } from '../electron/device/testing/transfer-scenario';

/** Time given to the moves themselves (the whole test stays well under its 120 s time-out; 100 moves take about 58 s here). */
const BUDGET_MS = 60_000;
/** Fewer moves than this in the budget is a failure (a move at 20 ms per hop takes well under a second). */
const MIN_MOVES = 20;
const MAX_MOVES = 100;

let lab: LabNetwork | undefined;
let setup: ChatSetup | undefined;

afterEach(async () => {
  if (setup) await Promise.allSettled([setup.laptop.close(), setup.desktop.close(), setup.bob.close()]);
  setup = undefined;
  await lab?.close();
  lab = undefined;
});

const FINAL: TransferProgress['phase'][] = ['completed', 'declined', 'timed-out', 'failed'];

/** The source's last transferProgress of a move, with the monotonic time it was raised. */
async function outcomeOf(party: Party, transferId: string): Promise<{ progress: TransferProgress; at: number }> {
  const matches = (p: TransferProgress): boolean => p.transferId === transferId && FINAL.includes(p.phase);
  await party.until('transferProgress', matches, 15_000);
  const event = party.events.find((e) => e.type === 'transferProgress' && matches(e.payload));
  if (!event || event.type !== 'transferProgress') throw new Error(`${party.name}: no final progress for ${transferId}`);
  return { progress: event.payload, at: event.at };
}

describe('moving a live chat back and forth with 20 ms per hop, both Conversation Servers proxying', () => {
  it('every move sees bob’s messages in flight, and nothing is lost, duplicated or reordered', async () => {
    lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy', delayMs: 20 });
    const s = await setUpChat(lab);
    setup = s;
    const parties = [s.laptop, s.desktop];
    const load = new ChatLoad(s);
    load.start();
    const windows: { move: number; from: number; to: number }[] = [];
    const began = performance.now();
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < MAX_MOVES && performance.now() - began < BUDGET_MS; i++) {
        const from = parties[i % 2]!;
        const to = parties[(i + 1) % 2]!;
        const before = to.of('transferProgress').length;
        const referAt = performance.now();
        const transferId = await from.agent.moveConversation(s.conversationId, instanceOf(to));
        const { progress, at } = await outcomeOf(from, transferId);
        expect(progress.phase, `move ${i + 1}: ${progress.description ?? ''}`).toBe('completed');
        windows.push({ move: i + 1, from: referAt, to: at });
        await waitUntil(`move ${i + 1}: ${to.name} joined`, () => to.of('transferProgress').slice(before).some((p) => p.phase === 'replaced'));
        await waitUntil(`move ${i + 1}: ${to.name} carries the conversation`, async () =>
          (await to.agent.listConversations()).some((c) => c.id === s.conversationId && c.activeSessionId !== null),
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      load.stop();
    }
    const moves = windows.length;
    expect(moves).toBeGreaterThanOrEqual(MIN_MOVES);

    // Every move overlapped bob's sending: at least 3 of his messages were sent between its REFER and its release.
    const fromBob = load.sent.filter((m) => m.sender === 'bob');
    const thin = windows
      .map((w) => ({ move: w.move, count: fromBob.filter((m) => m.at >= w.from && m.at <= w.to).length }))
      .filter((w) => w.count < 3);
    expect(thin).toEqual([]);

    // A message a device refused (the conversation was moving off it) was never sent; the senders knew.
    const alice = load.sent.filter((m) => m.sender === 'alice');
    expect(fromBob.length).toBeGreaterThan(moves * 3);
    expect(alice.length).toBeGreaterThan(moves);
    await waitUntil('bob has all of alice', async () => deliveryReport(alice, await allMessages(s.bob, s.conversationId)).lost === 0, 15_000).catch(() => undefined);
    expect(deliveryReport(alice, await allMessages(s.bob, s.conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    const holder = parties[moves % 2]!;
    await waitUntil(`${holder.name} has the whole conversation`, async () => deliveryReport(load.sent, await allMessages(holder, s.conversationId)).lost === 0, 20_000).catch(
      () => undefined,
    );
    expect(deliveryReport(load.sent, await allMessages(holder, s.conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    await waitUntil('no transfer left at CS A', () => lab!.domain('a.example').conversation.transfers.activeCount() === 0);
    expect(s.bob.of('incomingSession')).toHaveLength(1);
    await waitUntil('bob has one live session', () => s.bob.agent.chatService!.liveSessions().length === 1);
    console.info(`transfer-delay: ${moves} moves at 20 ms per hop in ${Math.round(performance.now() - began)} ms; bob sent ${fromBob.length}, alice ${alice.length}`);
  }, 120_000);
});
