/**
 * Both Conversation Servers in proxy mode, with real JsSIP devices: a CPM session from Alice to Bob passes
 * core A → CS A → core A → core B → CS B → core B → Bob's device, each element Record-Routing it; the session
 * tables hold it while it lives; BYE from either side ends it; service control refuses what it must.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNameAddr } from '../server/sip/message/name-addr';
import { toTag } from '../server/sip/message/header-fields';
import { parseMessageText } from '../server/sip/message/parse';
import { createRequest, type SipResponse } from '../server/sip/message/sip-message';
import { parseVia } from '../server/sip/message/via';
import { TransactionLayer } from '../server/sip/transaction/transaction-layer';
import { createTransportLayer } from '../server/sip/transport/sip-transport-layer';
import type { SipTransportLayer } from '../server/sip/transport/transport-types';
import { CpmSessionState } from '../server/conversation/proxy-mode/cpm-session-record';
import type { ProxyModeHandler } from '../server/conversation/proxy-mode/proxy-mode';
import { LabNetwork } from '../server/lab/lab-network';
import { waitFor } from './helpers/lab-device';
import { ALICE_LAPTOP_TO_BOB_DESKTOP, BOB_DESKTOP_TO_ALICE_LAPTOP, hopLines } from './helpers/lab-hops';
import { call, CPM_ACCEPT_CONTACT, cpmHeaders, startCallDevice, type CallDevice } from './helpers/msrp-call-device';

let lab: LabNetwork;
const devices: CallDevice[] = [];

/** A JsSIP device of `user` on the proxy/proxy lab, registered; stopped with the suite. */
async function startDevice(user: string, name: string): Promise<CallDevice> {
  const device = await startCallDevice(lab, user, name);
  devices.push(device);
  return device;
}

function proxyOf(domain: string): ProxyModeHandler {
  return lab.domain(domain).conversation.sessions as ProxyModeHandler;
}

let alice: CallDevice;
let bob: CallDevice;

beforeAll(async () => {
  lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy' });
  lab.trace.enable();
  [alice, bob] = await Promise.all([startDevice('sip:alice@a.example', 'alice laptop'), startDevice('sip:bob@b.example', 'bob desktop')]);
});

afterAll(async () => {
  await Promise.all(devices.map((d) => d.stop()));
  await lab?.close();
});

