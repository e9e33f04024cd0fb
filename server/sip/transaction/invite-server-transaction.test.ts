import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendTarget } from '../transport/transport-types';
import { FakeTransport } from './fake-transport';
import { InviteServerState as S, InviteServerTransaction } from './invite-server-transaction';
import { sampleRequest, sampleResponse } from './sample-messages';

const T1 = 10;
const T2 = 40;
const T4 = 50;
const UDP: SendTarget = { protocol: 'udp', host: '192.0.2.1', port: 5070 };

function create(target: SendTarget = UDP) {
  const transport = new FakeTransport();
  const invite = sampleRequest('INVITE');
  const tx = new InviteServerTransaction('3261|k', invite, target, transport, { t1: T1, t2: T2, t4: T4 });
  const states: S[] = [];
  tx.on('stateChange', (_from, to) => states.push(to));
  return { tx, transport, invite, states };
}

describe('InviteServerTransaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers an INVITE retransmission in Proceeding with the last provisional response', async () => {
    const { tx, transport, invite } = create();
    expect(tx.receiveRequest(invite)).toBe('absorbed');
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sent).toHaveLength(0); // nothing sent yet: nothing to repeat
    tx.respond(sampleResponse(invite, 180));
    tx.receiveRequest(invite);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(180)).toHaveLength(2);
    expect(transport.sent[0]?.target).toEqual(UDP);
  });

  it('retransmits a 486 with Timer G (T1, doubling, capped at T2) until the ACK, then absorbs ACKs until Timer I', async () => {
    const { tx, transport, invite, states } = create();
    tx.respond(sampleResponse(invite, 486));
    expect(tx.state).toBe(S.Completed);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(486)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10 + 20 + 40 + 40); // G at 10, 30, 70, 110
    expect(transport.sentResponses(486)).toHaveLength(5);
    tx.receiveRequest(invite); // INVITE retransmission in Completed: resend the final response
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(486)).toHaveLength(6);
    const ack = sampleRequest('ACK', { toTag: 'b1' });
    expect(tx.receiveRequest(ack)).toBe('absorbed');
    expect(tx.state).toBe(S.Confirmed);
    expect(tx.receiveRequest(ack)).toBe('absorbed');
    await vi.advanceTimersByTimeAsync(100);
    expect(transport.sentResponses(486)).toHaveLength(6); // G stopped
    expect(states).toEqual([S.Completed, S.Confirmed, S.Terminated]); // I = T4 = 50 elapsed
  });

  it('gives up with Timer H (64·T1) when no ACK comes, and tells the TU', async () => {
    const { tx, invite, states } = create();
    const timeout = vi.fn();
    tx.on('timeout', timeout);
    tx.respond(sampleResponse(invite, 404));
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(timeout).toHaveBeenCalledOnce();
    expect(states).toEqual([S.Completed, S.Terminated]);
  });

  it('does not retransmit over TCP and ends Confirmed at once (I = 0)', async () => {
    const { tx, transport, invite, states } = create({ protocol: 'tcp', host: '192.0.2.1', port: 5070, flowId: 'f1' });
    tx.respond(sampleResponse(invite, 486));
    await vi.advanceTimersByTimeAsync(30 * T1);
    expect(transport.sentResponses(486)).toHaveLength(1);
    expect(transport.sent[0]?.target.flowId).toBe('f1');
    tx.receiveRequest(sampleRequest('ACK', { toTag: 'b1' }));
    expect(states).toEqual([S.Completed, S.Confirmed, S.Terminated]);
  });

  it('moves to Accepted on a 2xx: sends 2xx retransmissions from the TU, passes ACKs up, absorbs INVITEs, ends after Timer L', async () => {
    const { tx, transport, invite, states } = create();
    const ok = sampleResponse(invite, 200);
    tx.respond(ok);
    expect(tx.state).toBe(S.Accepted);
    tx.respond(ok); // the TU (UAS core or proxy) retransmits 2xx itself
    tx.receiveRequest(invite);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(200)).toHaveLength(2);
    expect(tx.receiveRequest(sampleRequest('ACK', { toTag: 'b1' }))).toBe('pass-to-tu');
    expect(() => tx.respond(sampleResponse(invite, 486))).toThrow('cannot send 486 in state Accepted');
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(states).toEqual([S.Accepted, S.Terminated]);
    expect(() => tx.respond(ok)).toThrow('in state Terminated');
  });

  it('for an RFC 2543 peer, takes an ACK as its own only if the To tag is that of its final response', () => {
    const transport = new FakeTransport();
    const invite = sampleRequest('INVITE', { branch: '' });
    const tx = new InviteServerTransaction('2543|k', invite, UDP, transport, { t1: T1 });
    tx.respond(sampleResponse(invite, 486, 'ours'));
    expect(tx.receiveRequest(sampleRequest('ACK', { branch: '', toTag: 'other' }))).toBe('pass-to-tu');
    expect(tx.state).toBe(S.Completed);
    expect(tx.receiveRequest(sampleRequest('ACK', { branch: '', toTag: 'ours' }))).toBe('absorbed');
    expect(tx.state).toBe(S.Confirmed);
  });
});
