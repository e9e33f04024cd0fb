import { describe, expect, it } from 'vitest';
import { SipParseError } from './parse-error';
import { type SipUri, bareHost, decodedUriHeaders, escapeUriHeaderValue, escapeUriParam, escapeUriUser, formatUriHeaders, getUriParam, hostKind, isIpv6, parseSipUri, parseUri, serializeUri, uriEquals, withoutHeaders, isIpv4 } from './sip-uri';

const sip = (text: string): SipUri => parseSipUri(text);

describe('parseUri', () => {
  it('splits a full SIP URI into user, password, host, port, ordered params and headers', () => {
    const uri = sip('sips:alice:secret@example.com:5061;transport=tcp;lr;gr=urn:uuid:1?Subject=hi%20there&Priority=urgent');
    expect(uri).toEqual({
      kind: 'sip', scheme: 'sips', user: 'alice', password: 'secret', host: 'example.com', port: 5061,
      params: [{ name: 'transport', value: 'tcp' }, { name: 'lr', value: null }, { name: 'gr', value: 'urn:uuid:1' }],
      headers: [{ name: 'Subject', value: 'hi%20there' }, { name: 'Priority', value: 'urgent' }],
    });
  });

  it('reads an IPv6 reference host with a port (RFC 5118)', () => {
    const uri = sip('sip:[2001:db8::10]:5070;maddr=[::1]');
    expect(uri.host).toBe('[2001:db8::10]');
    expect(uri.port).toBe(5070);
    expect(bareHost(uri.host)).toBe('2001:db8::10');
  });

  it('keeps escapes raw and reads the RFC 4475 intmeth user and password', () => {
    const uri = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(uri.host).toBe('example.com');
  });

  it('keeps a semicolon inside the user part (RFC 4475 §3.1.1.9)', () => {
    expect(sip('sip:user;par=u%40example.net@example.com').user).toBe('user;par=u%40example.net');
  });

  it('parses an unknown scheme as an absolute URI so that the caller can answer 416', () => {
    expect(parseUri('soap.beep://192.0.2.103:3002')).toEqual({ kind: 'absolute', scheme: 'soap.beep', rest: '//192.0.2.103:3002' });
  });

  it('parses tel URIs, global and local with phone-context (RFC 3966)', () => {
    expect(parseUri('tel:+1-201-555-0123;ext=42')).toEqual({ kind: 'tel', number: '+1-201-555-0123', params: [{ name: 'ext', value: '42' }] });
    expect(parseUri('tel:7042;phone-context=example.com').kind).toBe('tel');
    expect(() => parseUri('tel:7042')).toThrow(/phone-context/);
  });

  it.each([
    ['<sip:user@example.com>', /scheme/],
    ['sip:user@example.com; lr', /invalid character/],
    ['sip:', /missing host/],
    ['sip:user@exa mple.com', /invalid host|unexpected/],
    ['sip:a@b:99999', /out of range/],
    ['sip:a@b;=x', /empty URI parameter name/],
    ['sip:a@b?Route', /without "="/],
    ['sip:%zz@b', /invalid character "%"/],
    ['sip:a@[::1', /unterminated/],
    ['sip:a@1.2.3', /invalid host/],
  ])('rejects %s with a SipParseError', (text, message) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
    expect(() => parseUri(text)).toThrow(message);
  });

  it('reports the offset of the offending character', () => {
    try {
      parseUri('sip:us"er@example.com');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SipParseError);
      expect((e as SipParseError).offset).toBe(6);
    }
  });
});

describe('serializeUri', () => {
  it.each([
    'sip:alice@example.com',
    'sips:alice:pw@[::1]:5061;transport=tcp;lr?Subject=x%20y',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'tel:+1-201-555-0123;ext=42',
    'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
  ])('gives back %s exactly', (text) => {
    expect(serializeUri(parseUri(text))).toBe(text);
  });
});

