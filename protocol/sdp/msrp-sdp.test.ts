import { describe, expect, it } from 'vitest';
import { parseMsrpUri } from '../msrp/msrp-uri';
import {
  acceptsType,
  answerSetup,
  buildMsrpSdp,
  connectingSide,
  MsrpSdpError,
  msrpSdpCodec,
  offerSetup,
  parseMsrpSdp,
  SetupNegotiationError,
} from './msrp-sdp';

const path = [parseMsrpUri('msrp://127.0.0.1:40001/Zk2pQ8sLmN3xYb7Wq;tcp')];

describe('MSRP SDP (PROFILE.md, RFC 4975 §8)', () => {
  it('builds the offer PROFILE.md describes', () => {
    const sdp = buildMsrpSdp({ address: { addrType: 'IP4', address: '127.0.0.1' }, port: 40001, path, setup: 'actpass', sessionId: '123' });
    expect(sdp).toBe(
      'v=0\r\no=- 123 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
        'm=message 40001 TCP/MSRP *\r\n' +
        'a=accept-types:message/cpim\r\n' +
        'a=accept-wrapped-types:text/plain message/imdn+xml\r\n' +
        'a=path:msrp://127.0.0.1:40001/Zk2pQ8sLmN3xYb7Wq;tcp\r\n' +
        'a=setup:actpass\r\n',
    );
  });

  it('parses what it builds, over IPv6 too', () => {
    const v6 = [parseMsrpUri('msrp://[::1]:5/abcdefghijklmnop;tcp')];
    const parsed = parseMsrpSdp(buildMsrpSdp({ address: { addrType: 'IP6', address: '::1' }, port: 5, path: v6, setup: 'passive', maxSize: 1000 }));
    expect(parsed).toMatchObject({
      connection: { addrType: 'IP6', address: '::1' },
      port: 5,
      rejected: false,
      protocol: 'TCP/MSRP',
      acceptTypes: ['message/cpim'],
      acceptWrappedTypes: ['text/plain', 'message/imdn+xml'],
      setup: 'passive',
      maxSize: 1000,
      direction: 'sendrecv',
    });
    expect(parsed.path[0]!.host).toBe('::1');
  });

  it('reads the first MSRP media among others, media-level c= winning, LF-only lines tolerated', () => {
    const sdp = [
      'v=0', 'o=bob 1 2 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0',
      'm=audio 4000 RTP/AVP 0', 'a=setup:active',
      'm=message 7394 TCP/TLS/MSRP *', 'c=IN IP4 10.0.0.2', 'a=accept-types:message/cpim text/*', 'a=path:msrps://10.0.0.2:7394/x9;tcp', 'a=recvonly',
    ].join('\n');
    const p = parseMsrpSdp(sdp);
    expect(p).toMatchObject({ port: 7394, protocol: 'TCP/TLS/MSRP', connection: { address: '10.0.0.2' }, setup: undefined, direction: 'recvonly' });
    expect(p.origin).toEqual({ username: 'bob', sessionId: '1', sessionVersion: '2', address: { addrType: 'IP4', address: '10.0.0.1' } });
  });

  it('marks a declined stream (port 0) without requiring a path', () => {
    expect(parseMsrpSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=message 0 TCP/MSRP *\r\n').rejected).toBe(true);
  });

  it.each([
    ['no v=0', 'o=- 1 1 IN IP4 1.2.3.4\r\n', 'v=0'],
    ['no MSRP media', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n', 'no m=message'],
    ['no path', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=message 5 TCP/MSRP *\r\na=accept-types:message/cpim\r\n', 'a=path'],
    ['no accept-types', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=message 5 TCP/MSRP *\r\na=path:msrp://h:5/s;tcp\r\n', 'accept-types'],
    ['a bad path', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=message 5 TCP/MSRP *\r\na=path:http://h/\r\n', 'bad a=path'],
    ['a bad setup', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=message 5 TCP/MSRP *\r\na=setup:sometimes\r\n', 'bad a=setup'],
    ['a bad line', 'v=0\r\nthis is not sdp\r\n', 'bad SDP line'],
    ['a bad c= line', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IPX nowhere\r\n', 'bad c='],
    ['a huge body', `v=0\r\n${'a=x\r\n'.repeat(5000)}`, 'longer than'],
  ])('rejects SDP with %s', (_name, sdp, why) => {
    expect(() => parseMsrpSdp(sdp)).toThrow(MsrpSdpError);
    expect(() => parseMsrpSdp(sdp)).toThrow(why);
  });

  it('refuses to build SDP with an injected address or a bad type', () => {
    expect(() => buildMsrpSdp({ address: { addrType: 'IP4', address: '1.2.3.4\r\na=evil' }, port: 1, path, setup: 'active' })).toThrow(MsrpSdpError);
    expect(() => buildMsrpSdp({ address: { addrType: 'IP4', address: '1.2.3.4' }, port: 1, path, setup: 'active', acceptTypes: ['bad type'] })).toThrow(MsrpSdpError);
  });
});

describe('who connects (RFC 6135, PROFILE.md)', () => {
  it('makes a Conversation Server always passive and devices connect towards it', () => {
    expect(offerSetup('server')).toBe('passive');
    expect(answerSetup('actpass', 'server')).toEqual({ setup: 'passive', answererConnects: false });
    expect(answerSetup(undefined, 'server')).toEqual({ setup: 'passive', answererConnects: false });
    expect(answerSetup('passive', 'device')).toEqual({ setup: 'active', answererConnects: true });
    expect(() => answerSetup('passive', 'server')).toThrow(SetupNegotiationError);
  });

  it('makes the offerer connect device to device', () => {
    expect(offerSetup('device')).toBe('actpass');
    expect(answerSetup('actpass', 'device')).toEqual({ setup: 'passive', answererConnects: false });
    expect(connectingSide('actpass', 'passive')).toBe('offerer');
    expect(connectingSide('passive', 'active')).toBe('answerer');
    expect(connectingSide(undefined, undefined)).toBe('offerer');
  });

  it('refuses combinations where nobody or both would connect', () => {
    expect(() => connectingSide('active', 'active')).toThrow(SetupNegotiationError);
    expect(() => connectingSide('passive', 'passive')).toThrow(SetupNegotiationError);
    expect(() => answerSetup('holdconn', 'device')).toThrow(SetupNegotiationError);
  });

  it('matches accept-types with wildcards', () => {
    expect(acceptsType(['message/cpim'], 'Message/CPIM')).toBe(true);
    expect(acceptsType(['text/*'], 'text/plain')).toBe(true);
    expect(acceptsType(['*'], 'image/png')).toBe(true);
    expect(acceptsType(['message/cpim'], 'text/plain')).toBe(false);
  });
});

describe('msrpSdpCodec (the device codec shape)', () => {
  it('builds and parses the description the device peer connection exchanges', () => {
    const d = {
      address: '::1',
      port: 40002,
      path: ['msrp://[::1]:40002/Zk2pQ8sLmN3xYb7Wq;tcp'],
      setup: 'active' as const,
      acceptTypes: ['message/cpim'],
      acceptWrappedTypes: ['text/plain', 'message/imdn+xml'],
      transport: 'TCP/MSRP' as const,
    };
    const sdp = msrpSdpCodec.build(d, { id: '42', version: 0 });
    expect(sdp).toContain('o=- 42 0 IN IP6 ::1\r\n');
    expect(msrpSdpCodec.parse(sdp)).toEqual(d);
  });

  it('refuses bad paths, a missing setup, declined media and missing c=', () => {
    const base = { address: '1.2.3.4', port: 1, acceptTypes: ['message/cpim'], acceptWrappedTypes: [], transport: 'TCP/MSRP' as const };
    expect(() => msrpSdpCodec.build({ ...base, path: ['nope'], setup: 'active' }, { id: '1', version: 1 })).toThrow(MsrpSdpError);
    expect(() => msrpSdpCodec.build({ ...base, path: ['msrp://h:1/s;tcp'] }, { id: '1', version: 1 })).toThrow('a=setup');
    expect(() => msrpSdpCodec.parse('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=message 0 TCP/MSRP *\r\n')).toThrow('rejected');
    expect(() => msrpSdpCodec.parse('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=message 5 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://h:5/s;tcp\r\n')).toThrow('no c=');
  });
});
