/**
 * The production deployment for real: Kamailio (Debian 5.6) runs the config of deploy/kamailio/ for a.example
 * on loopback and free ports, with our Conversation Server beside it as its own process, the way
 * deploy/README.md runs it (server/conversation-server.ts with a JSON config file: its TLS files, Kamailio's
 * internal listener, the domain's Message Store file), forked through the lab's `ConversationServerProcess`
 * handle so that its SIP trace comes back over IPC. The test sees the server only as an operator would: its
 * SIP (what devices receive from it, what its trace says it received) and its store file. JsSIP devices register
 * over WS with digest, get GRUUs (RFC 5627), and see each other by name in their `reg` subscription, which
 * the Conversation Server serves from Kamailio's third-party REGISTERs (also after an un-REGISTER and a lost
 * connection); a wrong password is refused; a P-Asserted-Identity a client forges never reaches another
 * device (RFC 3325 §9.1); a CPM chat visits the Conversation Server originating then terminating; and a live
 * chat moves between Alice's devices (PROFILE.md flow 2). An in-path Conversation Server (flow 1) anchors
 * chats (recording them in the store file) and moves through the same config. Each describe block runs its tests in order on one Kamailio.
 * Set KAMAILIO_TEST_LOG=/path to keep Kamailio's debug log of each block (`/path.proxy`, `/path.in-path`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { createServer, createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKamailioConfig } from '../deploy/kamailio/render-config';
import { otherCpmDevices } from '../electron/device/device-list';
import { DeviceListWatcher } from '../electron/device/device-list-watcher';
import type { DeviceEventMap, DeviceEventName } from '../electron/api/device-api';
import { DeviceAgent } from '../electron/device/device-agent';
import { CpmUserAgent } from '../electron/device/sip/cpm-user-agent';
import { WsSocket } from '../electron/device/sip/ws-socket';
import { parseReginfo, unquoteParam, type RegContact } from '../protocol/reginfo/reginfo';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import { ConversationServerProcess } from '../server/lab/conversation-server-process';
import { SqliteMessageStore } from '../server/store/sqlite-message-store';
import { generateDevCertificate } from '../server/sip/transport/dev-certificate';
import { waitFor } from './helpers/lab-device';
import { startTcpRelay } from './helpers/tcp-relay';

const DOMAIN = 'a.example';
const ALICE = `sip:alice@${DOMAIN}`;
const PASSWORD = 'alice-secret';
const BOB = `sip:bob@${DOMAIN}`;
const BOB_PASSWORD = 'bob-secret';

interface KamDevice {
  ua: CpmUserAgent;
  watcher: DeviceListWatcher;
  wire: string[];
  registered: Promise<void>;
}

/** One running Kamailio with its Conversation Server process, and everything a test started against it. */
interface Stack {
  dir: string;
  kamailio: ChildProcess;
  /** Kamailio's stdout and stderr (the last 200 kB; everything with KAMAILIO_TEST_LOG). */
  log: string;
  /** The Conversation Server, in its own process. */
  cs: ConversationServerProcess;
  mode: ConversationMode;
  /** The domain's Message Store file, which the server writes. */
  storeFile: string;
  wsUrl: string;
  wssUrl: string;
  certificatePem: string;
  /** Every SIP message the Conversation Server received, as text (its trace, over IPC). */
  atCs: string[];
  devices: KamDevice[];
  agents: DeviceAgent[];
}

/** A DeviceAgent on Kamailio, with the payloads of its events and a way to wait for one. */
interface KamAgent {
  agent: DeviceAgent;
  until<E extends DeviceEventName>(type: E, match?: (payload: DeviceEventMap[E]) => boolean): Promise<DeviceEventMap[E]>;
}

/** Ports held on 127.0.0.1 until `release()`: nothing else binds them meanwhile (a server on port 0 included). */
interface ReservedPorts {
  ports: number[];
  release(): Promise<void>;
}

