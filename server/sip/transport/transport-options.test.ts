import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_UDP_BUFFERS, resolveTransportOptions, type TransportLayerOptions } from './transport-options';
import { createTransportLayer } from './sip-transport-layer';

describe('transport options', () => {
  it('defaults listeners to 127.0.0.1 on an ephemeral port and fills every limit', () => {
    const r = resolveTransportOptions({ listeners: [{ protocol: 'tcp' }], limits: { maxConnections: 5 } });
    expect(r.listeners).toEqual([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
    expect(r.limits).toEqual({ ...DEFAULT_LIMITS, maxConnections: 5 });
    expect(r.udpBuffers).toEqual({ receive: 4 * 1024 * 1024, send: 4 * 1024 * 1024 });
    expect(resolveTransportOptions({ listeners: [], udpBuffers: { send: 0 } }).udpBuffers).toEqual({ ...DEFAULT_UDP_BUFFERS, send: 0 });
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
    ['an unknown UDP buffer', { listeners: [], udpBuffers: { recv: 1 } }, /unknown UDP buffer 'recv'/],
    ['a fractional UDP buffer', { listeners: [], udpBuffers: { receive: 1.5 } }, /UDP receive buffer must be a whole number/],
    ['a UDP buffer over 1 GiB', { listeners: [], udpBuffers: { send: 2 ** 31 } }, /UDP send buffer must be a whole number of bytes in 0-1073741824/],
  ])('rejects %s with a clear error', (_what, options, message) => {
    expect(() => resolveTransportOptions(options as TransportLayerOptions)).toThrow(message);
  });

  it('sizes UDP socket buffers as asked, within what the OS grants', async () => {
    const small = await createTransportLayer({ listeners: [{ protocol: 'udp' }], udpBuffers: { receive: 65_536, send: 65_536 } });
    const large = await createTransportLayer({ listeners: [{ protocol: 'udp' }], udpBuffers: { receive: 1024 * 1024, send: 1024 * 1024 } });
    try {
      const [s] = small.udpBufferSizes();
      const [l] = large.udpBufferSizes();
      expect(s).toMatchObject({ protocol: 'udp', host: '127.0.0.1' });
      expect(s!.receive).toBeGreaterThanOrEqual(65_536);
      expect(s!.send).toBeGreaterThanOrEqual(65_536);
      expect(l!.receive).toBeGreaterThan(s!.receive); // even a default rmem_max (208 KiB) lets 1 MiB ask for more
    } finally {
      await Promise.all([small.close(), large.close()]);
    }
  });

  it('fails to create a layer on a port already in use, and leaves nothing bound', async () => {
    const first = await createTransportLayer({ listeners: [{ protocol: 'tcp' }] });
    const { port } = first.listeningPoint('tcp')!;
    await expect(createTransportLayer({ listeners: [{ protocol: 'udp' }, { protocol: 'tcp', port }] })).rejects.toMatchObject({ code: 'no-listener' });
    await first.close();
  });
});
