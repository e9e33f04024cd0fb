import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendTarget } from '../transport/transport-types';
import { FakeTransport } from './fake-transport';
import { InviteClientState, InviteClientTransaction } from './invite-client-transaction';
import { InviteServerTransaction } from './invite-server-transaction';
import { NonInviteClientTransaction } from './non-invite-client-transaction';
import { NonInviteServerTransaction } from './non-invite-server-transaction';
import { sampleRequest, sampleResponse } from './sample-messages';
import type { ClientTransaction, ServerTransaction } from './transaction-layer';

const UDP: SendTarget = { protocol: 'udp', host: '192.0.2.9', port: 5060 };
const TCP: SendTarget = { protocol: 'tcp', host: '192.0.2.9', port: 5060 };
const TIMERS = { t1: 10, t2: 40, t4: 50 };

/** Each kind on `transport`, with the first thing that makes it send. */
type Subject = { tx: ClientTransaction | ServerTransaction; firstSend: () => void };
const KINDS: [string, (transport: FakeTransport) => Subject][] = [
  ['INVITE client', (t) => {
    const tx = new InviteClientTransaction('k', sampleRequest('INVITE'), UDP, t, TIMERS);
    return { tx, firstSend: () => tx.start() };
  }],
  ['non-INVITE client', (t) => {
    const tx = new NonInviteClientTransaction('k', sampleRequest('MESSAGE'), UDP, t, TIMERS);
    return { tx, firstSend: () => tx.start() };
  }],
  ['INVITE server', (t) => {
    const tx = new InviteServerTransaction('3261|k', sampleRequest('INVITE'), UDP, t, TIMERS);
    return { tx, firstSend: () => tx.respond(sampleResponse(tx.request, 180)) };
  }],
  ['non-INVITE server', (t) => {
    const tx = new NonInviteServerTransaction('3261|k', sampleRequest('MESSAGE'), UDP, t, TIMERS);
    return { tx, firstSend: () => tx.respond(sampleResponse(tx.request, 100)) };
  }],
];

describe('what every transaction does (RFC 3261 §17)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each(KINDS)('%s: reports a failed send to the TU and terminates (§8.1.3.1, §17.2.4)', async (_kind, create) => {
    const transport = new FakeTransport();
    transport.failWith = new Error('no route');
    const { tx, firstSend } = create(transport);
    const failed = vi.fn();
    tx.on('transportError', failed);
    firstSend();
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).toHaveBeenCalledWith(transport.failWith);
    expect(tx.terminated).toBe(true);
    expect(tx.state).toBe('Terminated');
  });

  it('ends without telling the TU when a send fails after the TU has its answer (a lost ACK for a 486)', async () => {
    const transport = new FakeTransport();
    const tx = new InviteClientTransaction('k', sampleRequest('INVITE'), UDP, transport, TIMERS);
    const failed = vi.fn();
    tx.on('transportError', failed);
    tx.start();
    await vi.advanceTimersByTimeAsync(0);
    transport.failWith = new Error('unreachable');
    tx.receiveResponse(sampleResponse(tx.request, 486));
    expect(tx.state).toBe(InviteClientState.Completed);
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).not.toHaveBeenCalled();
    expect(tx.state).toBe(InviteClientState.Terminated);
  });

  it('takes the move of a zero-length timer after the stateChange that started it, and drops it if a listener ended the machine first', () => {
    const transport = new FakeTransport();
    const plain = new InviteClientTransaction('k', sampleRequest('INVITE'), TCP, transport, TIMERS);
    const seen: string[] = [];
    plain.on('stateChange', (from, to) => seen.push(`${from}>${to}`));
    plain.start();
    plain.receiveResponse(sampleResponse(plain.request, 486));
    expect(seen).toEqual(['Calling>Completed', 'Completed>Terminated']); // Timer D = 0 over TCP

    const eager = new InviteClientTransaction('k', sampleRequest('INVITE'), TCP, transport, TIMERS);
    const moves: string[] = [];
    eager.on('stateChange', (from, to) => {
      moves.push(`${from}>${to}`);
      if (to === InviteClientState.Completed) eager.terminate();
    });
    eager.start();
    expect(() => eager.receiveResponse(sampleResponse(eager.request, 486))).not.toThrow();
    expect(moves).toEqual(['Calling>Completed', 'Completed>Terminated']);
  });

  it('stops every timer on terminate(): nothing is resent and nothing times out afterwards', async () => {
    const transport = new FakeTransport();
    const tx = new NonInviteClientTransaction('k', sampleRequest('OPTIONS'), UDP, transport, TIMERS);
    const timeout = vi.fn();
    tx.on('timeout', timeout);
    tx.start();
    await vi.advanceTimersByTimeAsync(0);
    tx.terminate();
    tx.terminate(); // a no-op once Terminated
    await vi.advanceTimersByTimeAsync(64 * TIMERS.t1);
    expect(transport.sentRequests('OPTIONS')).toHaveLength(1);
    expect(timeout).not.toHaveBeenCalled();
  });
});
