import { describe, expect, it } from 'vitest';
import { bytesEqual, concatBytes, utf8 } from '../common/bytes';
import { createMsrpRequest, type MsrpMessage, type MsrpRequest } from './msrp-message';
import { MsrpParseError, MsrpStreamParser, parseMsrpMessage } from './msrp-parser';
import { MsrpEndLineCollisionError, MsrpSerializeError, serializeMsrp } from './msrp-serializer';

const SEND_TEXT =
  'MSRP a786hjs2 SEND\r\n' +
  'To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n' +
  'From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n' +
  'Message-ID: 87652491\r\n' +
  'Byte-Range: 1-25/25\r\n' +
  'Content-Type: text/plain\r\n' +
  '\r\n' +
  'Hey Bob, are you there?\r\n' +
  '\r\n' +
  '-------a786hjs2$\r\n';

const OK_TEXT =
  'MSRP a786hjs2 200 OK\r\n' +
  'To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n' +
  'From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n' +
  '-------a786hjs2$\r\n';

function request(m: MsrpMessage): MsrpRequest {
  if (m.kind !== 'request') throw new Error('expected a request');
  return m;
}

describe('MSRP framing (RFC 4975 §7.1)', () => {
  it('parses the RFC example SEND with its 25-byte body, CRLF inside the body included', () => {
    const m = request(parseMsrpMessage(utf8(SEND_TEXT)));
    expect(m.method).toBe('SEND');
    expect(m.transactionId).toBe('a786hjs2');
    expect(m.continuation).toBe('$');
    expect(m.headers.get('byte-range')).toBe('1-25/25');
    expect(new TextDecoder().decode(m.body)).toBe('Hey Bob, are you there?\r\n');
    expect(m.body!.length).toBe(25);
  });

  it('serializes back to the exact bytes it parsed', () => {
    expect(new TextDecoder().decode(serializeMsrp(parseMsrpMessage(utf8(SEND_TEXT))))).toBe(SEND_TEXT);
    expect(new TextDecoder().decode(serializeMsrp(parseMsrpMessage(utf8(OK_TEXT))))).toBe(OK_TEXT);
  });

  it('parses a response and a bodiless request', () => {
    const r = parseMsrpMessage(utf8(OK_TEXT));
    expect(r).toMatchObject({ kind: 'response', status: 200, comment: 'OK', transactionId: 'a786hjs2' });
    const bodiless = request(parseMsrpMessage(utf8('MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nMessage-ID: m1234\r\nByte-Range: 1-0/0\r\n-------abcd1234$\r\n')));
    expect(bodiless.body).toBeUndefined();
  });

  it('keeps binary bodies intact, including bytes that look like a foreign end-line', () => {
    const body = new Uint8Array(4096);
    for (let i = 0; i < body.length; i++) body[i] = (i * 131) & 0xff;
    body.set(utf8('\r\n-------abcd1234$\r\n'), 100); // another transaction's end-line
    body.set(utf8('\r\n-------tid12345X\r\n'), 300); // our id followed by a non-flag
    const req = createMsrpRequest('SEND', 'tid12345', [
      { name: 'To-Path', value: 'msrp://a:1/s;tcp' },
      { name: 'From-Path', value: 'msrp://b:2/t;tcp' },
      { name: 'Content-Type', value: 'application/octet-stream' },
    ], body, '+');
    expect(() => serializeMsrp(req)).toThrow(MsrpEndLineCollisionError);
    body.set(utf8('\r\n-------tid99999X\r\n'), 300);
    const parsed = request(parseMsrpMessage(serializeMsrp(req)));
    expect(parsed.body).toEqual(body);
    expect(parsed.continuation).toBe('+');
  });

  it('parses unknown methods and an empty body section', () => {
    const m = request(parseMsrpMessage(utf8('MSRP abcd1234 NICKNAME\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nContent-Type: text/plain\r\n\r\n\r\n-------abcd1234#\r\n')));
    expect(m.method).toBe('NICKNAME');
    expect(m.body).toEqual(new Uint8Array(0));
    expect(m.continuation).toBe('#');
  });

  it('decodes UTF-8 in header values and comments', () => {
    const r = parseMsrpMessage(utf8('MSRP abcd1234 200 Größe ok\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n-------abcd1234$\r\n'));
    expect(r.kind === 'response' && r.comment).toBe('Größe ok');
  });
});

