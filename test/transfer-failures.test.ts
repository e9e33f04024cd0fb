/**
 * The move's failures that need a dead process or a party that leaves mid-move (PROFILE.md "The transfer, step
 * by step"), with both Conversation Servers proxying and both in-path. bob sends every 10 ms throughout; at the
 * end every message of his is accounted for on the device that holds the conversation, once and in order.
 *
 * A crash is SIGKILL of a real device process: `npx tsx electron/device/cli.ts … --json` (no BYE, no
 * un-REGISTER; its WebSocket and MSRP connections just vanish).
 * - The target crashes after accepting the Join REFER and before its INVITE: the CLI runs with `/autoaccept off`
 *   and is killed on its `join` line (its 202 and NOTIFY 100 are out, its INVITE cannot be: nobody answered the
 *   prompt). With auto-accept on the INVITE leaves in the same tick as the 202, so that timing cannot be hit.
 * - The source crashes right after its REFER left (its `moving` line), with all four mode pairs. Its process takes
 *   its MSRP connection with it. When T's far side is bob (both proxies) or CS B in-path, that side ends T at once,
 *   well before PROFILE.md's release time-outs, and usually before the target's INVITE names T: the Join is
 *   refused with 481 and bob's next message opens a new session, which the target accepts (and resyncs from the
 *   Message Store). With CS A in-path (T's far side), CS A keeps T while the move is under way, holds what bob
 *   sends for the target and replays it when the target joins; if the move failed it would end T and send a
 *   failure REPORT for what it held. Either way the test proves: the target ends up holding the conversation;
 *   its thread has no duplicate and keeps bob's order; with CS A in-path, every message bob's device took and
 *   did not report failed is on the target and in the Message Store; with CS A proxying, such a message is on
 *   the target, or in the Message Store (a device of alice's that signs in afterwards sees it), or reached the
 *   dead source's process (it printed it, or acknowledged it: bob shows it `sent` and never `failed`) and may
 *   have died with it undeposited; after a join, what the store holds is on the target too.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, TransferProgress } from '../electron/api/payloads';
import { LabNetwork, type LabOptions } from '../server/lab/lab-network';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import {
  allMessages,
  deliveryReport,
  instanceOf,
  setUpChat,
  startParty,
  waitUntil,
  type Party,
  type SentMessage,
} from '../electron/device/testing/transfer-scenario';

let lab: LabNetwork | undefined;
const parties: Party[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) killGroup(c);
  await Promise.allSettled(parties.splice(0).map((p) => p.close()));
  await lab?.close();
  lab = undefined;
  await Promise.allSettled(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const FINAL: TransferProgress['phase'][] = ['completed', 'declined', 'timed-out', 'failed'];
const TARGET_FINAL: TransferProgress['phase'][] = ['replaced', 'declined', 'timed-out', 'failed'];

/** SIGKILL the process group we started (npx, tsx and the device), if it is still there. */
function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A device CLI process and the JSON lines it printed. */
interface CliDevice {
  proc: ChildProcessWithoutNullStreams;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  send(line: string): void;
  /** Wait for a line of `type` matching `match`. */
  line(type: string, match?: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL the device process itself (not a polite exit). */
  crash(): void;
}

async function spawnDevice(running: LabNetwork, user: string, name: string): Promise<CliDevice> {
  const host = user.split('@')[1];
  const domain = running.description.domains.find((d) => d.domain === host)!;
  const password = running.description.users.find((u) => u.uri === user)!.password;
  const data = await mkdtemp(join(tmpdir(), 'cpm-crash-'));
  dirs.push(data);
  const args = ['tsx', 'electron/device/cli.ts', '--ws', domain.ws, '--user', user, '--password', password, '--device', name, '--data', data, '--store', domain.store];
  if (domain.mode === 'proxy') args.push('--deposit');
  const proc = spawn('npx', [...args, '--json'], { cwd: process.cwd(), detached: true, stdio: 'pipe' });
  children.push(proc);
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      stderr.push(`not JSON: ${l}`);
    }
  });
  createInterface({ input: proc.stderr }).on('line', (l) => stderr.push(l));
  const line = (type: string, match: (l: Record<string, unknown>) => boolean = () => true, timeoutMs = 10_000) =>
    waitUntil(`${name} CLI: ${type} (stderr: ${stderr.slice(-3).join(' | ')})`, () => lines.find((l) => l['type'] === type && match(l)), timeoutMs);
  const device: CliDevice = {
    proc,
    lines,
    stderr,
    send: (l) => proc.stdin.write(`${l}\n`),
    line,
    crash: () => {
      const pid = lines.find((l) => l['type'] === 'ready')?.['pid'];
      if (typeof pid !== 'number') throw new Error(`${name} CLI never said ready`);
      process.kill(pid, 'SIGKILL');
    },
  };
  await line('ready', undefined, 30_000);
  await line('registered');
  return device;
}

