/**
 * Hostile peers against a DeviceAgent's MSRP listener (RFC 4975 over TCP on loopback) while a live chat between
 * two DeviceAgents runs through the lab (both Conversation Servers in proxy mode, so Alice's device, the offerer,
 * connects straight to Bob's listener, RFC 6135). Bad framing, wrong To-Paths, oversize chunks and heads, a flood
 * of ~200 connections and random garbage each get an MSRP error response or a closed connection; the chat keeps
 * delivering every message once and in order, the session stays up, nothing rejects unhandled, and the process's
 * TCP sockets (Bob's accepted connections and our hostile ends) return to their number before the attack.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../electron/api/payloads';
import { formatMsrpUri, type MsrpUri } from '../protocol/msrp/msrp-uri';
import { parseMsrpSdp } from '../protocol/sdp/msrp-sdp';
import { LabNetwork } from '../server/lab/lab-network';
import { HOSTILE_RESPONSE_END as RESPONSE, HOSTILE_TID as TID, garbage, hostileSend as send, rawExchange, type RawExchange } from './helpers/hostile-msrp-peer';
import { startLabAgent, type LabAgent } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';

/** The MSRP transport's parser bounds (protocol/msrp DEFAULT_PARSER_LIMITS): one chunk ≤ 1 MiB, a head ≤ 16 KiB. */
const MAX_CHUNK_BYTES = 1024 * 1024;
const MAX_HEAD_BYTES = 16 * 1024;
const FLOOD = 200;

let lab: LabNetwork;
let alice: LabAgent;
let bob: LabAgent;
let conversation: ConversationSummary;
let bobSessionId = '';
/** Bob's live session URI (his `a=path`) and Alice's (the session's peer). */
let bobUri: MsrpUri;
let aliceUri: MsrpUri;
let sentTexts: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

/** TCP sockets open in this process (both ends of every loopback connection). */
function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy' });
  lab.trace.enable({ raw: true });
  [alice, bob] = await Promise.all([
    startLabAgent(lab, 'sip:alice@a.example', 'Laptop', { sessionKeepAliveMs: 0 }),
    startLabAgent(lab, 'sip:bob@b.example', 'Desk', { sessionKeepAliveMs: 0 }),
  ]);
  conversation = await alice.agent.startChat('sip:bob@b.example');
  const incoming = await bob.until('incomingSession');
  bobSessionId = incoming.sessionId;
  await bob.agent.acceptSession(bobSessionId);
  await alice.until('sessionState', (s) => s.conversationId === conversation.id && s.state === 'active');
  await bob.until('sessionState', (s) => s.sessionId === bobSessionId && s.state === 'active');
  // Both paths as they crossed the wire: Alice's offer and Bob's answer.
  const invite = lab.trace.entries({ methods: ['INVITE'] }).find((e) => e.status === undefined && (e.raw ?? '').includes(conversation.id));
  const answer = lab.trace.entries({ callId: invite?.callId, methods: ['INVITE'] }).find((e) => e.status === 200 && e.raw);
  const body = (raw: string | undefined): string => (raw ?? '').slice((raw ?? '').indexOf('\r\n\r\n') + 4);
  aliceUri = parseMsrpSdp(body(invite?.raw)).path[0]!;
  bobUri = parseMsrpSdp(body(answer?.raw)).path[0]!;
}, 30_000);

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await lab?.close();
  process.off('unhandledRejection', onUnhandled);
});

/**
 * Connect to Bob's listener, write `bytes`, and read until Bob closes the connection or the reply matches
 * `until`; then close our end. Without `until`, only Bob closing ends it (every such case must be closed by Bob).
 */
function exchange(bytes: Uint8Array | string, until?: RegExp): Promise<RawExchange> {
  return rawExchange({ host: bobUri.host, port: bobUri.port ?? 2855 }, bytes, until);
}

/** Alice sends `count` numbered messages on the live chat (recorded, to be checked at Bob at the end). */
async function chatTraffic(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const text = `good ${sentTexts.length}`;
    sentTexts.push(text);
    await alice.agent.sendMessage(conversation.id, text);
  }
}

