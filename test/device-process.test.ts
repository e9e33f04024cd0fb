/**
 * The `npm run device` program as a real process on the lab: it registers, shows up in the other devices'
 * lists, chats; and when its process is killed with SIGKILL (no BYE, no un-REGISTER), the peer's session
 * ends cleanly (its MSRP connection is gone) and the device leaves its user's device list (its flow is gone).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otherCpmDevices } from '../electron/device/device-list';
import { LabNetwork } from '../server/lab/lab-network';
import { startLabAgent, type LabAgent } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';

let lab: LabNetwork;
const agents: LabAgent[] = [];
let child: ChildProcessWithoutNullStreams | undefined;
let dataDir = '';

beforeAll(async () => {
  lab = await LabNetwork.start();
  dataDir = await mkdtemp(join(tmpdir(), 'cpm-cli-'));
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL'); // the process group we started (npx, tsx and the device)
    } catch {
      // already gone
    }
  }
  await Promise.all(agents.map((a) => a.close()));
  await lab.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Spawn the CLI; every stdout line is parsed as one JSON event. */
function spawnCli(args: string[]): { proc: ChildProcessWithoutNullStreams; lines: Array<Record<string, unknown>>; stderr: string[] } {
  const proc = spawn('npx', ['tsx', 'electron/device/cli.ts', ...args, '--json'], { cwd: process.cwd(), detached: true, stdio: 'pipe' });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      stderr.push(`not JSON: ${line}`);
    }
  });
  createInterface({ input: proc.stderr }).on('line', (line) => stderr.push(line));
  return { proc, lines, stderr };
}

describe('the device CLI as a process', () => {
  it('rejects a bad command line with the usage and exit code 2', async () => {
    const bad = spawn('npx', ['tsx', 'electron/device/cli.ts', '--ws', 'http://x', '--user', 'sip:a@b', '--password', 'p', '--device', 'D'], { stdio: 'pipe' });
    const err: string[] = [];
    bad.stderr.on('data', (d: Buffer) => err.push(d.toString()));
    const code = await new Promise<number | null>((resolve) => bad.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/--ws must be a ws:\/\/ or wss:\/\/ URL[\s\S]*usage: npm run device/);
  });

  it('chats with Bob; SIGKILL on it ends Bob’s session and removes it from Alice’s device list', { timeout: 45_000 }, async () => {
    const [laptop, bob] = await Promise.all([startLabAgent(lab, 'sip:alice@a.example', 'Laptop'), startLabAgent(lab, 'sip:bob@b.example', 'Desk')]);
    agents.push(laptop, bob);
    const a = lab.description.domains.find((d) => d.domain === 'a.example')!;
    const cli = spawnCli(['--ws', a.ws, '--user', 'sip:alice@a.example', '--password', 'alice-secret', '--device', 'Terminal', '--data', dataDir]);
    child = cli.proc;
    const find = (type: string, match: (l: Record<string, unknown>) => boolean = () => true) => () => cli.lines.find((l) => l['type'] === type && match(l));
    const ready = await waitFor(`CLI ready (stderr: ${cli.stderr.join(' | ')})`, find('ready'), 30_000);
    await waitFor('CLI registered', find('registered'), 10_000);
    await waitFor('the Laptop lists the Terminal', () => otherCpmDevices(laptop.of('devices').at(-1) ?? []).some((d) => d.name === 'Terminal'));
    await waitFor('the CLI lists the Laptop', find('devices', (l) => (l['devices'] as Array<{ name: string }>).some((d) => d.name === 'Laptop')));

    cli.proc.stdin.write('/chat sip:bob@b.example\n');
    const incoming = await bob.until('incomingSession');
    expect(incoming.peerUri).toBe('sip:alice@a.example');
    await bob.agent.acceptSession(incoming.sessionId);
    await waitFor('CLI session active', find('session', (l) => l['state'] === 'active'));
    cli.proc.stdin.write('hello from the terminal\n');
    const got = await bob.until('message', (m) => m.direction === 'incoming');
    expect(got.text).toBe('hello from the terminal');
    await waitFor('CLI shows delivered', find('delivered', (l) => l['messageId'] === got.id));
    const reply = await bob.agent.sendMessage(incoming.conversationId, 'hello terminal');
    await waitFor('CLI shows Bob’s reply', find('message', (l) => l['id'] === reply.id && l['text'] === 'hello terminal'));

    process.kill(ready['pid'] as number, 'SIGKILL');
    const ended = await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && (s.state === 'ended' || s.state === 'failed'), 15_000);
    expect(ended).toMatchObject({ state: 'ended', cause: 'MSRP connection lost' });
    await waitFor('the Terminal gone from the Laptop’s list', () => !otherCpmDevices(laptop.of('devices').at(-1) ?? []).some((d) => d.name === 'Terminal'), 15_000);
  });
});
