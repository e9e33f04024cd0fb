import { describe, expect, it, vi } from 'vitest';
import { encodeSessionTransfer } from '../../../protocol/cpm/session-transfer';
import { formatReferTo } from '../../../protocol/sip/refer-to';
import { RemoteContinuation, RemoteContinuationState } from './remote-continuation';
import { SourceTransfer, SourceTransferState, type SourceTransferPorts } from './source-transfer';
import { authorizeJoinRefer, TargetJoin, TargetJoinState, type IncomingJoinRefer, type JoinOffer } from './target-join';

const LAPTOP = 'sip:alice@a.example;gr=urn:uuid:aaaa';
const DESKTOP = 'sip:alice@a.example;gr=urn:uuid:dddd';
const J = 'sip:bob@b.example;gr=urn:uuid:bbbb';

type Handlers = Parameters<SourceTransferPorts['sendRefer']>[0];
function sourceWith() {
  let handlers: Handlers | undefined;
  const calls: string[] = [];
  const ports: SourceTransferPorts = {
    sendRefer: (h) => {
      handlers = h;
      calls.push('refer');
    },
    depositHistory: async () => {
      calls.push('deposit');
    },
    release: () => calls.push('bye'),
  };
  const source = new SourceTransfer(ports, 'Desktop');
  source.start();
  return { source, calls, h: () => handlers! };
}

describe('Laptop (the source) moves the chat to Desktop', () => {
  it('deposits the history, then sends BYE, on the release NOTIFY — in that order — and reports "moved"', async () => {
    const { source, calls, h } = sourceWith();
    h().response(202, 'Accepted');
    h().notify(100, 'Trying', false);
    expect(source.state).toBe(SourceTransferState.Moving);
    const done = new Promise((r) => source.once('done', r));
    h().notify(200, 'OK', true);
    expect(await done).toMatchObject({ outcome: 'moved', description: 'Moved to Desktop' });
    expect(calls).toEqual(['refer', 'deposit', 'bye']);
    expect(source.state).toBe(SourceTransferState.Moved);
  });

  const failures: [string, (h: Handlers) => void, string][] = [
    ['Desktop declines (603)', (h) => { h.response(202, 'Accepted'); h.notify(603, 'Decline', true); }, 'declined'],
    ['Desktop never answers (408)', (h) => { h.response(202, 'Accepted'); h.notify(408, 'Request Timeout', true); }, 'no-answer'],
    ['Desktop is gone (480 to the REFER)', (h) => h.response(480, 'Temporarily Unavailable'), 'device-gone'],
    ['a second move under way (491)', (h) => h.response(491, 'Request Pending'), 'refused'],
    ['Desktop’s INVITE failed (500 in the NOTIFY)', (h) => { h.response(202, 'Accepted'); h.notify(500, 'Server Internal Error', true); }, 'failed'],
  ];
  for (const [what, script, outcome] of failures) {
    it(`${what}: keeps the session (no BYE, no deposit) and says "${outcome}"`, () => {
      const { source, calls, h } = sourceWith();
      const results: unknown[] = [];
      source.on('done', (r) => results.push(r));
      script(h());
      expect(source.state).toBe(SourceTransferState.Failed);
      expect(results).toEqual([expect.objectContaining({ outcome })]);
      expect(calls).toEqual(['refer']);
    });
  }

  it('the far side ends T mid-move: the move fails, nothing is released twice', () => {
    const { source, calls, h } = sourceWith();
    h().response(202, 'Accepted');
    source.sessionEnded();
    h().notify(200, 'OK', true); // a late release changes nothing
    expect(source.state).toBe(SourceTransferState.Failed);
    expect(calls).toEqual(['refer']);
  });
});

function joinRefer(overrides: Partial<IncomingJoinRefer> = {}): IncomingJoinRefer {
  return {
    assertedIdentity: '<sip:cpm-transfer@a.example>',
    referTo: formatReferTo({
      uri: J,
      headers: [
        { name: 'Target-Dialog', value: 'T@a;local-tag=bob;remote-tag=lap' },
        { name: 'Require', value: 'tdialog' },
        { name: 'Conversation-ID', value: 'conv-1234' },
        { name: 'InReplyTo-Contribution-ID', value: 'contrib-1234' },
      ],
    }),
    referredBy: `<${LAPTOP}>`,
    contentType: 'application/vnd.cpm.session-transfer+json',
    body: encodeSessionTransfer({ version: 1, conversationId: 'conv-1234', peer: { uri: 'sip:bob@b.example', displayName: 'Bob' }, sourceDeviceName: 'Laptop' }),
    ...overrides,
  };
}
const context = { transferServiceUri: 'sip:cpm-transfer@a.example', ownDeviceGruus: [LAPTOP, DESKTOP] };

