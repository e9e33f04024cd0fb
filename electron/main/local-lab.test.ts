import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { LabDescription } from '../../server/lab/lab-network';
import type { DeviceInfo } from '../api/payloads';
import { DeviceAgent } from '../device/device-agent';
import {
  LOCAL_LAB_FILE_NAME,
  LocalLab,
  LocalLabState,
  labAccountConfig,
  parseLocalLabFile,
  probeSipWebSocket,
  readLocalLabFile,
  type LocalLabFile,
} from './local-lab';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** A description shaped like the lab's, pointing at `ws` (tests that need no running lab). */
function description(ws: string): LabDescription {
  return {
    domains: [
      {
        domain: 'a.example', ws, wss: ws.replace('ws:', 'wss:'), udp: 1, tcp: 1, host: '127.0.0.1',
        transferService: 'sip:cpm-transfer@a.example', conversationServer: 'sip:127.0.0.1:1;transport=tls', mode: 'proxy',
        elements: { core: 'core A', conversationServer: 'CS A' }, store: 'http://127.0.0.1:1/',
      },
    ],
    users: [{ uri: 'sip:alice@a.example', password: 'alice-secret' }],
    certificate: PEM,
  };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

/**
 * Resolves with the first device list of `agent` that has `count` devices; rejects after `ms` saying what the
 * agent went through (registration states, errors, the last list).
 */
function devicesOf(agent: DeviceAgent, count: number, ms = 20_000): Promise<DeviceInfo[]> {
  const seen: string[] = [];
  const stops = [
    agent.on('registrationState', (s) => seen.push(`${s.state}${s.cause ? ` (${s.cause})` : ''}`)),
    agent.on('error', (e) => seen.push(`error: ${e.message}`)),
  ];
  return new Promise<DeviceInfo[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`expected ${count} devices; saw ${seen.join(', ')}`));
    }, ms);
    const stop = agent.on('devices', (list) => {
      seen.push(`devices [${list.map((d) => d.name).join(', ')}]`);
      if (list.length < count) return;
      clearTimeout(timer);
      stop();
      resolve(list);
    });
  }).finally(() => {
    for (const s of stops) s();
  });
}

