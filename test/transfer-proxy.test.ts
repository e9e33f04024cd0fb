/**
 * The move on real DeviceAgents over the lab network (PROFILE.md "The transfer, step by step"; the seed's
 * flow 2 with both Conversation Servers proxying): alice on Laptop and Desktop, bob on one device; its failure
 * cases (the declined, unanswered and refused ones both with CS A proxying and with both servers in-path; the
 * target's INVITE failing at the far side, proxying only: in-path CS A answers INVITE J itself); and one move
 * under load for each pair with an in-path server.
 *
 * Each message of the move checked on the wire, for all four pairs, and the 100 moves back and forth at delay 0
 * are `transfer-wire.test.ts`; at 20 ms per hop, `transfer-delay.test.ts`.
 */
import { randomUUID } from 'node:crypto';
import { UA, type Socket } from 'jssip';
import { describe, expect, it } from 'vitest';
import { useChatLab } from './helpers/chat-lab';
import { formatTargetDialog } from '../protocol/sip/refer-headers';
import { formatReferTo } from '../protocol/sip/refer-to';
import { encodeSessionTransfer, SESSION_TRANSFER_CONTENT_TYPE } from '../protocol/cpm/session-transfer';
import type { TransferProgress } from '../electron/api/payloads';
import type { ReferSubscriber } from '../electron/device/sip/refer-subscriber';
import { WsSocket } from '../electron/device/sip/ws-socket';
import type { LabNetwork, LabOptions } from '../server/lab/lab-network';
import { FLOW1_CHAINS, matchFlow, type FlowElements } from '../electron/device/testing/seed-flows';
import {
  allMessages,
  ChatLoad,
  deliveryReport,
  instanceOf,
  startParty,
  waitUntil,
  type ChatSetup,
  type Party,
} from '../electron/device/testing/transfer-scenario';

const chatLab = useChatLab();
/** The current test's lab (set by `start`). */
let lab: LabNetwork | undefined;

const FINAL: TransferProgress['phase'][] = ['completed', 'declined', 'timed-out', 'failed'];

async function start(options: LabOptions & { desktopAutoAccept?: boolean } = {}): Promise<ChatSetup> {
  const { desktopAutoAccept, ...labOptions } = options;
  const started = await chatLab.start({ modeA: 'proxy', modeB: 'proxy', ...labOptions }, desktopAutoAccept !== undefined ? { desktopAutoAccept } : {});
  lab = started.lab;
  return started.s;
}

/** The source's last transferProgress of a move. */
function outcomeOf(party: Party, transferId: string): Promise<TransferProgress> {
  return party.until('transferProgress', (p) => p.transferId === transferId && FINAL.includes(p.phase), 15_000);
}

/** T as Laptop sees it: Call-ID, Laptop's tag, bob's tag. */
function dialogOf(party: Party, conversationId: string): { callId: string; localTag: string; remoteTag: string } {
  const d = party.agent.chatService?.carrier(conversationId)?.sip.dialog;
  if (!d) throw new Error(`${party.name} has no dialog for ${conversationId}`);
  return d;
}

/** After a failed move: Laptop still holds the same session, and messages flow both ways on it. */
async function expectSessionStillWorks(s: ChatSetup, sessionId: string): Promise<void> {
  const [summary] = (await s.laptop.agent.listConversations()).filter((c) => c.id === s.conversationId);
  expect(summary?.activeSessionId).toBe(sessionId);
  const tag = randomUUID().slice(0, 8);
  const fromAlice = await s.laptop.agent.sendMessage(s.conversationId, `still here ${tag}`);
  const fromBob = await s.bob.agent.sendMessage(s.conversationId, `me too ${tag}`);
  await s.bob.until('message', (m) => m.id === fromAlice.id);
  await s.laptop.until('message', (m) => m.id === fromBob.id);
  expect(s.desktop.of('message').filter((m) => m.id === fromBob.id)).toEqual([]);
}

/**
 * Run a failing move while bob sends every 10 ms and Laptop every 25 ms; afterwards Laptop and bob hold every
 * message both sent, once and in order.
 */
