import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { DeviceEventMap } from '../../api/device-api';
import type { ChatMessage, DeviceInfo } from '../../api/payloads';
import { encodeSessionTransfer, SESSION_TRANSFER_CONTENT_TYPE } from '../../../protocol/cpm/session-transfer';
import { formatReferTo } from '../../../protocol/sip/refer-to';
import { ChatSessionState, EndCause, type ChatSession } from '../chat/chat-session';
import type { IncomingRefer } from '../sip/cpm-user-agent';
import { ReferNotifierState, type ReferNotifier } from '../sip/refer-notifier';
import { ReferSubscriberState, type OutgoingReferOptions, type ReferSubscriber } from '../sip/refer-subscriber';
import { DeviceTransfers, type TransferChat, type TransferHistory } from './device-transfers';

const X = 'sip:cpm-transfer@a.example';
const LAPTOP = 'sip:alice@a.example;gr=urn:uuid:aaaa';
const DESKTOP = 'sip:alice@a.example;gr=urn:uuid:dddd';
const CONV = 'conv-1';
const DEVICES: DeviceInfo[] = [
  { instanceId: 'urn:uuid:aaaa', name: 'Laptop', pubGruu: LAPTOP, self: true, cpmCapable: true },
  { instanceId: 'urn:uuid:dddd', name: 'Desktop', pubGruu: DESKTOP, self: false, cpmCapable: true },
  { instanceId: 'urn:uuid:eeee', name: 'Phone', pubGruu: 'sip:alice@a.example;gr=urn:uuid:eeee', self: false, cpmCapable: false },
];

/** A session carrying CONV: Call-ID c1, our tag "ours", bob's tag "bobs". */
class FakeSession extends EventEmitter {
  state = ChatSessionState.Active;
  cause: string | null = null;
  readonly sip = { dialog: { callId: 'c1', localTag: 'ours', remoteTag: 'bobs', remoteTarget: 'sip:bob@b.example;gr=urn:uuid:bbbb' } };
  readonly ended: string[] = [];
  end(cause: string): void {
    this.ended.push(cause);
    this.become(ChatSessionState.Ended, cause);
  }
  become(state: ChatSessionState, cause: string | null = null): void {
    const from = this.state;
    this.state = state;
    this.cause = cause;
    this.emit('stateChange', state, from, cause);
  }
}

class FakeSubscriber extends EventEmitter {
  state = ReferSubscriberState.Sent;
  termination: ReferSubscriber['termination'] = null;
}

interface HarnessOptions {
  autoAccept?: boolean;
  deposit?: () => Promise<void>;
  resyncMs?: readonly number[];
  stored?: ChatMessage[];
  /** Replaces the history's fetch and adds its store cursor (the target's catch-up to a Join's history cursor). */
  ledger?: Pick<TransferHistory, 'syncConversation' | 'storeCursor'>;
}

function harness(options: HarnessOptions = {}) {
  const log: string[] = [];
  const events: Array<{ type: string; payload: unknown }> = [];
  const session = new FakeSession();
  const refers: Array<{ options: OutgoingReferOptions; subscriber: FakeSubscriber }> = [];
  const joined: FakeSession[] = [];
  const resumed = new Set<(conversationId: string) => void>();
  const chat: TransferChat = {
    carrier: (id) => (id === CONV && session.state === ChatSessionState.Active ? (session as unknown as ChatSession) : undefined),
    markMoved: (id, name) => log.push(`moved ${id} to ${name}`),
    join: (request) => {
      log.push(`INVITE ${request.target} [${request.extraHeaders.join(' | ')}]`);
      const s = new FakeSession();
      s.state = ChatSessionState.Connecting;
      joined.push(s);
      return s as unknown as ChatSession;
    },
    onSessionResumed: (listener) => {
      resumed.add(listener);
      return () => resumed.delete(listener);
    },
  };
  const transfers = new DeviceTransfers({
    ua: {
      pubGruu: LAPTOP,
      sendOutOfDialogRefer: (o) => {
        const subscriber = new FakeSubscriber();
        refers.push({ options: o, subscriber });
        return subscriber as unknown as ReferSubscriber;
      },
    },
    chat,
    transferServiceUri: X,
    devices: () => DEVICES,
    history: {
      deposit: options.deposit ?? (async () => void log.push('deposit')),
      syncConversation: async (id) => {
        log.push(`sync ${id}`);
        if (options.ledger) return options.ledger.syncConversation(id);
        return (options.stored ?? []).splice(0);
      },
      ...(options.ledger?.storeCursor ? { storeCursor: options.ledger.storeCursor } : {}),
    },
    emit: (type, payload) => events.push({ type, payload }),
    autoAccept: options.autoAccept ?? false,
    resyncAfterJoinMs: options.resyncMs ?? [],
  });
  const progress = () => events.filter((e) => e.type === 'transferProgress').map((e) => e.payload as DeviceEventMap['transferProgress']);
  return { transfers, session, refers, joined, log, events, progress, resumed };
}