describe('a CPM session through two Conversation Servers in proxy mode', () => {
  it('the lab describes both domains as proxy mode', () => {
    expect(lab.description.domains.map((d) => [d.domain, d.mode])).toEqual([['a.example', 'proxy'], ['b.example', 'proxy']]);
    expect(lab.domain('a.example').conversation.sessions.mode).toBe('proxy');
  });

  it('Alice’s INVITE is answered by Bob’s device, passing core A → CS A → core A → core B → CS B → core B → Bob', async () => {
    const conversationId = randomUUID();
    const contributionId = randomUUID();
    const { session, confirmed } = call(alice, 'sip:bob@b.example', cpmHeaders(conversationId, contributionId));
    await confirmed;
    const callId = session.id.slice(0, session.id.length - session.local_identity.getParam('tag').length);
    const invites = lab.trace.hops({ callId, methods: ['INVITE'] }).filter((h) => h.summary === 'INVITE');
    expect(hopLines(invites)).toEqual(ALICE_LAPTOP_TO_BOB_DESKTOP);

    // Both session tables hold the session, each in its role, with the dialog and the devices.
    await waitFor('both sessions established', () =>
      proxyOf('a.example').sessions.sessions()[0]?.state === CpmSessionState.Established &&
      proxyOf('b.example').sessions.sessions()[0]?.state === CpmSessionState.Established);
    const a = proxyOf('a.example').sessions.sessions();
    const b = proxyOf('b.example').sessions.sessions();
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]!.roles).toEqual(['orig']);
    expect(b[0]!.roles).toEqual(['term']);
    const ok = alice.wire.map((m) => parseMessageText(m)).find((m) => m.type === 'response' && m.status === 200 && m.headers.get('Call-ID') === callId);
    const bobTag = toTag(ok!);
    for (const [record, domain] of [[a[0]!, 'a.example'], [b[0]!, 'b.example']] as const) {
      expect(record).toMatchObject({ callId, conversationId, contributionId, assertedIdentity: 'sip:alice@a.example' });
      expect(record.caller).toEqual({ aor: 'sip:alice@a.example', tag: session.local_identity.getParam('tag'), target: alice.ua.pubGruu });
      expect(record.callee.aor).toBe('sip:bob@b.example');
      expect(record.callee.target).toBe(bob.ua.pubGruu);
      expect(record.callee.tag).toBe(bobTag);
      // Target-Dialog names the tags in whichever order its sender sees them (RFC 4538 §4).
      expect(proxyOf(domain).findByDialog(callId, record.callee.tag, record.caller.tag)).toBe(record);
      expect(record.recordRoute).toHaveLength(8);
    }
    expect(lab.domain('a.example').conversation.sessionCount()).toBe(1);

    // Alice ends it: the BYE follows the route set through all four elements; both tables empty.
    session.terminate();
    await waitFor('both session tables empty', () =>
      lab.domain('a.example').conversation.sessionCount() === 0 && lab.domain('b.example').conversation.sessionCount() === 0);
    const byes = lab.trace.hops({ callId, methods: ['BYE'] }).filter((h) => h.summary === 'BYE');
    expect(hopLines(byes)).toEqual(ALICE_LAPTOP_TO_BOB_DESKTOP);
  });

  it('Bob’s device received the Via and Record-Route entries of all four elements, in order', () => {
    const raw = bob.wire.find((m) => m.startsWith('INVITE '))!;
    const invite = parseMessageText(raw);
    const coreA = lab.domain('a.example').core;
    const coreB = lab.domain('b.example').core;
    const csA = lab.domain('a.example').conversation.address;
    const csB = lab.domain('b.example').conversation.address;
    const coreBws = Number(new URL(lab.description.domains[1]!.ws).port);
    const coreAws = Number(new URL(lab.description.domains[0]!.ws).port);

    const vias = invite.headers.values('Via').map((v) => parseVia(v));
    expect(vias.map((v) => `${v.transport} ${v.port ?? ''}`)).toEqual([
      `WS ${coreBws}`,
      `TLS ${csB.port}`,
      `TLS ${coreB.internal.port}`,
      `TLS ${coreA.internal.port}`,
      `TLS ${csA.port}`,
      `TLS ${coreA.internal.port}`,
      expect.stringMatching(/^WSS? /),
    ]);

    const recordRoutes = invite.headers.values('Record-Route').map((r) => parseNameAddr(r).uriText);
    expect(recordRoutes).toEqual([
      `sip:127.0.0.1:${coreBws};transport=ws;lr`,
      `sip:127.0.0.1:${coreB.internal.port};transport=tls;lr`,
      `sip:127.0.0.1:${csB.port};transport=tls;lr`,
      `sip:127.0.0.1:${coreB.internal.port};transport=tls;lr`,
      `sip:127.0.0.1:${coreA.internal.port};transport=tls;lr`,
      `sip:127.0.0.1:${csA.port};transport=tls;lr`,
      `sip:127.0.0.1:${coreA.internal.port};transport=tls;lr`,
      `sip:127.0.0.1:${coreAws};transport=ws;lr`,
    ]);
    // What reached Bob: Alice's asserted identity, the CPM identifiers, no routing leftovers.
    expect(invite.headers.getAll('P-Asserted-Identity')).toEqual(['<sip:alice@a.example>']);
    expect(invite.headers.has('Route')).toBe(false);
    expect(invite.headers.has('Conversation-ID')).toBe(true);
  });

  it('Bob ends the next session with BYE; it goes back along the route set and both tables empty', async () => {
    const { session, confirmed } = call(alice, 'sip:bob@b.example', cpmHeaders());
    await confirmed;
    await waitFor('both tables hold the session', () =>
      lab.domain('a.example').conversation.sessionCount() === 1 && lab.domain('b.example').conversation.sessionCount() === 1);
    const ended = new Promise<string>((resolve) => session.on('ended', (e: { originator: string }) => resolve(e.originator)));
    const bobSide = bob.incoming.at(-1)!;
    bobSide.terminate();
    expect(await ended).toBe('remote');
    await waitFor('both session tables empty', () =>
      lab.domain('a.example').conversation.sessionCount() === 0 && lab.domain('b.example').conversation.sessionCount() === 0);
    const callId = parseMessageText(bob.wire.filter((m) => m.startsWith('INVITE ')).at(-1)!).headers.get('Call-ID')!;
    const byes = lab.trace.hops({ callId, methods: ['BYE'] }).filter((h) => h.summary === 'BYE');
    expect(hopLines(byes)).toEqual(BOB_DESKTOP_TO_ALICE_LAPTOP);
  });

  it('an INVITE without Conversation-ID is refused by CS A with 400, saying why, and leaves no session', async () => {
    const { confirmed } = call(alice, 'sip:bob@b.example', [CPM_ACCEPT_CONTACT, `Contribution-ID: ${randomUUID()}`]);
    const failure = await confirmed.then(() => undefined, (error: { status?: number; reason?: string }) => error);
    expect(failure).toMatchObject({ status: 400, reason: 'Bad Request: missing Conversation-ID' });
    expect(bob.incoming).toHaveLength(2); // the two sessions before, not this one
    expect(lab.domain('a.example').conversation.sessionCount()).toBe(0);
  });
});

