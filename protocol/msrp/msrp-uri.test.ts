import { describe, expect, it } from 'vitest';
import { formatMsrpUri, MsrpUriError, msrpUriKey, msrpUrisEqual, parseMsrpUri } from './msrp-uri';

describe('MSRP URIs (RFC 4975 §6)', () => {
  it('parses host, port, session-id and transport', () => {
    const u = parseMsrpUri('msrp://Atlanta.Example.com:7654/jshA7weztas;tcp');
    expect(u).toEqual({ scheme: 'msrp', host: 'atlanta.example.com', port: 7654, sessionId: 'jshA7weztas', transport: 'tcp', params: [] });
    expect(formatMsrpUri(u)).toBe('msrp://atlanta.example.com:7654/jshA7weztas;tcp');
  });

  it('parses bracketed IPv6 hosts and formats them back with brackets', () => {
    const u = parseMsrpUri('msrp://[::1]:2855/abc;tcp');
    expect(u.host).toBe('::1');
    expect(u.port).toBe(2855);
    expect(formatMsrpUri(u)).toBe('msrp://[::1]:2855/abc;tcp');
  });

  it('parses userinfo, msrps, relay URIs without session-id, and extra parameters', () => {
    const u = parseMsrpUri('msrps://bob@relay.example:443;tcp;foo=bar');
    expect(u).toMatchObject({ scheme: 'msrps', user: 'bob', host: 'relay.example', port: 443, transport: 'tcp', params: ['foo=bar'] });
    expect(u.sessionId).toBeUndefined();
  });

  it('compares per §6.1: host and scheme case-insensitive, session-id case-sensitive, userinfo ignored', () => {
    const a = parseMsrpUri('msrp://host.example:1/Sess;tcp');
    expect(msrpUrisEqual(a, parseMsrpUri('MSRP://HOST.example:1/Sess;TCP'))).toBe(true);
    expect(msrpUrisEqual(a, parseMsrpUri('msrp://alice@host.example:1/Sess;tcp'))).toBe(true);
    expect(msrpUrisEqual(a, parseMsrpUri('msrp://host.example:1/sess;tcp'))).toBe(false);
    expect(msrpUrisEqual(a, parseMsrpUri('msrp://host.example:2/Sess;tcp'))).toBe(false);
    expect(msrpUrisEqual(a, parseMsrpUri('msrp://host.example/Sess;tcp'))).toBe(false);
    expect(msrpUrisEqual(a, parseMsrpUri('msrps://host.example:1/Sess;tcp'))).toBe(false);
  });

  it('compares IPv6 literals by address, and keys agree with equality', () => {
    const a = parseMsrpUri('msrp://[::1]:9/s1;tcp');
    const b = parseMsrpUri('msrp://[0:0:0:0:0:0:0:1]:9/s1;tcp');
    expect(msrpUrisEqual(a, b)).toBe(true);
    expect(msrpUriKey(a)).toBe(msrpUriKey(b));
    expect(msrpUrisEqual(parseMsrpUri('msrp://[::ffff:127.0.0.1]:9/s;tcp'), parseMsrpUri('msrp://[::ffff:7f00:1]:9/s;tcp'))).toBe(true);
  });

  it.each([
    ['http://host/x;tcp', 'not an MSRP URI'],
    ['msrp://host:99999/x;tcp', 'bad port'],
    ['msrp://host:1/x', 'not an MSRP URI'],
    ['msrp://[::1/x;tcp', 'IPv6'],
    ['msrp://[1:2:3]:1/x;tcp', 'IPv6'],
    ['msrp://host:1/a b;tcp', 'bad session-id'],
    ['msrp://host:1/x;t-c-p', 'bad transport'],
    ['msrp://ho<st:1/x;tcp', 'bad host'],
    ['msrp://host:1/x"y;tcp', 'bad session-id'],
  ])('rejects %s with a clear error', (text, why) => {
    expect(() => parseMsrpUri(text)).toThrow(MsrpUriError);
    expect(() => parseMsrpUri(text)).toThrow(why);
  });

  it('rejects absurdly long input without scanning it', () => {
    expect(() => parseMsrpUri(`msrp://h:1/${'a'.repeat(5000)};tcp`)).toThrow('longer than');
  });
});