async function losesNothing(s: ChatSetup, failingMove: () => Promise<void>): Promise<void> {
  const load = new ChatLoad(s);
  load.start();
  try {
    await new Promise((r) => setTimeout(r, 100));
    await failingMove();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    load.stop();
  }
  expect(load.refused).toBe(0);
  const alice = load.sent.filter((m) => m.sender === 'alice');
  const fromBob = load.sent.filter((m) => m.sender === 'bob');
  await waitUntil('everything arrived', async () =>
    deliveryReport(fromBob, await allMessages(s.laptop, s.conversationId)).lost === 0 && deliveryReport(alice, await allMessages(s.bob, s.conversationId)).lost === 0,
  ).catch(() => undefined);
  expect(deliveryReport(load.sent, await allMessages(s.laptop, s.conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  expect(deliveryReport(alice, await allMessages(s.bob, s.conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
}

/** The reply to a hand-made REFER. */
function finalResponse(subscriber: ReferSubscriber): Promise<number> {
  return new Promise((resolve) => subscriber.once('response', (status) => resolve(status)));
}

function pubGruuOf(party: Party): string {
  const gruu = party.agent.sipUserAgent?.pubGruu;
  if (!gruu) throw new Error(`${party.name} has no GRUU`);
  return gruu;
}

describe('moving a live chat Laptop → Desktop, both Conversation Servers proxying', () => {
  it('delivers every message once and in order to the device that ends up with the conversation, in the order of PROFILE.md flow 2', async () => {
    const s = await start();
    const { laptop, desktop, bob, conversationId } = s;
    const t = dialogOf(laptop, conversationId);
    const load = new ChatLoad(s);
    load.start();
    await new Promise((r) => setTimeout(r, 200));
    lab!.trace.clear();
    lab!.trace.enable();
    const transferId = await laptop.agent.moveConversation(conversationId, instanceOf(desktop));
    expect(await outcomeOf(laptop, transferId)).toMatchObject({ phase: 'completed', outcome: 'moved', description: 'Moved to Desktop', statusCode: 200 });
    await desktop.until('transferProgress', (p) => p.role === 'target' && p.phase === 'replaced');
    await new Promise((r) => setTimeout(r, 300));
    load.stop();
    lab!.trace.disable();

    // The source's thread is read-only and says where it went.
    await expect(laptop.agent.sendMessage(conversationId, 'too late')).rejects.toThrow(/moved to Desktop/);

    const alice = load.sent.filter((m) => m.sender === 'alice');
    const fromBob = load.sent.filter((m) => m.sender === 'bob');
    expect(fromBob.length).toBeGreaterThan(20);
    expect(alice.length).toBeGreaterThan(10);
    // bob has every message alice sent (from either device) once, in order.
    await waitUntil('bob has all of alice', async () => deliveryReport(alice, await allMessages(bob, conversationId)).lost === 0).catch(() => undefined);
    expect(deliveryReport(alice, await allMessages(bob, conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Desktop has everything both sent, including what reached Laptop during the move (via the Message Store).
    const everything = [...alice, ...fromBob];
    await waitUntil('Desktop has the whole conversation', async () => deliveryReport(everything, await allMessages(desktop, conversationId)).lost === 0, 15_000).catch(() => undefined);
    expect(deliveryReport(everything, await allMessages(desktop, conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Some of bob's messages reached Laptop after the move began and still made it to Desktop.
    expect(desktop.of('message').filter((m) => m.direction === 'incoming').length).toBeGreaterThan(0);

    // The exact sequence of the move, step by step (PROFILE.md's table for flow 2).
    const names: FlowElements = { source: 'Laptop', target: 'Desktop', far: 'Bob', coreA: 'core A', csA: 'CS A', coreB: 'core B', csB: 'CS B' };
    const hops = lab!.trace.hops();
    const match = matchFlow(hops, names);
    expect(match.problems).toEqual([]);
    // Each step matched a distinct hop (the Accepted NOTIFY is not the release NOTIFY).
    expect(new Set(match.steps.map((m) => m.index)).size).toBe(match.steps.length);
    const at = (label: string): number => match.steps.find((m) => m.label === label)!.index;
    expect(at('4–5')).toBeLessThan(at('10'));
    expect(at('8–9')).toBeLessThan(at('24'));
    expect(match.steps.map((m) => m.label)).toEqual(
      ['2', '3', '4', '5', '4–5', '4–5', '4–5', '4–5', '6', '7', '8', '9', '8–9', '8–9', '8–9', '8–9',
        ...Array.from({ length: 14 }, (_, i) => String(10 + i)), '24', '25', '26', '27', '28', '29', '30', '31',
        ...Array.from({ length: 14 }, (_, i) => String(32 + i))],
    );
    expect(match.callIds.t).toBe(t.callId);
    // A-D1's BYE is what ends T: every BYE on T is one hop of that BYE's path, and nobody else sends one.
    const byes = hops.filter((h) => h.method === 'BYE' && h.status === undefined);
    expect(byes.map((h) => `${h.from}→${h.to}`)).toEqual(['Laptop→core A', 'core A→CS A', 'CS A→core A', 'core A→core B', 'core B→CS B', 'CS B→core B', 'core B→Bob']);
    expect(byes.every((h) => h.callId === t.callId)).toBe(true);
    // Bob continued the same conversation without a prompt.
    expect(bob.of('incomingSession')).toHaveLength(1);
  });

  it("the target's INVITE fails: the source is told why and keeps its session", async () => {
    const s = await start();
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    // The far side refuses every new INVITE (it is overloaded).
    const chat = s.bob.agent.chatService!;
    chat.handleIncoming = (sip) => {
      sip.reject(500, 'Server Internal Error');
      return null;
    };
    await losesNothing(s, async () => {
      const transferId = await s.laptop.agent.moveConversation(s.conversationId, instanceOf(s.desktop));
      expect(await outcomeOf(s.laptop, transferId)).toMatchObject({ phase: 'failed', outcome: 'failed', statusCode: 500 });
    });
    await s.desktop.until('transferProgress', (p) => p.role === 'target' && p.phase === 'failed' && p.statusCode === 500);
    await expectSessionStillWorks(s, sessionId);
  });
});

/** A plain JsSIP device of `user` (no CPM feature tag); resolves its pub-gruu once registered. */
function plainDevice(running: LabNetwork, user: string): { ua: UA; gruu: Promise<string> } {
  const domain = running.description.domains.find((d) => d.domain === user.split('@')[1])!;
  const password = running.description.users.find((u) => u.uri === user)!.password;
  const ua = new UA({
    sockets: [new WsSocket({ url: domain.ws }) as unknown as Socket],
    uri: user,
    password,
    instance_id: randomUUID(),
    register: true,
    connection_recovery_min_interval: 1,
    connection_recovery_max_interval: 2,
  });
  const gruu = new Promise<string>((resolve, reject) => {
    ua.on('registered', () => {
      const contact = (ua as unknown as { _contact: { pub_gruu: string | null } })._contact;
      if (contact.pub_gruu) resolve(contact.pub_gruu);
      else reject(new Error('the plain device got no GRUU'));
    });
    ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${String(e.cause)}`)));
  });
  ua.start();
  return { ua, gruu };
}

// The refusals and failures the controller and the target decide, with CS A proxying (flow 2) and in-path (flow 1).
describe.each([
  ['proxy', 'proxy'],
  ['in-path', 'in-path'],
] as const)('a move that is declined, unanswered or refused, CS A %s, CS B %s', (modeA, modeB) => {
  it('declined on the target: the source keeps its session and nothing is lost', async () => {
    const s = await start({ modeA, modeB, desktopAutoAccept: false });
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    let joinId = '';
    await losesNothing(s, async () => {
      const transferId = await s.laptop.agent.moveConversation(s.conversationId, instanceOf(s.desktop));
      const prompt = await s.desktop.until('joinRequest');
      joinId = prompt.joinId;
      expect(prompt).toMatchObject({ conversationId: s.conversationId, peerUri: 'sip:bob@b.example', sourceDeviceName: 'Laptop' });
      await s.desktop.agent.declineJoin(prompt.joinId);
      expect(await outcomeOf(s.laptop, transferId)).toMatchObject({ phase: 'declined', outcome: 'declined', statusCode: 603, description: 'Desktop declined' });
    });
    await expectSessionStillWorks(s, sessionId);
    await expect(s.desktop.agent.acceptJoin(joinId)).rejects.toThrow(/no Join request/);
  });

  it('never answered: Conversation Server A gives up (408), withdraws the prompt, and the source keeps its session', async () => {
    const s = await start({ modeA, modeB, desktopAutoAccept: false, transferTargetAnswerMs: 400 });
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    lab!.trace.enable();
    let joinId = '';
    await losesNothing(s, async () => {
      const transferId = await s.laptop.agent.moveConversation(s.conversationId, instanceOf(s.desktop));
      joinId = (await s.desktop.until('joinRequest')).joinId;
      expect(await outcomeOf(s.laptop, transferId)).toMatchObject({ phase: 'timed-out', outcome: 'no-answer', statusCode: 408 });
    });
    const prompt = { joinId };
    await s.desktop.until('transferProgress', (p) => p.transferId === prompt.joinId && p.phase === 'timed-out');
    // Desktop took the unsubscribe (RFC 6665 §4.2.1.4): 200, then a last NOTIFY saying terminated.
    await waitUntil('Desktop answered the unsubscribe', () => lab!.trace.hops({ methods: ['SUBSCRIBE'] }).find((h) => h.from === 'Desktop' && h.status === 200));
    await waitUntil('Desktop ended the Join subscription', () => lab!.trace.hops({ methods: ['NOTIFY'] }).find((h) => h.from === 'Desktop' && h.status === undefined && h.timestampNs > 0n && lab!.trace.hops({ methods: ['SUBSCRIBE'] }).some((x) => x.timestampNs < h.timestampNs)));
    await expect(s.desktop.agent.acceptJoin(prompt.joinId)).rejects.toThrow(/no Join request/);
    await expectSessionStillWorks(s, sessionId);
  });

  it('a second move while one is under way is refused with 491', async () => {
    const s = await start({ modeA, modeB, desktopAutoAccept: false });
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    await losesNothing(s, async () => {
      const first = await s.laptop.agent.moveConversation(s.conversationId, instanceOf(s.desktop));
      const prompt = await s.desktop.until('joinRequest');
      const second = await s.laptop.agent.moveConversation(s.conversationId, instanceOf(s.desktop));
      expect(await outcomeOf(s.laptop, second)).toMatchObject({ phase: 'failed', outcome: 'refused', statusCode: 491 });
      await s.desktop.agent.declineJoin(prompt.joinId);
      expect(await outcomeOf(s.laptop, first)).toMatchObject({ phase: 'declined' });
    });
    await expectSessionStillWorks(s, sessionId);
  });

  it('a move to an unknown, unregistered, not-CPM or other user\'s device is refused and changes nothing', async () => {
    const s = await start({ modeA, modeB });
    const running = lab!;
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    const move = async (gruu: string): Promise<TransferProgress> => outcomeOf(s.laptop, await s.laptop.agent.moveConversationToGruu(s.conversationId, gruu, 'Elsewhere'));

    // Unknown GRUU: 404.
    expect(await move(`sip:alice@a.example;gr=urn:uuid:${randomUUID()}`)).toMatchObject({ outcome: 'device-gone', statusCode: 404 });
    // A device of alice's that has signed out: its GRUU is no longer registered.
    const tablet = await startParty(running, 'sip:alice@a.example', 'Tablet', { traced: false });
    const tabletGruu = pubGruuOf(tablet);
    await tablet.close();
    expect(await move(tabletGruu)).toMatchObject({ outcome: 'device-gone' });
    // A device without the CPM feature tag: 480.
    const plain = plainDevice(running, 'sip:alice@a.example');
    chatLab.alsoClose({ close: () => plain.ua.stop() });
    const plainGruu = await plain.gruu;
    expect(await move(plainGruu)).toMatchObject({ outcome: 'device-gone', statusCode: 480 });
    // Another user's device: 403 in its own domain (carol@a.example), 404 in another (CS A knows only its own).
    const carol = await startParty(running, 'sip:carol@a.example', 'Carol', { traced: false });
    chatLab.alsoClose(carol);
    expect(await move(pubGruuOf(carol))).toMatchObject({ outcome: 'refused', statusCode: 403 });
    expect(await move(pubGruuOf(s.bob))).toMatchObject({ outcome: 'device-gone', statusCode: 404 });
    // The device list refuses what it does not know before anything is sent.
    await expect(s.laptop.agent.moveConversation(s.conversationId, `urn:uuid:${randomUUID()}`)).rejects.toThrow(/no device/);
    await expectSessionStillWorks(s, sessionId);
  });

  it("a REFER naming alice's session from bob, or from alice's other device, is refused with 403", async () => {
    const s = await start({ modeA, modeB });
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    const t = dialogOf(s.laptop, s.conversationId);
    const asFarSide = formatTargetDialog({ callId: t.callId, localTag: t.remoteTag, remoteTag: t.localTag });
    const x = 'sip:cpm-transfer@a.example';
    // bob names the session (his own dialog) and asks to move it to alice's Desktop.
    const fromBob = s.bob.agent.sipUserAgent!.sendOutOfDialogRefer({ target: x, referTo: pubGruuOf(s.desktop), referredBy: pubGruuOf(s.bob), targetDialog: asFarSide });
    expect(await finalResponse(fromBob)).toBe(403);
    // alice's Desktop names Laptop's session: Referred-By is not the device holding it.
    const fromDesktop = s.desktop.agent.sipUserAgent!.sendOutOfDialogRefer({ target: x, referTo: pubGruuOf(s.desktop), referredBy: pubGruuOf(s.desktop), targetDialog: asFarSide });
    expect(await finalResponse(fromDesktop)).toBe(403);
    await expectSessionStillWorks(s, sessionId);
  });

  it('a forged Join REFER sent to a device by anyone but its Conversation Server is refused with 403', async () => {
    const s = await start({ modeA, modeB });
    const sessionId = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
    const t = dialogOf(s.laptop, s.conversationId);
    const bobTarget = s.laptop.agent.chatService!.carrier(s.conversationId)!.sip.dialog!.remoteTarget.replace(/^<|>$/g, '');
    const referTo = formatReferTo({
      uri: bobTarget,
      headers: [
        { name: 'Target-Dialog', value: formatTargetDialog({ callId: t.callId, localTag: t.remoteTag, remoteTag: t.localTag }) },
        { name: 'Require', value: 'tdialog' },
        { name: 'Conversation-ID', value: s.conversationId },
      ],
    });
    const body = { contentType: SESSION_TRANSFER_CONTENT_TYPE, text: encodeSessionTransfer({ version: 1, conversationId: s.conversationId, peer: { uri: 'sip:bob@b.example' }, sourceDeviceName: 'Laptop' }) };
    for (const forger of [s.bob, s.laptop]) {
      const refer = forger.agent.sipUserAgent!.sendOutOfDialogRefer({ target: pubGruuOf(s.desktop), referTo, referredBy: pubGruuOf(s.laptop), body });
      expect(await finalResponse(refer)).toBe(403);
    }
    expect(s.desktop.of('joinRequest')).toEqual([]);
    expect(s.desktop.of('transferProgress')).toEqual([]);
    await expectSessionStillWorks(s, sessionId);
  });
});

describe('moving a live chat Laptop → Desktop with an in-path Conversation Server', () => {
  it.each([
    ['in-path', 'proxy'],
    ['proxy', 'in-path'],
    ['in-path', 'in-path'],
  ] as const)('CS A %s, CS B %s: every message once, in order, and only Laptop ends T', async (modeA, modeB) => {
    const s = await start({ modeA, modeB });
    const { laptop, desktop, bob, conversationId } = s;
    const t = dialogOf(laptop, conversationId);
    const load = new ChatLoad(s);
    load.start();
    await new Promise((r) => setTimeout(r, 200));
    lab!.trace.enable();
    const transferId = await laptop.agent.moveConversation(conversationId, instanceOf(desktop));
    expect(await outcomeOf(laptop, transferId)).toMatchObject({ phase: 'completed', outcome: 'moved' });
    await desktop.until('transferProgress', (p) => p.role === 'target' && p.phase === 'replaced');
    await new Promise((r) => setTimeout(r, 300));
    load.stop();
    const alice = load.sent.filter((m) => m.sender === 'alice');
    const everything = load.sent;
    await waitUntil('bob has all of alice', async () => deliveryReport(alice, await allMessages(bob, conversationId)).lost === 0).catch(() => undefined);
    expect(deliveryReport(alice, await allMessages(bob, conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    await waitUntil('Desktop has the whole conversation', async () => deliveryReport(everything, await allMessages(desktop, conversationId)).lost === 0, 15_000).catch(() => undefined);
    expect(deliveryReport(everything, await allMessages(desktop, conversationId))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    if (modeA === 'in-path') {
      // Flow 1, step by step: CS A answers INVITE J itself and takes A-D1's BYE; bob's leg is untouched.
      const names: FlowElements = { source: 'Laptop', target: 'Desktop', far: 'Bob', coreA: 'core A', csA: 'CS A', coreB: 'core B', csB: 'CS B' };
      expect(matchFlow(lab!.trace.hops(), names, FLOW1_CHAINS).problems).toEqual([]);
    }
    const byes = lab!.trace.hops({ methods: ['BYE'] }).filter((h) => h.status === undefined);
    expect(byes[0]).toMatchObject({ from: 'Laptop', callId: t.callId });
    expect(byes.filter((h) => h.from === 'Bob' || h.from === 'Desktop')).toEqual([]);
    expect(bob.of('incomingSession')).toHaveLength(1);
  });
});
