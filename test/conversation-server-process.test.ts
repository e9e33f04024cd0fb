/**
 * The Conversation Server as its own process (issue 5): the lab forks server/conversation-server.ts once per
 * domain (`conversationServers: 'process'`), as production runs it beside Kamailio.
 *
 * 1. For each of the four mode pairs: both servers are other processes; alice's Laptop and bob (DeviceAgents,
 *    JsSIP under Node) chat both ways; the lab trace, fed by the children over IPC, shows the INVITE passing
 *    core A → CS A → core A → core B → CS B → core B, each hop to or from a server recorded on both sides, and
 *    each element's receipt of it later than the one before (the servers stamp their own entries).
 *    A server's trace entry is stamped by the server: one it read while the lab's process was busy is dated
 *    then. With CS A in-path, the chat then moves from alice's Laptop to her Desktop under load with nothing
 *    lost, and what CS A (in its process) relayed is in the Message Store file the lab's own connection reads.
 * 2. A server SIGKILLed mid-session: the lab logs it, both devices see the session end, a new chat gets a
 *    5xx from the core, the other domain's server runs on and the lab closes cleanly.
 * 3. The program with a bad setting: one line on stderr naming it, exit code 2, nothing on stdout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import { CONVERSATION_SERVER_V8_FLAGS } from '../server/conversation/v8-tuning';
import { ProcessState } from '../server/lab/conversation-server-process';
import { connectSipProbe, sipOptionsRequest } from '../server/lab/testing/sip-options-probe';
import {
  ChatLoad,
  moveBackAndForth,
  settledReports,
  setUpChat,
  startParty,
  waitUntil,
  type ChatSetup,
  type Party,
} from '../electron/device/testing/transfer-scenario';
import { hopLines } from './helpers/lab-hops';
import { useLab } from './helpers/use-lab';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROGRAM = join(REPO_ROOT, 'server', 'conversation-server.ts');

/** The way of a CPM INVITE from alice's Laptop to bob, through both domains' servers (any mode pair). */
const LAPTOP_TO_BOB = ['Laptop → core A', 'core A → CS A', 'CS A → core A', 'core A → core B', 'core B → CS B', 'CS B → core B', 'core B → Bob'];