/** `count` distinct TCP ports on 127.0.0.1, held until released; the first is held for UDP too. */
async function reservePorts(count: number): Promise<ReservedPorts> {
  for (let attempt = 0; ; attempt++) {
    const servers = await Promise.all(
      Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve(s));
      })),
    );
    const ports = servers.map((s) => {
      const a = s.address();
      if (a === null || typeof a === 'string') throw new Error('no port');
      return a.port;
    });
    const closeTcp = (): Promise<unknown> => Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    const udp = createSocket('udp4');
    const udpHeld = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(ports[0], '127.0.0.1', () => resolve(true));
    });
    if (udpHeld) {
      return {
        ports,
        release: async () => {
          await closeTcp();
          await new Promise<void>((r) => udp.close(() => r()));
        },
      };
    }
    await closeTcp();
    if (attempt === 5) throw new Error('no free UDP port found');
  }
}

async function tcpReady(stack: Pick<Stack, 'kamailio' | 'log'>, port: number, timeoutMs: number): Promise<void> {
  const start = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (stack.kamailio.exitCode !== null) throw new Error(`kamailio exited ${stack.kamailio.exitCode}:\n${stack.log.slice(-3000)}`);
    if (Date.now() - start > timeoutMs) throw new Error(`kamailio did not listen on ${port}:\n${stack.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A JsSIP device against Kamailio's WS listener, with its reg subscription and every message it receives. */
function startDevice(stack: Stack, name: string, password = PASSWORD, url = stack.wsUrl): KamDevice {
  const socket = new WsSocket({ url, ...(url.startsWith('wss:') ? { trustedCertificatePem: stack.certificatePem } : {}) });
  const wire: string[] = [];
  let inner: (data: string) => void = () => undefined;
  Object.defineProperty(socket, 'ondata', {
    configurable: true,
    get: () => (data: string) => {
      wire.push(data);
      inner(data);
    },
    set: (fn: (data: string) => void) => {
      inner = fn;
    },
  });
  const ua = new CpmUserAgent({
    uri: ALICE,
    password,
    deviceName: name,
    instanceId: `urn:uuid:${randomUUID()}`,
    socket,
    connectionRecovery: { minIntervalSeconds: 1, maxIntervalSeconds: 2 },
  });
  ua.on('newMessage', () => undefined); // accept incoming MESSAGEs (200)
  const registered = new Promise<void>((resolve, reject) => {
    ua.on('registered', () => resolve());
    ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${String(e.cause)}`)));
  });
  registered.catch(() => undefined);
  const watcher = new DeviceListWatcher({ ua, aor: ALICE, retryMs: 500 });
  ua.start();
  const device = { ua, watcher, wire, registered };
  stack.devices.push(device);
  return device;
}

/** A full DeviceAgent on Kamailio, with the payloads of its events, and a way to wait for one. */
async function startAgent(stack: Stack, user: string, password: string, name: string): Promise<KamAgent> {
  const dataDir = await mkdtemp(join(stack.dir, 'agent-'));
  const agent = new DeviceAgent({ dataDir, deviceName: name, account: { uri: user, password, wsUrl: stack.wsUrl, transferServiceUri: `sip:cpm-transfer@${DOMAIN}` } });
  stack.agents.push(agent);
  const seen: { type: DeviceEventName; payload: unknown }[] = [];
  for (const type of ['registrationState', 'incomingSession', 'sessionState', 'message', 'transferProgress'] as const) agent.on(type, (payload) => seen.push({ type, payload }));
  const until = <E extends DeviceEventName>(type: E, match: (payload: DeviceEventMap[E]) => boolean = () => true): Promise<DeviceEventMap[E]> =>
    waitFor(`${name}: ${type}`, () => seen.find((e) => e.type === type && match(e.payload as DeviceEventMap[E]))?.payload as DeviceEventMap[E] | undefined, 10_000);
  await agent.start();
  await until('registrationState', (s) => s.state === 'registered');
  return { agent, until };
}

function others(d: KamDevice): string[] {
  return otherCpmDevices(d.watcher.devices).map((x) => x.name).sort();
}

