import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCpim } from '../../../protocol/cpim/cpim';
import type { MsrpSession, ReceivedMsrpMessage } from '../../../protocol/msrp/msrp-session';
import { formatMsrpUri } from '../../../protocol/msrp/msrp-uri';
import { parseMsrpSdp } from '../../../protocol/sdp/msrp-sdp';
import { parseNameAddr } from '../../sip/message/name-addr';
import type { SipRequest, SipResponse } from '../../sip/message/sip-message';
import { encodeImdnCpim } from '../../../protocol/imdn/imdn';
import type { DeliveryUpdate, MessageInput } from '../../../protocol/store/store-types';
import { buildResponse } from '../../sip/transaction/response-builder';
import { InPathSessionState } from './in-path-session';
import { InPathBench, sdpPath, type BenchCall } from './in-path-test-kit';

let bench: InPathBench | undefined;

afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

async function start(options: Parameters<typeof InPathBench.start>[0] = {}): Promise<InPathBench> {
  bench = await InPathBench.start({ timers: { t1: 20 }, ...options });
  return bench;
}

function sdpOf(message: SipRequest | SipResponse): ReturnType<typeof parseMsrpSdp> {
  return parseMsrpSdp(new TextDecoder().decode(message.body));
}

function nextMessage(session: MsrpSession): Promise<ReceivedMsrpMessage> {
  return new Promise((resolve) => session.once('message', resolve));
}

/** A session up on both legs, with both devices' MSRP bound. */
async function established(b: InPathBench): Promise<{ call: BenchCall; alice: MsrpSession; bob: MsrpSession; caller: Awaited<ReturnType<InPathBench['acknowledge']>>; callee: ReturnType<InPathBench['answer']> }> {
  const call = await b.call();
  const callee = b.answer(call.forwarded);
  const bob = await b.connectMsrp(call.forwarded.request, callee.path);
  const caller = await b.acknowledge(call);
  const alice = await b.connectMsrp(caller.response, call.invite);
  return { call, alice, bob, caller, callee };
}

/** The BYE the peer receives in dialog `callId`, answered 200. */
async function byeFor(b: InPathBench, callId: string): Promise<{ request: SipRequest }> {
  const bye = await b.nextRequest((r) => r.method === 'BYE' && r.headers.get('Call-ID') === callId);
  bye.tx.respond(buildResponse(bye.request, 200));
  return bye;
}