describe('uriEquals (RFC 3261 §19.1.4 examples)', () => {
  it.each([
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['tel:+1-201-555-0123', 'tel:+12015550123'],
  ])('%s equals %s', (a, b) => {
    expect(uriEquals(parseUri(a), parseUri(b))).toBe(true);
    expect(uriEquals(parseUri(b), parseUri(a))).toBe(true);
  });

  it.each([
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp;user=phone'],
    ['sip:bob@biloxi.com;maddr=x.example.com', 'sip:bob@biloxi.com'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:alice@example.com', 'sips:alice@example.com'],
    ['sip:a@example.com;lr', 'sip:a@example.com;lr=on'],
  ])('%s differs from %s', (a, b) => {
    expect(uriEquals(parseUri(a), parseUri(b))).toBe(false);
  });
});

describe('helpers', () => {
  it('escapes embedded header values as RFC 3261 §19.1.1 requires', () => {
    expect(escapeUriHeaderValue('a@b;c=d e<f>"g",%')).toBe('a%40b%3Bc%3Dd%20e%3Cf%3E%22g%22%2C%25');
    expect(escapeUriHeaderValue('[::1]:5060/x?y+z$')).toBe('[::1]:5060/x?y+z$');
    expect(escapeUriHeaderValue('é')).toBe('%C3%A9');
  });

  it('builds a Refer-To with a Target-Dialog header that parses back to the same value', () => {
    const target = 'abc@host;local-tag=1;remote-tag=2';
    const uri: SipUri = { ...sip('sip:bob@example.com;gr=urn:uuid:1'), headers: formatUriHeaders([{ name: 'Target-Dialog', value: target }]) };
    const text = serializeUri(uri);
    expect(text).toBe('sip:bob@example.com;gr=urn:uuid:1?Target-Dialog=abc%40host%3Blocal-tag%3D1%3Bremote-tag%3D2');
    expect(decodedUriHeaders(sip(text))).toEqual([{ name: 'Target-Dialog', value: target }]);
    expect(serializeUri(withoutHeaders(sip(text)))).toBe('sip:bob@example.com;gr=urn:uuid:1');
  });

  it('finds parameters case-insensitively and tells valueless from absent', () => {
    const uri = sip('sip:a@b;LR;Transport=TCP');
    expect(getUriParam(uri.params, 'lr')).toBeNull();
    expect(getUriParam(uri.params, 'transport')).toBe('TCP');
    expect(getUriParam(uri.params, 'maddr')).toBeUndefined();
  });

  it('classifies hosts', () => {
    expect(hostKind('example.com')).toBe('domain');
    expect(hostKind('example.com.')).toBe('domain');
    expect(hostKind('192.0.2.1')).toBe('ipv4');
    expect(hostKind('[::ffff:192.0.2.1]')).toBe('ipv6');
    expect(hostKind('256.1.1.1')).toBeUndefined();
    expect(hostKind('-bad.com')).toBeUndefined();
    expect(isIpv6('1:2:3:4:5:6:7:8')).toBe(true);
    expect(isIpv6('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isIpv6('1::2::3')).toBe(false);
  });
});

describe('escaping for other URI parts', () => {
  it('escapes a user part and a parameter with their own allowed sets (RFC 3261 §19.1.2)', () => {
    expect(escapeUriUser('a b@c;d?e')).toBe('a%20b%40c;d?e');
    expect(escapeUriParam('x y;z=1:2')).toBe('x%20y%3Bz%3D1:2');
    expect(parseSipUri(`sip:${escapeUriUser('I have spaces@home')}@example.net`).user).toBe('I%20have%20spaces%40home');
  });
});

describe('isIpv4 (RFC 3261 §25.1 IPv4address)', () => {
  it.each(['127.0.0.1', '0.0.0.0', '255.255.255.255', '192.0.2.10', '010.0.0.1'])('accepts %s', (text) => {
    expect(isIpv4(text)).toBe(true);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4a', '1234.1.1.1', 'a.example', '1.2.3.-4'])(
    'refuses %j',
    (text) => {
      expect(isIpv4(text)).toBe(false);
    },
  );
});
