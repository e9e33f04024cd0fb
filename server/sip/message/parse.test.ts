import { describe, expect, it } from 'vitest';
import { parseMessage, parseMessageText, scanContentLength } from './parse';
import { SipParseError } from './parse-error';
import { bodyText } from './sip-message';

const CRLF = '\r\n';
const lines = (...l: string[]): string => l.join(CRLF);

function parseError(text: string | Uint8Array): SipParseError {
  try {
    if (typeof text === 'string') parseMessageText(text);
    else parseMessage(text);
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  throw new Error('expected a SipParseError');
}

const INVITE = lines(
  'INVITE sip:bob@b.example SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@b.example>',
  'From: "Alice" <sip:alice@a.example>;tag=1928301774',
  'Call-ID: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Content-Type: text/plain',
  'Content-Length: 7',
  '',
  'héllo!',
);

describe('parseMessage', () => {
  it('reads a request: method, Request-URI, headers in order, body of exactly Content-Length bytes', () => {
    const m = parseMessageText(INVITE);
    expect(m.type).toBe('request');
    if (m.type !== 'request') return;
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:bob@b.example');
    expect([...m.headers].map((h) => h.name)).toEqual(['Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Content-Type', 'Content-Length']);
    expect(bodyText(m)).toBe('héllo!');
    expect(m.body).toHaveLength(7); // "é" is two bytes: Content-Length counts bytes
  });

  it('reads a response with an empty reason phrase and one with UTF-8 text', () => {
    const a = parseMessageText(lines('SIP/2.0 100 ', 'Content-Length: 0', '', ''));
    expect(a.type === 'response' && [a.status, a.reason]).toEqual([100, '']);
    const b = parseMessageText(lines('SIP/2.0 486 Занято здесь', 'l: 0', '', ''));
    expect(b.type === 'response' && b.reason).toBe('Занято здесь');
  });

  it('unfolds continuation lines into one space and expands compact names', () => {
    const m = parseMessageText(lines('OPTIONS sip:a@b SIP/2.0', 'v: SIP/2.0/UDP h', '  ;branch=z9hG4bK1', 'i: x', 'Subject:', '\tcontinued  ', '   here', 'l: 0', '', ''));
    expect(m.headers.get('Via')).toBe('SIP/2.0/UDP h ;branch=z9hG4bK1');
    expect(m.headers.get('Call-ID')).toBe('x');
    expect(m.headers.get('Subject')).toBe('continued here');
  });

  it('ignores CRLFs before the start line and bytes after the body (RFC 3261 §7.5, §18.3)', () => {
    const m = parseMessageText(`\r\n\r\n${lines('OPTIONS sip:a@b SIP/2.0', 'Content-Length: 2', '', 'okGARBAGE')}`);
    expect(bodyText(m)).toBe('ok');
  });

  it('takes the rest of a datagram as body when Content-Length is absent (RFC 4475 §3.4)', () => {
    expect(bodyText(parseMessageText(lines('INVITE sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h', '', 'v=0', '')))).toBe('v=0\r\n');
  });

  it('rejects bytes after the body when asked to (one message per WebSocket frame)', () => {
    expect(() => parseMessageText(lines('OPTIONS sip:a@b SIP/2.0', 'l: 1', '', 'xy'), { trailing: 'reject' })).toThrow(/follow the body/);
  });

  it('reports a too large Content-Length with everything a 400 needs', () => {
    const e = parseError(INVITE.replace('Content-Length: 7', 'Content-Length: 70'));
    expect(e.reason).toMatch(/exceeds/);
    expect(e.status).toBe(400);
    expect(e.isRequest).toBe(true);
    expect(e.method).toBe('INVITE');
    expect(e.callId).toBe('a84b4c76e66710');
    expect(e.topVia).toBe('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776');
  });

  it('keeps parsing headers after a bad start line, and says 505 for another SIP version', () => {
    const e = parseError(lines('OPTIONS sip:a@b SIP/3.0', 'Call-ID: c1', 'l: 0', '', ''));
    expect(e.status).toBe(505);
    expect(e.line).toBe(1);
    expect(e.headers?.get('Call-ID')).toBe('c1');
  });

  it.each([
    ['a negative Content-Length', lines('OPTIONS sip:a@b SIP/2.0', 'Content-Length: -1', '', ''), /non-negative integer/, 2],
    ['two Content-Length headers', lines('OPTIONS sip:a@b SIP/2.0', 'l: 0', 'Content-Length: 0', '', ''), /more than one Content-Length/, 3],
    ['a header line without colon', lines('OPTIONS sip:a@b SIP/2.0', 'Via SIP/2.0/UDP h', 'l: 0', '', ''), /expected ":"/, 2],
    ['a continuation before any header', lines('OPTIONS sip:a@b SIP/2.0', ' folded', 'l: 0', '', ''), /continuation line/, 2],
    ['two spaces in the request line', lines('OPTIONS  sip:a@b SIP/2.0', 'l: 0', '', ''), /extra whitespace/, 1],
    ['trailing space in the request line', lines('OPTIONS sip:a@b SIP/2.0 ', 'l: 0', '', ''), /SIP-Version/, 1],
    ['a Request-URI in angle brackets', lines('OPTIONS <sip:a@b> SIP/2.0', 'l: 0', '', ''), /Request-URI/, 1],
    ['a four-digit status code', lines('SIP/2.0 1000 Huge', 'l: 0', '', ''), /three digits/, 1],
    ['a bare LF inside a header', `OPTIONS sip:a@b SIP/2.0\r\nX: a\nb\r\nl: 0\r\n\r\n`, /bare CR or LF/, 2],
  ])('rejects %s with a clear reason and line number', (_what, text, reason, line) => {
    const e = parseError(text);
    expect(e.reason).toMatch(reason);
    expect(e.line).toBe(line);
  });

  it('rejects a header section that is not UTF-8 at the right byte offset', () => {
    const bytes = new TextEncoder().encode(lines('OPTIONS sip:a@b SIP/2.0', 'X: ab', 'l: 0', '', ''));
    bytes[27] = 0xff; // the "b" of "ab"
    const e = parseError(bytes);
    expect(e.reason).toMatch(/UTF-8/);
    expect(e.offset).toBe(27);
  });

  it('rejects a message without the empty line that ends the headers', () => {
    expect(parseError('OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n').reason).toMatch(/no empty line/);
    expect(parseError('').reason).toMatch(/empty message/);
  });

  it('reports "not even a request" when the start line is garbage', () => {
    const e = parseError(lines('\u0001\u0002 x y', 'l: 0', '', ''));
    expect(e.isRequest).toBeUndefined();
  });
});

describe('scanContentLength', () => {
  it('finds Content-Length in any spelling, folded or compact, without parsing the rest', () => {
    const bytes = new TextEncoder().encode(lines('INVITE x', 'CONTENT-LENGTH :', '  42', 'Foo: l: 3'));
    expect(scanContentLength(bytes, 0, bytes.length)).toBe(42);
    const none = new TextEncoder().encode(lines('INVITE x', 'Foo: bar'));
    expect(scanContentLength(none, 0, none.length)).toBeUndefined();
  });
});