describe('an in-path session: two legs of a B2BUA', () => {
  it('forwards the INVITE along the core’s Route with our SDP, Contact and the CPM identifiers, and answers with our other path', async () => {
    const b = await start();
    const call = await b.call();
    const out = call.forwarded.request;
    // The Route past ours (the core's odi entry), the same Request-URI, a new dialog.
    expect(out.headers.values('Route')).toEqual([`<sip:127.0.0.1:${b.peer.address.port};transport=tcp;lr;odi=t1>`]);
    expect(out.uri).toBe('sip:bob@b.example');
    expect(out.headers.get('Call-ID')).not.toBe(call.invite.headers.get('Call-ID'));
    expect(parseNameAddr(out.headers.get('From')!).uriText).toBe('sip:alice@a.example');
    expect(out.headers.get('Max-Forwards')).toBe('68');
    for (const name of ['Conversation-ID', 'Contribution-ID', 'P-Asserted-Identity', 'Accept-Contact']) {
      expect(out.headers.get(name)).toBe(call.invite.headers.get(name));
    }
    expect(parseNameAddr(out.headers.get('Contact')!).uriText).toMatch(/^sip:cpm-cs-[0-9a-f]{16}@a\.example$/);
    const offered = sdpOf(out);
    expect(offered.setup).toBe('passive');
    expect(offered.path[0]!.port).toBe(b.msrp.listenAddress!.port);

    // A 180 is relayed; the 200 carries our answer on the caller's leg, a different path, passive.
    call.forwarded.tx.respond(buildResponse(call.forwarded.request, 180, { toTag: 'ringing1', headers: [{ name: 'Contact', value: '<sip:bob@127.0.0.1:9;transport=tcp>' }] }));
    const callee = b.answer(call.forwarded);
    const { response } = await b.acknowledge(call);
    expect(call.provisional.map((r) => r.status)).toContain(180);
    expect(response.status).toBe(200);
    const answer = sdpOf(response);
    expect(answer.setup).toBe('passive');
    expect(formatMsrpUri(answer.path[0]!)).not.toBe(formatMsrpUri(offered.path[0]!));
    expect(parseNameAddr(response.headers.get('Contact')!).uriText).not.toBe(parseNameAddr(out.headers.get('Contact')!).uriText);
    await expect.poll(() => b.acks.some((a) => a.headers.get('Call-ID') === out.headers.get('Call-ID'))).toBe(true);
    void callee;
    await expect.poll(() => b.handler.liveSessions()[0]?.state).toBe(InPathSessionState.Established);
  });

  it('relays MSRP both ways with Message-ID and CPIM body untouched, and a BYE from the caller ends the callee’s leg; nothing is left', async () => {
    const b = await start();
    const { call, alice, bob, caller } = await established(b);
    const cpim = encodeCpim({ from: { uri: 'sip:alice@a.example' }, to: [{ uri: 'sip:bob@b.example' }], dateTime: new Date(), imdn: { messageId: 'imdn-1' }, contentType: 'text/plain', body: 'hello bob' });
    const atBob = nextMessage(bob);
    alice.send(cpim, 'message/cpim', { messageId: 'msg-a-1' });
    const got = await atBob;
    expect(got.messageId).toBe('msg-a-1');
    expect(got.contentType).toBe('message/cpim');
    expect(Buffer.from(got.body).equals(Buffer.from(cpim))).toBe(true);
    const atAlice = nextMessage(alice);
    bob.send(new TextEncoder().encode('hi alice'), 'message/cpim', { messageId: 'msg-b-1' });
    expect((await atAlice).messageId).toBe('msg-b-1');

    const bye = byeFor(b, call.forwarded.request.headers.get('Call-ID')!);
    expect((await b.sendInDialog(caller.dialog, 'BYE')).status).toBe(200);
    await bye;
    await expect.poll(() => b.handler.tableSizes()).toEqual({ sessions: 0, legsByDialog: 0, legsById: 0, unanswered: 0, msrpConnections: 0 });
    await expect.poll(() => b.msrp.waitingSessionCount).toBe(0);
  });

  it('a BYE from the callee ends the caller’s leg', async () => {
    const b = await start();
    const { call, callee } = await established(b);
    const bye = byeFor(b, call.invite.headers.get('Call-ID')!);
    expect((await b.send(callee.dialog.createRequest('BYE'))).status).toBe(200);
    expect((await bye).request.uri).toBe(`sip:alice@127.0.0.1:${b.peer.address.port};transport=tcp`);
    await expect.poll(() => b.handler.sessionCount()).toBe(0);
  });

  it('maps the callee’s failure to the caller and keeps nothing', async () => {
    const b = await start();
    const call = await b.call();
    call.forwarded.tx.respond(buildResponse(call.forwarded.request, 486, { toTag: 'busy' }));
    const final = await call.final;
    expect([final.status, final.reason]).toEqual([486, 'Busy Here']);
    await expect.poll(() => b.handler.tableSizes().sessions).toBe(0);
    expect(b.handler.tableSizes().legsById).toBe(0);
  });

  it('a CANCEL from the caller cancels the callee once it rang, and the caller gets 487', async () => {
    const b = await start();
    const call = await b.call();
    call.forwarded.tx.respond(buildResponse(call.forwarded.request, 180, { toTag: 'r1' }));
    await expect.poll(() => call.provisional.some((r) => r.status === 180)).toBe(true);
    const { buildCancel } = await import('../../sip/transaction/request-builders');
    const cancelAtCallee = b.nextRequest((r) => r.method === 'CANCEL');
    expect((await b.send(buildCancel(call.invite))).status).toBe(200);
    const final = await call.final;
    expect(final.status).toBe(487);
    const cancel = await cancelAtCallee;
    cancel.tx.respond(buildResponse(cancel.request, 200));
    call.forwarded.tx.respond(buildResponse(call.forwarded.request, 487, { toTag: 'r1' }));
    await expect.poll(() => b.handler.tableSizes()).toMatchObject({ sessions: 0, legsById: 0, unanswered: 0 });
  });

  it('a second 2xx (another fork) is acknowledged and ended with BYE, the first one wins', async () => {
    const b = await start();
    const call = await b.call();
    b.answer(call.forwarded);
    const second = buildResponse(call.forwarded.request, 200, {
      toTag: 'fork2',
      headers: [{ name: 'Contact', value: `<sip:bob@127.0.0.1:${b.peer.address.port};transport=tcp>` }, { name: 'Content-Type', value: 'application/sdp' }],
      body: new TextDecoder().decode(b.buildInvite({ setup: 'passive' }).body).replace('passive', 'active'),
    });
    call.forwarded.tx.respond(second);
    const bye = await b.nextRequest((r) => r.method === 'BYE' && r.headers.get('To')!.includes('tag=fork2'));
    expect(bye.request.headers.get('Call-ID')).toBe(call.forwarded.request.headers.get('Call-ID'));
    expect((await b.acknowledge(call)).response.status).toBe(200);
    expect(b.handler.sessionCount()).toBe(1);
  });
});

