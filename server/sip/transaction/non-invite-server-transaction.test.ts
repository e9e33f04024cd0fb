import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendTarget } from '../transport/transport-types';
import { FakeTransport } from './fake-transport';
import { NonInviteServerState as S, NonInviteServerTransaction } from './non-invite-server-transaction';
import { sampleRequest, sampleResponse } from './sample-messages';

const T1 = 10;
const UDP: SendTarget = { protocol: 'udp', host: '192.0.2.1', port: 5070 };

function create(target: SendTarget = UDP) {
  const transport = new FakeTransport();
  const request = sampleRequest('REGISTER');
  const tx = new NonInviteServerTransaction('3261|k', request, target, transport, { t1: T1, t2: 40, t4: 50 });
  const states: S[] = [];
  tx.on('stateChange', (_from, to) => states.push(to));
  return { tx, transport, request, states };
}

describe('NonInviteServerTransaction (RFC 3261 §17.2.2)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('discards retransmissions in Trying, repeats the provisional in Proceeding and the final in Completed', async () => {
    const { tx, transport, request, states } = create();
    tx.receiveRequest(request);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sent).toHaveLength(0);
    tx.respond(sampleResponse(request, 100));
    tx.receiveRequest(request);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(100)).toHaveLength(2);
    tx.respond(sampleResponse(request, 200));
    tx.receiveRequest(request);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(200)).toHaveLength(2);
    expect(states).toEqual([S.Proceeding, S.Completed]);
  });

  it('stays in Completed for Timer J (64·T1) over UDP, then terminates', async () => {
    const { tx, request, states } = create();
    tx.respond(sampleResponse(request, 200));
    await vi.advanceTimersByTimeAsync(64 * T1 - 1);
    expect(tx.state).toBe(S.Completed);
    await vi.advanceTimersByTimeAsync(1);
    expect(states).toEqual([S.Completed, S.Terminated]);
  });

  it('terminates at once after the final response over TCP (J = 0)', () => {
    const { tx, request, states } = create({ protocol: 'tcp', host: '192.0.2.1', port: 5070, flowId: 'f' });
    tx.respond(sampleResponse(request, 401));
    expect(states).toEqual([S.Completed, S.Terminated]);
  });

  it('refuses a second final response: that is a TU bug', () => {
    const { tx, request } = create();
    tx.respond(sampleResponse(request, 200));
    expect(() => tx.respond(sampleResponse(request, 500))).toThrow('cannot send 500 in state Completed');
  });
});
