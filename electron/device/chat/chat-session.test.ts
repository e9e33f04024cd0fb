import { describe, expect, it, vi } from 'vitest';
import { newLocalMsrpUri } from '../../../protocol/msrp/msrp-ids';
import { MsrpHeaders } from '../../../protocol/msrp/msrp-message';
import { MsrpSession, type OutgoingMessage } from '../../../protocol/msrp/msrp-session';
import { ChatSession, ChatSessionState, EndCause } from './chat-session';
import type { ChatMediaTransport } from './msrp-transport';
import { FakeDialog, FakeSignalling } from './testing/fake-signalling';

const ALICE = { uri: 'sip:alice@a.example', displayName: 'Alice' };

/** A transport whose binds never complete, or fail at once (closing the session, as the real one does). */
function transport(outcome: 'pending' | 'fail'): ChatMediaTransport & { bound: MsrpSession[] } {
  const bound: MsrpSession[] = [];
  return {
    bound,
    newLocalUri: () => newLocalMsrpUri('127.0.0.1', 40000),
    bind(session) {
      bound.push(session);
      if (outcome === 'pending') return new Promise<void>(() => undefined);
      session.close();
      return Promise.reject(new Error('connection refused'));
    },
  };
}

function states(session: ChatSession): Array<[string, string | null]> {
  const seen: Array<[string, string | null]> = [];
  session.on('stateChange', (to, _from, cause) => seen.push([to, cause]));
  return seen;
}

/** An incoming session at Bob, its caller's dialog, and Bob's side. */
function incoming(media: ChatMediaTransport) {
  const signalling = new FakeSignalling(ALICE);
  const callerMedia = transport('pending');
  let caller: ChatSession | undefined;
  const out = signalling.startInvite({
    target: 'sip:bob@b.example',
    conversationId: 'conv-1',
    contributionId: 'contrib-1',
    peerConnection: { localEndpoint: () => caller!.peerConnectionOptions().localEndpoint(), onNegotiated: (n) => caller!.peerConnectionOptions().onNegotiated(n) },
  });
  caller = new ChatSession({ sip: out, conversationId: 'conv-1', contributionId: 'contrib-1', transport: callerMedia, keepAliveMs: 0 });
  const dialog = signalling.incomingFor();
  const callee = new ChatSession({ sip: dialog, conversationId: 'conv-1', contributionId: 'contrib-1', transport: media, keepAliveMs: 0 });
  return { caller, callee, dialog, out, callerMedia };
}