let root: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cpm-local-lab-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe('Try it locally: two profiles of the app on one machine', () => {
  it('has the first profile start the lab and the second join it, both devices of one user seeing each other', async () => {
    const laptopLab = new LocalLab({ rootDir: root });
    const desktopLab = new LocalLab({ rootDir: root });
    cleanups.push(() => laptopLab.release(), () => desktopLab.release());

    // Two clicks at once in one profile start one lab, not two.
    const [laptopConfig, again] = await Promise.all([laptopLab.signInConfig('Laptop'), laptopLab.signInConfig('Laptop')]);
    expect(laptopConfig).toEqual(again);
    expect(laptopLab.state).toBe(LocalLabState.Owner);
    const written = await readLocalLabFile(join(root, LOCAL_LAB_FILE_NAME));
    expect(written.ok && written.file.pid).toBe(process.pid);
    expect(written.ok && written.file.description).toEqual(laptopLab.network?.description);

    const desktopConfig = await desktopLab.signInConfig('Desktop');
    expect(desktopLab.state).toBe(LocalLabState.Guest);
    expect(desktopLab.network).toBeNull();
    expect(desktopConfig).toEqual({ ...laptopConfig, deviceName: 'Desktop' });
    expect(laptopConfig).toMatchObject({ uri: 'sip:alice@a.example', displayName: 'Alice', transferServiceUri: 'sip:cpm-transfer@a.example' });
    expect(laptopConfig.websocketUrl).toBe(laptopLab.network?.description.domains[0]?.wss);
    expect(laptopConfig.trustedCertificatePem).toBe(laptopLab.network?.description.certificate);
    expect(laptopConfig.messageStoreUrl).toBe(laptopLab.network?.description.domains[0]?.store);
    const labWs = laptopLab.network!.description.domains[0]!.ws;

    const laptop = new DeviceAgent({ dataDir: join(root, 'profiles', 'laptop'), deviceName: 'Laptop' });
    const desktop = new DeviceAgent({ dataDir: join(root, 'profiles', 'desktop'), deviceName: 'Desktop' });
    cleanups.push(() => laptop.close(), () => desktop.close());
    // As a user does it: the first profile is signed in (and lists itself) before the second one opens.
    const laptopAlone = devicesOf(laptop, 1);
    await laptop.signIn(laptopConfig);
    expect((await laptopAlone).map((d) => d.name)).toEqual(['Laptop']);
    const laptopSees = devicesOf(laptop, 2);
    const desktopSees = devicesOf(desktop, 2);
    await desktop.signIn(desktopConfig);
    const [fromLaptop, fromDesktop] = await Promise.all([laptopSees, desktopSees]);
    expect(fromLaptop.map((d) => [d.name, d.self]).sort()).toEqual([['Desktop', false], ['Laptop', true]]);
    expect(fromDesktop.map((d) => [d.name, d.self]).sort()).toEqual([['Desktop', true], ['Laptop', false]]);

    await laptop.close();
    await desktop.close();
    // The guest leaves the lab alone; the owner removes the file and stops the lab.
    await desktopLab.release();
    expect(existsSync(join(root, LOCAL_LAB_FILE_NAME))).toBe(true);
    expect(await probeSipWebSocket(labWs, 2000)).toBe(true);
    await laptopLab.release();
    expect(existsSync(join(root, LOCAL_LAB_FILE_NAME))).toBe(false);
    expect(await probeSipWebSocket(labWs, 2000)).toBe(false);
    await expect(laptopLab.acquire()).rejects.toThrow('local lab: released');
  });

  it('ends two profiles that click at the same moment on one lab: one owns it, the other joins it', async () => {
    const first = new LocalLab({ rootDir: root });
    const second = new LocalLab({ rootDir: root });
    cleanups.push(() => first.release(), () => second.release());
    const [a, b] = await Promise.all([first.acquire(), second.acquire()]);
    expect(a).toEqual(b);
    expect([first.state, second.state].sort()).toEqual([LocalLabState.Guest, LocalLabState.Owner]);
    const owner = first.state === LocalLabState.Owner ? first : second;
    const onDisk = await readLocalLabFile(join(root, LOCAL_LAB_FILE_NAME));
    expect(onDisk.ok && onDisk.file.description).toEqual(owner.network?.description);
  });

  it('treats a file left by a process that is gone as stale: starts a fresh lab and replaces the file', async () => {
    const stale: LocalLabFile = { version: 1, pid: deadPid(), startedAt: 1, description: description(`ws://127.0.0.1:${await closedPort()}`) };
    await writeFile(join(root, LOCAL_LAB_FILE_NAME), JSON.stringify(stale));
    const lines: string[] = [];
    const lab = new LocalLab({ rootDir: root, log: (line) => lines.push(line) });
    cleanups.push(() => lab.release());

    const fresh = await lab.acquire();
    expect(lab.state).toBe(LocalLabState.Owner);
    expect(lines).toContain(`local lab: starting a lab (process ${stale.pid}, which started the lab, is not running)`);
    expect(fresh.domains[0]?.ws).not.toBe(stale.description.domains[0]?.ws);
    const onDisk = JSON.parse(await readFile(join(root, LOCAL_LAB_FILE_NAME), 'utf8')) as LocalLabFile;
    expect(onDisk.pid).toBe(process.pid);
    expect(onDisk.description.domains[0]?.ws).toBe(fresh.domains[0]?.ws);
  });

  it('does not join a lab whose process runs but whose WebSocket does not answer, and says why', async () => {
    const silent: LocalLabFile = { version: 1, pid: process.pid, startedAt: 1, description: description(`ws://127.0.0.1:${await closedPort()}`) };
    await writeFile(join(root, LOCAL_LAB_FILE_NAME), JSON.stringify(silent));
    const lines: string[] = [];
    // A bind address this machine does not have (TEST-NET-1, RFC 5737) makes the lab's own start fail.
    const lab = new LocalLab({ rootDir: root, log: (line) => lines.push(line), labOptions: { host: '192.0.2.1' } });
    cleanups.push(() => lab.release());
    await expect(lab.acquire()).rejects.toThrow(/EADDRNOTAVAIL/);
    expect(lines).toContain(`local lab: starting a lab (${silent.description.domains[0]!.ws} does not answer)`);
    expect(lab.state).toBe(LocalLabState.Idle);
  });
});

