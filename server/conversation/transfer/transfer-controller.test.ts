import { afterEach, describe, expect, it } from 'vitest';
import { parseSessionTransfer } from '../../../protocol/cpm/session-transfer';
import { parseSipfragStatus, parseTargetDialog } from '../../../protocol/sip/refer-headers';
import { parseNameAddr } from '../../sip/message/name-addr';
import { parseMessageText } from '../../sip/message/parse';
import { bodyText, type SipRequest, type SipResponse } from '../../sip/message/sip-message';
import { decodedUriHeaders, parseSipUri } from '../../sip/message/sip-uri';
import { FakeTransport } from '../../sip/transaction/fake-transport';
import { TransactionLayer } from '../../sip/transaction/transaction-layer';
import { messageStoreSink, type MessageSink } from '../../store/message-sink';
import { SqliteMessageStore } from '../../store/sqlite-message-store';
import { messages } from '../../store/test-fixtures';
import { DeviceRegistry } from '../registry/device-registry';
import type { CpmSessionInfo } from '../session-handler';
import { TransferController } from './transfer-controller';
import { TransferState } from './transfer-state';

const ICSI = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';
const LAPTOP = 'sip:alice@a.example;gr=urn:uuid:00000000-0000-0000-0000-00000000000a';
const DESKTOP = 'sip:alice@a.example;gr=urn:uuid:00000000-0000-0000-0000-00000000000d';
const PRINTER = 'sip:alice@a.example;gr=urn:uuid:00000000-0000-0000-0000-0000000000ff';
const CAROL = 'sip:carol@a.example;gr=urn:uuid:00000000-0000-0000-0000-0000000000cc';
const BOB = 'sip:bob@b.example;gr=urn:uuid:00000000-0000-0000-0000-0000000000bb';
const CORE = { protocol: 'tls' as const, host: '127.0.0.1', port: 5061 };

/** T: Laptop (tag lap) is the caller, Bob's device (tag bob) the callee; proxy mode, so J is Bob's GRUU. */
const session: CpmSessionInfo = {
  roles: ['orig'],
  callId: 'T-call@a',
  conversationId: 'conv-1234567890',
  contributionId: 'contrib-1234567890',
  assertedIdentity: '<sip:alice@a.example>',
  caller: { aor: 'sip:alice@a.example', tag: 'lap', target: LAPTOP },
  callee: { aor: 'sip:bob@b.example', tag: 'bob', target: BOB, displayName: 'Bob Builder' },
};

let controllers: TransferController[] = [];
afterEach(() => {
  for (const c of controllers) c.close();
  controllers = [];
});

