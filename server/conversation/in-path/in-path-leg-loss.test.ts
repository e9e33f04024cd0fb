/**
 * The source's MSRP leg lost (its device crashed) with the in-path server as T's far side (PROFILE.md "The
 * transfer, step by step", flow 1; issue 7): while a move of that leg is under way the session waits for the
 * target and loses nothing; when the move fails, or when no move was under way, the session ends and every
 * message the relay held gets a failure REPORT (RFC 4975 §7.1.2) and stays in the Message Store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCpim } from '../../../protocol/cpim/cpim';
import type { MsrpReport, MsrpSession, ReceivedMsrpMessage } from '../../../protocol/msrp/msrp-session';
import type { MessageInput } from '../../../protocol/store/store-types';
import { parseNameAddr } from '../../sip/message/name-addr';
import type { SipRequest } from '../../sip/message/sip-message';
import { buildResponse } from '../../sip/transaction/response-builder';
import type { CpmSessionInfo } from '../session-handler';
import { InPathBench, type BenchCall } from './in-path-test-kit';

let bench: InPathBench | undefined;

afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

/** A session up, Alice (the source, side a) and Bob on their own MSRP connections; what the store got. */
async function chat(handler: { releaseMs?: number } = {}) {
  const log: string[] = [];
  const recorded: MessageInput[] = [];
  const b = (bench = await InPathBench.start({
    timers: { t1: 20 },
    handler,
    log: (line) => log.push(line),
    messageSink: { record: (_owner, messages) => recorded.push(...messages) },
  }));
  const call: BenchCall = await b.call();
  const callee = b.answer(call.forwarded);
  const bob = await b.connectMsrp(call.forwarded.request, callee.path, b.newDevicePool());
  const caller = await b.acknowledge(call);
  const alice = await b.connectMsrp(caller.response, call.invite); // on `b.devices`: closing it is Alice's crash
  const id = caller.dialog.id;
  const info: CpmSessionInfo = b.handler.findByDialog(id.callId, id.localTag, id.remoteTag)!;
  const bobReports: MsrpReport[] = [];
  bob.on('report', (r) => bobReports.push(r));
  const bobCallId = call.forwarded.request.headers.get('Call-ID')!;
  return { b, log, recorded, call, alice, bob, bobReports, info, aliceCallId: id.callId, bobCallId, legUri: parseNameAddr(caller.response.headers.get('Contact')!).uriText };
}

type Chat = Awaited<ReturnType<typeof chat>>;

/** A CPIM message from Bob to Alice, MSRP Message-ID and imdn.Message-ID both `id`. */
function fromBob(c: Chat, id: string): void {
  const cpim = encodeCpim({ from: { uri: 'sip:bob@b.example' }, to: [{ uri: 'sip:alice@a.example' }], dateTime: '2026-11-26T23:00:00Z', imdn: { messageId: id }, contentType: 'text/plain', body: `text of ${id}` });
  c.bob.send(cpim, 'message/cpim', { messageId: id });
}

/** Alice's device dies: its MSRP connection goes (no BYE). Resolves once the server noticed. */
async function aliceCrashes(c: Chat): Promise<void> {
  c.b.devices.close();
  await expect.poll(() => c.log.some((l) => l.includes('MSRP on side a lost'))).toBe(true);
}

/** The BYE the peer gets in dialog `callId`, answered 200. */
async function byeIn(b: InPathBench, callId: string): Promise<SipRequest> {
  const bye = await b.nextRequest((r) => r.method === 'BYE' && r.headers.get('Call-ID') === callId);
  bye.tx.respond(buildResponse(bye.request, 200));
  return bye.request;
}

/** Alice's other device sends INVITE J naming T; returns its MSRP session once connected. */
async function targetJoins(c: Chat): Promise<MsrpSession> {
  const join = c.b.buildInvite({ headers: { 'Target-Dialog': `${c.info.callId};local-tag=${c.info.callee.tag};remote-tag=${c.info.caller.tag}`, Require: 'tdialog' } });
  join.uri = c.legUri;
  join.headers.remove('Route');
  const answered = await c.b.send(join);
  expect(answered.status).toBe(200);
  return c.b.connectMsrp(answered, join, c.b.newDevicePool());
}

function collect(session: MsrpSession): string[] {
  const got: string[] = [];
  session.on('message', (m: ReceivedMsrpMessage) => got.push(m.messageId));
  return got;
}

