import type { AddressInfo } from 'node:net';
import type { RTCSessionEvent } from 'jssip/lib/UA';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSideSocket } from 'ws';
import { parseMessageText } from '../../../server/sip/message/parse';
import { serializeMessageToString } from '../../../server/sip/message/serialize';
import { bodyText, createRequest, createResponse, reasonPhrase, type SipHeader, type SipRequest, type SipResponse } from '../../../server/sip/message/sip-message';
import { CpmUserAgent, loadOrCreateInstanceId, type CpmUserAgentOptions, type IncomingRefer, type IncomingReferHandler, type ReferVerdict } from './cpm-user-agent';
import { internalsOf } from './jssip-internals';
import { MsrpPeerConnection, type MsrpNegotiation } from './msrp-peer-connection';
import { parseMsrpUri } from '../../../protocol/msrp/msrp-uri';
import { CPM_FEATURE_TAG } from '../../../protocol/cpm/cpm-headers';
import { formatTargetDialog } from '../../../protocol/sip/refer-headers';
import type { ReferNotifier } from './refer-notifier';
import { ReferSubscriberState, type ReferNotification } from './refer-subscriber';
import { RegistrationState, type RegistrationSnapshot } from './registration-state';
import { WsSocket } from './ws-socket';

const INSTANCE = 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66';
const PUB_GRUU = `sip:alice@a.example;gr=${INSTANCE}`;
const TEMP_GRUU = 'sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@a.example;gr';

/**
 * A tiny SIP-over-WebSocket peer playing registrar and Conversation Server: it answers REGISTER itself (with
 * GRUUs, RFC 5627 §5.1), records every message, and lets the test send requests and answer the UA's.
 */