describe('probing a lab WebSocket', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A loopback WebSocket server that picks a subprotocol with `choose`; resolves with its URL. */
  async function webSocketServer(choose: (offered: Set<string>) => string | false): Promise<string> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true, handleProtocols: choose });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('error', () => undefined)));
    server.on('close', () => wss.close());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('accepts a server that agrees on the sip subprotocol and refuses one that does not (RFC 7118 §4)', async () => {
    expect(await probeSipWebSocket(await webSocketServer((p) => (p.has('sip') ? 'sip' : false)), 2000)).toBe(true);
    expect(await probeSipWebSocket(await webSocketServer(() => false), 2000)).toBe(false);
  });

  it('refuses a closed port and a URL that is not a WebSocket URL, without throwing', async () => {
    expect(await probeSipWebSocket(`ws://127.0.0.1:${await closedPort()}`, 2000)).toBe(false);
    expect(await probeSipWebSocket('not a url', 2000)).toBe(false);
  });
});

describe('the description file and the account it gives', () => {
  it('reads a missing file and a malformed one as problems in words', async () => {
    const path = join(root, LOCAL_LAB_FILE_NAME);
    expect(await readLocalLabFile(path)).toEqual({ ok: false, problem: `no ${LOCAL_LAB_FILE_NAME} yet` });
    await writeFile(path, '{"version": 1, "pid": 0');
    expect(await readLocalLabFile(path)).toMatchObject({ ok: false, problem: expect.stringContaining('is not a lab description') });
  });

  it.each([
    [{ version: 2 }, 'version: must be 1'],
    [{ version: 1, pid: -3, startedAt: 1 }, 'pid: must be a positive integer'],
    [{ version: 1, pid: 7, startedAt: 1, description: { domains: [] } }, 'description.domains: must be a non-empty array'],
    [{ version: 1, pid: 7, startedAt: 1, description: { ...description('ws://127.0.0.1:5'), certificate: 'x' } }, 'description.certificate: must be a PEM certificate'],
    [{ version: 1, pid: 7, startedAt: 1, description: { ...description('http://127.0.0.1:5') } }, 'description.domains[0].ws: must be a string matching ^ws:\\/\\/'],
    [{ version: 1, pid: 7, startedAt: 1, description: { ...description('ws://127.0.0.1:5'), users: [{ uri: 'alice', password: 'x' }] } }, 'description.users[0].uri: must be a SIP AOR'],
  ])('refuses a malformed file %#, naming the field', (value, problem) => {
    expect(() => parseLocalLabFile(value)).toThrow(problem);
  });

  it('signs in as the first user, on its own domain, trusting the lab certificate, with its domain’s Message Store', () => {
    const two = description('ws://127.0.0.1:5080');
    two.domains.unshift({
      ...two.domains[0]!, domain: 'b.example', ws: 'ws://127.0.0.1:6080', wss: 'wss://127.0.0.1:6443', transferService: 'sip:cpm-transfer@b.example', store: 'http://127.0.0.1:2/',
    });
    expect(labAccountConfig(two, 'Laptop')).toEqual({
      uri: 'sip:alice@a.example',
      displayName: 'Alice',
      deviceName: 'Laptop',
      password: 'alice-secret',
      websocketUrl: 'wss://127.0.0.1:5080',
      transferServiceUri: 'sip:cpm-transfer@a.example',
      trustedCertificatePem: PEM,
      messageStoreUrl: 'http://127.0.0.1:1/',
      depositHistory: true,
    });
  });

  it('has the device deposit only where the domain’s Conversation Server is a proxy (an in-path one deposits itself)', () => {
    const inPath = description('ws://127.0.0.1:5080');
    inPath.domains[0]!.mode = 'in-path';
    expect(labAccountConfig(inPath, 'Laptop')).toMatchObject({ messageStoreUrl: 'http://127.0.0.1:1/', depositHistory: false });
  });

  it('says so when the lab has no user, no domain for it, or the device name is unusable', () => {
    expect(() => labAccountConfig({ ...description('ws://127.0.0.1:5'), users: [] }, 'Laptop')).toThrow('local lab: the lab has no user to sign in as');
    expect(() => labAccountConfig({ ...description('ws://127.0.0.1:5'), users: [{ uri: 'sip:zed@z.example', password: 'p' }] }, 'Laptop')).toThrow(
      'local lab: the lab has no domain for sip:zed@z.example',
    );
    expect(() => labAccountConfig(description('ws://127.0.0.1:5'), '')).toThrow('local lab account.deviceName: must not be empty');
  });
});