/**
 * Kamailio for a.example in the foreground on free loopback ports, and our Conversation Server in `mode` beside
 * it, as production runs it: `npm run conversation-server -- --config cs.json` (deploy/README.md), told
 * Kamailio's internal listener; Kamailio's config is then rendered with the address the server describes.
 */
async function startStack(mode: ConversationMode): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'cpm-kamailio-'));
  const cert = await generateDevCertificate(2);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await writeFile(certFile, cert.cert);
  await writeFile(keyFile, cert.key, { mode: 0o600 });
  const storeFile = join(dir, `${DOMAIN}.sqlite`);
  const atCs: string[] = [];
  const csLog: string[] = [];
  // Kamailio's ports stay held while the server picks its own (port 0), then are freed for Kamailio.
  const reserved = await reservePorts(4);
  const [sipPort, wsPort, wssPort, internalPort] = reserved.ports;
  let cs: ConversationServerProcess | undefined;
  let cfg: string;
  try {
    const configFile = join(dir, 'cs.json');
    await writeFile(configFile, JSON.stringify({
      domain: DOMAIN,
      mode,
      host: '127.0.0.1',
      tlsKey: keyFile,
      tlsCert: certFile,
      tlsCa: certFile,
      core: `127.0.0.1:${internalPort!}`,
      store: storeFile,
    }, null, 2));
    cs = await ConversationServerProcess.start({
      name: `CS ${DOMAIN}`,
      configFile,
      trace: (direction, bytes) => {
        if (direction === 'in') atCs.push(new TextDecoder().decode(bytes));
      },
      log: (line) => csLog.push(line),
    });
    // Every message the server receives from here on is in its trace.
    await cs.setTracing(true);
    cfg = await writeKamailioConfig(
      {
        domain: DOMAIN,
        users: [{ user: 'alice', password: PASSWORD }, { user: 'bob', password: BOB_PASSWORD }],
        wsPort: wsPort!,
        wssPort: wssPort!,
        sipPort: sipPort!,
        internalPort: internalPort!,
        conversationServer: { host: cs.address.host, port: cs.address.port },
        tls: { certFile, keyFile, caFile: certFile },
        debugLevel: process.env.KAMAILIO_TEST_LOG ? 3 : 1,
      },
      join(dir, 'etc'),
    );
  } catch (error) {
    await cs?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await reserved.release();
  }
  const kamailio = spawn('kamailio', ['-DD', '-E', '-f', cfg, '-Y', join(dir, 'run'), '-m', '32', '-M', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stack: Stack = {
    dir,
    kamailio,
    log: '',
    cs,
    mode,
    storeFile,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    wssUrl: `wss://127.0.0.1:${wssPort}`,
    certificatePem: cert.cert,
    atCs,
    devices: [],
    agents: [],
  };
  const keep = process.env.KAMAILIO_TEST_LOG ? 20_000_000 : 200_000;
  const append = (b: Buffer): void => {
    stack.log = (stack.log + b.toString()).slice(-keep);
  };
  kamailio.stdout?.on('data', append);
  kamailio.stderr?.on('data', append);
  cs.on('unexpectedExit', (exit) => append(Buffer.from(`\n[test] the Conversation Server exited unexpectedly (${exit.signal ?? `code ${String(exit.code)}`}): ${csLog.slice(-5).join(' | ')}\n`)));
  try {
    await tcpReady(stack, wsPort!, 10_000);
  } catch (error) {
    await stopStack(stack);
    throw error;
  }
  return stack;
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  if (process.env.KAMAILIO_TEST_LOG) await writeFile(`${process.env.KAMAILIO_TEST_LOG}.${stack.mode}`, stack.log);
  await Promise.all(stack.agents.map((a) => a.close()));
  for (const d of stack.devices) {
    d.watcher.stop();
    d.ua.stop();
  }
  await stack.cs.close();
  const kamailio = stack.kamailio;
  if (kamailio.exitCode === null && kamailio.signalCode === null) {
    const exited = new Promise((r) => kamailio.once('exit', r));
    kamailio.kill('SIGTERM');
    const timer = setTimeout(() => kamailio.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  await rm(stack.dir, { recursive: true, force: true });
}

/**
 * The bindings of Alice the Conversation Server serves in its `reg` subscription, as `device` last saw them
 * (RFC 3680 §5.2: a full document replaces what was known, a partial one changes the contacts it names): what
 * the server learned from Kamailio's third-party REGISTERs, observed over SIP.
 */
function servedBindings(device: KamDevice): RegContact[] {
  const contacts = new Map<string, RegContact>();
  for (const message of device.wire) {
    if (!message.startsWith('NOTIFY ') || !/^Event:\s*reg\b/im.test(message)) continue;
    const body = message.slice(message.indexOf('\r\n\r\n') + 4);
    if (body.trim() === '') continue;
    const doc = parseReginfo(body);
    if (doc.state === 'full') contacts.clear();
    for (const registration of doc.registrations) {
      for (const contact of registration.contacts) {
        if (contact.state === 'active' && registration.state !== 'terminated') contacts.set(contact.id, contact);
        else contacts.delete(contact.id);
      }
    }
  }
  return [...contacts.values()];
}

/** The device names among {@link servedBindings}, sorted. */
function servedNames(device: KamDevice): string[] {
  return servedBindings(device).map((c) => unquoteParam(c.params['+cpm.device-name']) ?? '?').sort();
}

/** `from` starts a chat with Bob, Bob accepts; resolves once both sides are active. */
async function chat(from: KamAgent, bob: KamAgent): Promise<string> {
  const conversation = await from.agent.startChat(BOB);
  const incoming = await bob.until('incomingSession', (i) => i.conversationId === conversation.id);
  expect(incoming.peerUri).toBe(ALICE);
  await bob.agent.acceptSession(incoming.sessionId);
  await from.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'active');
  return conversation.id;
}

/** The service-control role of every INVITE for `target` the Conversation Server received, in order. */
function serviceRoles(stack: Stack, target: string): (string | undefined)[] {
  return stack.atCs.filter((m) => m.startsWith(`INVITE ${target} `)).map((m) => /^Route: <[^>]*;(orig|term)>/m.exec(m)?.[1]);
}

describe('Kamailio as the SIP/IP core of a.example, with our Conversation Server in proxy mode', () => {
  let stack: Stack;
  let laptop: KamDevice;
  let desktop: KamDevice;

  beforeAll(async () => {
    stack = await startStack('proxy');
  }, 30_000);

  afterAll(() => stopStack(stack), 15_000);

  it('two devices of Alice register with digest over WS and WSS, get pub-gruus, and see each other by name in their reg subscription', { timeout: 20_000 }, async () => {
    expect(stack.cs.pid).not.toBe(process.pid); // the server is its own process
    laptop = startDevice(stack, 'Laptop');
    desktop = startDevice(stack, 'Desktop', PASSWORD, stack.wssUrl);
    await Promise.all([laptop.registered, desktop.registered]).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- kamailio log ---\n${stack.log.slice(-4000)}`);
    });
    expect(laptop.ua.pubGruu).toBe(`${ALICE};gr=${laptop.ua.instanceId}`);
    expect(desktop.ua.pubGruu).toBe(`${ALICE};gr=${desktop.ua.instanceId}`);

    await waitFor('Laptop lists the Desktop', () => others(laptop).join() === 'Desktop', 10_000);
    await waitFor('Desktop lists the Laptop', () => others(desktop).join() === 'Laptop', 10_000);
    const desk = laptop.watcher.devices.find((d) => d.name === 'Desktop');
    expect(desk).toMatchObject({ instanceId: desktop.ua.instanceId, pubGruu: desktop.ua.pubGruu, cpmCapable: true, self: false });
  });

  it('the Conversation Server learns every binding with the GRUUs Kamailio gave the device (as its reg NOTIFYs show)', () => {
    const known = servedBindings(laptop);
    expect(servedNames(laptop)).toEqual(['Desktop', 'Laptop']);
    for (const device of [laptop, desktop]) {
      const entry = known.find((c) => unquoteParam(c.params['+sip.instance']) === device.ua.instanceId);
      const contact = (device.ua as unknown as { contact: { temp_gruu?: string } }).contact;
      expect(entry?.pubGruu).toBe(device.ua.pubGruu);
      expect(entry?.tempGruu?.uri).toBe(contact.temp_gruu);
    }
    // It learned them from Kamailio's third-party REGISTERs, which its trace shows.
    const thirdParty = stack.atCs.filter((m) => m.startsWith('REGISTER '));
    for (const device of [laptop, desktop]) expect(thirdParty.some((m) => m.includes(device.ua.instanceId))).toBe(true);
  });

  it('a device that signs out leaves the other device’s list', { timeout: 15_000 }, async () => {
    const phone = startDevice(stack, 'Phone');
    await phone.registered;
    await waitFor('Laptop lists the Phone', () => others(laptop).join() === 'Desktop,Phone', 10_000);
    phone.watcher.stop();
    phone.ua.unregister();
    await waitFor('Phone gone from the Laptop', () => others(laptop).join() === 'Desktop', 10_000);
    expect(servedNames(laptop)).toEqual(['Desktop', 'Laptop']);
  });

  it('a device whose WebSocket connection breaks leaves the other device’s list (usrloc drops the lost flow on its timer)', { timeout: 30_000 }, async () => {
    const relay = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(stack.wsUrl).port) });
    try {
      const tablet = startDevice(stack, 'Tablet', PASSWORD, `ws://127.0.0.1:${relay.port}`);
      await tablet.registered;
      await waitFor('Laptop lists the Tablet', () => others(laptop).includes('Tablet'), 10_000);
      tablet.watcher.stop();
      relay.cut();
      tablet.ua.stop(); // no reconnection, no un-REGISTER: only the closed connection can remove the binding
      await waitFor('Tablet gone from the Laptop', () => !others(laptop).includes('Tablet'), 20_000);
      expect(servedNames(laptop)).not.toContain('Tablet');
    } finally {
      await relay.close();
    }
  });

  it('a wrong password is refused', { timeout: 15_000 }, async () => {
    const intruder = startDevice(stack, 'Intruder', 'not-the-password');
    await expect(intruder.registered).rejects.toThrow(/registration failed/);
    expect(servedNames(laptop)).not.toContain('Intruder');
    expect(stack.atCs.filter((m) => m.startsWith('REGISTER ') && m.includes('Intruder'))).toEqual([]);
  });

  it('a P-Asserted-Identity forged by a client never reaches the other device; the core asserts the authenticated user', { timeout: 15_000 }, async () => {
    const before = desktop.wire.length;
    laptop.ua.sendMessage(desktop.ua.pubGruu!, 'hello from the laptop', {
      extraHeaders: ['P-Asserted-Identity: <sip:mallory@a.example>', 'P-Preferred-Identity: <sip:mallory@a.example>'],
    });
    const message = await waitFor('the Desktop receives the MESSAGE', () => desktop.wire.slice(before).find((m) => m.startsWith('MESSAGE ')), 10_000);
    expect(message).not.toMatch(/mallory/i);
    expect(message).toMatch(/^P-Asserted-Identity: <sip:alice@a\.example>\r$/m);
    expect(message).toContain('hello from the laptop');
  });

  it('a CPM chat between two users of a.example visits the Conversation Server originating, then terminating, and carries a message', { timeout: 30_000 }, async () => {
    const alice = await startAgent(stack, ALICE, PASSWORD, 'Alice chat');
    const bob = await startAgent(stack, BOB, BOB_PASSWORD, 'Bob desk');
    const conversationId = await chat(alice, bob);

    expect(serviceRoles(stack, BOB)).toEqual(['orig', 'term']);
    const invites = stack.atCs.filter((m) => m.startsWith(`INVITE ${BOB} `));
    for (const invite of invites) expect(invite).toMatch(/^P-Asserted-Identity: <sip:alice@a\.example>\r$/m);

    const sent = await alice.agent.sendMessage(conversationId, 'hello Bob, through Kamailio');
    const received = await bob.until('message', (m) => m.id === sent.id);
    expect(received.text).toBe('hello Bob, through Kamailio');
  });

  it('Alice moves a live chat from her Laptop to her Desktop through Kamailio (PROFILE.md flow 2), and Bob’s next message reaches the Desktop', { timeout: 40_000 }, async () => {
    const outcome = await moveAndCheck(stack);
    expect(outcome).toMatchObject({ phase: 'completed', outcome: 'moved' });
  });
});

describe('Kamailio with our Conversation Server in in-path mode', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('in-path');
  }, 30_000);

  afterAll(() => stopStack(stack), 15_000);

  it('a CPM chat is anchored by the Conversation Server: its new leg comes back through the core (odi without Call-ID) and reaches Bob', { timeout: 30_000 }, async () => {
    const alice = await startAgent(stack, ALICE, PASSWORD, 'Alice in-path');
    const bob = await startAgent(stack, BOB, BOB_PASSWORD, 'Bob in-path');
    const conversationId = await chat(alice, bob);
    expect(serviceRoles(stack, BOB)).toEqual(['orig', 'term']);
    const callIds = stack.atCs.filter((m) => m.startsWith(`INVITE ${BOB} `)).map((m) => /^Call-ID: (.*)\r$/m.exec(m)?.[1]);
    expect(new Set(callIds).size).toBe(2); // the B2BUA's second leg is a new dialog
    const sent = await alice.agent.sendMessage(conversationId, 'relayed by the Conversation Server');
    expect((await bob.until('message', (m) => m.id === sent.id)).text).toBe('relayed by the Conversation Server');
    // In-path, the server records Alice's side of what it relays in the domain's Message Store file.
    const store = SqliteMessageStore.open({ path: stack.storeFile });
    try {
      await waitFor('the relayed message in the store', () => store.fetchAfter(ALICE, conversationId).messages.some((m) => m.messageId === sent.id), 10_000);
    } finally {
      store.close();
    }
  });

  it('Alice moves a live chat from her Laptop to her Desktop (PROFILE.md flow 1)', { timeout: 40_000 }, async () => {
    const outcome = await moveAndCheck(stack);
    expect(outcome).toMatchObject({ phase: 'completed', outcome: 'moved' });
  });
});