describe('MsrpStreamParser', () => {
  it('yields the same messages whether bytes arrive one at a time or coalesced', () => {
    const all = concatBytes([utf8(SEND_TEXT), utf8(OK_TEXT), utf8(SEND_TEXT)]);
    const whole = new MsrpStreamParser().push(all);
    expect(whole.map((m) => m.kind)).toEqual(['request', 'response', 'request']);
    const p = new MsrpStreamParser();
    const trickled: MsrpMessage[] = [];
    for (let i = 0; i < all.length; i++) trickled.push(...p.push(all.subarray(i, i + 1)));
    expect(trickled).toEqual(whole);
    expect(p.bufferedBytes).toBe(0);
  });

  it('finds an end-line split across pushes at every position', () => {
    const bytes = utf8(SEND_TEXT);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new MsrpStreamParser();
      const out = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(out).toHaveLength(1);
      expect(request(out[0]!).body!.length).toBe(25);
    }
  });

  it('finds the end-line of a long body full of near misses, split across two pushes at every position near its end', () => {
    // Long enough for the skip search; near misses: partial markers, our id with a bad flag, another id.
    const body = new Uint8Array(6000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 37) & 0xff;
    for (let at = 0; at + 40 < body.length; at += 97) body.set(utf8(['\r\n-------tid1', '\r\n-------tid12345X\r\n', '-------tid12345$', '\r\n------'][at % 4]!), at);
    const bytes = concatBytes([
      utf8('MSRP tid12345 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nContent-Type: a/b\r\n\r\n'),
      body,
      utf8('\r\n-------tid12345+\r\n'),
    ]);
    for (let cut = bytes.length - 60; cut < bytes.length; cut++) {
      const p = new MsrpStreamParser();
      const out = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(out).toHaveLength(1);
      expect(request(out[0]!).continuation).toBe('+');
      expect(bytesEqual(request(out[0]!).body!, body)).toBe(true);
    }
  });

  it('handles a large body arriving in many pushes, then small messages after it', () => {
    const body = new Uint8Array(900_000).fill(0x41);
    const bytes = serializeMsrp(createMsrpRequest('SEND', 'big12345', [
      { name: 'To-Path', value: 'msrp://a:1/s;tcp' },
      { name: 'From-Path', value: 'msrp://b:2/t;tcp' },
      { name: 'Content-Type', value: 'text/plain' },
    ], body));
    const p = new MsrpStreamParser();
    const out: MsrpMessage[] = [];
    for (let i = 0; i < bytes.length; i += 65536) out.push(...p.push(bytes.subarray(i, i + 65536)));
    expect(out).toHaveLength(1);
    expect(bytesEqual(request(out[0]!).body!, body)).toBe(true);
    expect(p.push(utf8(OK_TEXT))).toHaveLength(1);
  });

  const hostile: Array<[string, string, string]> = [
    ['not MSRP at all', 'GET / HTTP/1.1\r\n\r\n', 'not an MSRP start line'],
    ['a bad transaction id', 'MSRP a SEND\r\n', 'bad transaction id'],
    ['a lower-case method', 'MSRP abcd1234 send\r\n', 'bad MSRP method'],
    ['a bare LF', 'MSRP abcd1234 SEND\nTo-Path: x\r\n', 'bare LF'],
    ['a header without colon', 'MSRP abcd1234 SEND\r\nTo-Path msrp://a:1/s;tcp\r\n', 'bad header line'],
    ['a foreign end-line', 'MSRP abcd1234 SEND\r\nTo-Path: x\r\n-------zzzz9999$\r\n', 'does not match'],
    ['a bad flag', 'MSRP abcd1234 SEND\r\nTo-Path: x\r\n-------abcd1234!\r\n', 'continuation flag'],
    ['a response with a body', 'MSRP abcd1234 200 OK\r\nTo-Path: x\r\n\r\n', 'no body'],
    ['a response ending in +', 'MSRP abcd1234 200 OK\r\nTo-Path: x\r\n-------abcd1234+\r\n', 'ends with $'],
  ];
  it.each(hostile)('rejects %s with MsrpParseError and stays failed', (_name, text, why) => {
    const p = new MsrpStreamParser();
    expect(() => p.push(utf8(text))).toThrow(why);
    expect(() => p.push(utf8(SEND_TEXT))).toThrow(MsrpParseError);
  });

  it('bounds the head, the header count and the body', () => {
    expect(() => new MsrpStreamParser({ maxHeadBytes: 100 }).push(utf8(`MSRP abcd1234 SEND\r\nX: ${'a'.repeat(200)}`))).toThrow(expect.objectContaining({ code: 'header-too-large' }));
    expect(() => new MsrpStreamParser({ maxHeadBytes: 100 }).push(utf8('MSRP abcd1234 SEND\r\n' + 'X: 1\r\n'.repeat(30)))).toThrow(expect.objectContaining({ code: 'header-too-large' }));
    expect(() => new MsrpStreamParser({ maxHeaders: 3 }).push(utf8('MSRP abcd1234 SEND\r\n' + 'X: 1\r\n'.repeat(4)))).toThrow(expect.objectContaining({ code: 'too-many-headers' }));
    const p = new MsrpStreamParser({ maxBodyBytes: 1000 });
    p.push(utf8('MSRP abcd1234 SEND\r\nTo-Path: x\r\nContent-Type: a/b\r\n\r\n'));
    expect(() => p.push(new Uint8Array(2000))).toThrow(expect.objectContaining({ code: 'body-too-large' }));
    // A body exactly at the bound is fine.
    const q = new MsrpStreamParser({ maxBodyBytes: 1000 });
    const ok = q.push(concatBytes([utf8('MSRP abcd1234 SEND\r\nTo-Path: x\r\nFrom-Path: y\r\nContent-Type: a/b\r\n\r\n'), new Uint8Array(1000), utf8('\r\n-------abcd1234$\r\n')]));
    expect(ok).toHaveLength(1);
  });

  it('refuses a stream that does not start with "MSRP " within its first five bytes, before any line end', () => {
    expect(() => new MsrpStreamParser().push(utf8('GET /'))).toThrow(expect.objectContaining({ code: 'syntax' }));
    expect(() => new MsrpStreamParser().push(utf8('MSRPX'))).toThrow(/not an MSRP start line: "MSRPX"/);
    const p = new MsrpStreamParser();
    expect(p.push(utf8('\r\nMSR'))).toEqual([]); // a stray CRLF, then a prefix of "MSRP "
    expect(() => p.push(utf8('X /'))).toThrow(expect.objectContaining({ code: 'syntax', message: expect.stringContaining('not an MSRP start line') }));
    const tls = new MsrpStreamParser();
    expect(() => tls.push(Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00]))).toThrow(MsrpParseError); // a TLS ClientHello
  });

  it('refuses a head line that is not UTF-8', () => {
    const bytes = concatBytes([utf8('MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nX-Note: caf'), Uint8Array.of(0xe9), utf8('\r\n')]);
    expect(() => new MsrpStreamParser().push(bytes)).toThrow(expect.objectContaining({ code: 'syntax', message: 'MSRP head line is not UTF-8' }));
  });

  it('caps the start line far below the head bound', () => {
    const p = new MsrpStreamParser();
    expect(p.push(utf8(`MSRP ${'a'.repeat(500)}`))).toEqual([]);
    expect(() => p.push(utf8('b'.repeat(600)))).toThrow(expect.objectContaining({ code: 'header-too-large', message: expect.stringContaining('start line') }));
    expect(() => new MsrpStreamParser({ maxStartLineBytes: 20 }).push(utf8('MSRP abcd1234 200 a long comment\r\n'))).toThrow(/start line exceeds 20 bytes/);
  });

  it('hands out a large body that later input never overwrites', () => {
    const body = new Uint8Array(200_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const head = (tid: string, n: number): string =>
      `MSRP ${tid} SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nMessage-ID: m1234\r\nByte-Range: 1-${n}/${n}\r\nContent-Type: a/b\r\n\r\n`;
    const big = concatBytes([utf8(head('big12345', body.length)), body, utf8('\r\n-------big12345$\r\n')]);
    const small = concatBytes([utf8(head('sml12345', 3)), utf8('abc'), utf8('\r\n-------sml12345$\r\n')]);
    const p = new MsrpStreamParser();
    const out: MsrpMessage[] = [];
    // The big message and the start of a small one in one read, then the rest and many more reads.
    out.push(...p.push(concatBytes([big, small.subarray(0, 10)])));
    out.push(...p.push(small.subarray(10)));
    // Then most of another big message: it fills the parser's buffer where the first body would lie.
    for (let at = 0; at < big.length - 1000; at += 1000) out.push(...p.push(big.subarray(at, at + 1000)));
    expect(out).toHaveLength(2);
    expect(bytesEqual(request(out[0]!).body!, body)).toBe(true);
    expect(new TextDecoder().decode(request(out[1]!).body)).toBe('abc');
  });

  it('reads a 256 KiB chunk arriving 64 KiB at a time into one buffer of its size, and gives a peer that announces more than it sends no such buffer', () => {
    const n = 256 * 1024;
    const body = Uint8Array.from({ length: n }, (_, i) => (i * 13) & 0xff);
    const head = `MSRP big12345 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nMessage-ID: m1234\r\nByte-Range: 1-${n}/${n}\r\nContent-Type: a/b\r\n\r\n`;
    const wire = concatBytes([utf8(head), body, utf8('\r\n-------big12345$\r\n')]);
    const p = new MsrpStreamParser();
    const out: MsrpMessage[] = [];
    for (let at = 0; at < wire.length; at += 65536) {
      out.push(...p.push(wire.subarray(at, at + 65536)));
      // Room for the whole chunk as soon as its head and first read are here: allocated once, not by doubling.
      if (at === 0) expect(p.capacity).toBeGreaterThanOrEqual(n);
    }
    expect(out).toHaveLength(1);
    const got = request(out[0]!).body!;
    expect(bytesEqual(got, body)).toBe(true);
    // Handed out as a view of a buffer made for it: the body and its end-line, rounded up to 4 KiB.
    expect(got.buffer.byteLength).toBeLessThanOrEqual(n + 8192);

    // 4 KiB of a body announced as 1 MiB: the buffer follows what arrived, not the announcement.
    const liar = new MsrpStreamParser();
    const claim = `MSRP liar1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\nMessage-ID: m1234\r\nByte-Range: 1-1048576/1048576\r\nContent-Type: a/b\r\n\r\n`;
    expect(liar.push(concatBytes([utf8(claim), new Uint8Array(4096)]))).toEqual([]);
    expect(liar.push(new Uint8Array(65536))).toEqual([]);
    expect(liar.bufferedBytes).toBeGreaterThan(65536);
    expect(liar.capacity).toBeLessThanOrEqual(256 * 1024);
  });

  it('never throws anything but MsrpParseError on random garbage', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 200; round++) {
      const p = new MsrpStreamParser({ maxHeadBytes: 512, maxBodyBytes: 512 });
      const prefix = round % 2 ? utf8('MSRP abcd1234 SEND\r\nTo-Path: a\r\n') : new Uint8Array(0);
      const junk = Uint8Array.from({ length: 300 }, () => [0x0d, 0x0a, 0x2d, 0x41, 0x3a, 0x20][rnd() % 6]!);
      try {
        p.push(concatBytes([prefix, junk]));
      } catch (e) {
        expect(e).toBeInstanceOf(MsrpParseError);
      }
    }
  });
});

