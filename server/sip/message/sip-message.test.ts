import { describe, expect, it } from 'vitest';
import { parseMessageText } from './parse';
import { SipParseError } from './parse-error';
import { SipHeaders, canonicalHeaderName, isListHeader, splitHeaderList } from './sip-message';

describe('header names', () => {
  it('compact forms expand, known names are re-cased, unknown names keep their spelling', () => {
    expect(canonicalHeaderName('v')).toBe('Via');
    expect(canonicalHeaderName('V')).toBe('Via');
    expect(canonicalHeaderName('cAlL-iD')).toBe('Call-ID');
    expect(canonicalHeaderName('X-Odd-Name')).toBe('X-Odd-Name');
    // asked twice (the second answer comes from the cache), the answer is the same
    expect(canonicalHeaderName('cAlL-iD')).toBe('Call-ID');
    expect(isListHeader('m')).toBe(true);
    expect(isListHeader('CSeq')).toBe(false);
  });

  it('a flood of distinct names is still answered correctly once the name cache is full', () => {
    for (let i = 0; i < 5000; i++) expect(canonicalHeaderName(`X-Flood-${i}`)).toBe(`X-Flood-${i}`);
    expect(canonicalHeaderName('t')).toBe('To');
  });
});

describe('SipHeaders', () => {
  it('finds lines case-insensitively and through compact names, in order', () => {
    const h = new SipHeaders([
      { name: 'v', value: 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2' },
      { name: 'Max-Forwards', value: '70' },
      { name: 'VIA', value: 'SIP/2.0/UDP c;branch=z9hG4bK3' },
    ]);
    expect([...h].map((x) => x.name)).toEqual(['Via', 'Max-Forwards', 'Via']);
    expect(h.getAll('via')).toHaveLength(2);
    expect([h.count('VIA'), h.count('v'), h.count('Max-Forwards'), h.count('Route')]).toEqual([2, 2, 1, 0]);
    expect(h.values('Via')).toEqual(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2', 'SIP/2.0/UDP c;branch=z9hG4bK3']);
    expect(h.first('v')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(h.has('max-forwards')).toBe(true);
    expect(h.get('Route')).toBeUndefined();
  });

  it('replaceFirst swaps the topmost value of a list header, in a line of its own or inside a comma list', () => {
    const single = new SipHeaders([
      { name: 'Via', value: 'SIP/2.0/UDP a;branch=z9hG4bK1' },
      { name: 'Max-Forwards', value: '70' },
      { name: 'Via', value: 'SIP/2.0/UDP b;branch=z9hG4bK2' },
    ]);
    single.replaceFirst('v', 'SIP/2.0/UDP a;branch=z9hG4bK1;received=192.0.2.1');
    expect([...single].map((h) => `${h.name}: ${h.value}`)).toEqual([
      'Via: SIP/2.0/UDP a;branch=z9hG4bK1;received=192.0.2.1', 'Max-Forwards: 70', 'Via: SIP/2.0/UDP b;branch=z9hG4bK2',
    ]);
    const listed = new SipHeaders([{ name: 'Via', value: 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2' }]);
    listed.replaceFirst('Via', 'SIP/2.0/UDP a;branch=z9hG4bK1;rport=5060');
    expect(listed.values('Via')).toEqual(['SIP/2.0/UDP a;branch=z9hG4bK1;rport=5060', 'SIP/2.0/UDP b;branch=z9hG4bK2']);
    expect(() => listed.replaceFirst('Via', 'x\r\nInjected: 1')).toThrow(TypeError);
  });

  it('set replaces every line where the first one stood; prepend goes before the first of its name', () => {
    const h = new SipHeaders([
      { name: 'X-A', value: '1' }, { name: 'Route', value: '<sip:r1>' }, { name: 'X-B', value: '2' }, { name: 'Route', value: '<sip:r2>' },
    ]);
    h.set('route', '<sip:only>');
    expect([...h].map((x) => `${x.name}=${x.value}`)).toEqual(['X-A=1', 'Route=<sip:only>', 'X-B=2']);
    h.prepend('Route', '<sip:top>');
    h.prepend('Via', 'SIP/2.0/UDP x;branch=z9hG4bK9');
    expect([...h].map((x) => x.name)).toEqual(['Via', 'X-A', 'Route', 'Route', 'X-B']);
    expect(h.remove('ROUTE')).toBe(2);
    expect(h.get('x-b')).toBe('2');
  });

  it('shift takes the top value of a list line and keeps the rest; a clone is independent', () => {
    const h = new SipHeaders([{ name: 'Via', value: 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2' }]);
    const copy = h.clone();
    expect(h.shift('Via')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(h.getAll('Via')).toEqual(['SIP/2.0/UDP b;branch=z9hG4bK2']);
    expect(h.shift('Via')).toBe('SIP/2.0/UDP b;branch=z9hG4bK2');
    expect(h.size).toBe(0);
    expect(copy.values('Via')).toHaveLength(2);
  });

  it('refuses a value with CR or LF and a name that is not a token, whichever way it is added', () => {
    const h = new SipHeaders();
    expect(() => h.append('Subject', 'hi\r\nInjected: yes')).toThrow(/CR or LF/);
    expect(() => h.set('Subject', 'a\nb')).toThrow(TypeError);
    expect(() => h.prepend('Subject', 'a\rb')).toThrow(TypeError);
    expect(() => h.append('Bad Name', 'x')).toThrow(/not a token/);
    expect(() => h.append('', 'x')).toThrow(/not a token/);
    expect(() => new SipHeaders([{ name: 'X:Y', value: 'x' }])).toThrow(/not a token/);
    expect(h.size).toBe(0);
  });
});

describe('splitHeaderList', () => {
  it('splits at top-level commas only', () => {
    expect(splitHeaderList('"a, b" <sip:x>, <sip:y;p=1,2>')).toEqual(['"a, b" <sip:x>', '<sip:y;p=1,2>']);
    expect(splitHeaderList('  single  ')).toEqual(['single']);
    expect(splitHeaderList(' , ')).toEqual([]);
  });
});

describe('the headers of a parse error', () => {
  it('leave out a value that holds a bare LF, so that a 400 built from them cannot carry it', () => {
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nSubject: one\ntwo\r\nCall-ID: c\r\n\r\n';
    let error: unknown;
    try {
      parseMessageText(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SipParseError);
    const headers = (error as SipParseError).headers!;
    expect(headers.get('Via')).toBe('SIP/2.0/UDP h;branch=z9hG4bK1');
    expect(headers.get('Call-ID')).toBe('c');
    expect(headers.has('Subject')).toBe(false);
  });
});