describe('Desktop (the target) receives the Join Session Notification', () => {
  it('from its Conversation Server, referred by Laptop: an offer with J (gr kept) and the INVITE’s headers', () => {
    const offer = authorizeJoinRefer(joinRefer(), context) as JoinOffer;
    expect(offer.joinUri).toBe(J);
    expect(offer.targetDialog).toEqual({ callId: 'T@a', localTag: 'bob', remoteTag: 'lap' });
    expect(offer.inviteHeaders.map((h) => h.name)).toEqual(['Target-Dialog', 'Require', 'Conversation-ID', 'InReplyTo-Contribution-ID']);
    expect(offer.details.sourceDeviceName).toBe('Laptop');
  });
  it('a forged Join REFER (not asserted as X, or referred by a stranger) is refused with 403; a malformed one with 400', () => {
    expect(authorizeJoinRefer(joinRefer({ assertedIdentity: '<sip:bob@b.example>' }), context)).toMatchObject({ status: 403 });
    expect(authorizeJoinRefer(joinRefer({ assertedIdentity: undefined }), context)).toMatchObject({ status: 403 });
    expect(authorizeJoinRefer(joinRefer({ referredBy: '<sip:carol@a.example;gr=urn:uuid:cccc>' }), context)).toMatchObject({ status: 403 });
    expect(authorizeJoinRefer(joinRefer({ referTo: `<${J}>` }), context)).toMatchObject({ status: 400 });
    expect(authorizeJoinRefer(joinRefer({ body: '{"version":1}' }), context)).toMatchObject({ status: 400 });
  });

  it('accepting invites J and then NOTIFYs 200 (Session Replaced); a failed INVITE NOTIFYs its status', async () => {
    const offer = authorizeJoinRefer(joinRefer(), context) as JoinOffer;
    const notes: [number, boolean][] = [];
    const ok = new TargetJoin(offer, { notify: (s, _r, f) => notes.push([s, f]), invite: async () => ({ status: 200, reason: 'OK' }) });
    expect(await ok.accept()).toBe(TargetJoinState.Joined);
    const bad = new TargetJoin(offer, { notify: (s, _r, f) => notes.push([s, f]), invite: async () => ({ status: 481, reason: 'Gone' }) });
    expect(await bad.accept()).toBe(TargetJoinState.Failed);
    expect(notes).toEqual([[200, true], [481, true]]);
  });

  it('declining, or letting the prompt expire, NOTIFYs 603 and never invites', async () => {
    const offer = authorizeJoinRefer(joinRefer(), context) as JoinOffer;
    const invite = vi.fn(async () => ({ status: 200, reason: 'OK' }));
    const notes: number[] = [];
    const declined = new TargetJoin(offer, { notify: (s) => notes.push(s), invite });
    declined.decline();
    const expired = new TargetJoin(offer, { notify: (s) => notes.push(s), invite }, 10);
    await new Promise((r) => setTimeout(r, 30));
    expect([declined.state, expired.state]).toEqual([TargetJoinState.Declined, TargetJoinState.Declined]);
    expect(notes).toEqual([603, 603]);
    expect(invite).not.toHaveBeenCalled();
    expect(await declined.accept()).toBe(TargetJoinState.Declined);
  });
});

describe('Bob’s device (the remote party) after accepting the continuation', () => {
  it('stops sending on the old dialog, still takes its messages until the BYE, and never BYEs it itself when Laptop releases', () => {
    const endOld = vi.fn();
    const c = new RemoteContinuation(endOld, 20);
    expect(c.sendsOnOld).toBe(true);
    c.superseded();
    expect([c.sendsOnOld, c.acceptsOldMedia]).toEqual([false, true]);
    c.released();
    expect(c.state).toBe(RemoteContinuationState.Released);
    expect(c.acceptsOldMedia).toBe(false);
    expect(endOld).not.toHaveBeenCalled();
  });
  it('ends the old dialog itself after the grace period when no BYE comes', async () => {
    const endOld = vi.fn();
    const c = new RemoteContinuation(endOld, 10);
    c.superseded();
    await new Promise((r) => setTimeout(r, 30));
    expect(c.state).toBe(RemoteContinuationState.Expired);
    expect(endOld).toHaveBeenCalledTimes(1);
  });
});
