/**
 * The DeviceAgent's account commands through the DeviceApi, on the lab: signing in with an AccountConfig,
 * registration state events (success and a wrong password), what the API refuses before and after, and
 * signing out. Also the terminal program in its readable (non-JSON) mode, in-process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig, RegistrationStatus } from '../electron/api/payloads';
import { runCli } from '../electron/device/cli';
import { MemoryMessageHistory } from '../electron/device/chat/message-history';
import { DeviceAgent } from '../electron/device/device-agent';
import { LabNetwork } from '../server/lab/lab-network';
import { waitFor } from './helpers/lab-device';

let lab: LabNetwork;
let dataDir: string;
const agents: DeviceAgent[] = [];

beforeAll(async () => {
  lab = await LabNetwork.start();
  dataDir = await mkdtemp(join(tmpdir(), 'cpm-agent-api-'));
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await lab.close();
  await rm(dataDir, { recursive: true, force: true });
});

function config(overrides: Partial<AccountConfig> = {}): AccountConfig {
  const a = lab.description.domains.find((d) => d.domain === 'a.example')!;
  return {
    uri: 'sip:alice@a.example',
    displayName: 'Alice',
    deviceName: 'Laptop',
    password: 'alice-secret',
    websocketUrl: a.wss,
    trustedCertificatePem: lab.description.certificate,
    transferServiceUri: a.transferService,
    ...overrides,
  };
}

function newAgent(dir: string): { agent: DeviceAgent; states: RegistrationStatus[]; errors: string[] } {
  const agent = new DeviceAgent({ dataDir: dir, deviceName: 'Unnamed' });
  agents.push(agent);
  const states: RegistrationStatus[] = [];
  const errors: string[] = [];
  agent.on('registrationState', (s) => states.push(s));
  agent.on('error', (e) => errors.push(e.message));
  return { agent, states, errors };
}

describe('DeviceAgent account commands', () => {
  it('refuses what needs an account before signing in, with not-signed-in', async () => {
    const { agent } = newAgent(join(dataDir, 'idle'));
    await agent.start();
    expect(await agent.getAccount()).toBeNull();
    expect(await agent.listConversations()).toEqual([]);
    await expect(agent.listDevices()).rejects.toThrow('[not-signed-in] sign in first');
    await expect(agent.startChat('sip:bob@b.example')).rejects.toThrow(/\[not-signed-in\]/);
    await expect(agent.acceptSession('x')).rejects.toThrow(/\[not-signed-in\]/);
  });

  it('checks the AccountConfig at the boundary with the API’s validators', async () => {
    const { agent } = newAgent(join(dataDir, 'bad'));
    await expect(agent.signIn(config({ websocketUrl: 'http://nope' }))).rejects.toThrow(/\[invalid-argument\] signIn\.config\.websocketUrl/);
    await expect(agent.signIn({ uri: 'sip:alice@a.example' } as unknown as AccountConfig)).rejects.toThrow(/\[invalid-argument\]/);
    expect(await agent.getAccount()).toBeNull();
  });

  it('signs in over WSS: registering, then registered with a pub-gruu, under a stable instance id', async () => {
    const { agent, states, errors } = newAgent(join(dataDir, 'laptop'));
    const info = await agent.signIn(config());
    expect(info).toMatchObject({ uri: 'sip:alice@a.example', displayName: 'Alice', deviceName: 'Laptop', transferServiceUri: 'sip:cpm-transfer@a.example' });
    expect(info.instanceId).toMatch(/^urn:uuid:/);
    const registered = await waitFor('registered', () => states.find((s) => s.state === 'registered'));
    expect(states[0]!.state).toBe('registering');
    expect(registered.pubGruu).toBe(`sip:alice@a.example;gr=${info.instanceId}`);
    expect(registered.expiresAt).toBeGreaterThan(Date.now());
    expect(await agent.getAccount()).toMatchObject({ registration: 'registered', pubGruu: registered.pubGruu, instanceId: info.instanceId });
    await expect(agent.startChat('sip:bob@b.example')).resolves.toMatchObject({ peerUri: 'sip:bob@b.example' });

    await agent.signOut();
    expect(await agent.getAccount()).toBeNull();
    expect(states.at(-1)!.state).toBe('unregistered');
    expect(errors).toEqual([]); // signing out is not a network failure
    expect(lab.domain('a.example').core.location.bindings('sip:alice@a.example').map((b) => b.deviceName)).not.toContain('Laptop');
  });

  it('reports a refused registration as failed with the status, and refuses to chat while not registered', async () => {
    const { agent, states } = newAgent(join(dataDir, 'intruder'));
    await agent.signIn(config({ password: 'wrong', deviceName: 'Intruder' }));
    const failed = await waitFor('failed', () => states.find((s) => s.state === 'failed'));
    expect(failed.cause).toMatch(/^40[13] /);
    await expect(agent.startChat('sip:bob@b.example')).rejects.toThrow(/\[invalid-state\] not registered/);
  });
});

describe('DeviceAgent history per account', () => {
  it('opens the history of the account that signs in, once per AOR, and keeps it across sign-ins', async () => {
    const opened: string[] = [];
    const agent = new DeviceAgent({
      dataDir: join(dataDir, 'history'),
      deviceName: 'Laptop',
      history: (account) => {
        opened.push(account.uri);
        return new MemoryMessageHistory();
      },
    });
    agents.push(agent);
    let registered = false;
    agent.on('registrationState', (s) => {
      registered = s.state === 'registered';
    });
    await agent.signIn(config({ deviceName: 'Laptop' }));
    await waitFor('registered', () => registered);
    const conversation = await agent.startChat('sip:bob@b.example');
    await agent.signIn(config({ uri: 'sip:carol@a.example', password: 'carol-secret' }));
    expect(await agent.listConversations()).toEqual([]);
    await agent.signIn(config());
    expect((await agent.listConversations()).map((c) => c.id)).toEqual([conversation.id]);
    expect(opened).toEqual(['sip:alice@a.example', 'sip:carol@a.example']);
  });
});

describe('npm run device, readable mode (in-process)', () => {
  it('registers, lists devices, and quits cleanly on /quit', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: string[] = [];
    output.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const a = lab.description.domains.find((d) => d.domain === 'a.example')!;
    const done = runCli(['--ws', a.ws, '--user', 'sip:carol@a.example', '--password', 'carol-secret', '--device', 'Console', '--data', join(dataDir, 'cli')], { input, output });
    await waitFor('registered line', () => lines.find((l) => l.startsWith('* registered as sip:carol@a.example;gr=urn:uuid:')));
    await waitFor('device list event line', () => lines.find((l) => l === '* my other devices: (none)'));
    input.write('/devices\n');
    await waitFor('device list line', () => lines.find((l) => l.includes('* Console sip:carol@a.example;gr=')));
    input.write('/accept\n');
    await waitFor('an error line', () => lines.find((l) => l === '! nothing is ringing'));
    input.write('hello?\n');
    await waitFor('no conversation yet', () => lines.find((l) => l === '! no conversation: /chat <uri> first'));
    input.write('/quit\n');
    expect(await done).toBe(0);
    expect(lines.at(-1)).toBe('* bye');
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
  });
});