describe('MSRP serializer', () => {
  const paths = [
    { name: 'From-Path', value: 'msrp://b:2/t;tcp' },
    { name: 'To-Path', value: 'msrp://a:1/s;tcp' },
  ];
  it('puts To-Path and From-Path first whatever the input order', () => {
    const text = new TextDecoder().decode(serializeMsrp(createMsrpRequest('SEND', 'abcd1234', [{ name: 'Message-ID', value: 'm1234' }, ...paths])));
    expect(text.split('\r\n').slice(1, 4)).toEqual(['To-Path: msrp://a:1/s;tcp', 'From-Path: msrp://b:2/t;tcp', 'Message-ID: m1234']);
  });

  it('refuses header injection, missing paths, bodies without Content-Type and bad ids', () => {
    expect(() => serializeMsrp(createMsrpRequest('SEND', 'abcd1234', [...paths, { name: 'X', value: 'a\r\nEvil: 1' }]))).toThrow(MsrpSerializeError);
    expect(() => serializeMsrp(createMsrpRequest('SEND', 'abcd1234', [paths[0]!]))).toThrow('required');
    expect(() => serializeMsrp(createMsrpRequest('SEND', 'abcd1234', paths, new Uint8Array(1)))).toThrow('Content-Type');
    expect(() => serializeMsrp(createMsrpRequest('SEND', 'a b', paths))).toThrow('transaction id');
  });
});