function setup(options: { targetAnswerMs?: number; history?: Pick<MessageSink, 'cursor'>; log?: (line: string) => void } = {}) {
  const moves: string[] = [];
  const transport = new FakeTransport([{ protocol: 'tls', host: '127.0.0.1', port: 6000 }]);
  const layer = new TransactionLayer(transport, { timers: { t1: 10, t2: 40, t4: 50 } });
  const registry = new DeviceRegistry();
  const device = (gruu: string, name: string, cpm = true) =>
    `<sip:x-${name}@abc.invalid;transport=ws>;+sip.instance="<${gruu.split('gr=')[1]}>";+cpm.device-name="${name}"${cpm ? `;${ICSI}` : ''};expires=600;pub-gruu="${gruu}"`;
  registry.applyThirdPartyRegister('sip:alice@a.example', [device(LAPTOP, 'Laptop'), device(DESKTOP, 'Desktop'), device(PRINTER, 'Printer', false)]);
  registry.applyThirdPartyRegister('sip:carol@a.example', [device(CAROL, 'Carol')]);
  const controller = new TransferController({
    domain: 'a.example',
    layer,
    self: { protocol: 'tls', host: '127.0.0.1', port: 6000 },
    contact: 'sip:cpm-cs-transfer@a.example',
    core: CORE,
    serviceUri: 'sip:cpm-transfer@a.example',
    registry,
    sessions: {
      findByDialog: (c, a, b) => (c === session.callId && [a, b].sort().join() === 'bob,lap' ? session : undefined),
      moveStarted: (c, a, b) => moves.push(`started ${c} ${a} ${b}`) > 0,
      moveEnded: (c, a, b, outcome) => void moves.push(`ended ${c} ${a} ${b} ${outcome}`),
    },
    ...(options.targetAnswerMs !== undefined ? { targetAnswerMs: options.targetAnswerMs } : {}),
    ...(options.history ? { history: options.history } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  controllers.push(controller);
  layer.on('request', (tx, received) => {
    if (controller.wants(received.message as SipRequest)) controller.handleRequest(tx, received);
  });
  return { transport, layer, controller, registry, moves };
}

let cseq = 1;
function transferRefer(overrides: Partial<Record<'referTo' | 'targetDialog' | 'referredBy' | 'pai', string | null>> = {}): SipRequest {
  const header = (name: string, value: string | null | undefined, fallback: string) => (value === null ? '' : `${name}: ${value ?? fallback}\r\n`);
  return parseMessageText(
    `REFER sip:cpm-transfer@a.example SIP/2.0\r\n` +
      `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-core-${cseq}\r\n` +
      `Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK-dev-${cseq};received=127.0.0.1\r\n` +
      `Record-Route: <sip:127.0.0.1:5061;transport=tls;lr>\r\n` +
      `Max-Forwards: 69\r\nFrom: <sip:alice@a.example>;tag=src${cseq}\r\nTo: <sip:cpm-transfer@a.example>\r\n` +
      `Call-ID: xfer-${cseq}@laptop\r\nCSeq: ${cseq++} REFER\r\nContact: <${LAPTOP}>\r\n` +
      header('Refer-To', overrides.referTo, `<${DESKTOP}>`) +
      header('Target-Dialog', overrides.targetDialog, 'T-call@a;local-tag=bob;remote-tag=lap') +
      header('Referred-By', overrides.referredBy, `<${LAPTOP}>`) +
      header('P-Asserted-Identity', overrides.pai, '<sip:alice@a.example>') +
      `Content-Length: 0\r\n\r\n`,
  ) as SipRequest;
}

const responses = (t: FakeTransport) => t.sent.map((s) => s.message).filter((m): m is SipResponse => m.type === 'response');
const requests = (t: FakeTransport, method: string) =>
  t.sent.map((s) => s.message).filter((m): m is SipRequest => m.type === 'request' && m.method === method);

describe('Conversation Server A authorizes a move (PROFILE.md steps 4–5)', () => {
  const cases: [string, Parameters<typeof transferRefer>[0], number][] = [
    ['no Target-Dialog', { targetDialog: null }, 400],
    ['an unparsable Target-Dialog', { targetDialog: 'T-call@a;local-tag=bob' }, 400],
    ['no such session', { targetDialog: 'other@a;local-tag=bob;remote-tag=lap' }, 481],
    ['bob asking to move alice’s session', { pai: '<sip:bob@b.example>' }, 403],
    ['alice’s other device asking (Referred-By is not T’s local target)', { referredBy: `<${DESKTOP}>` }, 403],
    ['a target GRUU nobody registered', { referTo: '<sip:alice@a.example;gr=urn:uuid:99999999-9999-9999-9999-999999999999>' }, 404],
    ['a target that is carol’s device', { referTo: `<${CAROL}>` }, 403],
    ['a target without the CPM feature tag', { referTo: `<${PRINTER}>` }, 480],
  ];
  for (const [what, overrides, status] of cases) {
    it(`answers ${status} to ${what}, and starts nothing`, () => {
      const { transport, controller } = setup();
      transport.deliver(transferRefer(overrides), CORE);
      expect(responses(transport).map((r) => r.status)).toEqual([status]);
      expect(requests(transport, 'REFER')).toEqual([]);
      expect(controller.activeCount()).toBe(0);
    });
  }
});

describe('Alice moves the chat with Bob from Laptop to Desktop (CS A in proxy mode)', () => {
  it('202, NOTIFY 100 Trying to Laptop, and the Join REFER to Desktop’s GRUU with J and its embedded headers', () => {
    const { transport } = setup();
    transport.deliver(transferRefer(), CORE);
    expect(responses(transport).map((r) => r.status)).toEqual([202]);
    const [notify] = requests(transport, 'NOTIFY');
    expect(notify!.uri).toBe(LAPTOP);
    expect(notify!.headers.get('Route')).toBe('<sip:127.0.0.1:5061;transport=tls;lr>');
    expect(notify!.headers.get('Event')).toMatch(/^refer;id=\d+$/);
    expect(notify!.headers.get('Subscription-State')).toBe('active;expires=120');
    expect(parseSipfragStatus(bodyText(notify!)).status).toBe(100);

    const [join] = requests(transport, 'REFER');
    expect(join!.uri).toBe(DESKTOP);
    expect(join!.headers.get('P-Asserted-Identity')).toBe('<sip:cpm-transfer@a.example>');
    expect(join!.headers.get('Referred-By')).toBe(`<${LAPTOP}>`);
    const referTo = parseSipUri(parseNameAddr(join!.headers.get('Refer-To')!).uriText);
    expect(`sip:${referTo.user}@${referTo.host}`).toBe('sip:bob@b.example');
    const embedded = Object.fromEntries(decodedUriHeaders(referTo).map((h) => [h.name, h.value]));
    expect(parseTargetDialog(embedded['Target-Dialog']!)).toEqual({ callId: 'T-call@a', localTag: 'bob', remoteTag: 'lap' });
    expect(embedded['Require']).toBe('tdialog');
    expect(embedded['Conversation-ID']).toBe(session.conversationId);
    expect(embedded['InReplyTo-Contribution-ID']).toBe(session.contributionId);
    const body = parseSessionTransfer(join!.body);
    // The peer as the session's INVITE named him: what Desktop's prompt shows.
    expect(body).toMatchObject({ conversationId: session.conversationId, peer: { uri: 'sip:bob@b.example', displayName: 'Bob Builder' }, sourceDeviceName: 'Laptop' });
  });

  it('a second move of the same session while one is under way gets 491', () => {
    const { transport } = setup();
    transport.deliver(transferRefer(), CORE);
    transport.deliver(transferRefer(), CORE);
    expect(responses(transport).map((r) => r.status)).toEqual([202, 491]);
  });

  it('Desktop’s NOTIFY 200 (Session Replaced) makes CS A send Laptop the release NOTIFY; Laptop’s BYE completes it', () => {
    const { transport, controller } = setup();
    transport.deliver(transferRefer(), CORE);
    const join = requests(transport, 'REFER')[0]!;
    answerJoin(transport, join, 202);
    notifyFromTarget(transport, join, 100, 'active;expires=120', 2);
    notifyFromTarget(transport, join, 200, 'terminated;reason=noresource', 3);
    const notifies = requests(transport, 'NOTIFY');
    const last = notifies.at(-1)!;
    expect(parseSipfragStatus(bodyText(last)).status).toBe(200);
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=noresource');
    const record = controller.transferOf('T-call@a', 'bob', 'lap')!;
    expect(record.machine.state).toBe(TransferState.Releasing);
    controller.sessionEnded('T-call@a', 'lap', 'bob', true);
    expect(record.machine.state).toBe(TransferState.Completed);
    expect(controller.activeCount()).toBe(0);
  });

  it('Desktop declines: Laptop hears 603 (terminated) and keeps its session', () => {
    const { transport, controller } = setup();
    transport.deliver(transferRefer(), CORE);
    const join = requests(transport, 'REFER')[0]!;
    answerJoin(transport, join, 202);
    notifyFromTarget(transport, join, 603, 'terminated;reason=noresource', 2);
    const last = requests(transport, 'NOTIFY').at(-1)!;
    expect(parseSipfragStatus(bodyText(last)).status).toBe(603);
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=noresource');
    expect(controller.activeCount()).toBe(0);
  });

  it('Desktop never answers: after the time-out Laptop hears 408, the Join subscription is ended, a late INVITE J gets 481', async () => {
    const { transport, controller } = setup({ targetAnswerMs: 30 });
    transport.deliver(transferRefer(), CORE);
    const join = requests(transport, 'REFER')[0]!;
    answerJoin(transport, join, 202);
    await new Promise((r) => setTimeout(r, 60));
    expect(parseSipfragStatus(bodyText(requests(transport, 'NOTIFY').at(-1)!)).status).toBe(408);
    const unsubscribe = requests(transport, 'SUBSCRIBE').at(-1)!;
    expect(unsubscribe.headers.get('Expires')).toBe('0');
    expect(unsubscribe.headers.get('Event')).toBe('refer;id=1');
    const lateInvite = parseMessageText(
      `INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-late\r\nMax-Forwards: 70\r\n` +
        `From: <sip:alice@a.example>;tag=dsk\r\nTo: <sip:bob@b.example>\r\nCall-ID: new@desktop\r\nCSeq: 1 INVITE\r\n` +
        `Target-Dialog: T-call@a;local-tag=bob;remote-tag=lap\r\nP-Asserted-Identity: <sip:alice@a.example>\r\nContent-Length: 0\r\n\r\n`,
    ) as SipRequest;
    expect(controller.checkJoinInvite(lateInvite)).toEqual({ status: 481, reason: 'Transfer Timed Out' });
  });

  it('the Join REFER is refused by the target (it is gone): Laptop hears that status', async () => {
    const { transport, controller } = setup();
    transport.deliver(transferRefer(), CORE);
    answerJoin(transport, requests(transport, 'REFER')[0]!, 480);
    expect(parseSipfragStatus(bodyText(requests(transport, 'NOTIFY').at(-1)!)).status).toBe(480);
    expect(controller.activeCount()).toBe(0);
  });
});

describe('the session table hears when a move starts and ends (in-path: a source that crashes mid-move)', () => {
  it('started on the 202; ended once, `replaced`, on the target’s NOTIFY 200, and not again when T ends', () => {
    const { transport, controller, moves } = setup();
    transport.deliver(transferRefer(), CORE);
    expect(moves).toEqual(['started T-call@a bob lap']);
    const join = requests(transport, 'REFER')[0]!;
    answerJoin(transport, join, 202);
    expect(moves).toHaveLength(1);
    notifyFromTarget(transport, join, 200, 'terminated;reason=noresource', 2);
    controller.sessionEnded('T-call@a', 'lap', 'bob', true);
    expect(moves).toEqual(['started T-call@a bob lap', 'ended T-call@a bob lap replaced']);
  });

  it('ended `failed` when the target declines, does not answer in time, or cannot be reached', async () => {
    const declined = setup();
    declined.transport.deliver(transferRefer(), CORE);
    const join = requests(declined.transport, 'REFER')[0]!;
    answerJoin(declined.transport, join, 202);
    notifyFromTarget(declined.transport, join, 603, 'terminated;reason=noresource', 2);
    expect(declined.moves.at(-1)).toBe('ended T-call@a bob lap failed');

    const silent = setup({ targetAnswerMs: 30 });
    silent.transport.deliver(transferRefer(), CORE);
    answerJoin(silent.transport, requests(silent.transport, 'REFER')[0]!, 202);
    await new Promise((r) => setTimeout(r, 60));
    expect(silent.moves).toEqual(['started T-call@a bob lap', 'ended T-call@a bob lap failed']);

    const gone = setup();
    gone.transport.deliver(transferRefer(), CORE);
    answerJoin(gone.transport, requests(gone.transport, 'REFER')[0]!, 480);
    expect(gone.moves).toEqual(['started T-call@a bob lap', 'ended T-call@a bob lap failed']);
  });

  it('a refused REFER starts nothing', () => {
    const { transport, moves } = setup();
    transport.deliver(transferRefer({ referTo: `<${PRINTER}>` }), CORE);
    expect(moves).toEqual([]);
  });
});

/** The target's answer to the Join REFER, as it comes back through the core. */
function answerJoin(transport: FakeTransport, join: SipRequest, status: number): void {
  const via = join.headers.getAll('Via').join(', ');
  transport.deliver(
    parseMessageText(
      `SIP/2.0 ${status} X\r\nVia: ${via}\r\nFrom: ${join.headers.get('From')}\r\nTo: ${join.headers.get('To')};tag=dsk-sub\r\n` +
        `Call-ID: ${join.headers.get('Call-ID')}\r\nCSeq: ${join.headers.get('CSeq')}\r\nContact: <${DESKTOP}>\r\n` +
        `Record-Route: <sip:127.0.0.1:5061;transport=tls;lr>\r\nContent-Length: 0\r\n\r\n`,
    ),
    CORE,
  );
}

/** A NOTIFY on the Join subscription from Desktop. */
function notifyFromTarget(transport: FakeTransport, join: SipRequest, status: number, state: string, seq: number): void {
  const frag = `SIP/2.0 ${status} X\r\n`;
  transport.deliver(
    parseMessageText(
      `NOTIFY sip:cpm-cs-transfer@a.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-n${seq}${status}\r\nMax-Forwards: 69\r\n` +
        `From: <${DESKTOP}>;tag=dsk-sub\r\nTo: ${join.headers.get('From')}\r\nCall-ID: ${join.headers.get('Call-ID')}\r\n` +
        `CSeq: ${seq} NOTIFY\r\nEvent: refer;id=1\r\nSubscription-State: ${state}\r\nContact: <${DESKTOP}>\r\n` +
        `Content-Type: message/sipfrag\r\nContent-Length: ${frag.length}\r\n\r\n${frag}`,
    ),
    CORE,
  );
}

describe('the Join REFER body tells Desktop how far the history goes (PROFILE.md steps 6–9: history cursor)', () => {
  let store: SqliteMessageStore | undefined;
  afterEach(() => {
    store?.close();
    store = undefined;
  });

  /** Domain a's Message Store, holding `count` messages of alice's conversation `conversationId`. */
  function storeWith(owner: string, conversationId: string, count: number): MessageSink {
    store = SqliteMessageStore.open({ path: ':memory:' });
    const sink = messageStoreSink(store);
    sink.record(owner, messages(count, { conversationId }));
    return sink;
  }

  const bodyOfJoin = (transport: FakeTransport) => parseSessionTransfer(requests(transport, 'REFER')[0]!.body);

  it('carries the store’s cursor of alice’s conversation as the Join goes out', () => {
    const history = storeWith('sip:alice@a.example', session.conversationId, 7);
    const { transport } = setup({ history });
    transport.deliver(transferRefer(), CORE);
    const body = bodyOfJoin(transport);
    expect(body.historyCursor).toBe(history.cursor?.('sip:alice@a.example', session.conversationId));
    expect(body.historyCursor).toBe('7');
    // What a device fetching from the store after that cursor gets: nothing the store held at the Join.
    expect(store!.fetchAfter('sip:alice@a.example', session.conversationId, { after: Number(body.historyCursor) }).messages).toEqual([]);
  });

  it('has no cursor when the store does not have the conversation, or has it only for bob', () => {
    const { transport } = setup({ history: storeWith('sip:alice@a.example', 'conv-another-one', 3) });
    transport.deliver(transferRefer(), CORE);
    expect(bodyOfJoin(transport)).not.toHaveProperty('historyCursor');
    store?.close();

    const second = setup({ history: storeWith('sip:bob@b.example', session.conversationId, 3) });
    second.transport.deliver(transferRefer(), CORE);
    expect(bodyOfJoin(second.transport)).not.toHaveProperty('historyCursor');
  });

  it('has no cursor when the domain has no store, and the move goes on the same', () => {
    const { transport } = setup();
    transport.deliver(transferRefer(), CORE);
    expect(responses(transport).map((r) => r.status)).toEqual([202]);
    expect(bodyOfJoin(transport)).not.toHaveProperty('historyCursor');
  });

  it('leaves out a cursor unfit for the body (or a store that throws), logs why, and still sends the Join', () => {
    for (const history of [
      { cursor: () => 'x'.repeat(300) },
      { cursor: () => 'seq\n7' },
      {
        cursor: (): string => {
          throw new Error('disk gone');
        },
      },
    ]) {
      const lines: string[] = [];
      const { transport, controller } = setup({ history, log: (line) => lines.push(line) });
      transport.deliver(transferRefer(), CORE);
      expect(bodyOfJoin(transport)).toMatchObject({ conversationId: session.conversationId, sourceDeviceName: 'Laptop' });
      expect(bodyOfJoin(transport)).not.toHaveProperty('historyCursor');
      expect(lines.some((l) => /history cursor/.test(l))).toBe(true);
      controller.close();
    }
  });
});
