import { describe, expect, it } from 'vitest';
import { SipParseError } from './parse-error';
import { isRfc3261Branch, parseVia, parseViaList, parseVias, serializeVia } from './via';

describe('parseVia', () => {
  it('reads sent-protocol, sent-by and the well-known parameters', () => {
    const via = parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=192.0.2.9;rport=4000;ttl=16;maddr=224.2.0.1');
    expect(via).toMatchObject({ protocolName: 'SIP', protocolVersion: '2.0', transport: 'UDP', host: '192.0.2.1', port: 5060, branch: 'z9hG4bK776asdhds', received: '192.0.2.9', rport: 4000, ttl: 16, maddr: '224.2.0.1' });
  });

  it('tolerates whitespace around "/", ":" , ";" and "=" (RFC 4475 §3.1.1.1)', () => {
    const vias = parseViaList('SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239');
    expect(vias.map((v) => [v.transport, v.host, v.branch])).toEqual([['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'], ['UDP', '192.168.255.111', 'z9hG4bK30239']]);
  });

  it('reads an IPv6 sent-by and an IPv6 received address (RFC 5118)', () => {
    const via = parseVia('SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bKx;received=2001:db8::9;rport');
    expect(via.host).toBe('[2001:db8::9]');
    expect(via.port).toBe(5061);
    expect(via.received).toBe('2001:db8::9');
    expect(via.rport).toBeNull();
  });

  it.each([
    ['SIP/2.0/UDP 192.0.2.15;;,;,,', SipParseError],
    ['SIP/2.0 192.0.2.15', SipParseError],
    ['SIP/2.0/UDP', SipParseError],
    ['SIP/2.0/UDP host;branch', SipParseError],
    ['SIP/2.0/UDP host;received=not-an-ip', SipParseError],
    ['SIP/2.0/UDP host;ttl=256', SipParseError],
    ['SIP/2.0/UDP host:70000', SipParseError],
  ])('rejects %j', (text, type) => {
    expect(() => parseViaList(text)).toThrow(type);
  });

  it('collects every Via of a message, top first, from several lines', () => {
    expect(parseVias(['SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b', 'SIP/2.0/TCP c']).map((v) => v.host)).toEqual(['a', 'b', 'c']);
  });

  it('serializes back to a canonical form', () => {
    expect(serializeVia(parseVia('SIP / 2.0 / WSS  df7jal23ls0d.invalid ;branch=z9hG4bKx ;rport'))).toBe('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKx;rport');
  });

  it('tells RFC 3261 branches from RFC 2543 ones and from the bare cookie', () => {
    expect(isRfc3261Branch('z9hG4bK776')).toBe(true);
    expect(isRfc3261Branch('z9hG4bK')).toBe(false);
    expect(isRfc3261Branch('390skdjuw')).toBe(false);
    expect(isRfc3261Branch(undefined)).toBe(false);
  });
});
