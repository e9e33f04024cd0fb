import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveTransportOptions, type TransportLayerOptions } from './transport-options';
import { createTransportLayer } from './sip-transport-layer';

describe('transport options', () => {
  it('defaults listeners to 127.0.0.1 on an ephemeral port and fills every limit', () => {
    const r = resolveTransportOptions({ listeners: [{ protocol: 'tcp' }], limits: { maxConnections: 5 } });
    expect(r.listeners).toEqual([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
    expect(r.limits).toEqual({ ...DEFAULT_LIMITS, maxConnections: 5 });
    expect(r.needsCertificate).toBe(false);
  });

  it('knows a wss listener needs a certificate', () => {
    expect(resolveTransportOptions({ listeners: [{ protocol: 'wss' }] }).needsCertificate).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    ['no listeners array', {}, /listeners array/],
    ['an unknown protocol', { listeners: [{ protocol: 'sctp' }] }, /listeners\[0\]\.protocol 'sctp'/],
    ['a host name', { listeners: [{ protocol: 'udp', host: 'localhost' }] }, /not an IP literal/],
    ['a bad port', { listeners: [{ protocol: 'udp', port: 70000 }] }, /port 70000/],
    ['an unknown limit', { listeners: [], limits: { maxSockets: 1 } }, /unknown transport limit 'maxSockets'/],
    ['a negative limit', { listeners: [], limits: { idleTimeoutMs: -1 } }, /idleTimeoutMs must be a non-negative number/],
  ])('rejects %s with a clear error', (_what, options, message) => {
    expect(() => resolveTransportOptions(options as TransportLayerOptions)).toThrow(message);
  });

  it('fails to create a layer on a port already in use, and leaves nothing bound', async () => {
    const first = await createTransportLayer({ listeners: [{ protocol: 'tcp' }] });
    const { port } = first.listeningPoint('tcp')!;
    await expect(createTransportLayer({ listeners: [{ protocol: 'udp' }, { protocol: 'tcp', port }] })).rejects.toMatchObject({ code: 'no-listener' });
    await first.close();
  });
});