const PAIRS: [ConversationMode, ConversationMode][] = [
  ['in-path', 'in-path'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['proxy', 'proxy'],
];

/**
 * A lab with both Conversation Servers forked, for one describe block: its trace on with the messages' text
 * (every forked server sending before the first test), its log lines kept, and the parties a test started
 * closed before the lab.
 */
function useProcessLab(modeA: ConversationMode, modeB: ConversationMode) {
  const parties: Party[] = [];
  const logs: string[] = [];
  const handle = useLab({ conversationServers: 'process', modeA, modeB, trace: { raw: true }, log: (line) => logs.push(line) }, async () => {
    await Promise.allSettled(parties.splice(0).map((p) => p.close()));
  });
  return {
    get lab() {
      return handle.lab;
    },
    parties,
    logs,
    track(setup: ChatSetup): ChatSetup {
      parties.push(setup.laptop, setup.desktop, setup.bob);
      return setup;
    },
  };
}

/** `party` shows an incoming message of `text` in the conversation. */
function receives(party: Party, conversationId: string, text: string): Promise<unknown> {
  return party.until('message', (m) => m.conversationId === conversationId && m.direction === 'incoming' && m.text === text);
}

describe.each(PAIRS)('both Conversation Servers as processes: CS A %s, CS B %s', (modeA, modeB) => {
  const suite = useProcessLab(modeA, modeB);

  it('chats both ways through the two other processes, the INVITE visiting each server between its core’s hops', async () => {
    const running = suite.lab;
    const [a, b] = [running.domain('a.example').conversationProcess, running.domain('b.example').conversationProcess];
    expect([a.mode, b.mode]).toEqual([modeA, modeB]);
    expect([a.state, b.state]).toEqual([ProcessState.Running, ProcessState.Running]);
    expect(new Set([process.pid, a.pid, b.pid]).size).toBe(3);
    // Each runs with the V8 flags of server/conversation/v8-tuning.ts, set by the program itself.
    for (const server of [a, b]) expect(server.description.v8Flags).toEqual([...CONVERSATION_SERVER_V8_FLAGS]);
    expect(running.description.domains.map((d) => d.conversationServer)).toEqual([a.description.sip, b.description.sip]);

    const setup = suite.track(await setUpChat(running));
    const { laptop, bob, conversationId } = setup;
    const bobGets = receives(bob, conversationId, 'hello from the laptop');
    await laptop.agent.sendMessage(conversationId, 'hello from the laptop');
    await bobGets;
    const laptopGets = receives(laptop, conversationId, 'hello back from bob');
    await bob.agent.sendMessage(conversationId, 'hello back from bob');
    await laptopGets;

    const invites = running.trace.hops({ methods: ['INVITE'] }).filter((h) => h.summary === 'INVITE' && h.raw?.includes(conversationId));
    expect(hopLines(invites)).toEqual(LAPTOP_TO_BOB);
    // The servers' sides of their hops came from the children: each such hop is recorded by both its ends.
    for (const hop of invites.filter((h) => h.from.startsWith('CS ') || h.to.startsWith('CS '))) {
      expect(hop.entries.map((e) => e.element).sort()).toEqual([hop.from, hop.to].sort());
    }
    // Each element along the way received the INVITE before the next one did (it sent it on only then), the
    // servers' receipts stamped by the servers themselves: their entries sit between their core's, by time.
    const receipts = invites.map((h) => h.entries.find((e) => e.direction === 'in'));
    expect(receipts.map((e) => e?.element)).toEqual(['core A', 'CS A', 'core A', 'core B', 'CS B', 'core B', 'Bob']);
    for (let i = 1; i < receipts.length; i++) expect(receipts[i]!.timestampNs > receipts[i - 1]!.timestampNs).toBe(true);
    // And the whole trace reads in time order, seq increasing.
    const entries = running.trace.entries();
    for (let i = 1; i < entries.length; i++) {
      expect(entries[i]!.seq).toBe(entries[i - 1]!.seq + 1);
      expect(entries[i]!.timestampNs >= entries[i - 1]!.timestampNs).toBe(true);
    }
  }, 30_000);
});

describe('the lab trace with the servers as processes', () => {
  const suite = useProcessLab('proxy', 'proxy');


  it('has a server’s entry stamped when the server read the message, not when the lab heard of it', async () => {
    const { lab } = suite;
    const cs = lab.domain('a.example').conversationProcess;
    // The lab's process stops reading (a busy loop) right after it wrote an OPTIONS to CS A, which reads it
    // meanwhile. Stamped when its IPC message arrived, CS A's entry would be later than the loop; stamped by
    // CS A, it falls inside the loop. (A server starved of CPU during the loop gets another try, longer.)
    let inside: { sent: bigint; seen: bigint; resumed: bigint } | undefined;
    for (let attempt = 1; attempt <= 5 && inside === undefined; attempt++) {
      const callId = `blocked-${attempt}`;
      const { socket, statusLine: answered } = await connectSipProbe(cs.address, lab.certificate.cert);
      try {
        const sent = process.hrtime.bigint();
        socket.write(sipOptionsRequest(cs.address, socket, callId));
        const resumed = sent + BigInt(attempt) * 100_000_000n;
        while (process.hrtime.bigint() < resumed) {
          // the lab's process does nothing else: no IPC message, no SIP message is read
        }
        await answered;
        const entry = await waitUntil('CS A’s entry of the OPTIONS', () => lab.trace.entries({ callId }).find((e) => e.element === 'CS A' && e.direction === 'in'));
        if (entry.timestampNs < resumed) inside = { sent, seen: entry.timestampNs, resumed };
      } finally {
        socket.destroy();
      }
    }
    expect(inside).toBeDefined();
    expect(inside!.sent < inside!.seen && inside!.seen < inside!.resumed).toBe(true);
  }, 30_000);
});

describe('a move between alice’s devices with both servers as processes (CS A in-path, CS B proxy)', () => {
  const suite = useProcessLab('in-path', 'proxy');

  it('moves the chat from Laptop to Desktop under load with nothing lost, and CS A’s history is in the shared store file', async () => {
    const running = suite.lab;
    const setup = suite.track(await setUpChat(running));
    const load = new ChatLoad(setup, { bobEveryMs: 20, aliceEveryMs: 50 });
    load.start();
    await waitUntil('some messages before the move', () => load.sent.length >= 10, 10_000);
    const run = await moveBackAndForth(setup, { maxMoves: 1 });
    await waitUntil('some messages after the move', () => load.sent.filter((m) => m.at > (run.windows[0]?.releasedAt ?? Infinity)).length >= 10, 10_000).catch(() => undefined);
    load.stop();
    expect(run.failure).toBeUndefined();
    expect(run.holder.name).toBe('Desktop');

    const { atBob, atHolder } = await settledReports(setup, load, run.holder);
    expect(atBob).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(atHolder).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // In-path, CS A records alice's side of what it relays: written by the child, read through the lab's connection.
    const stored = running.stores.domain('a.example').store.fetchAfter('sip:alice@a.example', setup.conversationId, { limit: 500 });
    expect(stored.messages.length).toBeGreaterThan(0);
    const sentIds = new Set(load.sent.map((m) => m.id));
    expect(stored.messages.filter((m) => sentIds.has(m.messageId)).length).toBeGreaterThan(0);
  }, 45_000);
});

describe('a Conversation Server process that dies mid-session', () => {
  const suite = useProcessLab('in-path', 'proxy');

  it('is logged by the lab, the devices see the session end, a new chat gets a 5xx, and the rest of the lab runs on', async () => {
    const { lab: running, parties, logs } = suite;
    const laptop = await startParty(running, 'sip:alice@a.example', 'Laptop', { autoAccept: true });
    parties.push(laptop);
    const bob = await startParty(running, 'sip:bob@b.example', 'Bob', { autoAccept: true });
    parties.push(bob);
    const conversation = await laptop.agent.startChat('sip:bob@b.example');
    const incoming = await bob.until('incomingSession', (s) => s.conversationId === conversation.id);
    await bob.agent.acceptSession(incoming.sessionId);
    const active = await laptop.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'active');
    await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && s.state === 'active');

    const csA = running.domain('a.example').conversationProcess;
    const pid = csA.pid;
    process.kill(pid, 'SIGKILL');
    await waitUntil('the lab logs the death', () => logs.find((l) => l.includes('exited unexpectedly')), 10_000);
    expect(logs.filter((l) => l.includes('exited unexpectedly'))).toEqual([
      expect.stringMatching(new RegExp(`^CS A \\(a\\.example, pid ${pid}\\) exited unexpectedly \\(SIGKILL\\); core A answers what it routes there with a 5xx`)),
    ]);
    expect(csA.state).toBe(ProcessState.Exited);
    expect(csA.exitStatus).toEqual({ code: null, signal: 'SIGKILL', expected: false });

    // The relay in the dead process carried the media: both ends see their session end.
    const over = (s: { state: string }): boolean => s.state === 'ended' || s.state === 'failed';
    await laptop.until('sessionState', (s) => s.sessionId === active.sessionId && over(s), 15_000);
    await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && over(s), 15_000);

    // A new chat: core A routes the INVITE to its (dead) server, the connection is refused, the device gets a 5xx.
    await laptop.agent.startChat('sip:bob@b.example');
    const refused = await laptop.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'failed' && s.sessionId !== active.sessionId, 15_000);
    expect(refused.cause).toMatch(/^5\d\d /);

    // The rest of the lab runs on: CS B's process, core A (still registered), and a clean close.
    expect(running.domain('b.example').conversationProcess.state).toBe(ProcessState.Running);
    expect(laptop.of('registrationState').at(-1)?.state).toBe('registered');
    await Promise.all(parties.splice(0).map((p) => p.close()));
    await running.close();
    expect(running.domain('b.example').conversationProcess.exitStatus).toEqual({ code: 0, signal: null, expected: true });
  }, 45_000);
});