describe('ChatSession state machine', () => {
  it('an incoming session rings, connects on accept and waits for MSRP; accepting twice is refused', async () => {
    const media = transport('pending');
    const t = incoming(media);
    const seen = states(t.callee);
    expect(t.callee.state).toBe(ChatSessionState.Ringing);
    t.callee.accept();
    expect(t.dialog.calls).toEqual(['answer']);
    expect(media.bound).toHaveLength(1);
    expect(t.callerMedia.bound).toHaveLength(1);
    await Promise.resolve();
    expect(seen).toEqual([['connecting', null]]); // the dialog is confirmed, MSRP is not bound yet
    expect(() => t.callee.accept()).toThrow('accept: the session is connecting, not ringing');
    expect(() => t.callee.decline()).toThrow('decline: the session is connecting, not ringing');
  });

  it('fails, and hangs up, when its MSRP session cannot be bound', async () => {
    const t = incoming(transport('fail'));
    const seen = states(t.callee);
    t.callee.accept();
    expect(seen).toEqual([['connecting', null], ['failed', EndCause.MsrpFailed]]);
    expect(t.dialog.calls).toEqual(['answer', 'terminate']);
    expect(t.callee.cause).toBe(EndCause.MsrpFailed);
    // and the caller's session is over too (the callee hung up before the dialog was confirmed)
    expect(t.caller.usable).toBe(false);
  });

  it('an outgoing session refused with a final response fails with its status line', () => {
    const t = incoming(transport('pending'));
    t.dialog.reject(486, 'Busy Here');
    expect(t.caller.state).toBe(ChatSessionState.Failed);
    expect(t.caller.cause).toBe('486 Busy Here');
  });

  it('ending a connecting session locally cancels it and counts as ended, not failed', () => {
    const t = incoming(transport('pending'));
    t.caller.end();
    expect(t.caller.state).toBe(ChatSessionState.Ended);
    expect(t.caller.cause).toBe(EndCause.LocalBye);
    expect(t.out.calls).toEqual(['terminate']);
    t.caller.end(); // idempotent
    expect(t.out.calls).toEqual(['terminate']);
  });

  it('ending a ringing session declines it', () => {
    const t = incoming(transport('pending'));
    t.callee.end();
    expect(t.callee.state).toBe(ChatSessionState.Ended);
    expect(t.callee.cause).toBe(EndCause.Declined);
    expect(t.dialog.calls).toEqual(['reject 603']);
  });

  it('resolves sends on an ended session as failed instead of throwing', async () => {
    const t = incoming(transport('pending'));
    t.caller.end();
    expect(await t.caller.send(new Uint8Array([1]))).toMatchObject({ ok: false, comment: 'session ended' });
  });

  it('hands out messages queued before the SDP exchange as failed when the session ends first', async () => {
    const t = incoming(transport('pending'));
    const pending = t.caller.send(new Uint8Array([1, 2, 3]));
    t.dialog.reject(480, 'Temporarily Unavailable');
    expect(await pending).toMatchObject({ ok: false, comment: 'session ended' });
  });

  it('offers MSRP with a=setup:actpass from the local URI the transport gave (RFC 6135)', () => {
    const t = incoming(transport('pending'));
    expect(t.dialog).toBeInstanceOf(FakeDialog);
    expect(t.dialog.offer).toMatch(/^m=message 40000 TCP\/MSRP \*$/m);
    expect(t.dialog.offer).toContain('a=setup:actpass');
  });

  it('names the message a failure REPORT is about by the ref it was sent with, also one queued before the SDP exchange (RFC 4975 §7.1.2)', () => {
    const sends = vi.spyOn(MsrpSession.prototype, 'send');
    try {
      const t = incoming(transport('pending'));
      const failed: Array<[string, number, string]> = [];
      t.caller.on('deliveryFailed', (ref, status, comment) => failed.push([ref, status, comment]));
      void t.caller.send(new TextEncoder().encode('queued before the answer'), 'chat-early');
      t.callee.accept(); // the SDP exchange: the queued message goes to the caller's MSRP session
      void t.caller.send(new TextEncoder().encode('sent on the session'), 'chat-late');
      void t.caller.send(new TextEncoder().encode('an IMDN, nobody to tell'));
      const media = t.callerMedia.bound[0]!;
      const ids = sends.mock.results.map((r) => (r.value as OutgoingMessage).messageId);
      expect(ids).toHaveLength(3);
      const report = (messageId: string, status: string): void =>
        media.receiveReport({ kind: 'request', transactionId: `t${status}`, method: 'REPORT', headers: new MsrpHeaders([{ name: 'Message-ID', value: messageId }, { name: 'Status', value: status }]), body: undefined, continuation: '$' });
      report(ids[1]!, '000 200 OK'); // success: nothing to say
      report(ids[0]!, '000 481 Session ended before delivery');
      report(ids[2]!, '000 481 Session ended before delivery'); // sent without a ref
      report('unknown-id', '000 408 Request Timeout');
      report(ids[1]!, '000 408 Request Timeout');
      report(ids[1]!, '000 408 Request Timeout'); // told once
      expect(failed).toEqual([
        ['chat-early', 481, 'Session ended before delivery'],
        ['chat-late', 408, 'Request Timeout'],
      ]);
    } finally {
      sends.mockRestore();
    }
  });
});
