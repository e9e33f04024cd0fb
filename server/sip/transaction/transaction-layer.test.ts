import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReceivedMessage } from '../transport/transport-types';
import { FakeTransport } from './fake-transport';
import { sampleRequest, sampleResponse } from './sample-messages';
import { TransactionLayer, type ServerTransaction } from './transaction-layer';

const T1 = 10;
const PEER = { protocol: 'udp', host: '192.0.2.1', port: 5070 } as const;

function setup(autoTrying?: boolean) {
  const transport = new FakeTransport();
  const layer = new TransactionLayer(transport, { timers: { t1: T1, t2: 40, t4: 50 }, autoTrying });
  const requests: ServerTransaction[] = [];
  const acks: ReceivedMessage[] = [];
  const strays: ReceivedMessage[] = [];
  const errors: Error[] = [];
  layer.on('request', (tx) => requests.push(tx));
  layer.on('ack', (r) => acks.push(r));
  layer.on('response', (r) => strays.push(r));
  layer.on('error', (e) => errors.push(e));
  return { transport, layer, requests, acks, strays, errors };
}

describe('TransactionLayer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('creates one server transaction per INVITE, sends 100 Trying, and answers the retransmission with it again', async () => {
    const { transport, layer, requests } = setup();
    const invite = sampleRequest('INVITE');
    transport.deliver(invite, PEER);
    transport.deliver(invite, PEER);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sentResponses(100)).toHaveLength(2); // the retransmission got the 100 again
    expect(layer.size()).toBe(1);
  });

  it('leaves 100 Trying to the TU when autoTrying is off', async () => {
    const { transport, requests } = setup(false);
    transport.deliver(sampleRequest('INVITE'), PEER);
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(1);
    expect(transport.sent).toHaveLength(0);
  });

  it('matches the ACK for a non-2xx to its INVITE transaction and passes the ACK for a 2xx up', async () => {
    const { transport, layer, requests, acks } = setup();
    const invite = sampleRequest('INVITE');
    transport.deliver(invite, PEER);
    requests[0]!.respond(sampleResponse(invite, 486));
    transport.deliver(sampleRequest('ACK', { toTag: 'b1' }), PEER); // same branch: absorbed
    expect(acks).toHaveLength(0);
    expect(requests[0]!.state).toBe('Confirmed');
    const invite2 = sampleRequest('INVITE', { branch: 'z9hG4bK-second', callId: 'c2' });
    transport.deliver(invite2, PEER);
    requests[1]!.respond(sampleResponse(invite2, 200));
    transport.deliver(sampleRequest('ACK', { branch: 'z9hG4bK-ack-for-2xx', callId: 'c2', toTag: 'b1' }), PEER);
    expect(acks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(layer.size()).toBe(0);
  });

  it('tells apart requests whose branches are equal but whose sent-by differs (§17.2.3)', () => {
    const { transport, requests } = setup();
    transport.deliver(sampleRequest('OPTIONS', { via: 'SIP/2.0/UDP 192.0.2.1:5070' }), PEER);
    transport.deliver(sampleRequest('OPTIONS', { via: 'SIP/2.0/UDP 192.0.2.2:5070' }), PEER);
    expect(requests).toHaveLength(2);
  });

  it('matches RFC 2543 requests (no magic cookie) on Request-URI, tags, Call-ID, CSeq and top Via', () => {
    const { transport, requests, acks } = setup();
    const invite = sampleRequest('INVITE', { branch: '' });
    transport.deliver(invite, PEER);
    transport.deliver(sampleRequest('INVITE', { branch: '' }), PEER); // retransmission
    expect(requests).toHaveLength(1);
    requests[0]!.respond(sampleResponse(invite, 404, 'ours'));
    transport.deliver(sampleRequest('ACK', { branch: '', toTag: 'ours' }), PEER);
    expect(requests[0]!.state).toBe('Confirmed');
    expect(acks).toHaveLength(0);
    transport.deliver(sampleRequest('INVITE', { branch: '', cseq: 2 }), PEER); // a new request
    expect(requests).toHaveLength(2);
  });

  it('delivers responses to the client transaction of the same branch and CSeq method, and strays up', async () => {
    const { transport, layer, strays } = setup();
    const invite = sampleRequest('INVITE', { via: 'SIP/2.0/UDP 127.0.0.1:5060', branch: 'z9hG4bK-out' });
    const tx = layer.sendRequest(invite, { protocol: 'udp', host: '192.0.2.9', port: 5060 });
    const seen = vi.fn();
    tx.on('response', seen);
    transport.deliver(sampleResponse(invite, 180));
    const cancelResponse = sampleResponse(invite, 200);
    cancelResponse.headers.set('CSeq', '1 CANCEL'); // same branch, other method: not this transaction
    transport.deliver(cancelResponse);
    expect(seen).toHaveBeenCalledOnce();
    expect(strays).toHaveLength(1);
    transport.deliver(sampleResponse(invite, 200));
    await vi.advanceTimersByTimeAsync(64 * T1);
    transport.deliver(sampleResponse(invite, 200)); // after Timer M: a stray 2xx for the core
    expect(strays).toHaveLength(2);
    expect(layer.size()).toBe(0);
  });

  it('reports every timeout and transport failure of its transactions as layer events', async () => {
    const { transport, layer } = setup();
    const timeouts = vi.fn();
    const failures = vi.fn();
    layer.on('timeout', timeouts);
    layer.on('transportError', failures);
    const tx = layer.sendRequest(sampleRequest('OPTIONS', { branch: 'z9hG4bK-t' }), { protocol: 'udp', host: '192.0.2.9', port: 5060 });
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(timeouts).toHaveBeenCalledWith(tx);
    transport.failWith = new Error('down');
    const failing = layer.sendRequest(sampleRequest('OPTIONS', { branch: 'z9hG4bK-f' }), { protocol: 'udp', host: '192.0.2.9', port: 5060 });
    await vi.advanceTimersByTimeAsync(0);
    expect(failures).toHaveBeenCalledWith(failing, transport.failWith);
    expect(layer.size()).toBe(0);
  });

  it('finds the INVITE server transaction a CANCEL applies to (§9.2)', () => {
    const { transport, layer, requests } = setup();
    transport.deliver(sampleRequest('INVITE'), PEER);
    transport.deliver(sampleRequest('CANCEL'), PEER);
    expect(requests.map((t) => t.kind)).toEqual(['invite-server', 'non-invite-server']);
    expect(layer.findInviteServerTransaction(sampleRequest('CANCEL'))).toBe(requests[0]);
    expect(layer.findInviteServerTransaction(sampleRequest('CANCEL', { branch: 'z9hG4bK-other' }))).toBeUndefined();
  });

  it('drops a message without Via or with a broken CSeq as an error event, without throwing', () => {
    const { transport, layer, requests, errors } = setup();
    const noVia = sampleRequest('OPTIONS');
    noVia.headers.remove('Via');
    const badCSeq = sampleRequest('OPTIONS');
    badCSeq.headers.set('CSeq', 'one OPTIONS');
    expect(() => transport.deliver(noVia, PEER)).not.toThrow();
    expect(() => transport.deliver(sampleResponse(badCSeq, 200), PEER)).not.toThrow();
    expect(requests).toHaveLength(0);
    expect(errors.map((e) => e.message)).toEqual(['message has no Via header', 'CSeq must start with a sequence number (offset 0)']);
    expect(layer.size()).toBe(0);
  });

  it('drops a bad message quietly when nobody listens for errors', () => {
    const transport = new FakeTransport();
    const layer = new TransactionLayer(transport);
    const noVia = sampleRequest('OPTIONS');
    noVia.headers.remove('Via');
    expect(() => transport.deliver(noVia, PEER)).not.toThrow();
    expect(layer.size()).toBe(0);
  });

  it('refuses to start a client transaction without an RFC 3261 branch, for ACK, or twice for one branch', () => {
    const { layer } = setup();
    const target = { protocol: 'udp', host: '192.0.2.9', port: 5060 } as const;
    expect(() => layer.sendRequest(sampleRequest('OPTIONS', { branch: 'old' }), target)).toThrow('RFC 3261 branch');
    expect(() => layer.sendRequest(sampleRequest('ACK'), target)).toThrow('sendStateless');
    layer.sendRequest(sampleRequest('OPTIONS'), target);
    expect(() => layer.sendRequest(sampleRequest('OPTIONS'), target)).toThrow('already exists');
  });

  it('reports a failed stateless send as an error event and resolves undefined', async () => {
    const { transport, layer, errors } = setup();
    transport.failWith = new Error('down');
    await expect(layer.sendStateless(sampleRequest('ACK'), { protocol: 'udp', host: '192.0.2.9', port: 5060 })).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('close() terminates everything and detaches from the transport', () => {
    const { transport, layer } = setup();
    transport.deliver(sampleRequest('INVITE'), PEER);
    layer.sendRequest(sampleRequest('OPTIONS', { branch: 'z9hG4bK-x' }), { protocol: 'udp', host: '192.0.2.9', port: 5060 });
    expect(layer.size()).toBe(2);
    layer.close();
    expect(layer.size()).toBe(0);
    expect(transport.messageListenerCount()).toBe(0);
  });

  describe('a completed non-INVITE server transaction over UDP (Timer J = 64·T1, §17.2.2)', () => {
    it('answers retransmissions with the same final response until Timer J, then lets its TU see Terminated', async () => {
      const { transport, layer, requests } = setup();
      const register = sampleRequest('REGISTER');
      transport.deliver(register, PEER);
      const tx = requests[0]!;
      tx.respond(sampleResponse(register, 401));
      transport.deliver(register, PEER);
      transport.deliver(register, PEER);
      await vi.advanceTimersByTimeAsync(0);
      expect(requests).toHaveLength(1); // absorbed, not passed up again
      expect(transport.sentResponses(401)).toHaveLength(3);
      expect(transport.sent.every((s) => s.target.host === '192.0.2.1' && s.target.port === 5070)).toBe(true);
      expect(tx.state).toBe('Completed');
      expect(layer.size()).toBe(1);
      await vi.advanceTimersByTimeAsync(64 * T1);
      expect(tx.state).toBe('Terminated');
      expect(layer.size()).toBe(0);
      // After Timer J the same request is a new request (§17.2.3 finds no transaction).
      transport.deliver(register, PEER);
      expect(requests).toHaveLength(2);
    });

    it('when the TU forgets the transaction: it ends at once, and the layer still absorbs retransmissions for Timer J', async () => {
      const { transport, layer, requests } = setup();
      const register = sampleRequest('REGISTER');
      transport.deliver(register, PEER);
      const tx = requests[0]!;
      const states: string[] = [];
      tx.on('stateChange', (_from, to) => states.push(to));
      if (tx.kind !== 'non-invite-server') throw new Error('expected a non-INVITE server transaction');
      tx.respond(sampleResponse(register, 200), { forget: true });
      expect(states).toEqual(['Completed', 'Terminated']);
      expect(layer.size()).toBe(1); // the layer's record of it
      await vi.advanceTimersByTimeAsync(64 * T1 - 1);
      transport.deliver(register, PEER);
      await vi.advanceTimersByTimeAsync(0);
      expect(requests).toHaveLength(1);
      expect(transport.sentResponses(200)).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(layer.size()).toBe(0);
    });

    it('when the TU forgot it and the answer to a retransmission cannot be sent: the layer keeps it no longer', async () => {
      const { transport, layer, requests } = setup();
      const register = sampleRequest('REGISTER');
      transport.deliver(register, PEER);
      const tx = requests[0]!;
      if (tx.kind !== 'non-invite-server') throw new Error('expected a non-INVITE server transaction');
      tx.respond(sampleResponse(register, 200), { forget: true });
      expect(layer.size()).toBe(1);
      transport.failWith = new Error('ICMP unreachable');
      transport.deliver(register, PEER);
      await vi.advanceTimersByTimeAsync(0);
      expect(layer.size()).toBe(0);
      transport.failWith = undefined;
      transport.deliver(register, PEER); // a new request now: nothing absorbs it
      expect(requests).toHaveLength(2);
    });

    it('over a reliable transport keeps nothing after the final response (Timer J = 0)', () => {
      const { transport, layer, requests } = setup();
      const register = sampleRequest('REGISTER', { via: 'SIP/2.0/TCP 192.0.2.1:5070' });
      transport.deliver(register, { protocol: 'tcp', host: '192.0.2.1', port: 5070 }, 'flow-1');
      requests[0]!.respond(sampleResponse(register, 200));
      expect(requests[0]!.state).toBe('Terminated');
      expect(layer.size()).toBe(0);
    });

    it('is ended by close(), its TU told', () => {
      const { transport, layer, requests } = setup();
      const register = sampleRequest('REGISTER');
      transport.deliver(register, PEER);
      requests[0]!.respond(sampleResponse(register, 200));
      layer.close();
      expect(requests[0]!.state).toBe('Terminated');
      expect(layer.size()).toBe(0);
    });

    it('a failed retransmission ends it and is reported like any transport failure (§17.2.4)', async () => {
      const { transport, layer, requests } = setup();
      const failures: Error[] = [];
      layer.on('transportError', (_tx, error) => failures.push(error));
      const register = sampleRequest('REGISTER');
      transport.deliver(register, PEER);
      requests[0]!.respond(sampleResponse(register, 200));
      transport.failWith = new Error('ICMP unreachable');
      transport.deliver(register, PEER);
      await vi.advanceTimersByTimeAsync(0);
      expect(failures.map((e) => e.message)).toEqual(['ICMP unreachable']);
      expect(requests[0]!.state).toBe('Terminated');
      expect(layer.size()).toBe(0);
    });
  });
});