/** Laptop chats with Bob, moves the chat to Desktop (auto-accept); Bob's next message reaches Desktop. */
async function moveAndCheck(stack: Stack): Promise<DeviceEventMap['transferProgress']> {
  const laptopAgent = await startAgent(stack, ALICE, PASSWORD, 'Move laptop');
  const desktopAgent = await startAgent(stack, ALICE, PASSWORD, 'Move desktop');
  await desktopAgent.agent.setAutoAccept(true);
  const bob = await startAgent(stack, BOB, BOB_PASSWORD, 'Bob phone');
  const conversationId = await chat(laptopAgent, bob);
  await waitFor('the Laptop lists the Desktop', async () => (await laptopAgent.agent.listDevices()).some((d) => d.name === 'Move desktop'), 10_000);

  const transferId = await laptopAgent.agent.moveConversation(conversationId, desktopAgent.agent.instance!);
  const outcome = await laptopAgent.until('transferProgress', (p) => p.transferId === transferId && ['completed', 'declined', 'timed-out', 'failed'].includes(p.phase));
  if (outcome.phase === 'completed') {
    const fromBob = await bob.agent.sendMessage(conversationId, 'now on your Desktop?');
    expect((await desktopAgent.until('message', (m) => m.id === fromBob.id)).text).toBe('now on your Desktop?');
  }
  return outcome;
}
