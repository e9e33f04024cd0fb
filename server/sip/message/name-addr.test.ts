import { describe, expect, it } from 'vitest';
import { getParam, getParamText, paramValue, serializeHeaderParams } from './header-params';
import { parseContactList, parseNameAddr, parseNameAddrList, serializeNameAddr, tagOf, sharedNameAddr, sharedContactList } from './name-addr';
import { SipParseError } from './parse-error';

describe('parseNameAddr', () => {
  it('reads a quoted display name with quoted-pairs, the URI and a tag', () => {
    const na = parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8');
    expect(na.displayName).toBe('J Rosenberg \\"');
    expect(na.uriText).toBe('sip:jdrosen@example.com');
    expect(tagOf(na)).toBe('98asjd8');
  });

  it('takes parameters after an addr-spec as header parameters, not URI parameters (§20.10)', () => {
    const na = parseNameAddr('sip:caller@example.net;tag=134161461246');
    expect(na.angleBrackets).toBe(false);
    expect(na.uri.kind === 'sip' && na.uri.params).toEqual([]);
    expect(na.params).toEqual([{ name: 'tag', value: '134161461246' }]);
  });

  it('accepts a token display name touching "<" (RFC 4475 §3.1.1.6) and multi-token names', () => {
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName).toBe('caller');
    expect(parseNameAddr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").displayName).toBe("token1~` token2'+_ token3*%!.-");
  });

  it('keeps quoted parameter values raw and can unquote them', () => {
    const na = parseNameAddr('<sip:a@b;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1');
    expect(getParam(na.params, '+sip.instance')).toBe('"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"');
    expect(getParamText(na.params, '+sip.instance')).toBe('<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
    expect(getParam(na.params, 'reg-id')).toBe('1');
  });

  it.each([
    ['"Mr. J. User <sip:j.user@example.com>', /unterminated quoted string/],
    ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', /scheme|unexpected/],
    ['"Watson, Thomas" < sip:t.watson@example.org >', /scheme/],
    ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', /enclosed in "<>"/],
    ['"Joe" <sip:joe@example.org>;;;;', /parameter name/],
    ['<sip:a@b', /missing ">"/],
    ['', /empty address/],
  ])('rejects %j', (text, message) => {
    expect(() => parseNameAddr(text)).toThrow(SipParseError);
    expect(() => parseNameAddr(text)).toThrow(message);
  });

  it('serializes with brackets and a quoted display name', () => {
    expect(serializeNameAddr(parseNameAddr('Bob <sip:bob@b.example>;tag=x'))).toBe('"Bob" <sip:bob@b.example>;tag=x');
    expect(serializeNameAddr(parseNameAddr('sip:bob@b.example;tag=x'))).toBe('sip:bob@b.example;tag=x');
  });
});

describe('address lists', () => {
  it('splits Contact values at top-level commas only', () => {
    const list = parseNameAddrList('"a,b" <sip:a@x;lr>, <sip:b@y>;q=0.5,sip:c@z');
    expect(list.map((n) => n.uriText)).toEqual(['sip:a@x;lr', 'sip:b@y', 'sip:c@z']);
    expect(list[0]!.displayName).toBe('a,b');
  });

  it('rejects empty list elements', () => {
    expect(() => parseNameAddrList('<sip:a@x>,,<sip:b@y>')).toThrow(/empty element/);
  });

  it('reads the Contact wildcard', () => {
    expect(parseContactList(' * ')).toBe('*');
  });
});

describe('header parameter values', () => {
  it('keeps tokens bare and quotes anything else, so that they read back the same', () => {
    expect(paramValue('abc-1')).toBe('abc-1');
    expect(paramValue('Laptop "Pro"')).toBe('"Laptop \\"Pro\\""');
    const text = `<sip:a@b>${serializeHeaderParams([{ name: '+cpm.device-name', value: paramValue('Laptop "Pro"') }, { name: 'ob', value: null }])}`;
    expect(text).toBe('<sip:a@b>;+cpm.device-name="Laptop \\"Pro\\"";ob');
    expect(getParamText(parseNameAddr(text).params, '+cpm.device-name')).toBe('Laptop "Pro"');
  });
});

describe('editing a parsed address', () => {
  it('serializes what was changed in the parsed URI and parameters', () => {
    const na = parseNameAddr('<sip:alice@a.example;transport=ws>;tag=1');
    if (na.uri.kind !== 'sip') throw new Error('expected a SIP URI');
    na.uri.params = na.uri.params.filter((p) => p.name !== 'transport');
    na.params.push({ name: 'expires', value: '0' });
    expect(serializeNameAddr(na)).toBe('<sip:alice@a.example>;tag=1;expires=0');
  });
});

describe('shared parses (one request\'s To and Contact read by several layers)', () => {
  it('hands every reader of the same text the one parse, equal to a fresh one', () => {
    const to = '"Alice" <sip:alice@a.example>;tag=1928301774';
    const first = sharedNameAddr(to);
    expect(sharedNameAddr(to)).toBe(first);
    expect(first).toEqual(parseNameAddr(to));
    const contact = '<sip:alice@192.0.2.4:5060>;expires=3600, <sip:alice@192.0.2.5>;q=0.5';
    expect(sharedContactList(contact)).toBe(sharedContactList(contact));
    expect(sharedContactList('*')).toBe('*');
  });

  it('parses a different text anew, and refuses a bad one every time it is asked', () => {
    expect(sharedNameAddr('<sip:bob@b.example>').uri).toMatchObject({ user: 'bob', host: 'b.example' });
    expect(sharedNameAddr('<sip:carol@c.example>').uri).toMatchObject({ user: 'carol' });
    for (let i = 0; i < 2; i++) expect(() => sharedNameAddr('<sip:broken')).toThrow(SipParseError);
  });
});