describe('npm run conversation-server with a bad setting', () => {
  /** Run the program to its end; what it printed and how it exited. */
  function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', PROGRAM, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(guard);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it.each([
    [['--domain', 'a.example', '--mode', 'sideways', '--tls-key', 'k.pem', '--tls-cert', 'c.pem', '--core', '127.0.0.1:5062'], /--mode: must be one of in-path, proxy \(got "sideways"\)/],
    [['--domain', 'a.example', '--tls-key', 'k.pem', '--tls-cert', 'c.pem'], /--core: is required/],
    [['--domain', 'a.example', '--tls-key', '/nonexistent/k.pem', '--tls-cert', '/nonexistent/c.pem', '--core', '127.0.0.1:5062'], /cannot read the TLS key \/nonexistent\/k\.pem/],
    [['--domain', 'a.example', '--port', '70000', '--tls-key', 'k.pem', '--tls-cert', 'c.pem', '--core', '127.0.0.1:5062'], /--port: must be a port number \(0–65535\) \(got "70000"\)/],
    [['--domain', 'a.example', '--core'], /--core/],
  ])('%j: one clear line, exit code 2', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 25_000);

  it('names the unknown key of a config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpm-cs-config-'));
    try {
      const file = join(dir, 'cs.json');
      await writeFile(file, JSON.stringify({ domain: 'a.example', coreAddress: '127.0.0.1:5062' }));
      const result = await run(['--config', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`config ${file}: unknown setting "coreAddress"`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 25_000);
});
