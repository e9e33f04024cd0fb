import { describe, expect, it } from 'vitest';
import { parseSipUri } from '../message/sip-uri';
import { targetFromUri } from './next-hop';

const target = (uri: string) => targetFromUri(parseSipUri(uri));

describe('targetFromUri', () => {
  it('reads transport, port and the scheme defaults', () => {
    expect(target('sip:bob@192.0.2.1')).toEqual({ protocol: 'udp', host: '192.0.2.1', port: 5060 });
    expect(target('sips:bob@192.0.2.1')).toEqual({ protocol: 'tls', host: '192.0.2.1', port: 5061 });
    expect(target('sip:192.0.2.1:8080;transport=WS;lr')).toEqual({ protocol: 'ws', host: '192.0.2.1', port: 8080 });
    expect(target('sip:bob@[::1]:5070;transport=tcp')).toEqual({ protocol: 'tcp', host: '::1', port: 5070 });
    expect(target('sip:bob@localhost')).toEqual({ protocol: 'udp', host: '127.0.0.1', port: 5060 });
  });

  it('sends to maddr when present', () => {
    expect(target('sip:bob@example.com;maddr=192.0.2.5')).toMatchObject({ host: '192.0.2.5' });
  });

  it('refuses host names and unknown transports with a clear error', () => {
    expect(() => target('sip:bob@example.com')).toThrow('only IP literals');
    expect(() => target('sip:bob@192.0.2.1;transport=sctp')).toThrow('unsupported transport');
  });
});