async function party(running: LabNetwork, user: string, name: string, autoAccept = true): Promise<Party> {
  const p = await startParty(running, user, name, { autoAccept });
  parties.push(p);
  return p;
}

/** bob sending every 10 ms: what he sent (the send was taken) and what he could not send. */
class BobSender {
  readonly sent: SentMessage[] = [];
  refused = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly bob: Party,
    private readonly conversationId: string,
  ) {}
  start(): void {
    this.timer = setInterval(() => {
      const seq = ++this.seq;
      this.bob.agent.sendMessage(this.conversationId, `b${seq}`).then(
        (m) => this.sent.push({ id: m.id, seq, sender: 'bob', at: 0 }),
        () => this.refused++,
      );
    }, 10);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function startLab(mode: ConversationMode, options: LabOptions = {}): Promise<LabNetwork> {
  lab = await LabNetwork.start({ modeA: mode, modeB: mode, ...options });
  return lab;
}

/** Laptop still holds its session, and messages flow both ways on it. */
async function sessionStillWorks(laptop: Party, bob: Party, conversationId: string, sessionId: string): Promise<void> {
  const [summary] = (await laptop.agent.listConversations()).filter((c) => c.id === conversationId);
  expect(summary?.activeSessionId).toBe(sessionId);
  const tag = randomUUID().slice(0, 8);
  const fromAlice = await laptop.agent.sendMessage(conversationId, `still here ${tag}`);
  const fromBob = await bob.agent.sendMessage(conversationId, `me too ${tag}`);
  await bob.until('message', (m) => m.id === fromAlice.id);
  await laptop.until('message', (m) => m.id === fromBob.id);
}

/** The messages of `sent` that `sender`'s device did not report failed. */
function notFailed(sender: Party, sent: readonly SentMessage[]): SentMessage[] {
  const failed = new Set(sender.of('messageStatus').filter((st) => st.status === 'failed').map((st) => st.messageId));
  return sent.filter((m) => !failed.has(m.id));
}

/** Wait until `holder` has every one of `expected`, then return its delivery report. */
async function reportOn(holder: Party, conversationId: string, expected: readonly SentMessage[], timeoutMs = 10_000): Promise<ReturnType<typeof deliveryReport>> {
  await waitUntil(`${holder.name} has all of bob`, async () => deliveryReport(expected, await allMessages(holder, conversationId)).lost === 0, timeoutMs).catch(() => undefined);
  return deliveryReport(expected, await allMessages(holder, conversationId));
}

describe.each(['proxy', 'in-path'] as const)('a move that fails mid-way, both Conversation Servers %s', (mode) => {
  it('the target crashes after accepting the Join REFER and before its INVITE: the source keeps its session and nothing is lost', async () => {
    const running = await startLab(mode, { transferTargetAnswerMs: 1_500 });
    const [laptop, bob] = await Promise.all([party(running, 'sip:alice@a.example', 'Laptop'), party(running, 'sip:bob@b.example', 'Bob')]);
    const desktop = await spawnDevice(running, 'sip:alice@a.example', 'Desktop');
    desktop.send('/autoaccept off');
    await desktop.line('autoaccept', (l) => l['enabled'] === false);
    const desktopInstance = String((await desktop.line('ready'))['instanceId']);
    await laptop.until('devices', (list) => list.some((d) => d.instanceId === desktopInstance && d.cpmCapable), 20_000);

    const conversation = await laptop.agent.startChat('sip:bob@b.example');
    const incoming = await bob.until('incomingSession', (x) => x.conversationId === conversation.id);
    await bob.agent.acceptSession(incoming.sessionId);
    const active = await laptop.until('sessionState', (x) => x.conversationId === conversation.id && x.state === 'active');
    const load = new BobSender(bob, conversation.id);
    load.start();
    let outcome: TransferProgress;
    try {
      await new Promise((r) => setTimeout(r, 100));
      const transferId = await laptop.agent.moveConversation(conversation.id, desktopInstance);
      // The Join REFER was accepted (202, NOTIFY 100) and the prompt is up: the INVITE waits for the user.
      await desktop.line('join', (l) => l['conversationId'] === conversation.id);
      desktop.crash();
      outcome = await laptop.until('transferProgress', (p) => p.transferId === transferId && FINAL.includes(p.phase), 15_000);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      load.stop();
    }
    // The target never invited: it never said it was joining.
    expect(desktop.lines.filter((l) => l['type'] === 'transfer' && l['phase'] === 'joining')).toEqual([]);
    // CS A gave up on the silent target (PROFILE.md: no answer → sipfrag 408), or learnt it was gone.
    expect(outcome.phase === 'timed-out' || outcome.phase === 'failed').toBe(true);
    expect(outcome.outcome).not.toBe('moved');
    expect(load.refused).toBe(0);
    expect(await reportOn(laptop, conversation.id, load.sent)).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    await sessionStillWorks(laptop, bob, conversation.id, active.sessionId);
    await waitUntil('no transfer left at CS A', () => running.domain('a.example').conversation.transfers.activeCount() === 0);
  });

  it('bob ends the chat mid-move: the move fails, nobody holds a session, and Laptop has every message bob sent', async () => {
    const { running, s, transferId, prompt, load, bobSession } = await moveWaitingAtThePrompt(mode);
    await s.bob.agent.endSession(bobSession);
    await s.laptop.until('sessionState', (x) => x.conversationId === s.conversationId && x.state === 'ended', 15_000);
    // The user accepts the prompt after the chat ended: there is nothing to join.
    await s.desktop.agent.acceptJoin(prompt.joinId).catch(() => undefined);
    await expectFailedMoveKeptEverything(running, s, transferId, load);
  });

  it('the source ends the chat mid-move (BYE before the release): the move fails and Laptop has every message bob sent', async () => {
    const { running, s, transferId, prompt, load, laptopSession } = await moveWaitingAtThePrompt(mode);
    await new Promise((r) => setTimeout(r, 100));
    await s.laptop.agent.endSession(laptopSession);
    await s.bob.until('sessionState', (x) => x.conversationId === s.conversationId && x.state === 'ended', 15_000);
    await s.desktop.agent.acceptJoin(prompt.joinId).catch(() => undefined);
    await expectFailedMoveKeptEverything(running, s, transferId, load);
  });
});

/**
 * The set-up of the two mid-move endings: a chat Laptop ↔ bob with bob sending every 10 ms, a move to Desktop
 * (auto-accept off) held at Desktop's prompt, and bob's sending stopped 100 ms after the prompt came up.
 */
async function moveWaitingAtThePrompt(mode: ConversationMode) {
  const running = await startLab(mode);
  const s = await setUpChat(running, { desktopAutoAccept: false });
  parties.push(s.laptop, s.desktop, s.bob);
  const bobSession = s.bob.of('sessionState').find((x) => x.conversationId === s.conversationId && x.state === 'active')!.sessionId;
  const laptopSession = s.laptop.agent.chatService!.carrier(s.conversationId)!.id;
  const load = new BobSender(s.bob, s.conversationId);
  load.start();
  await new Promise((r) => setTimeout(r, 200));
  const transferId = await s.laptop.agent.moveConversation(s.conversationId, instanceOf(s.desktop));
  const prompt = await s.desktop.until('joinRequest');
  await new Promise((r) => setTimeout(r, 100));
  load.stop();
  return { running, s, transferId, prompt, load, bobSession, laptopSession };
}

/**
 * After a chat ended mid-move: the move did not complete, Desktop neither joined nor holds a session, and every
 * message bob sent before the BYE reached Laptop, once and in order, unless bob was told it failed.
 */
async function expectFailedMoveKeptEverything(
  running: Awaited<ReturnType<typeof startLab>>,
  s: Awaited<ReturnType<typeof setUpChat>>,
  transferId: string,
  load: BobSender,
): Promise<void> {
  const outcome = await s.laptop.until('transferProgress', (p) => p.transferId === transferId && FINAL.includes(p.phase), 15_000);
  expect(outcome.phase).not.toBe('completed');
  expect(s.desktop.of('transferProgress').filter((p) => p.phase === 'replaced')).toEqual([]);
  expect((await s.desktop.agent.listConversations()).filter((c) => c.id === s.conversationId && c.activeSessionId !== null)).toEqual([]);
  expect(load.sent.length).toBeGreaterThanOrEqual(5);
  expect(await reportOn(s.laptop, s.conversationId, notFailed(s.bob, load.sent))).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  await waitUntil('no transfer left at CS A', () => running.domain('a.example').conversation.transfers.activeCount() === 0);
}

/**
 * The source crashes right after its REFER, with each pair of Conversation Server modes. T's far side (PROFILE.md)
 * is CS A when it is in-path, else CS B when it is in-path, else bob's device.
 */
describe.each([
  ['proxy', 'proxy'],
  ['in-path', 'in-path'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
] as const)('the source crashes right after its REFER, CS A %s and CS B %s', (modeA, modeB) => {
  const farSide = modeA === 'in-path' ? 'cs-a' : modeB === 'in-path' ? 'cs-b' : 'bob';
  it(
    modeA === 'in-path'
      ? 'the target ends up with the conversation and with every message bob’s device took and did not report failed'
      : 'the target ends up with the conversation, missing only what reached the dead source undeposited',
    async () => {
      const running = (lab = await LabNetwork.start({ modeA, modeB }));
      const [desktop, bob] = await Promise.all([party(running, 'sip:alice@a.example', 'Desktop'), party(running, 'sip:bob@b.example', 'Bob')]);
      const laptop = await spawnDevice(running, 'sip:alice@a.example', 'Laptop');
      await laptop.line('devices', (l) => (l['devices'] as Array<{ name: string }>).some((d) => d.name === 'Desktop'), 20_000);
      laptop.send('/chat sip:bob@b.example');
      const incoming = await bob.until('incomingSession');
      const conversationId = incoming.conversationId;
      await bob.agent.acceptSession(incoming.sessionId);
      await laptop.line('session', (l) => l['state'] === 'active');
      await bob.until('sessionState', (x) => x.sessionId === incoming.sessionId && x.state === 'active');

      const load = new BobSender(bob, conversationId);
      load.start();
      let joined: TransferProgress;
      try {
        await new Promise((r) => setTimeout(r, 100));
        laptop.send('/move Desktop');
        await laptop.line('moving', (l) => l['conversationId'] === conversationId);
        laptop.crash();
        joined = await desktop.until('transferProgress', (p) => p.role === 'target' && TARGET_FINAL.includes(p.phase), 15_000);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        load.stop();
      }
      if (farSide === 'bob') {
        // The source's MSRP connection vanished with its process, so bob ends T at once (well before PROFILE.md's
        // 32 s release time-out).
        expect(await bob.until('sessionState', (x) => x.sessionId === incoming.sessionId && x.state !== 'active' && x.state !== 'connecting' && x.state !== 'ringing', 15_000)).toMatchObject({
          state: 'ended',
          cause: 'MSRP connection lost',
        });
      }
      if (joined.phase === 'replaced') {
        // The target got there first: it holds the conversation, and bob was not prompted again.
        expect(bob.of('incomingSession')).toHaveLength(1);
      } else {
        // T ended before the target's INVITE named it: the Join is refused with 481 (never 500), and bob's next
        // message opens a new session to alice, which Desktop takes. (With CS A in-path T waits for the target,
        // so this branch needs the source's MSRP loss to reach CS A before its REFER did.)
        expect(joined).toMatchObject({ phase: 'failed', statusCode: 481 });
        const again = await desktop.until('incomingSession', (x) => x.conversationId === conversationId, 15_000);
        await desktop.agent.acceptSession(again.sessionId);
      }
      const failedAtBob = new Set(bob.of('messageStatus').filter((st) => st.status === 'failed').map((st) => st.messageId));
      const mustArrive = load.sent.filter((m) => !failedAtBob.has(m.id));
      // Wait past the target's resync after the join or the new session (at once, 1.5 s, 5 s) for what the store has.
      await reportOn(desktop, conversationId, mustArrive, 8_000);
      const thread: ChatMessage[] = await allMessages(desktop, conversationId);
      expect(deliveryReport(mustArrive, thread)).toMatchObject({ duplicated: 0, outOfOrder: 0 });
      const onTarget = new Set(thread.map((m) => m.id));
      const missing = mustArrive.filter((m) => !onTarget.has(m.id));
      // What the Message Store holds: a device of alice's that signs in now fetches the whole conversation, once,
      // page by page (wait until it has what it should, or 5 s). An in-path server writes what it relays in
      // batches every 100 ms: bob's last messages land first.
      await new Promise((r) => setTimeout(r, 300));
      const tablet = await party(running, 'sip:alice@a.example', 'Tablet');
      await reportOn(tablet, conversationId, modeA === 'in-path' ? mustArrive : missing, 5_000);
      const inStore = new Set((await allMessages(tablet, conversationId)).map((m) => m.id));
      const seqs = (list: readonly SentMessage[]): string[] => list.map((m) => `b${m.seq}`);
      if (modeA === 'in-path') {
        // CS A is T's far side: it held what bob sent while the target was on its way and replayed it, and it
        // records everything it relays in the Message Store. Nothing bob's device took and did not report failed
        // may be missing from the target, nor from the store.
        expect(seqs(missing), `join ${joined.phase}: accepted from bob, not failed, not on the target`).toEqual([]);
        expect(seqs(mustArrive.filter((m) => !inStore.has(m.id))), 'not in the Message Store').toEqual([]);
      } else {
        // CS A proxies: only the source's device deposits alice's side. What reached the source's process may
        // have died with it undeposited: what it printed (its last lines may die unflushed too), and what bob's
        // device shows `sent` and never `failed` (bob's MSRP peer is the source itself, or CS B in-path, whose
        // relay sends a failure REPORT for every message the source did not acknowledge).
        const reachedSource = new Set(laptop.lines.filter((l) => l['type'] === 'message').map((l) => String(l['id'])));
        for (const st of bob.of('messageStatus')) if (st.status === 'sent') reachedSource.add(st.messageId);
        const vanished = missing.filter((m) => !inStore.has(m.id) && !reachedSource.has(m.id));
        expect(seqs(vanished), `join ${joined.phase}: accepted from bob, then neither delivered, stored nor failed`).toEqual([]);
        // After a join the target resyncs from the Message Store: what the store holds is on the target too.
        if (joined.phase === 'replaced') expect(seqs(missing.filter((m) => inStore.has(m.id)))).toEqual([]);
      }
      // The conversation goes on on the target.
      const after = await bob.agent.sendMessage(conversationId, 'after the crash');
      await desktop.until('message', (m) => m.id === after.id);
    },
  );
});
