import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendTarget } from '../transport/transport-types';
import { FakeTransport } from './fake-transport';
import { NonInviteClientState as S, NonInviteClientTransaction } from './non-invite-client-transaction';
import { sampleRequest, sampleResponse } from './sample-messages';

const T1 = 10;
const T2 = 40;
const UDP: SendTarget = { protocol: 'udp', host: '192.0.2.9', port: 5060 };

function start(target: SendTarget = UDP) {
  const transport = new FakeTransport();
  const request = sampleRequest('OPTIONS');
  const tx = new NonInviteClientTransaction('k', request, target, transport, { t1: T1, t2: T2, t4: 50 });
  const states: S[] = [];
  tx.on('stateChange', (_from, to) => states.push(to));
  tx.start();
  return { tx, transport, request, states };
}

/** Times (ms since start) at which the request was sent, sampled every 1 ms up to `until`. */
async function sendTimes(transport: FakeTransport, until: number): Promise<number[]> {
  const times: number[] = [];
  let seen = 0;
  for (let t = 0; t <= until; t++) {
    await vi.advanceTimersByTimeAsync(t === 0 ? 0 : 1);
    const now = transport.sentRequests('OPTIONS').length;
    for (; seen < now; seen++) times.push(t);
  }
  return times;
}

describe('NonInviteClientTransaction (RFC 3261 §17.1.2)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retransmits in Trying with Timer E doubling up to T2', async () => {
    const { transport } = start();
    expect(await sendTimes(transport, 200)).toEqual([0, 10, 30, 70, 110, 150, 190]);
  });

  it('retransmits every T2 once a provisional response moved it to Proceeding', async () => {
    const { tx, transport, request } = start();
    await vi.advanceTimersByTimeAsync(T1 + 1); // sent at 0 and 10; next E due at 30
    tx.receiveResponse(sampleResponse(request, 100));
    expect(tx.state).toBe(S.Proceeding);
    await vi.advanceTimersByTimeAsync(19); // E fires at 30, then every T2
    expect(transport.sentRequests('OPTIONS')).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(T2);
    expect(transport.sentRequests('OPTIONS')).toHaveLength(4);
  });

  it('times out with Timer F (64·T1) in Trying or Proceeding', async () => {
    const { tx, request, states } = start();
    const timeout = vi.fn();
    tx.on('timeout', timeout);
    tx.receiveResponse(sampleResponse(request, 100));
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(timeout).toHaveBeenCalledOnce();
    expect(states).toEqual([S.Proceeding, S.Terminated]);
  });

  it('passes the final response up once, absorbs its retransmissions, and ends after Timer K (T4)', async () => {
    const { tx, transport, request, states } = start();
    const seen = vi.fn();
    tx.on('response', seen);
    tx.receiveResponse(sampleResponse(request, 200));
    tx.receiveResponse(sampleResponse(request, 200));
    expect(seen).toHaveBeenCalledOnce();
    expect(tx.state).toBe(S.Completed);
    await vi.advanceTimersByTimeAsync(49);
    expect(tx.state).toBe(S.Completed);
    await vi.advanceTimersByTimeAsync(1);
    expect(states).toEqual([S.Completed, S.Terminated]);
    expect(transport.sentRequests('OPTIONS')).toHaveLength(1); // Timer E stopped on leaving Trying
  });

  it('moves from Proceeding to Completed on the final response', () => {
    const { tx, request, states } = start();
    tx.receiveResponse(sampleResponse(request, 100));
    tx.receiveResponse(sampleResponse(request, 486));
    expect(states).toEqual([S.Proceeding, S.Completed]);
  });

  it('over TCP sends once, and Completed ends at once (K = 0)', async () => {
    const { tx, transport, request, states } = start({ protocol: 'tcp', host: '192.0.2.9', port: 5060 });
    await vi.advanceTimersByTimeAsync(30 * T1);
    expect(transport.sentRequests('OPTIONS')).toHaveLength(1);
    tx.receiveResponse(sampleResponse(request, 404));
    expect(states).toEqual([S.Completed, S.Terminated]);
  });

  it('refuses INVITE and ACK', () => {
    expect(() => new NonInviteClientTransaction('k', sampleRequest('INVITE'), UDP, new FakeTransport())).toThrow('cannot carry INVITE');
    expect(() => new NonInviteClientTransaction('k', sampleRequest('ACK'), UDP, new FakeTransport())).toThrow('cannot carry ACK');
  });
});