describe('A DeviceAgent’s MSRP listener under hostile input keeps its live chat going', () => {
  let baseline = 0;

  it('starts from a live chat whose paths the lab trace recorded', async () => {
    expect(bobUri.sessionId).not.toBe(aliceUri.sessionId);
    sentTexts = [];
    await chatTraffic(5);
    await waitFor('the first messages at Bob', () => bob.of('message').filter((m) => m.direction === 'incoming').length >= 5);
    baseline = tcpSockets();
    expect(baseline).toBeGreaterThan(0);
  });

  it('answers a SEND to a session Bob does not have with 481', async () => {
    const unknown = formatMsrpUri({ ...bobUri, sessionId: 'nosuchsession0000' });
    const [reply] = await Promise.all([exchange(send(unknown, 'msrp://127.0.0.1:9/evil;tcp', 'hi'), RESPONSE), chatTraffic(10)]);
    expect(reply.text).toMatch(new RegExp(`^MSRP ${TID} 481 `));
  });

  // RFC 4975 §7.3.1 has 506 for a session already bound to another connection; Bob's transport no longer
  // lists a bound session as waiting and answers 481. Either refuses; neither may deliver.
  it('refuses a SEND naming Bob’s live session from another connection (481 or 506), even with Alice’s From-Path', async () => {
    const [hijack] = await Promise.all([exchange(send(formatMsrpUri(bobUri), formatMsrpUri(aliceUri), 'hijack'), RESPONSE), chatTraffic(10)]);
    expect(hijack.text).toMatch(new RegExp(`^MSRP ${TID} (481|506) `));
    expect(bob.of('message').some((m) => m.text === 'hijack')).toBe(false);
  });

  it('answers an unknown method with 501 and an unparseable To-Path with 400', async () => {
    const unknownMethod = await exchange(`MSRP ${TID} FROB\r\nTo-Path: ${formatMsrpUri(bobUri)}\r\nFrom-Path: msrp://127.0.0.1:9/e;tcp\r\n-------${TID}$\r\n`, RESPONSE);
    expect(unknownMethod.text).toMatch(new RegExp(`^MSRP ${TID} 501 `));
    const badPath = await exchange(send('not-a-uri', 'msrp://127.0.0.1:9/e;tcp', 'x'), RESPONSE);
    expect(badPath.text).toMatch(new RegExp(`^MSRP ${TID} 400 `));
  });

  it('closes connections with broken framing', async () => {
    const cases = [
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      `MSRP ${TID} SEND\nTo-Path: x\n\n`, // bare LF
      `MSRP ${TID} SEND\r\nTo-Path: ${formatMsrpUri(bobUri)}\r\nFrom-Path: msrp://a:1/b;tcp\r\n-------wrongtid$\r\n`,
      `MSRP ${TID} SEND\r\nBad Header Line\r\n`,
      `MSRP ${TID} 200 OK\r\nTo-Path: x\r\nFrom-Path: y\r\n\r\nbody\r\n-------${TID}$\r\n`, // a response with a body
    ];
    const [replies] = await Promise.all([Promise.all(cases.map((c) => exchange(c))), chatTraffic(10)]);
    for (const r of replies) expect(r).toEqual({ text: '', closed: true });
  });

  it('closes connections whose chunk or head is over the bounds', async () => {
    const chunk = send(formatMsrpUri({ ...bobUri, sessionId: 'oversize00000000' }), 'msrp://127.0.0.1:9/big;tcp', 'y'.repeat(MAX_CHUNK_BYTES + 10));
    const head = `MSRP ${TID} SEND\r\nTo-Path: ${formatMsrpUri(bobUri)}\r\nX-Pad: ${'z'.repeat(MAX_HEAD_BYTES + 100)}\r\n`;
    const [replies] = await Promise.all([Promise.all([exchange(chunk), exchange(head)]), chatTraffic(10)]);
    for (const r of replies) expect(r).toMatchObject({ closed: true });
    for (const r of replies) expect(r.text).not.toMatch(/ 200 /);
  });

  it(`survives a flood of ${FLOOD} connections: half answered 481, half held idle until we drop them`, async () => {
    const idle: Socket[] = [];
    const opened = Array.from({ length: FLOOD / 2 }, () => new Promise<void>((resolve) => {
      const socket = connect(bobUri.port ?? 2855, bobUri.host, () => resolve());
      socket.on('error', () => resolve());
      idle.push(socket);
    }));
    const bindings = Array.from({ length: FLOOD / 2 }, (_, i) =>
      exchange(send(formatMsrpUri({ ...bobUri, sessionId: `flood${String(i).padStart(11, '0')}` }), `msrp://127.0.0.1:9/f${i};tcp`), RESPONSE),
    );
    await Promise.all(opened);
    // Bob accepted every idle one (each is two sockets in this process) and keeps them while the chat goes on.
    await waitFor('Bob to accept the idle connections', () => tcpSockets() >= baseline + FLOOD);
    const [replies] = await Promise.all([Promise.all(bindings), chatTraffic(20)]);
    for (const r of replies) expect(r.text).toMatch(new RegExp(`^MSRP ${TID} 481 `));
    expect(idle.every((s) => !s.destroyed)).toBe(true);
    for (const s of idle) s.destroy();
  });

  // Each ends with CRLF so that its first line is complete and judged at once: garbage without a line end is
  // a head still arriving, which Bob's listener closes only when the unbound connection times out (30 s, not
  // settable through the DeviceAgent) or at 16 KiB.
  it('closes or answers connections that send random garbage', async () => {
    const junk = Array.from({ length: 40 }, (_, i) => exchange(Uint8Array.from([...garbage(i + 1, 64 + ((i * 997) % 4000)), 0x0d, 0x0a])));
    const [replies] = await Promise.all([Promise.all(junk), chatTraffic(10)]);
    for (const r of replies) expect(r.closed || /^MSRP \S+ [45]\d\d /.test(r.text)).toBe(true);
  });

  it('still delivers every chat message once and in order, keeps the session, leaks no socket and rejects nothing unhandled', async () => {
    await chatTraffic(10);
    const reply = await bob.agent.sendMessage(conversation.id, 'still here');
    await alice.until('message', (m) => m.id === reply.id);
    const atBob = (): string[] => bob.of('message').filter((m) => m.direction === 'incoming').map((m) => m.text);
    await waitFor('every good message at Bob', () => atBob().length >= sentTexts.length);
    expect(atBob()).toEqual(sentTexts);
    expect(new Set(bob.of('message').filter((m) => m.direction === 'incoming').map((m) => m.id)).size).toBe(sentTexts.length);
    expect(bob.of('sessionState').filter((s) => s.sessionId === bobSessionId).map((s) => s.state)).not.toContain('ended');
    expect((await bob.agent.listConversations()).find((c) => c.id === conversation.id)?.activeSessionId).toBe(bobSessionId);
    await waitFor('the TCP sockets back to their number before the attack', () => tcpSockets() === baseline, 10_000);
    expect(unhandled).toEqual([]);
  }, 20_000);
});
