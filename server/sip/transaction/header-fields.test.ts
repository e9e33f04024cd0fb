import { describe, expect, it } from 'vitest';
import { SipHeaders } from '../message/sip-message';
import { parseCSeq, parseVia, sentBy, tagParam } from './header-fields';

describe('header fields for transaction matching', () => {
  it('parses a Via with LWS, IPv6 sent-by and flag parameters', () => {
    const via = parseVia('SIP / 2.0 / tcp [2001:DB8::9]:5070 ;branch=z9hG4bKabc;rport;received=192.0.2.1');
    expect(via).toMatchObject({ transport: 'TCP', host: '[2001:db8::9]', port: 5070, branch: 'z9hG4bKabc' });
    expect(via.params.get('rport')).toBe('');
    expect(sentBy(via)).toBe('[2001:db8::9]:5070');
    expect(sentBy(parseVia('SIP/2.0/TLS a.example'))).toBe('a.example:5061');
  });

  it('rejects a malformed Via or CSeq with a clear error', () => {
    expect(() => parseVia('SIP/2.0 UDP host')).toThrow('malformed Via');
    expect(() => parseVia('SIP/2.0/UDP host:99999')).toThrow('port out of range');
    expect(() => parseCSeq(new SipHeaders([{ name: 'CSeq', value: '1' }]))).toThrow('malformed CSeq');
    expect(() => parseCSeq(new SipHeaders([{ name: 'CSeq', value: '4294967296 INVITE' }]))).toThrow('too large');
    expect(() => parseCSeq(new SipHeaders())).toThrow('missing CSeq');
  });

  it('finds the tag of name-addr and addr-spec forms, not a tag inside the URI', () => {
    expect(tagParam('"A;tag=no" <sip:a@x;tag=no>;tag=yes')).toBe('yes');
    expect(tagParam('sip:a@x;tag=bare')).toBe('bare');
    expect(tagParam('<sip:a@x;tag=inside>')).toBeUndefined();
    expect(tagParam(undefined)).toBeUndefined();
  });
});
