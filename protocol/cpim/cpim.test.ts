import { describe, expect, it } from 'vitest';
import { concatBytes, utf8 } from '../common/bytes';
import { CpimError, decodeCpim, encodeCpim, parseAddress } from './cpim';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('CPIM (RFC 3862) with IMDN headers (RFC 5438 §6)', () => {
  it('encodes a CPM text message byte for byte', () => {
    const bytes = encodeCpim({
      from: { displayName: 'Alice "A"', uri: 'sip:alice@a.example' },
      to: [{ uri: 'sip:bob@b.example' }],
      dateTime: new Date(Date.UTC(2026, 10, 24, 10, 0, 0)),
      imdn: { messageId: 'Xs8fe2b9', dispositionNotification: ['positive-delivery', 'display'] },
      contentType: 'text/plain;charset=utf-8',
      body: 'héllo',
    });
    expect(text(bytes)).toBe(
      'From: "Alice \\"A\\"" <sip:alice@a.example>\r\n' +
        'To: <sip:bob@b.example>\r\n' +
        'DateTime: 2026-11-24T10:00:00.000Z\r\n' +
        'NS: imdn <urn:ietf:params:imdn>\r\n' +
        'imdn.Message-ID: Xs8fe2b9\r\n' +
        'imdn.Disposition-Notification: positive-delivery, display\r\n' +
        '\r\n' +
        'Content-Type: text/plain;charset=utf-8\r\n' +
        'Content-Length: 6\r\n' +
        '\r\n' +
        'héllo',
    );
  });

  it('decodes what it encodes, Content-Length counting bytes not characters', () => {
    const body = utf8('😀 multi\r\nline\r\n\r\nbody');
    const m = decodeCpim(encodeCpim({
      from: { uri: 'sip:alice@a.example' },
      to: [{ displayName: 'Bob', uri: 'sip:bob@b.example' }, { uri: 'sip:carol@c.example' }],
      cc: [{ uri: 'sip:dave@d.example' }],
      dateTime: '2026-11-24T10:00:00+01:00',
      subject: 'Lunch',
      imdn: { messageId: 'abc123' },
      contentType: 'text/plain',
      contentHeaders: [{ name: 'Content-Disposition', value: 'notification' }],
      body,
    }));
    expect(m.from).toEqual({ uri: 'sip:alice@a.example' });
    expect(m.to).toEqual([{ displayName: 'Bob', uri: 'sip:bob@b.example' }, { uri: 'sip:carol@c.example' }]);
    expect(m.cc).toEqual([{ uri: 'sip:dave@d.example' }]);
    expect(m.dateTime).toBe('2026-11-24T10:00:00+01:00');
    expect(m.subject).toBe('Lunch');
    expect(m.imdnMessageId).toBe('abc123');
    expect(m.contentType).toBe('text/plain');
    expect(m.contentHeaders.find((h) => h.name === 'Content-Length')?.value).toBe(String(body.length));
    expect(m.body).toEqual(body);
  });

  it('resolves IMDN headers through whatever prefix NS declares, and ignores undeclared ones', () => {
    const m = decodeCpim(utf8('From: <sip:a@x>\r\nNS: foo <urn:ietf:params:imdn>\r\nimdn.Message-ID: wrong\r\nfoo.Message-ID: right\r\nfoo.Disposition-Notification: Display\r\nSubject:;lang=fr Bonjour\r\n\r\nContent-Type: text/plain\r\n\r\nx'));
    expect(m.imdnMessageId).toBe('right');
    expect(m.dispositionNotification).toEqual(['display']);
    expect(m.headers.find((h) => h.name === 'Subject')).toEqual({ name: 'Subject', value: 'Bonjour', params: ['lang=fr'] });
    expect(m.namespaces).toEqual({ foo: 'urn:ietf:params:imdn' });
  });

  it('accepts a body without Content-Length, and a trailing CRLF after the declared length', () => {
    expect(text(decodeCpim(utf8('From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n\r\nabc')).body)).toBe('abc');
    expect(text(decodeCpim(utf8('From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc\r\n')).body)).toBe('abc');
  });

  it.each([
    ['no blank line', 'From: <sip:a@x>\r\nTo: <sip:b@x>', 'not terminated'],
    ['no MIME block end', 'From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n', 'MIME headers'],
    ['a bad header line', 'From <sip:a@x>\r\n\r\nContent-Type: a/b\r\n\r\n', 'bad CPIM header line'],
    ['a bad address', 'From: sip:a@x\r\n\r\nContent-Type: a/b\r\n\r\n', 'bad CPIM address'],
    ['two From headers', 'From: <sip:a@x>\r\nFrom: <sip:b@x>\r\n\r\nContent-Type: a/b\r\n\r\n', 'more than one From'],
    ['a bad DateTime', 'DateTime: yesterday\r\n\r\nContent-Type: a/b\r\n\r\n', 'RFC 3339'],
    ['a bad NS', 'NS: imdn urn:x\r\n\r\nContent-Type: a/b\r\n\r\n', 'bad NS'],
    ['a short body', 'From: <sip:a@x>\r\n\r\nContent-Length: 10\r\n\r\nabc', 'does not match'],
    ['extra body bytes', 'From: <sip:a@x>\r\n\r\nContent-Length: 1\r\n\r\nabc', 'does not match'],
    ['a bad Content-Length', 'From: <sip:a@x>\r\n\r\nContent-Length: -1\r\n\r\n', 'bad Content-Length'],
    ['bare LF lines', 'From: <sip:a@x>\nTo: <sip:b@x>\r\n\r\nContent-Type: a/b\r\n\r\n', 'CRLF'],
  ])('rejects a message with %s', (_name, input, why) => {
    expect(() => decodeCpim(utf8(input))).toThrow(CpimError);
    expect(() => decodeCpim(utf8(input))).toThrow(why);
  });

  it('rejects invalid UTF-8 and oversized header blocks', () => {
    expect(() => decodeCpim(concatBytes([utf8('From: '), Uint8Array.of(0xff, 0xfe), utf8('\r\n\r\nContent-Type: a/b\r\n\r\n')]))).toThrow('UTF-8');
    expect(() => decodeCpim(utf8(`X: ${'a'.repeat(20_000)}\r\n\r\nContent-Type: a/b\r\n\r\n`))).toThrow('exceed');
    expect(() => decodeCpim(utf8('X: 1\r\n'.repeat(100) + '\r\nContent-Type: a/b\r\n\r\n'))).toThrow('more than 64');
  });

  it('refuses to encode header injection', () => {
    expect(() => encodeCpim({ from: { uri: 'sip:a@x' }, to: [], dateTime: new Date(0), subject: 'a\r\nEvil: 1', contentType: 'text/plain', body: '' })).toThrow(CpimError);
    expect(() => encodeCpim({ from: { uri: 'sip:a@x>' }, to: [], dateTime: new Date(0), contentType: 'text/plain', body: '' })).toThrow(CpimError);
  });

  it('parses display names as tokens or quoted strings', () => {
    expect(parseAddress('MR SANDERS <im:piglet@100akerwood.com>')).toEqual({ displayName: 'MR SANDERS', uri: 'im:piglet@100akerwood.com' });
    expect(parseAddress('"a \\"b\\"" <im:x@y>')).toEqual({ displayName: 'a "b"', uri: 'im:x@y' });
  });
});