describe('history (PROFILE.md: in-path, the server writes what it relays)', () => {
  it('records each CPIM message for its own user, out and in, keyed by imdn.Message-ID, but not IMDNs', async () => {
    const recorded: { owner: string; messages: MessageInput[] }[] = [];
    const outcomes: { owner: string; updates: DeliveryUpdate[] }[] = [];
    const b = await start({
      messageSink: {
        record: (owner, messages) => recorded.push({ owner, messages: [...messages] }),
        delivery: (owner, updates) => outcomes.push({ owner, updates: [...updates] }),
      },
    });
    const { alice, bob } = await established(b);
    const cpim = (from: string, to: string, id: string, contentType = 'text/plain', body = `text of ${id}`): Uint8Array =>
      encodeCpim({ from: { uri: from }, to: [{ uri: to }], dateTime: '2026-11-26T21:00:00Z', imdn: { messageId: id }, contentType, body });
    const atBob = nextMessage(bob);
    alice.send(cpim('sip:alice@a.example', 'sip:bob@b.example', 'imdn-out'), 'message/cpim');
    await atBob;
    const atAlice = nextMessage(alice);
    bob.send(cpim('sip:bob@b.example', 'sip:alice@a.example', 'imdn-in'), 'message/cpim');
    await atAlice;
    // Bob's device tells Alice her message was displayed (RFC 5438): an outcome for Alice's message, not a message.
    const notification = nextMessage(alice);
    bob.send(
      encodeImdnCpim({
        from: { uri: 'sip:bob@b.example' },
        to: { uri: 'sip:alice@a.example' },
        messageId: 'notification-1',
        dateTime: '2026-11-26T21:00:05Z',
        imdn: { messageId: 'imdn-out', dateTime: '2026-11-26T21:00:00Z', notification: { kind: 'display', status: 'displayed' } },
      }),
      'message/cpim',
    );
    await notification;
    await expect.poll(() => recorded.flatMap((r) => r.messages).length).toBe(2);
    expect(recorded.every((r) => r.owner === 'sip:alice@a.example')).toBe(true);
    expect(outcomes.flatMap((o) => o.updates.map((u) => [o.owner, u.messageId, u.state]))).toEqual([['sip:alice@a.example', 'imdn-out', 'displayed']]);
    expect(recorded.flatMap((r) => r.messages)).toEqual([
      { conversationId: b.handler.liveSessions()[0]!.conversationId, messageId: 'imdn-out', sender: 'sip:alice@a.example', recipient: 'sip:bob@b.example', direction: 'out', dateTime: '2026-11-26T21:00:00Z', contentType: 'text/plain', body: 'text of imdn-out' },
      { conversationId: b.handler.liveSessions()[0]!.conversationId, messageId: 'imdn-in', sender: 'sip:bob@b.example', recipient: 'sip:alice@a.example', direction: 'in', dateTime: '2026-11-26T21:00:00Z', contentType: 'text/plain', body: 'text of imdn-in' },
    ]);
  });
});