describe('DeviceTransfers, the source: "move this conversation to Desktop"', () => {
  it('sends REFER X naming T as its far side sees it, then on the release NOTIFY marks the thread moved, deposits, and sends BYE', async () => {
    const h = harness();
    const id = h.transfers.moveToInstance(CONV, 'urn:uuid:dddd');
    expect(h.refers[0]!.options).toEqual({ target: X, referTo: DESKTOP, referredBy: LAPTOP, targetDialog: 'c1;local-tag=bobs;remote-tag=ours' });
    const sub = h.refers[0]!.subscriber;
    sub.emit('response', 202, 'Accepted');
    sub.emit('notify', { sipfrag: { status: 100, reason: 'Trying' }, subscriptionState: { state: 'active', expires: 120 } });
    sub.emit('notify', { sipfrag: { status: 200, reason: 'OK' }, subscriptionState: { state: 'terminated', reason: 'noresource' } });
    await vi.waitFor(() => expect(h.progress().at(-1)?.phase).toBe('completed'));
    expect(h.log).toEqual([`moved ${CONV} to Desktop`, 'deposit']);
    expect(h.session.ended).toEqual(['moved to Desktop']);
    expect(h.progress().map((p) => [p.phase, p.statusCode])).toEqual([
      ['requested', null], ['accepted', 202], ['accepted', 100], ['replaced', 200], ['completed', 200],
    ]);
    expect(h.progress().at(-1)).toMatchObject({ transferId: id, role: 'source', outcome: 'moved', description: 'Moved to Desktop' });
  });

  it('releases T even when the Message Store does not answer the deposit in time', async () => {
    vi.useFakeTimers();
    try {
      const h = harness({ deposit: () => new Promise<void>(() => undefined) });
      h.transfers.move(CONV, { gruu: DESKTOP, name: 'Desktop' });
      const sub = h.refers[0]!.subscriber;
      sub.emit('notify', { sipfrag: { status: 200, reason: 'OK' }, subscriptionState: { state: 'terminated' } });
      expect(h.session.ended).toEqual([]);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(h.session.ended).toEqual(['moved to Desktop']);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    [603, 'Decline', 'declined', 'declined'],
    [408, 'Request Timeout', 'timed-out', 'no-answer'],
    [491, 'Request Pending', 'failed', 'refused'],
    [480, 'Temporarily Unavailable', 'failed', 'device-gone'],
  ] as const)('a %i keeps the session and says why', (status, reason, phase, outcome) => {
    const h = harness();
    h.transfers.move(CONV, { gruu: DESKTOP, name: 'Desktop' });
    const sub = h.refers[0]!.subscriber;
    if (status === 491 || status === 480) sub.emit('response', status, reason);
    else {
      sub.emit('response', 202, 'Accepted');
      sub.emit('notify', { sipfrag: { status, reason }, subscriptionState: { state: 'terminated', reason: 'noresource' } });
    }
    expect(h.progress().at(-1)).toMatchObject({ phase, outcome, statusCode: status });
    expect(h.session.ended).toEqual([]);
    expect(h.log).toEqual([]);
  });

  it('fails the move when the REFER goes unanswered, and when T ends before the release', () => {
    const h = harness();
    h.transfers.move(CONV, { gruu: DESKTOP, name: 'Desktop' });
    const sub = h.refers[0]!.subscriber;
    sub.termination = { kind: 'timeout' };
    sub.emit('stateChange', ReferSubscriberState.Terminated, ReferSubscriberState.Sent);
    expect(h.progress().at(-1)).toMatchObject({ phase: 'timed-out', statusCode: 408 });

    const h2 = harness();
    h2.transfers.move(CONV, { gruu: DESKTOP, name: 'Desktop' });
    h2.session.become(ChatSessionState.Ended, 'ended by the peer');
    expect(h2.progress().at(-1)).toMatchObject({ phase: 'failed', statusCode: 487 });
  });

  it('refuses to move what it cannot: no session, unknown device, itself, a device without CPM', () => {
    const h = harness();
    expect(() => h.transfers.moveToInstance('other', 'urn:uuid:dddd')).toThrow(/\[invalid-state\] no active session/);
    expect(() => h.transfers.moveToInstance(CONV, 'urn:uuid:ffff')).toThrow(/\[not-found\] no device/);
    expect(() => h.transfers.moveToInstance(CONV, 'urn:uuid:aaaa')).toThrow(/already on this device/);
    expect(() => h.transfers.moveToInstance(CONV, 'urn:uuid:eeee')).toThrow(/cannot take CPM sessions/);
    expect(h.refers).toEqual([]);
  });
});

describe('DeviceTransfers, the target: a Join REFER from Conversation Server A', () => {
  const J = 'sip:bob@b.example;gr=urn:uuid:bbbb';
  const referTo = formatReferTo({
    uri: J,
    headers: [
      { name: 'Target-Dialog', value: 'c1;local-tag=bobs;remote-tag=ours' },
      { name: 'Require', value: 'tdialog' },
      { name: 'Conversation-ID', value: CONV },
      { name: 'InReplyTo-Contribution-ID', value: 'contrib-1' },
    ],
  });
  const body = encodeSessionTransfer({ version: 1, conversationId: CONV, peer: { uri: 'sip:bob@b.example', displayName: 'Bob' }, sourceDeviceName: 'Laptop' });

  function refer(asserted: string, referredBy = LAPTOP, target = referTo, transferBody = body): IncomingRefer {
    const headers: Record<string, string> = { 'p-asserted-identity': `<${asserted}>`, 'content-type': SESSION_TRANSFER_CONTENT_TYPE };
    const request = { body: transferBody, getHeader: (name: string) => headers[name.toLowerCase()] } as unknown as IncomingRefer['request'];
    return { request, referTo: target, referredBy: `<${referredBy}>`, targetDialog: null, cseq: 1 };
  }

  class FakeNotifier extends EventEmitter {
    state = ReferNotifierState.Active;
    readonly sent: string[] = [];
    progress(status: number, reason: string) {
      this.sent.push(`${status} ${reason}`);
      return Promise.resolve({ status: 200 });
    }
    finish(status: number, reason: string) {
      this.sent.push(`${status} ${reason} (terminated)`);
      this.state = ReferNotifierState.Terminated;
      return Promise.resolve({ status: 200 });
    }
  }

  it('refuses with 403 a Join not asserted as X, or referred by a device that is not ours', async () => {
    const h = harness();
    expect(await h.transfers.authorize(refer('sip:bob@b.example'))).toMatchObject({ accept: false, status: 403 });
    expect(await h.transfers.authorize(refer(X, 'sip:carol@a.example;gr=urn:uuid:cccc'))).toMatchObject({ accept: false, status: 403 });
    expect(await h.transfers.authorize(refer(X))).toEqual({ accept: true });
  });

  it('refuses with 400 a Join whose J embeds a header that must never be embedded (RFC 3261 §19.1.5)', async () => {
    const h = harness();
    const withContact = referTo.replace(/>$/, '&Contact=%3Csip:evil%40x.example%3E>');
    expect(await h.transfers.authorize(refer(X, LAPTOP, withContact))).toMatchObject({ accept: false, status: 400 });
  });

  it('prompts, and on accept invites J with the embedded headers (Conversation-ID only once), Referred-By, then says 200 once the session is up', async () => {
    const h = harness();
    const r = refer(X);
    await h.transfers.authorize(r);
    const notifier = new FakeNotifier();
    h.transfers.accepted(r, notifier as unknown as ReferNotifier);
    const prompt = h.events.find((e) => e.type === 'joinRequest')!.payload as DeviceEventMap['joinRequest'];
    expect(prompt).toMatchObject({ conversationId: CONV, peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', sourceDeviceName: 'Laptop' });
    h.transfers.acceptJoin(prompt.joinId);
    await vi.waitFor(() => expect(h.joined).toHaveLength(1));
    expect(h.log).toEqual([
      `sync ${CONV}`,
      `INVITE ${J} [Target-Dialog: c1;local-tag=bobs;remote-tag=ours | Require: tdialog | InReplyTo-Contribution-ID: contrib-1 | Referred-By: <${LAPTOP}>]`,
    ]);
    h.joined[0]!.become(ChatSessionState.Active);
    await vi.waitFor(() => expect(notifier.sent).toEqual(['200 OK (terminated)']));
    expect(h.progress().map((p) => p.phase)).toEqual(['requested', 'joining', 'replaced']);
    expect(h.log.at(-1)).toBe(`sync ${CONV}`);
  });

  it('accepts at once with auto-accept; reports the INVITE\'s failure status to Conversation Server A', async () => {
    const h = harness({ autoAccept: true });
    const r = refer(X);
    await h.transfers.authorize(r);
    const notifier = new FakeNotifier();
    h.transfers.accepted(r, notifier as unknown as ReferNotifier);
    expect(h.events.filter((e) => e.type === 'joinRequest')).toEqual([]);
    await vi.waitFor(() => expect(h.joined).toHaveLength(1));
    h.joined[0]!.become(ChatSessionState.Failed, '481 Call/Transaction Does Not Exist');
    await vi.waitFor(() => expect(notifier.sent).toEqual(['481 Call/Transaction Does Not Exist (terminated)']));
    expect(h.progress().at(-1)).toMatchObject({ phase: 'failed', statusCode: 481 });
  });

  it.each([
    ['the far side ended it before it was up: its BYE', ChatSessionState.Ended, EndCause.RemoteBye, 481, '481 Call/Transaction Does Not Exist (terminated)'],
    ['the far side ended it before it was up: a 481 to its MSRP binding', ChatSessionState.Failed, EndCause.MsrpRefused, 481, '481 Call/Transaction Does Not Exist (terminated)'],
    ['a local failure of the INVITE J', ChatSessionState.Failed, EndCause.MsrpFailed, 500, `500 ${EndCause.MsrpFailed} (terminated)`],
  ] as const)('tells Conversation Server A why the joined session did not come up: %s gives %i', async (_how, state, cause, status, sipfrag) => {
    const h = harness({ autoAccept: true });
    const r = refer(X);
    await h.transfers.authorize(r);
    const notifier = new FakeNotifier();
    h.transfers.accepted(r, notifier as unknown as ReferNotifier);
    await vi.waitFor(() => expect(h.joined).toHaveLength(1));
    h.joined[0]!.become(state, cause);
    await vi.waitFor(() => expect(notifier.sent).toEqual([sipfrag]));
    expect(h.progress().at(-1)).toMatchObject({ phase: 'failed', statusCode: status });
  });

  describe('catching up to the Join’s history cursor (the store held at least that much when the Join went out)', () => {
    const bodyWithCursor = (historyCursor: string) =>
      encodeSessionTransfer({ version: 1, conversationId: CONV, peer: { uri: 'sip:bob@b.example' }, sourceDeviceName: 'Laptop', historyCursor });
    const message = (seq: number): ChatMessage => ({
      id: `m${seq}`, conversationId: CONV, direction: 'incoming', senderUri: 'sip:bob@b.example', text: `#${seq}`, timestamp: seq, status: 'delivered',
    });

    /**
     * This device's view of the Message Store, which holds `held` messages of CONV: each fetch gets what the
     * next entry of `reaches` says it saw (a fetch already under way saw fewer; `fail`: the store did not
     * answer), and moves the device's cursor there.
     */
    function ledger(held: number, reaches: (number | 'fail')[], cursor: string | null = null) {
      let mine = cursor === null ? 0 : Number(cursor);
      let device: string | null = cursor;
      return {
        storeCursor: () => device,
        syncConversation: async (): Promise<ChatMessage[]> => {
          const reach = reaches.shift() ?? held;
          if (reach === 'fail') throw new Error('store unreachable');
          const added: ChatMessage[] = [];
          for (; mine < Math.min(reach, held); ) added.push(message(++mine));
          if (mine > 0) device = String(mine);
          return added;
        },
      };
    }

    async function acceptJoin(h: ReturnType<typeof harness>, transferBody: string): Promise<void> {
      const r = refer(X, LAPTOP, referTo, transferBody);
      await h.transfers.authorize(r);
      h.transfers.accepted(r, new FakeNotifier() as unknown as ReferNotifier);
    }

    const shown = (h: ReturnType<typeof harness>) => h.events.filter((e) => e.type === 'message').map((e) => (e.payload as ChatMessage).id);

    it('the fetch on accept saw less than the store held (it joined a fetch already under way): fetches again promptly, without holding up the INVITE', async () => {
      vi.useFakeTimers();
      try {
        const h = harness({ autoAccept: true, resyncMs: [1_500, 5_000], ledger: ledger(5, [3]) });
        await acceptJoin(h, bodyWithCursor('5'));
        await vi.advanceTimersByTimeAsync(0);
        expect(h.log).toEqual([`sync ${CONV}`, expect.stringMatching(/^INVITE /)]);
        expect(shown(h)).toEqual(['m1', 'm2', 'm3']);
        await vi.advanceTimersByTimeAsync(100);
        expect(h.log.filter((l) => l.startsWith('sync'))).toHaveLength(2);
        expect(shown(h)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
        // Caught up: no more fetches until the session is up (its resyncs are the joined session's).
        await vi.advanceTimersByTimeAsync(1_400);
        expect(h.log.filter((l) => l.startsWith('sync'))).toHaveLength(2);
      } finally {
        vi.useRealTimers();
      }
    });

    it('a store that does not answer: a bounded number of prompt retries, then it is left to the resyncs', async () => {
      vi.useFakeTimers();
      try {
        const h = harness({ autoAccept: true, ledger: ledger(5, ['fail', 'fail', 'fail', 'fail', 'fail']) });
        await acceptJoin(h, bodyWithCursor('5'));
        await vi.advanceTimersByTimeAsync(10_000);
        expect(h.log.filter((l) => l.startsWith('sync'))).toHaveLength(4); // on accept, then 3 retries
        expect(h.joined).toHaveLength(1);
        expect(shown(h)).toEqual([]);
      } finally {
        vi.useRealTimers();
      }
    });

    it('compares cursors as the store orders them: a device at 9 is behind 10, though "9" > "10" as text', async () => {
      vi.useFakeTimers();
      try {
        const h = harness({ autoAccept: true, ledger: ledger(10, [9, 10], '8') });
        await acceptJoin(h, bodyWithCursor('10'));
        await vi.advanceTimersByTimeAsync(1_000);
        expect(h.log.filter((l) => l.startsWith('sync'))).toHaveLength(2);
        expect(shown(h)).toEqual(['m9', 'm10']);
      } finally {
        vi.useRealTimers();
      }
    });

    it.each([
      ['already has what the store held', bodyWithCursor('5'), ledger(5, [])],
      ['is ahead of the cursor (messages came after the Join)', bodyWithCursor('5'), ledger(7, [])],
      ['got no cursor in the Join', body, ledger(5, [3])],
      ['got a cursor it cannot judge', bodyWithCursor('opaque-token'), ledger(5, [3])],
      ['cannot read its own cursor', bodyWithCursor('5'), { syncConversation: ledger(5, [3]).syncConversation }],
    ])('fetches once, on accept, when the device %s', async (_what, transferBody, history) => {
      vi.useFakeTimers();
      try {
        const h = harness({ autoAccept: true, ledger: history });
        await acceptJoin(h, transferBody);
        await vi.advanceTimersByTimeAsync(10_000);
        expect(h.log.filter((l) => l.startsWith('sync'))).toHaveLength(1);
        expect(h.joined).toHaveLength(1);
      } finally {
        vi.useRealTimers();
      }
    });

    it('stops catching up when the account signs out', async () => {
      vi.useFakeTimers();
      try {
        const h = harness({ autoAccept: true, ledger: ledger(5, ['fail', 'fail', 'fail', 'fail']) });
        await acceptJoin(h, bodyWithCursor('5'));
        await vi.advanceTimersByTimeAsync(0);
        h.transfers.close();
        await vi.advanceTimersByTimeAsync(10_000);
        expect(h.log.filter((l) => l.startsWith('sync'))).toHaveLength(1);
      } finally {
        vi.useRealTimers();
      }
    });
  });

  it('declines with 603, and withdraws the prompt when Conversation Server A ends the subscription', async () => {
    const h = harness();
    const first = refer(X);
    await h.transfers.authorize(first);
    const n1 = new FakeNotifier();
    h.transfers.accepted(first, n1 as unknown as ReferNotifier);
    const p1 = h.events.filter((e) => e.type === 'joinRequest').at(-1)!.payload as DeviceEventMap['joinRequest'];
    h.transfers.declineJoin(p1.joinId);
    expect(n1.sent).toEqual(['603 Decline (terminated)']);
    expect(() => h.transfers.acceptJoin(p1.joinId)).toThrow(/no Join request/);

    const second = refer(X);
    await h.transfers.authorize(second);
    const n2 = new FakeNotifier();
    h.transfers.accepted(second, n2 as unknown as ReferNotifier);
    const p2 = h.events.filter((e) => e.type === 'joinRequest').at(-1)!.payload as DeviceEventMap['joinRequest'];
    n2.state = ReferNotifierState.Terminated;
    n2.emit('stateChange', ReferNotifierState.Terminated, ReferNotifierState.Active);
    expect(h.progress().at(-1)).toMatchObject({ transferId: p2.joinId, phase: 'timed-out', statusCode: 408 });
    expect(() => h.transfers.acceptJoin(p2.joinId)).toThrow(/no Join request/);
  });
});

describe('DeviceTransfers: the Join did not happen, and the far side opened a new session', () => {
  it('resyncs a conversation a new incoming session resumed from the Message Store, at once and when the source’s deposit is due', async () => {
    vi.useFakeTimers();
    try {
      const held: ChatMessage = { id: 'm-held', conversationId: CONV, direction: 'incoming', senderUri: 'sip:bob@b.example', text: 'sent while the source died', timestamp: 1, status: 'delivered' };
      const h = harness({ resyncMs: [1_500, 5_000], stored: [held] });
      expect(h.resumed.size).toBe(1);
      for (const listener of h.resumed) listener(CONV);
      await vi.advanceTimersByTimeAsync(0);
      expect(h.log).toEqual([`sync ${CONV}`]);
      // What the store had (in-path: recorded by Conversation Server A while it held it) reaches the thread.
      expect(h.events.filter((e) => e.type === 'message').map((e) => (e.payload as ChatMessage).id)).toEqual(['m-held']);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(h.log).toEqual([`sync ${CONV}`, `sync ${CONV}`, `sync ${CONV}`]);
      // Signed out: no more listening, no more syncs.
      h.transfers.close();
      expect(h.resumed.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
