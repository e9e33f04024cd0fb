import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { serializeMessage } from '../sip/message/serialize';
import { FakeTransport } from '../sip/transaction/fake-transport';
import { sampleRequest } from '../sip/transaction/sample-messages';
import type { SipTransportLayer } from '../sip/transport/transport-types';
import { DelayedTransport } from './delayed-transport';

const PEER = { protocol: 'udp', host: '192.0.2.1', port: 5070 } as const;

/** The same transport seen without `sendSerialized`, like a test double that takes messages only. */
function messagesOnly(inner: FakeTransport): SipTransportLayer {
  return new Proxy(inner, { get: (target, key) => (key === 'sendSerialized' ? undefined : Reflect.get(target, key)) });
}

describe('DelayedTransport (the lab\'s --delay-ms)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds messages and serialized messages alike for the delay, in order', async () => {
    const inner = new FakeTransport();
    const delayed = new DelayedTransport(inner, 20);
    void delayed.send(sampleRequest('OPTIONS', { callId: 'as-message' }), PEER);
    void delayed.sendSerialized?.(serializeMessage(sampleRequest('OPTIONS', { callId: 'as-bytes' })), PEER);
    await vi.advanceTimersByTimeAsync(19);
    expect(inner.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(inner.sent.map((s) => s.message.headers.get('Call-ID'))).toEqual(['as-message', 'as-bytes']);
  });

  it('offers serialized sends only when the transport it wraps does', () => {
    const inner = new FakeTransport();
    expect(new DelayedTransport(inner, 5).sendSerialized).toBeTypeOf('function');
    expect(new DelayedTransport(messagesOnly(inner), 5).sendSerialized).toBeUndefined();
  });
});
