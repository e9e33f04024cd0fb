import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipRequest } from '../message/sip-message';
import type { SendTarget } from '../transport/transport-types';
import { FakeTransport } from './fake-transport';
import { InviteClientState as S, InviteClientTransaction } from './invite-client-transaction';
import { sampleRequest, sampleResponse } from './sample-messages';

const T1 = 10;
const UDP: SendTarget = { protocol: 'udp', host: '192.0.2.9', port: 5060 };
const TCP: SendTarget = { protocol: 'tcp', host: '192.0.2.9', port: 5060 };

function start(target: SendTarget = UDP): { tx: InviteClientTransaction; transport: FakeTransport; invite: SipRequest; states: S[] } {
  const transport = new FakeTransport();
  const invite = sampleRequest('INVITE');
  const tx = new InviteClientTransaction('k', invite, target, transport, { t1: T1, t2: 40, t4: 50 });
  const states: S[] = [];
  tx.on('stateChange', (_from, to) => states.push(to));
  tx.start();
  return { tx, transport, invite, states };
}

describe('InviteClientTransaction (RFC 3261 §17.1.1, RFC 6026)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retransmits the INVITE over UDP at T1, 2T1, 4T1… (Timer A) until a provisional response arrives', async () => {
    const { tx, transport, invite } = start();
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentRequests('INVITE')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(T1); // A fires at 10
    expect(transport.sentRequests('INVITE')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2 * T1); // at 30
    expect(transport.sentRequests('INVITE')).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(4 * T1 - 1); // just before 70
    expect(transport.sentRequests('INVITE')).toHaveLength(3);
    tx.receiveResponse(sampleResponse(invite, 180));
    expect(tx.state).toBe(S.Proceeding);
    await vi.advanceTimersByTimeAsync(100 * T1);
    expect(transport.sentRequests('INVITE')).toHaveLength(3);
    expect(tx.state).toBe(S.Proceeding); // Timer B no longer applies
  });

  it('never retransmits over a reliable transport', async () => {
    const { transport } = start(TCP);
    await vi.advanceTimersByTimeAsync(63 * T1);
    expect(transport.sentRequests('INVITE')).toHaveLength(1);
  });

  it('times out with Timer B (64·T1) in Calling: timeout to the TU, then Terminated', async () => {
    const { tx, states } = start();
    const timeout = vi.fn();
    tx.on('timeout', timeout);
    await vi.advanceTimersByTimeAsync(64 * T1 - 1);
    expect(timeout).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(timeout).toHaveBeenCalledOnce();
    expect(states).toEqual([S.Terminated]);
  });

  it('ACKs a 486 itself with the INVITE\'s top Via and the response\'s To, and ACKs its retransmission again', async () => {
    const { tx, transport, invite, states } = start();
    const seen = vi.fn();
    tx.on('response', seen);
    const busy = sampleResponse(invite, 486, 'callee-tag');
    tx.receiveResponse(busy);
    expect(tx.state).toBe(S.Completed);
    expect(seen).toHaveBeenCalledWith(busy);
    await vi.advanceTimersByTimeAsync(0);
    const [ack] = transport.sentRequests('ACK');
    expect(ack?.type === 'request' && ack.uri).toBe(invite.uri);
    expect(ack?.headers.getAll('Via')).toEqual([invite.headers.first('Via')]);
    expect(ack?.headers.get('To')).toBe('<sip:bob@example.com>;tag=callee-tag');
    expect(ack?.headers.get('CSeq')).toBe('1 ACK');
    tx.receiveResponse(busy); // retransmission: the ACK was lost
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentRequests('ACK')).toHaveLength(2);
    expect(seen).toHaveBeenCalledOnce(); // retransmissions are absorbed
    await vi.advanceTimersByTimeAsync(64 * T1); // Timer D
    expect(states).toEqual([S.Completed, S.Terminated]);
  });

  it('ends Completed at once over a reliable transport (Timer D = 0)', () => {
    const { tx, invite, states } = start(TCP);
    tx.receiveResponse(sampleResponse(invite, 180));
    tx.receiveResponse(sampleResponse(invite, 603));
    expect(states).toEqual([S.Proceeding, S.Completed, S.Terminated]);
  });

  it('passes every 2xx to the TU in Accepted, sends no ACK itself, and ends after Timer M', async () => {
    const { tx, transport, invite, states } = start();
    const seen = vi.fn();
    tx.on('response', seen);
    tx.receiveResponse(sampleResponse(invite, 200, 'x'));
    tx.receiveResponse(sampleResponse(invite, 200, 'x'));
    tx.receiveResponse(sampleResponse(invite, 200, 'fork-2'));
    tx.receiveResponse(sampleResponse(invite, 486, 'late'));
    expect(seen).toHaveBeenCalledTimes(3);
    expect(tx.state).toBe(S.Accepted);
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(transport.sentRequests('ACK')).toHaveLength(0);
    expect(states).toEqual([S.Accepted, S.Terminated]);
  });

  it('moves from Proceeding to Accepted on a 2xx after ringing', () => {
    const { tx, invite, states } = start();
    tx.receiveResponse(sampleResponse(invite, 183));
    tx.receiveResponse(sampleResponse(invite, 200));
    expect(states).toEqual([S.Proceeding, S.Accepted]);
  });

  it('refuses to start twice', () => {
    const { tx } = start();
    expect(() => tx.start()).toThrow('called twice');
  });
});
