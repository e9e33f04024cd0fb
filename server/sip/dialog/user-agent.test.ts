import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeTransport } from '../transaction/fake-transport';
import { sampleRequest, sampleResponse } from '../transaction/sample-messages';
import { TransactionLayer } from '../transaction/transaction-layer';
import { UserAgent } from './user-agent';

describe('UserAgent', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const transport = new FakeTransport([{ protocol: 'udp', host: '127.0.0.1', port: 5090 }, { protocol: 'tcp', host: '127.0.0.1', port: 5091 }]);
    const layer = new TransactionLayer(transport, { timers: { t1: 10 } });
    return { transport, layer, ua: new UserAgent(layer) };
  }

  it('sends to the Request-URI with its own Via and resolves with the final response, provisionals aside', async () => {
    const { transport, ua } = setup();
    const provisional = vi.fn();
    const request = sampleRequest('MESSAGE', { uri: 'sip:bob@192.0.2.9:5062' });
    const pending = ua.sendRequest(request, { onProvisional: provisional });
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sent[0]?.target).toEqual({ protocol: 'udp', host: '192.0.2.9', port: 5062 });
    expect(request.headers.values('Via')).toHaveLength(1);
    expect(request.headers.first('Via')).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5090;branch=z9hG4bK\w+;rport$/);
    transport.deliver(sampleResponse(request, 100));
    transport.deliver(sampleResponse(request, 202));
    await expect(pending).resolves.toMatchObject({ status: 202 });
    expect(provisional).toHaveBeenCalledOnce();
  });

  it('follows a loose Route rather than the Request-URI', async () => {
    const { transport, ua } = setup();
    const request = sampleRequest('BYE', { uri: 'sip:bob@192.0.2.9', toTag: 'b' });
    request.headers.append('Route', '<sip:192.0.2.50:5070;transport=tcp;lr>');
    const pending = ua.sendRequest(request);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.sent[0]?.target).toEqual({ protocol: 'tcp', host: '192.0.2.50', port: 5070 });
    expect(request.headers.first('Via')).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:5091;/);
    transport.deliver(sampleResponse(request, 200), { protocol: 'tcp', host: '192.0.2.50', port: 5070 }, 'f1');
    await expect(pending).resolves.toMatchObject({ status: 200 });
  });

  it('resolves a timeout as 408 and a transport failure as 503 (§8.1.3.1)', async () => {
    const { transport, ua } = setup();
    const timedOut = ua.sendRequest(sampleRequest('OPTIONS', { uri: 'sip:192.0.2.9' }));
    await vi.advanceTimersByTimeAsync(64 * 10);
    await expect(timedOut).resolves.toMatchObject({ status: 408 });
    transport.failWith = new Error('unreachable');
    await expect(ua.sendRequest(sampleRequest('OPTIONS', { uri: 'sip:192.0.2.9' }))).resolves.toMatchObject({ status: 503 });
  });

  it('rejects a request it cannot route with a clear error', async () => {
    const { ua } = setup();
    await expect(ua.sendRequest(sampleRequest('OPTIONS', { uri: 'sip:bob@example.com' }))).rejects.toThrow('only IP literals');
  });
});