describe('a CPM session between two users of one domain', () => {
  let carol: CallDevice;

  beforeAll(async () => {
    carol = await startDevice('sip:carol@a.example', 'carol phone');
  });

  const viaCsATwice = [
    'alice laptop → core A',
    'core A → CS A',
    'CS A → core A',
    'core A → CS A',
    'CS A → core A',
    'core A → carol phone',
  ];

  it('passes CS A twice, originating then terminating, and is one session with both roles until Carol’s BYE', async () => {
    const { session, confirmed } = call(alice, 'sip:carol@a.example', cpmHeaders());
    await confirmed;
    const callId = parseMessageText(carol.wire.filter((m) => m.startsWith('INVITE ')).at(-1)!).headers.get('Call-ID')!;
    const invites = lab.trace.hops({ callId, methods: ['INVITE'] }).filter((h) => h.summary === 'INVITE');
    expect(hopLines(invites)).toEqual(viaCsATwice);
    await waitFor('the session established', () => proxyOf('a.example').sessions.sessions()[0]?.state === CpmSessionState.Established);
    const [record] = proxyOf('a.example').sessions.sessions();
    expect(record!.roles).toEqual(['orig', 'term']);
    expect(proxyOf('a.example').sessionCount()).toBe(1);
    expect(record!.callee.aor).toBe('sip:carol@a.example');

    const ended = new Promise<void>((resolve) => session.on('ended', () => resolve()));
    carol.incoming.at(-1)!.terminate();
    await ended;
    await waitFor('the table empty', () => proxyOf('a.example').sessionCount() === 0);
    expect(record!.state).toBe(CpmSessionState.Terminated);
    expect(record!.endReason).toBe('bye');
  });

  it('Alice cancels before Carol answers: the CANCEL follows the INVITE through CS A, 487, no session', async () => {
    carol.autoAnswer = false;
    const offered = carol.incoming.length;
    const { session, confirmed } = call(alice, 'sip:carol@a.example', cpmHeaders());
    await waitFor('Carol is offered the session', () => carol.incoming.length > offered);
    session.terminate();
    const failure = await confirmed.then(() => undefined, (error: { status?: number; message?: string }) => error);
    expect(failure?.message).toBe('call failed: Canceled');
    const callId = parseMessageText(carol.wire.filter((m) => m.startsWith('INVITE ')).at(-1)!).headers.get('Call-ID')!;
    await waitFor('the 487 back at Alice', () => lab.trace.hops({ callId }).some((h) => h.status === 487 && h.to === 'alice laptop'));
    const cancels = lab.trace.hops({ callId, methods: ['CANCEL'] }).filter((h) => h.summary === 'CANCEL');
    expect(hopLines(cancels)).toEqual(viaCsATwice);
    expect(proxyOf('a.example').sessionCount()).toBe(0);
    carol.autoAnswer = true;
  });
});