describe('service control and bad input', () => {
  it.each([
    ['no Conversation-ID', { omit: ['Conversation-ID'] }, 400, 'Bad Request: missing Conversation-ID'],
    ['no asserted identity', { omit: ['P-Asserted-Identity'] }, 403, 'Forbidden: no P-Asserted-Identity'],
    ['no SDP', { sdp: null }, 488, 'Not Acceptable Here: no SDP'],
    ['SDP without MSRP', { sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' }, 488, 'Not Acceptable Here: no m=message TCP/MSRP media'],
    ['a session interval below Min-SE', { headers: { 'Session-Expires': '30' } }, 422, 'Session Interval Too Small'],
  ] as const)('%s: refused with %i and the reason, no state kept', async (_what, options, status, reason) => {
    const b = await start();
    const response = await b.send(b.buildInvite(options as Parameters<InPathBench['buildInvite']>[0]));
    expect([response.status, response.reason]).toEqual([status, reason]);
    if (status === 422) expect(response.headers.get('Min-SE')).toBe('90');
    expect(b.handler.tableSizes()).toMatchObject({ sessions: 0, legsById: 0 });
  });

  it('an in-dialog request for no dialog of ours gets 481', async () => {
    const b = await start();
    const { caller } = await established(b);
    const stray = caller.dialog.createRequest('INFO');
    stray.headers.set('To', stray.headers.get('To')!.replace(/tag=[^;]+/, 'tag=nonexistent'));
    expect((await b.send(stray)).status).toBe(481);
  });
});

describe('in-dialog requests', () => {
  it('relays MESSAGE to the other leg and maps its answer back; answers re-INVITE with the same SDP and OPTIONS locally', async () => {
    const b = await start();
    const { call, caller } = await established(b);
    b.autoAnswer = (request) => (request.method === 'MESSAGE' ? 202 : request.headers.get('To')?.includes('tag=') ? 200 : undefined);
    const message = await b.sendInDialog(caller.dialog, 'MESSAGE', { type: 'text/plain', content: 'in-dialog' });
    expect(message.status).toBe(202);
    expect(b.received.some((r) => r.request.method === 'MESSAGE' && r.request.headers.get('Call-ID') === call.forwarded.request.headers.get('Call-ID') && new TextDecoder().decode(r.request.body) === 'in-dialog')).toBe(true);

    const reinvite = await b.sendInDialog(caller.dialog, 'INVITE', { type: 'application/sdp', content: new TextDecoder().decode(call.invite.body) });
    expect(reinvite.status).toBe(200);
    expect(new TextDecoder().decode(reinvite.body)).toBe(new TextDecoder().decode(caller.response.body));
    expect((await b.sendInDialog(caller.dialog, 'OPTIONS')).status).toBe(200);
    expect((await b.sendInDialog(caller.dialog, 'SUBSCRIBE')).status).toBe(405);
    expect(b.handler.sessionCount()).toBe(1);
  });

  it('a 481 from the callee to a relayed request ends the session on both legs', async () => {
    const b = await start();
    const { call, caller } = await established(b);
    b.autoAnswer = (request) => (request.method === 'INFO' ? 481 : request.headers.get('To')?.includes('tag=') ? 200 : undefined);
    const bye = byeFor(b, call.invite.headers.get('Call-ID')!);
    expect((await b.sendInDialog(caller.dialog, 'INFO', { type: 'application/x-test', content: 'x' })).status).toBe(481);
    await bye;
    await expect.poll(() => b.handler.sessionCount()).toBe(0);
  });
});

describe('robustness', () => {
  it('a lost MSRP connection ends the session on both legs with BYE', async () => {
    const b = await start();
    const { call } = await established(b);
    const byes = [byeFor(b, call.invite.headers.get('Call-ID')!), byeFor(b, call.forwarded.request.headers.get('Call-ID')!)];
    b.devices.close(); // both devices' connection drops
    await Promise.all(byes);
    await expect.poll(() => b.handler.tableSizes().sessions).toBe(0);
    expect(b.handler.liveSessions()).toEqual([]);
  });

  it('no ACK from the caller within 64·T1 ends the session (RFC 3261 §13.3.1.4)', async () => {
    const b = await start();
    const call = await b.call();
    b.answer(call.forwarded);
    expect((await call.final).status).toBe(200);
    await byeFor(b, call.forwarded.request.headers.get('Call-ID')!);
    await expect.poll(() => b.handler.sessionCount()).toBe(0);
  });

  it('session timers: the callee chose to refresh and went silent, so both legs are ended (RFC 4028 §10)', async () => {
    const b = await start({ handler: { sessionTimers: { interval: 3, minSe: 1 } } });
    const call = await b.call();
    expect(call.forwarded.request.headers.get('Session-Expires')).toBe('3');
    expect(call.forwarded.request.headers.get('Supported')).toBe('timer');
    b.answer(call.forwarded, { headers: [{ name: 'Session-Expires', value: '2;refresher=uas' }, { name: 'Require', value: 'timer' }] });
    await b.acknowledge(call);
    const byes = [byeFor(b, call.invite.headers.get('Call-ID')!), byeFor(b, call.forwarded.request.headers.get('Call-ID')!)];
    await Promise.all(byes);
    await expect.poll(() => b.handler.sessionCount()).toBe(0);
  });

  it('session timers: we refresh the callee’s leg with UPDATE when it makes us the refresher', async () => {
    const b = await start({ handler: { sessionTimers: { interval: 2, minSe: 1 } } });
    const call = await b.call();
    b.answer(call.forwarded, { headers: [{ name: 'Session-Expires', value: '2;refresher=uac' }, { name: 'Allow', value: 'INVITE, ACK, BYE, UPDATE' }] });
    await b.acknowledge(call);
    const update = await b.nextRequest((r) => r.method === 'UPDATE');
    expect(update.request.headers.get('Call-ID')).toBe(call.forwarded.request.headers.get('Call-ID'));
    expect(update.request.headers.get('Session-Expires')).toBe('2;refresher=uac');
    update.tx.respond(buildResponse(update.request, 200, { headers: [{ name: 'Session-Expires', value: '2;refresher=uac' }] }));
    expect(b.handler.sessionCount()).toBe(1);
  });

  it('the caller’s refresh keeps its leg alive; the answer names it the refresher again', async () => {
    const b = await start({ handler: { sessionTimers: { interval: 90, minSe: 1 } } });
    const call = await b.call();
    call.invite.headers.set('Session-Expires', '2');
    b.answer(call.forwarded);
    const { dialog, response } = await b.acknowledge(call);
    void response;
    const refresh = dialog.createRequest('UPDATE');
    refresh.headers.append('Session-Expires', '2;refresher=uac');
    refresh.headers.append('Supported', 'timer');
    const answered = await b.send(refresh);
    expect(answered.headers.get('Session-Expires')).toBe('2;refresher=uac');
    expect(answered.headers.get('Require')).toBe('timer');
  });
});

describe('transfers: a Join INVITE to a leg URI (PROFILE.md steps 10–13)', () => {
  it('switches the relay to the new device once its MSRP is up, replays what the old one had not acknowledged, and keeps the old leg until its BYE', async () => {
    const b = await start();
    // Bob's device has its own connection, so that the old device can stop reading without stopping Bob.
    const call = await b.call();
    const callee = b.answer(call.forwarded);
    const bob = await b.connectMsrp(call.forwarded.request, callee.path, b.newDevicePool());
    const caller = await b.acknowledge(call);
    const alice = await b.connectMsrp(caller.response, call.invite);
    const legUri = parseNameAddr(caller.response.headers.get('Contact')!).uriText;
    const info = b.handler.findByDialog(caller.dialog.id.callId, caller.dialog.id.localTag, caller.dialog.id.remoteTag)!;
    expect(info.caller.tag).toBe(caller.dialog.id.localTag);
    expect(info.callee.target).toBe(legUri);
    // The names the INVITE gave (From "Alice", a bare To): what a Join REFER body tells the target.
    expect([info.caller.displayName, info.callee.displayName]).toEqual(['Alice', undefined]);
    expect(b.handler.legTargetFor(info, info.caller)).toBe(legUri);

    // The old device stops reading: what Bob sends now reaches its leg but is never acknowledged.
    b.devices.pauseReading(alice, 'stall');
    const relay = b.handler.liveSessions()[0]!.relay!;
    bob.send(new TextEncoder().encode('sent during the move'), 'message/cpim', { messageId: 'm-pending' });
    await expect.poll(() => relay.unacknowledged('a')).toEqual(['m-pending']);

    const replaced = new Promise<string[]>((resolve) => b.handler.once('legReplaced', (_s, _prev, _next, replayed) => resolve(replayed)));
    const join = b.buildInvite({ headers: { 'Target-Dialog': `${info.callId};local-tag=${info.callee.tag};remote-tag=${info.caller.tag}`, Require: 'tdialog' } });
    join.uri = legUri;
    join.headers.remove('Route');
    const joined = await b.send(join);
    expect(joined.status).toBe(200);
    const newDevice = await b.connectMsrp(joined, join, b.newDevicePool());
    expect(await replaced).toEqual(['m-pending']);
    // The replay reached the new device, which acknowledged it: its second delivery.
    await expect.poll(() => relay.relayed('a').find((r) => r.messageId === 'm-pending')).toMatchObject({ state: 'acknowledged', deliveries: 2 });

    // From now on what Bob sends goes to the new device; what the old one still sends is relayed.
    const atNew = nextMessage(newDevice);
    bob.send(new TextEncoder().encode('after the move'), 'message/cpim', { messageId: 'm-after' });
    expect((await atNew).messageId).toBe('m-after');
    const atBob = nextMessage(bob);
    alice.send(new TextEncoder().encode('late from the old device'), 'message/cpim', { messageId: 'm-late' });
    expect((await atBob).messageId).toBe('m-late');

    // The old leg's BYE ends only that leg.
    expect((await b.sendInDialog(caller.dialog, 'BYE')).status).toBe(200);
    expect(b.handler.sessionCount()).toBe(1);
    expect(b.received.some((r) => r.request.method === 'BYE' && r.request.headers.get('Call-ID') === call.forwarded.request.headers.get('Call-ID'))).toBe(false);
  });

  it('ends the old leg itself 5 s (here 50 ms) after the release when its BYE does not come, leaving the far leg alone', async () => {
    const b = await start({ handler: { releaseMs: 50 } });
    const { call, caller } = await established(b);
    const legUri = parseNameAddr(caller.response.headers.get('Contact')!).uriText;
    const id = caller.dialog.id;
    const join = b.buildInvite({ headers: { 'Target-Dialog': `${id.callId};local-tag=${id.remoteTag};remote-tag=${id.localTag}` } });
    join.uri = legUri;
    join.headers.remove('Route');
    const replaced = new Promise<void>((resolve) => b.handler.once('legReplaced', () => resolve()));
    const joined = await b.send(join);
    await b.connectMsrp(joined, join);
    await replaced;
    expect(b.handler.findByDialog(id.callId, id.localTag, id.remoteTag)).toBeUndefined(); // T is no longer a live leg
    expect(b.handler.releaseLeg(id.callId, id.remoteTag, id.localTag)).toBe(true);
    const bye = await byeFor(b, id.callId);
    expect(bye.request.uri).toBe(`sip:alice@127.0.0.1:${b.peer.address.port};transport=tcp`);
    expect(b.handler.sessionCount()).toBe(1);
    expect(b.received.some((r) => r.request.method === 'BYE' && r.request.headers.get('Call-ID') === call.forwarded.request.headers.get('Call-ID'))).toBe(false);
  });

  it('refuses a Join from another user with 403', async () => {
    const b = await start();
    const { caller } = await established(b);
    const id = caller.dialog.id;
    const join = b.buildInvite({ headers: { 'Target-Dialog': `${id.callId};local-tag=${id.remoteTag};remote-tag=${id.localTag}`, 'P-Asserted-Identity': '<sip:carol@a.example>' } });
    join.uri = parseNameAddr(caller.response.headers.get('Contact')!).uriText;
    join.headers.remove('Route');
    const refused = await b.send(join);
    expect([refused.status, refused.reason]).toEqual([403, 'Forbidden: not the user of this leg']);
  });

  it('refuses a Join whose Target-Dialog is not that leg’s dialog with 481', async () => {
    const b = await start();
    const { caller } = await established(b);
    const join = b.buildInvite({ headers: { 'Target-Dialog': `${caller.dialog.id.callId};local-tag=wrong;remote-tag=${caller.dialog.id.localTag}` } });
    join.uri = parseNameAddr(caller.response.headers.get('Contact')!).uriText;
    join.headers.remove('Route');
    expect((await b.send(join)).status).toBe(481);
  });
});

void randomUUID;