describe('the source crashes while its move is under way', () => {
  it('keeps the session and Bob’s leg, holds what Bob sends, replays it to the target, and ends the lost leg 5 s (here 50 ms) after the release', async () => {
    const c = await chat({ releaseMs: 50 });
    expect(c.b.handler.moveStarted(c.info.callId, c.info.callee.tag, c.info.caller.tag)).toBe(true);
    await aliceCrashes(c);
    fromBob(c, 'held-1');
    fromBob(c, 'held-2');
    const relay = c.b.handler.liveSessions()[0]!.relay!;
    await expect.poll(() => relay.unacknowledged('a')).toEqual(['held-1', 'held-2']);
    expect(c.b.handler.sessionCount()).toBe(1);

    const replayed = new Promise<string[]>((resolve) => c.b.handler.once('legReplaced', (_s, _prev, _next, ids) => resolve(ids)));
    const target = await targetJoins(c);
    expect(await replayed).toEqual(['held-1', 'held-2']);
    // The target's device acknowledged the replay (it may come in the same read as the binding's 200).
    await expect.poll(() => relay.relayed('a').map((r) => [r.messageId, r.state])).toEqual([['held-1', 'acknowledged'], ['held-2', 'acknowledged']]);
    const atTarget = collect(target);
    fromBob(c, 'after-join');
    await expect.poll(() => atTarget).toEqual(['after-join']);

    // The target's NOTIFY 200: the move is over, the release starts the source leg's no-BYE time-out.
    c.b.handler.moveEnded(c.info.callId, c.info.callee.tag, c.info.caller.tag, 'replaced');
    expect(c.b.handler.releaseLeg(c.info.callId, c.info.callee.tag, c.info.caller.tag)).toBe(true);
    await byeIn(c.b, c.aliceCallId);
    expect(c.b.handler.sessionCount()).toBe(1);
    expect(c.b.received.some((r) => r.request.method === 'BYE' && r.request.headers.get('Call-ID') === c.bobCallId)).toBe(false);
    expect(c.bobReports).toEqual([]);
    // In the Message Store for Alice, once each.
    await expect.poll(() => c.recorded.map((m) => m.messageId)).toEqual(['held-1', 'held-2', 'after-join']);
  });

  it('when the move then fails, ends the session on Bob’s leg and sends Bob a 481 failure REPORT for each held message, which the store keeps', async () => {
    const c = await chat();
    c.b.handler.moveStarted(c.info.callId, c.info.callee.tag, c.info.caller.tag);
    await aliceCrashes(c);
    fromBob(c, 'held-1');
    fromBob(c, 'held-2');
    const relay = c.b.handler.liveSessions()[0]!.relay!;
    await expect.poll(() => relay.unacknowledged('a')).toEqual(['held-1', 'held-2']);

    // The target declined (or did not answer in 60 s): the controller says the move failed.
    const byes = [byeIn(c.b, c.bobCallId), byeIn(c.b, c.aliceCallId)];
    c.b.handler.moveEnded(c.info.callId, c.info.callee.tag, c.info.caller.tag, 'failed');
    await Promise.all(byes);
    await expect.poll(() => c.bobReports.map((r) => [r.messageId, r.status.code])).toEqual([['held-1', 481], ['held-2', 481]]);
    await expect.poll(() => c.b.handler.sessionCount()).toBe(0);
    // The in-path server records what it accepted, delivered or not: for Alice, as received.
    await expect.poll(() => c.recorded.map((m) => [m.messageId, m.direction])).toEqual([['held-1', 'in'], ['held-2', 'in']]);
  });

  it('when the target’s MSRP never connects, ends the session (nobody is left on the source’s side)', async () => {
    const c = await chat();
    c.b.handler.moveStarted(c.info.callId, c.info.callee.tag, c.info.caller.tag);
    await aliceCrashes(c);
    const join = c.b.buildInvite({ headers: { 'Target-Dialog': `${c.info.callId};local-tag=${c.info.callee.tag};remote-tag=${c.info.caller.tag}` } });
    join.uri = c.legUri;
    join.headers.remove('Route');
    const answered = await c.b.send(join);
    expect(answered.status).toBe(200);
    // The target answers the BYE of its new leg, then never connects: its MSRP leg is given up.
    const byes = [byeIn(c.b, c.bobCallId), byeIn(c.b, c.aliceCallId), byeIn(c.b, join.headers.get('Call-ID')!)];
    c.b.handler.liveSessions()[0]!.joining.forEach((leg) => leg.msrp?.close());
    await Promise.all(byes);
    await expect.poll(() => c.b.handler.sessionCount()).toBe(0);
    expect(c.b.handler.tableSizes()).toMatchObject({ sessions: 0, legsByDialog: 0, legsById: 0 });
  });
});

describe('the source’s MSRP lost with no move under way', () => {
  it('ends the session as before, but the message the relay held gets a failure REPORT instead of vanishing', async () => {
    const c = await chat();
    c.b.devices.pauseReading(c.alice, 'stall'); // Alice's device stops reading: Bob's message is never acknowledged
    fromBob(c, 'in-flight');
    const relay = c.b.handler.liveSessions()[0]!.relay!;
    await expect.poll(() => relay.unacknowledged('a')).toEqual(['in-flight']);
    const bye = byeIn(c.b, c.bobCallId);
    c.b.devices.close();
    await bye;
    await expect.poll(() => c.bobReports.map((r) => [r.messageId, r.status.code])).toEqual([['in-flight', 481]]);
    expect(c.b.handler.moveStarted(c.info.callId, c.info.callee.tag, c.info.caller.tag)).toBe(false); // T is gone
  });

  it('a Join INVITE arriving after the session ended gets 481, never 500', async () => {
    const c = await chat();
    const bye = byeIn(c.b, c.bobCallId);
    await aliceCrashes(c);
    await bye;
    await expect.poll(() => c.b.handler.sessionCount()).toBe(0);
    const join = c.b.buildInvite({ headers: { 'Target-Dialog': `${c.info.callId};local-tag=${c.info.callee.tag};remote-tag=${c.info.caller.tag}`, Require: 'tdialog' } });
    join.uri = c.legUri;
    join.headers.remove('Route');
    expect((await c.b.send(join)).status).toBe(481);
  });
});