describe('service control against a forged originator', () => {
  let transport: SipTransportLayer;
  let layer: TransactionLayer;

  beforeAll(async () => {
    transport = await createTransportLayer({
      listeners: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }],
      tls: { key: lab.certificate.key, cert: lab.certificate.cert },
      tlsClient: { ca: lab.certificate.cert },
    });
    layer = new TransactionLayer(transport);
  });

  afterAll(async () => {
    layer?.close();
    await transport?.close();
  });

  /** An INVITE as a (misbehaving) trusted element would route it to CS A for originating service control. */
  function inviteToCsA(pai: string): Promise<SipResponse> {
    const cs = lab.domain('a.example').conversation.address;
    const self = transport.listeningPoint('tls')!;
    const request = createRequest('INVITE', 'sip:bob@b.example', [
      { name: 'Via', value: `SIP/2.0/TLS 127.0.0.1:${self.port};branch=z9hG4bK${randomUUID().replace(/-/g, '')}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'Route', value: `<sip:127.0.0.1:${cs.port};transport=tls;lr;orig>, <sip:127.0.0.1:${self.port};transport=tls;lr>` },
      { name: 'From', value: '<sip:alice@a.example>;tag=forged1' },
      { name: 'To', value: '<sip:bob@b.example>' },
      { name: 'Call-ID', value: `${randomUUID()}@test` },
      { name: 'CSeq', value: '1 INVITE' },
      { name: 'Contact', value: '<sip:alice@127.0.0.1:5999;transport=tls>' },
      { name: 'P-Asserted-Identity', value: pai },
      { name: 'Accept-Contact', value: CPM_ACCEPT_CONTACT.slice('Accept-Contact: '.length) },
      { name: 'Conversation-ID', value: randomUUID() },
      { name: 'Contribution-ID', value: randomUUID() },
    ]);
    return new Promise((resolve, reject) => {
      const tx = layer.sendRequest(request, { protocol: 'tls', host: cs.host, port: cs.port });
      tx.on('response', (response: SipResponse) => {
        if (response.status >= 200) resolve(response);
      });
      tx.on('timeout', () => reject(new Error('no final response')));
      tx.on('transportError', (error: Error) => reject(error));
    });
  }

  it('an originating INVITE whose asserted identity is not its From user is refused with 403', async () => {
    const response = await inviteToCsA('<sip:carol@a.example>');
    expect(response.status).toBe(403);
    expect(response.reason).toBe('Forbidden: P-Asserted-Identity is not the From user');
    expect(lab.domain('a.example').conversation.sessionCount()).toBe(0);
  });

  it('an originating INVITE with no asserted identity at all is refused with 403', async () => {
    const request = await inviteToCsA('<tel:+15550100>');
    expect(request.status).toBe(403);
    expect(request.reason).toBe('Forbidden: no P-Asserted-Identity');
  });
});

describe('mode pairs: CS A in-path, CS B proxy', () => {
  let mixed: LabNetwork;
  const logged: string[] = [];

  beforeAll(async () => {
    mixed = await LabNetwork.start({ modeA: 'in-path', modeB: 'proxy', log: (line) => logged.push(line) });
  });

  afterAll(async () => {
    await mixed?.close();
  });

  it('describes each domain’s mode, serves CS A with the in-path handler, and connects the session through it', async () => {
    expect(mixed.description.domains.map((d) => d.mode)).toEqual(['in-path', 'proxy']);
    const csA = mixed.domain('a.example').conversation;
    expect(csA.mode).toBe('in-path');
    expect(csA.sessions.mode).toBe('in-path');
    expect(logged.filter((line) => line.includes('not available'))).toEqual([]);

    const [carol, bob2] = await Promise.all([startCallDevice(mixed, 'sip:carol@a.example', 'carol phone'), startCallDevice(mixed, 'sip:bob@b.example', 'bob tablet')]);
    try {
      const { session, confirmed } = call(carol, 'sip:bob@b.example', cpmHeaders());
      await confirmed;
      await waitFor('both servers hold the session', () => csA.sessionCount() === 1 && mixed.domain('b.example').conversation.sessionCount() === 1);
      session.terminate();
      await waitFor('both servers empty', () => csA.sessionCount() === 0 && mixed.domain('b.example').conversation.sessionCount() === 0);
    } finally {
      await Promise.all([carol.stop(), bob2.stop()]);
    }
  });
});