class TinyResponder {
  readonly received: (SipRequest | SipResponse)[] = [];
  registerStatus = 200;
  /** Challenge this many REGISTERs with 401 before accepting (the digest itself is not checked here). */
  challenges = 0;
  private socket: ServerSideSocket | null = null;
  private waiters: { match: (m: SipRequest | SipResponse) => boolean; resolve: (m: SipRequest | SipResponse) => void }[] = [];
  private branch = 0;

  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (ws) => {
      this.socket = ws;
      ws.on('message', (data) => this.onMessage(data.toString()));
    });
  }

  static async start(): Promise<TinyResponder> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('sip') ? 'sip' : false) });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new TinyResponder(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** Resolves with the next (or an already received) message that matches. */
  next<T extends SipRequest | SipResponse>(match: (m: SipRequest | SipResponse) => m is T): Promise<T>;
  next(match: (m: SipRequest | SipResponse) => boolean): Promise<SipRequest | SipResponse>;
  next(match: (m: SipRequest | SipResponse) => boolean): Promise<SipRequest | SipResponse> {
    const seen = this.received.find(match);
    if (seen) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  request(method: string): Promise<SipRequest> {
    return this.next((m): m is SipRequest => m.type === 'request' && m.method === method);
  }

  /** The next final response to a request of ours with this method. */
  response(method: string): Promise<SipResponse> {
    return this.next((m): m is SipResponse => m.type === 'response' && (m.headers.get('CSeq') ?? '').endsWith(method) && m.status >= 200);
  }

  /** Answer a request of the UA, copying Via, From, To (adding a tag), Call-ID and CSeq (RFC 3261 §8.2.6.2). */
  reply(request: SipRequest, status: number, extra: SipHeader[] = [], body?: string, toTag = 'srv1'): void {
    const to = request.headers.get('To') ?? '';
    const headers: SipHeader[] = [
      ...request.headers.values('Via').map((value) => ({ name: 'Via', value })),
      { name: 'From', value: request.headers.get('From') ?? '' },
      { name: 'To', value: /;tag=/.test(to) ? to : `${to};tag=${toTag}` },
      { name: 'Call-ID', value: request.headers.get('Call-ID') ?? '' },
      { name: 'CSeq', value: request.headers.get('CSeq') ?? '' },
      ...extra,
    ];
    this.send(createResponse(status, reasonPhrase(status), headers, body));
  }

  /** Send a request to the UA. */
  sendRequest(method: string, uri: string, headers: SipHeader[], body?: string): void {
    this.branch++;
    this.send(
      createRequest(method, uri, [
        { name: 'Via', value: `SIP/2.0/WS 127.0.0.1;branch=z9hG4bKtiny${this.branch}` },
        { name: 'Max-Forwards', value: '70' },
        ...headers,
      ], body),
    );
  }

  dropConnection(): void {
    this.socket?.terminate();
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private send(message: SipRequest | SipResponse): void {
    this.socket?.send(serializeMessageToString(message));
  }

  private onMessage(text: string): void {
    if (text.trim() === '') return; // CRLF keep-alive
    const message = parseMessageText(text);
    if (message.type === 'request' && message.method === 'REGISTER') this.answerRegister(message);
    const waiter = this.waiters.find((w) => w.match(message));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    } else {
      this.received.push(message);
    }
  }

  /** A registrar in one function: 200 with the binding, its expiry and GRUUs (RFC 5627 §5.1), or registerStatus. */
  private answerRegister(request: SipRequest): void {
    const expires = request.headers.get('Expires') ?? '600';
    if (this.challenges > 0 && !request.headers.has('Authorization')) {
      this.challenges--;
      this.reply(request, 401, [{ name: 'WWW-Authenticate', value: 'Digest realm="a.example", nonce="n0nce", algorithm=MD5, qop="auth"' }]);
      return;
    }
    if (this.registerStatus !== 200) {
      this.reply(request, this.registerStatus);
      return;
    }
    if (expires === '0') {
      this.reply(request, 200);
      return;
    }
    const contact = (request.headers.get('Contact') ?? '').replace(/;expires=\d+/, '');
    this.reply(request, 200, [
      { name: 'Contact', value: `${contact};expires=${expires};pub-gruu="${PUB_GRUU}";temp-gruu="${TEMP_GRUU}"` },
      { name: 'Supported', value: 'gruu' },
    ]);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Setup {
  responder: TinyResponder;
  ua: CpmUserAgent;
  states: RegistrationSnapshot[];
}

async function startUa(
  referHandler?: IncomingReferHandler,
  extra: Partial<CpmUserAgentOptions> = {},
  given?: TinyResponder,
): Promise<Setup> {
  const responder = given ?? (await TinyResponder.start());
  const socket = new WsSocket({ url: responder.url });
  const ua = new CpmUserAgent({
    uri: 'sip:alice@a.example',
    password: 'secret',
    displayName: 'Alice',
    deviceName: 'Alice\'s "Laptop"',
    instanceId: INSTANCE,
    socket,
    ...(referHandler ? { referHandler } : {}),
    ...extra,
  });
  const states: RegistrationSnapshot[] = [];
  ua.registration.on('stateChange', (s) => states.push(s));
  cleanups.push(async () => {
    ua.stop();
    (internalsOf(ua)._transport as { disconnect(): void }).disconnect(); // skip JsSIP's 2 s grace
    await responder.close();
  });
  ua.start();
  return { responder, ua, states };
}

async function registered(setup: Setup): Promise<void> {
  await vi.waitFor(() => expect(setup.ua.registration.state).toBe(RegistrationState.Registered));
}

describe('CpmUserAgent registration', () => {
  it('registers with +sip.instance, reg-id, the device name and the CPM feature tag, asking for GRUUs', async () => {
    const setup = await startUa();
    const register = await setup.responder.request('REGISTER');
    const contact = register.headers.get('Contact') ?? '';
    expect(contact).toContain(`;+sip.instance="<${INSTANCE}>"`);
    expect(contact).toContain(';reg-id=1');
    expect(contact).toContain(';+cpm.device-name="Alice\'s \\"Laptop\\""');
    expect(contact).toContain(';+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"');
    expect(contact).toContain(`;${CPM_FEATURE_TAG}`);
    expect(contact).not.toContain('+sip.ice');
    expect(register.headers.values('Supported')).toContain('gruu');
  });

  it('adopts the pub-gruu from the 200 as its Contact and reports it', async () => {
    const setup = await startUa();
    await registered(setup);
    expect(setup.ua.pubGruu).toBe(PUB_GRUU);
    expect(setup.ua.contactHeader).toBe(`<${PUB_GRUU}>`);
    const snapshot = setup.ua.registration.snapshot;
    expect(snapshot).toMatchObject({ state: 'registered', pubGruu: PUB_GRUU, tempGruu: TEMP_GRUU, cause: '200 OK' });
    expect(snapshot.expiresAt).toBeGreaterThan(Date.now());
  });

  it('tracks a refresh that JsSIP itself does not report', async () => {
    const setup = await startUa();
    await registered(setup);
    await setup.responder.request('REGISTER'); // consume the first one
    setup.ua.register();
    await setup.responder.request('REGISTER');
    await vi.waitFor(() => expect(setup.states.map((s) => s.state)).toEqual(['registering', 'registered', 'refreshing', 'registered']));
  });

  it('stays registering through a digest challenge and registers with credentials', async () => {
    const responder = await TinyResponder.start();
    responder.challenges = 1;
    const setup = await startUa(undefined, {}, responder);
    await registered(setup);
    const [challenged, authorized] = [await setup.responder.request('REGISTER'), await setup.responder.request('REGISTER')];
    expect(challenged.headers.has('Authorization')).toBe(false);
    expect(authorized.headers.get('Authorization')).toMatch(/^Digest .*username="alice".*realm="a\.example"/);
    expect(setup.states.map((s) => s.state)).toEqual(['registering', 'registered']);
  });

  it('goes to failed with the status line when the registrar refuses', async () => {
    const setup = await startUa();
    setup.responder.registerStatus = 403;
    await vi.waitFor(() => expect(setup.ua.registration.state).toBe(RegistrationState.Failed));
    expect(setup.ua.registration.snapshot.cause).toBe('403 Forbidden');
    expect(setup.ua.pubGruu).toBeNull();
  });

  it('goes to unregistered when the connection drops, and registers again when JsSIP reconnects', async () => {
    const setup = await startUa();
    await registered(setup);
    setup.responder.dropConnection();
    await vi.waitFor(() => expect(setup.ua.registration.state).not.toBe(RegistrationState.Registered));
    expect(setup.ua.registration.snapshot).toMatchObject({ state: RegistrationState.Unregistered, cause: 'connection lost', pubGruu: null });
    await vi.waitFor(() => expect(setup.ua.registration.state).toBe(RegistrationState.Registered), { timeout: 8_000 });
  });

  it('refuses an instance id that is not a urn:uuid and a device name with control characters', () => {
    const socket = new WsSocket({ url: 'ws://127.0.0.1:9' });
    const base = { uri: 'sip:alice@a.example', deviceName: 'Laptop', instanceId: INSTANCE, socket };
    expect(() => new CpmUserAgent({ ...base, instanceId: 'laptop-1' })).toThrow('CpmUserAgent: instanceId must be a urn:uuid (got "laptop-1")');
    expect(() => new CpmUserAgent({ ...base, deviceName: 'Lap\ntop' })).toThrow('quoted-string: control characters');
    expect(() => new CpmUserAgent({ ...base, uri: 'not a uri' })).toThrow(/uri/);
  });
});

describe('loadOrCreateInstanceId', () => {
  it('creates, saves and then keeps returning the same urn:uuid', async () => {
    let stored: string | null = null;
    const store = { load: async () => stored, save: async (id: string) => void (stored = id) };
    const first = await loadOrCreateInstanceId(store);
    expect(first).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    await expect(loadOrCreateInstanceId(store)).resolves.toBe(first);
  });

  it('refuses a corrupt stored value rather than registering a new device silently', async () => {
    const store = { load: async () => 'garbage', save: async () => undefined };
    await expect(loadOrCreateInstanceId(store)).rejects.toThrow('stored instance id "garbage" is not a urn:uuid');
  });
});

/** A REFER from the responder (CS A's Join REFER to A-Dn, PROFILE.md steps 6–9). */
function sendJoinRefer(responder: TinyResponder, callId = 'join-1'): void {
  responder.sendRequest('REFER', PUB_GRUU, [
    { name: 'From', value: '<sip:cpm-transfer@a.example>;tag=cs1' },
    { name: 'To', value: `<${PUB_GRUU}>` },
    { name: 'Call-ID', value: callId },
    { name: 'CSeq', value: '7 REFER' },
    { name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' },
    { name: 'Refer-To', value: '<sip:cs-a@a.example;leg=1?Target-Dialog=t1%3Blocal-tag%3Dx%3Bremote-tag%3Dy&Require=tdialog>' },
    { name: 'Referred-By', value: '<sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000001>' },
  ]);
}

describe('CpmUserAgent subscribing to its own registrations', () => {
  it('takes a reg NOTIFY that overtakes the 200 to its SUBSCRIBE (RFC 6665 §4.1.2.4) instead of answering 481', async () => {
    const setup = await startUa();
    await registered(setup);
    const bodies: string[] = [];
    const sub = setup.ua.subscribe('sip:alice@a.example', 'reg', 'application/reginfo+xml', { expires: 600, contentType: 'application/reginfo+xml' });
    sub.on('notify', (_final, _request, body) => bodies.push(body ?? ''));
    sub.subscribe();
    const subscribe = await setup.responder.request('SUBSCRIBE');
    // The NOTIFY comes first (it took another path through the core), the 200 a little later.
    setup.responder.sendRequest('NOTIFY', PUB_GRUU, [
      { name: 'From', value: `${subscribe.headers.get('To')};tag=srv1` },
      { name: 'To', value: subscribe.headers.get('From') ?? '' },
      { name: 'Call-ID', value: subscribe.headers.get('Call-ID') ?? '' },
      { name: 'CSeq', value: '1 NOTIFY' },
      { name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' },
      { name: 'Event', value: 'reg' },
      { name: 'Subscription-State', value: 'active;expires=600' },
      { name: 'Content-Type', value: 'application/reginfo+xml' },
    ], '<reginfo/>');
    await new Promise((r) => setTimeout(r, 50));
    setup.responder.reply(subscribe, 200, [{ name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' }, { name: 'Expires', value: '600' }]);
    expect((await setup.responder.response('NOTIFY')).status).toBe(200);
    expect(bodies).toEqual(['<reginfo/>']);
  });
});

describe('CpmUserAgent receiving an out-of-dialog REFER', () => {
  it('asks the handler, answers 202 with its pub-gruu, and runs the refer subscription to its end', async () => {
    let seen: IncomingRefer | undefined;
    let subscription: ReferNotifier | undefined;
    const setup = await startUa({
      authorize: async (refer) => {
        seen = refer;
        return { accept: true };
      },
      accepted: (_refer, notifier) => {
        subscription = notifier;
      },
    });
    await registered(setup);
    sendJoinRefer(setup.responder);

    const accepted = await setup.responder.response('REFER');
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('Contact')).toBe(`<${PUB_GRUU}>`);
    expect(seen?.referTo).toBe('<sip:cs-a@a.example;leg=1?Target-Dialog=t1%3Blocal-tag%3Dx%3Bremote-tag%3Dy&Require=tdialog>');
    expect(seen?.referredBy).toBe('<sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000001>');
    expect(seen?.cseq).toBe(7);

    // RFC 3515 §2.4.5: an immediate NOTIFY, in the dialog of the 202.
    const first = await setup.responder.request('NOTIFY');
    const toTag = /;tag=([^;]+)/.exec(accepted.headers.get('To') ?? '')?.[1];
    expect(first.uri).toBe('sip:cs-a@127.0.0.1;transport=ws');
    expect(first.headers.get('Call-ID')).toBe('join-1');
    expect(first.headers.get('From')).toContain(`;tag=${toTag}`);
    expect(first.headers.get('To')).toContain(';tag=cs1');
    expect(first.headers.get('Event')).toBe('refer;id=7');
    expect(first.headers.get('Subscription-State')).toBe('active;expires=120');
    expect(first.headers.get('Content-Type')).toBe('message/sipfrag');
    expect(first.headers.get('Contact')).toBe(`<${PUB_GRUU}>`);
    expect(bodyText(first)).toBe('SIP/2.0 100 Trying\r\n');
    setup.responder.reply(first, 200);

    expect(subscription?.state).toBe('active');
    const outcome = subscription!.finish(603, 'Decline');
    const last = await setup.responder.request('NOTIFY');
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=noresource');
    expect(bodyText(last)).toBe('SIP/2.0 603 Decline\r\n');
    setup.responder.reply(last, 200);
    await expect(outcome).resolves.toEqual({ status: 200 });
    expect(subscription?.state).toBe('terminated');
  });

  it.each([
    ['refuses', async (): Promise<ReferVerdict> => ({ accept: false, status: 403, reason: 'Not Your Device' }), 403, 'Not Your Device'],
    ['throws', async (): Promise<ReferVerdict> => Promise.reject(new Error('db down')), 500, 'REFER authorization failed'],
    ['answers nonsense', async (): Promise<ReferVerdict> => ({ accept: false, status: 202 }), 500, 'REFER authorization failed'],
    ['smuggles a header line into the reason', async (): Promise<ReferVerdict> => ({ accept: false, status: 403, reason: 'No\r\nX-Evil: 1' }), 500, 'REFER authorization failed'],
  ])('answers the REFER with the failure when the handler %s', async (_label, authorize, status, reason) => {
    const accepted = vi.fn();
    const setup = await startUa({ authorize, accepted });
    await registered(setup);
    sendJoinRefer(setup.responder);
    const response = await setup.responder.response('REFER');
    expect([response.status, response.reason]).toEqual([status, reason]);
    expect(accepted).not.toHaveBeenCalled();
  });

  it('refuses with 403 when no handler is configured (JsSIP would say 405)', async () => {
    const setup = await startUa();
    await registered(setup);
    sendJoinRefer(setup.responder);
    expect((await setup.responder.response('REFER')).status).toBe(403);
  });

  it('answers 400 to a REFER without Refer-To, before bothering the handler', async () => {
    const authorize = vi.fn(async (): Promise<ReferVerdict> => ({ accept: true }));
    const setup = await startUa({ authorize, accepted: () => undefined });
    await registered(setup);
    setup.responder.sendRequest('REFER', PUB_GRUU, [
      { name: 'From', value: '<sip:cpm-transfer@a.example>;tag=cs1' },
      { name: 'To', value: `<${PUB_GRUU}>` },
      { name: 'Call-ID', value: 'join-2' },
      { name: 'CSeq', value: '1 REFER' },
      { name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' },
    ]);
    const response = await setup.responder.response('REFER');
    expect([response.status, response.reason]).toEqual([400, 'Missing or invalid Refer-To']);
    expect(authorize).not.toHaveBeenCalled();
  });
});

describe('CpmUserAgent sending an out-of-dialog REFER', () => {
  const TARGET_DIALOG = formatTargetDialog({ callId: 'call-t@a1', localTag: 'far', remoteTag: 'mine' });

  async function referSent(setup: Setup) {
    await registered(setup);
    const subscriber = setup.ua.sendOutOfDialogRefer({
      target: 'sip:cpm-transfer@a.example',
      referTo: 'sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000002',
      referredBy: PUB_GRUU,
      targetDialog: TARGET_DIALOG,
    });
    const notifications: ReferNotification[] = [];
    subscriber.on('notify', (n) => notifications.push(n));
    const refer = await setup.responder.request('REFER');
    return { subscriber, notifications, refer };
  }

  let notifyCseq = 0;
  /** A NOTIFY from the notifier in the subscription dialog of `refer` (CSeq rising, RFC 3261 §12.2.2). */
  function notifyFor(responder: TinyResponder, refer: SipRequest, subscriptionState: string, sipfrag: string, id?: string): void {
    const cseq = (refer.headers.get('CSeq') ?? '').split(' ')[0];
    responder.sendRequest('NOTIFY', PUB_GRUU, [
      { name: 'From', value: '<sip:cpm-transfer@a.example>;tag=srv1' },
      { name: 'To', value: refer.headers.get('From') ?? '' },
      { name: 'Call-ID', value: refer.headers.get('Call-ID') ?? '' },
      { name: 'CSeq', value: `${++notifyCseq} NOTIFY` },
      { name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' },
      { name: 'Event', value: `refer;id=${id ?? cseq}` },
      { name: 'Subscription-State', value: subscriptionState },
      { name: 'Content-Type', value: 'message/sipfrag' },
    ], sipfrag);
  }

  it('sends Refer-To, Referred-By, Target-Dialog and its pub-gruu as Contact', async () => {
    const setup = await startUa();
    const { refer } = await referSent(setup);
    expect(refer.uri).toBe('sip:cpm-transfer@a.example');
    expect(refer.headers.get('To')).toBe('<sip:cpm-transfer@a.example>');
    expect(refer.headers.get('Refer-To')).toBe('<sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000002>');
    expect(refer.headers.get('Referred-By')).toBe(`<${PUB_GRUU}>`);
    expect(refer.headers.get('Target-Dialog')).toBe('call-t@a1;local-tag=far;remote-tag=mine');
    expect(refer.headers.get('Contact')).toBe(`<${PUB_GRUU}>`);
    expect(refer.headers.has('Require')).toBe(false); // PROFILE.md: no Require: tdialog on this REFER
  });

  it('matches the NOTIFYs after the 202 to the subscription and surfaces their sipfrag until terminated', async () => {
    const setup = await startUa();
    const { subscriber, notifications, refer } = await referSent(setup);
    setup.responder.reply(refer, 202, [{ name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' }]);
    await vi.waitFor(() => expect(subscriber.state).toBe(ReferSubscriberState.Accepted));

    notifyFor(setup.responder, refer, 'active;expires=120', 'SIP/2.0 100 Trying\r\n');
    expect((await setup.responder.response('NOTIFY')).status).toBe(200);
    notifyFor(setup.responder, refer, 'terminated;reason=noresource', 'SIP/2.0 200 OK\r\n');
    expect((await setup.responder.response('NOTIFY')).status).toBe(200);

    expect(notifications.map((n) => [n.sipfrag.status, n.subscriptionState.state])).toEqual([[100, 'active'], [200, 'terminated']]);
    expect(subscriber.state).toBe(ReferSubscriberState.Terminated);
    expect(subscriber.termination).toEqual({ kind: 'notified', sipfrag: { status: 200, reason: 'OK' }, reason: 'noresource' });

    // The dialog is gone: a late NOTIFY gets 481 (RFC 6665 §4.1.3).
    notifyFor(setup.responder, refer, 'terminated;reason=noresource', 'SIP/2.0 200 OK\r\n');
    expect((await setup.responder.response('NOTIFY')).status).toBe(481);
  });

  it('accepts a NOTIFY that overtakes the 202 (RFC 6665 §4.1.2.4)', async () => {
    const setup = await startUa();
    const { subscriber, notifications, refer } = await referSent(setup);
    notifyFor(setup.responder, refer, 'active;expires=120', 'SIP/2.0 100 Trying\r\n');
    expect((await setup.responder.response('NOTIFY')).status).toBe(200);
    expect(subscriber.state).toBe(ReferSubscriberState.Accepted);
    setup.responder.reply(refer, 202, [{ name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' }]);
    notifyFor(setup.responder, refer, 'terminated;reason=noresource', 'SIP/2.0 408 Request Timeout\r\n');
    expect((await setup.responder.response('NOTIFY')).status).toBe(200);
    expect(notifications.map((n) => n.sipfrag.status)).toEqual([100, 408]);
  });

  it('answers 481 to a NOTIFY whose Event id is not our REFER\'s CSeq, and 400 to one without a sipfrag status', async () => {
    const setup = await startUa();
    const { notifications, refer } = await referSent(setup);
    setup.responder.reply(refer, 202, [{ name: 'Contact', value: '<sip:cs-a@127.0.0.1;transport=ws>' }]);
    notifyFor(setup.responder, refer, 'active;expires=120', 'SIP/2.0 100 Trying\r\n', '999999');
    expect((await setup.responder.response('NOTIFY')).status).toBe(481);
    notifyFor(setup.responder, refer, 'active;expires=120', 'hello');
    expect((await setup.responder.response('NOTIFY')).status).toBe(400);
    expect(notifications).toEqual([]);
  });

  it('ends the subscription with the status when the REFER is refused', async () => {
    const setup = await startUa();
    const { subscriber, refer } = await referSent(setup);
    setup.responder.reply(refer, 491);
    await vi.waitFor(() => expect(subscriber.state).toBe(ReferSubscriberState.Terminated));
    expect(subscriber.termination).toEqual({ kind: 'rejected', status: 491, reason: 'Request Pending' });
  });

  it('refuses an invalid target at once', async () => {
    const setup = await startUa();
    await registered(setup);
    expect(() => setup.ua.sendOutOfDialogRefer({ target: 'sip:', referTo: PUB_GRUU })).toThrow('sendOutOfDialogRefer: invalid target "sip:"');
  });
});

describe('CPM sessions through the patched JsSIP (no window, no WebRTC)', () => {
  const NO_MEDIA = { mediaConstraints: { audio: false, video: false } };
  const BOB_SDP = [
    'v=0', 'o=- 2 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=message 40009 TCP/MSRP *',
    'a=accept-types:message/cpim', 'a=path:msrp://127.0.0.1:40009/bobsessionid0000001;tcp', 'a=setup:%SETUP%', '',
  ].join('\r\n');

  function msrpFactory(negotiations: MsrpNegotiation[]): Partial<CpmUserAgentOptions> {
    return {
      peerConnectionFactory: () =>
        new MsrpPeerConnection({
          localEndpoint: () => ({
            path: [parseMsrpUri('msrp://127.0.0.1:40001/alicesessionid00001;tcp')],
            acceptTypes: ['message/cpim'],
            acceptWrappedTypes: ['text/plain', 'message/imdn+xml'],
          }),
          onNegotiated: (n) => negotiations.push(n),
        }),
    };
  }

  it('sends an INVITE whose offer is MSRP SDP, and hands the negotiated path to the owner', async () => {
    const negotiations: MsrpNegotiation[] = [];
    const setup = await startUa(undefined, msrpFactory(negotiations));
    await registered(setup);
    const session = setup.ua.call('sip:bob@b.example', NO_MEDIA);
    const invite = await setup.responder.request('INVITE');
    expect(bodyText(invite)).toContain('m=message 40001 TCP/MSRP *');
    expect(bodyText(invite)).toContain('a=setup:actpass');
    expect(invite.headers.get('Contact')).toBe(`<${PUB_GRUU}>`);
    setup.responder.reply(invite, 200, [
      { name: 'Contact', value: '<sip:bob@127.0.0.1;transport=ws>' },
      { name: 'Content-Type', value: 'application/sdp' },
    ], BOB_SDP.replace('%SETUP%', 'passive'));
    await setup.responder.request('ACK');
    await vi.waitFor(() => expect(session.isEstablished()).toBe(true));
    expect(negotiations).toHaveLength(1);
    expect(negotiations[0]).toMatchObject({ role: 'offerer', setup: 'active', remoteAddress: { host: '127.0.0.1', port: 40009 } });
  });

  it('answers an incoming INVITE with MSRP SDP', async () => {
    const negotiations: MsrpNegotiation[] = [];
    const setup = await startUa(undefined, msrpFactory(negotiations));
    setup.ua.on('newRTCSession', (event: RTCSessionEvent) => {
      if (event.originator === 'remote') event.session.answer(NO_MEDIA);
    });
    await registered(setup);
    setup.responder.sendRequest('INVITE', PUB_GRUU, [
      { name: 'From', value: '<sip:bob@b.example>;tag=bob1' },
      { name: 'To', value: '<sip:alice@a.example>' },
      { name: 'Call-ID', value: 'inv-1' },
      { name: 'CSeq', value: '1 INVITE' },
      { name: 'Contact', value: '<sip:bob@127.0.0.1;transport=ws>' },
      { name: 'Content-Type', value: 'application/sdp' },
    ], BOB_SDP.replace('%SETUP%', 'actpass'));
    const ok = await setup.responder.response('INVITE');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Content-Type')).toBe('application/sdp');
    expect(bodyText(ok)).toContain('a=setup:passive');
    expect(bodyText(ok)).toContain('a=path:msrp://127.0.0.1:40001/alicesessionid00001;tcp');
    expect(negotiations[0]).toMatchObject({ role: 'answerer', setup: 'passive' });
  });
});
