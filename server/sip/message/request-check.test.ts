import { describe, expect, it } from 'vitest';
import { parseMessageText } from './parse';
import { SipParseError } from './parse-error';
import { checkRequest, checkResponse, rejectionForParseError, screenMessage } from './request-check';
import { SipHeaders, type SipRequest, type SipResponse } from './sip-message';

function request(method: string, uri: string, extra: string[] = [], body = '', cseqMethod = method): SipRequest {
  const text = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc',
    'Max-Forwards: 70',
    'From: <sip:alice@a.example>;tag=1',
    'To: <sip:bob@b.example>',
    'Call-ID: call-1@a.example',
    `CSeq: 1 ${cseqMethod}`,
    ...extra,
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    '',
    body,
  ].join('\r\n');
  const m = parseMessageText(text);
  if (m.type !== 'request') throw new Error('not a request');
  return m;
}

function response(vias: string[]): SipResponse {
  const m = parseMessageText(['SIP/2.0 200 OK', ...vias.map((v) => `Via: ${v}`), 'From: <sip:a@x>;tag=1', 'To: <sip:b@y>;tag=2', 'Call-ID: c', 'CSeq: 1 INVITE', 'l: 0', '', ''].join('\r\n'));
  if (m.type !== 'response') throw new Error('not a response');
  return m;
}

describe('checkRequest as a UAS (RFC 3261 §8.2)', () => {
  it('lets a well-formed INVITE through', () => {
    expect(checkRequest(request('INVITE', 'sip:bob@b.example', ['Content-Type: application/sdp'], 'v=0\r\n'), { role: 'uas' })).toBeUndefined();
  });

  it('answers 405 with Allow for a known unsupported method and 501 for an unknown one', () => {
    expect(checkRequest(request('SUBSCRIBE', 'sip:bob@b.example'), { role: 'uas' })).toMatchObject({ status: 405, headers: [{ name: 'Allow', value: 'INVITE, ACK, BYE, CANCEL, OPTIONS' }] });
    expect(checkRequest(request('FROB', 'sip:bob@b.example'), { role: 'uas' })).toMatchObject({ status: 501 });
  });

  it('answers 416 for a Request-URI scheme it does not handle', () => {
    expect(checkRequest(request('OPTIONS', 'mailto:bob@b.example'), { role: 'uas' })).toMatchObject({ status: 416 });
    expect(checkRequest(request('OPTIONS', 'tel:+15551234'), { role: 'uas', uriSchemes: ['sip', 'tel'] })).toBeUndefined();
  });

  it('answers 420 listing only the unsupported Require tags, but never for ACK or CANCEL', () => {
    const r = checkRequest(request('INVITE', 'sip:b@x', ['Require: tdialog, foo', 'Require: bar']), { role: 'uas', supportedExtensions: ['tdialog'] });
    expect(r).toMatchObject({ status: 420, headers: [{ name: 'Unsupported', value: 'foo, bar' }] });
    expect(checkRequest(request('CANCEL', 'sip:b@x', ['Require: foo']), { role: 'uas' })).toBeUndefined();
  });

  it('answers 415 with Accept for a body type or coding it does not understand', () => {
    const r = checkRequest(request('MESSAGE', 'sip:b@x', ['Content-Type: text/html'], '<p>'), { role: 'uas', allowedMethods: ['MESSAGE'], acceptedBodyTypes: ['text/plain', 'message/cpim'] });
    expect(r).toMatchObject({ status: 415, headers: [{ name: 'Accept', value: 'text/plain, message/cpim' }] });
    expect(checkRequest(request('INVITE', 'sip:b@x', ['Content-Type: application/sdp', 'Content-Encoding: gzip'], 'x'), { role: 'uas' })).toMatchObject({ status: 415 });
  });

  it('answers 406 when Accept excludes the type its answer would carry', () => {
    expect(checkRequest(request('INVITE', 'sip:b@x', ['Accept: text/plain']), { role: 'uas' })).toMatchObject({ status: 406 });
    expect(checkRequest(request('INVITE', 'sip:b@x', ['Accept: application/*']), { role: 'uas' })).toBeUndefined();
  });

  it.each([
    ['a missing Call-ID', (r: SipRequest) => r.headers.remove('Call-ID'), /missing Call-ID/],
    ['two To headers', (r: SipRequest) => r.headers.append('To', '<sip:c@z>'), /more than one To/],
    ['no Via at all', (r: SipRequest) => r.headers.remove('Via'), /missing Via/],
    ['a malformed Contact', (r: SipRequest) => r.headers.append('Contact', '<sip:x@y;;>'), /parameter name/],
    ['a bad Contact q', (r: SipRequest) => r.headers.append('Contact', '<sip:x@y>;q=2'), /q value/],
    ['a Max-Forwards above 255', (r: SipRequest) => r.headers.set('Max-Forwards', '256'), /larger than 255/],
    ['headers in the Request-URI', (r: SipRequest) => { r.uri = 'sip:b@x?Route=%3Csip:y%3E'; }, /Request-URI/],
  ])('answers 400 for %s', (_what, mutate, detail) => {
    const r = request('INVITE', 'sip:b@x');
    mutate(r);
    const verdict = checkRequest(r, { role: 'uas' });
    expect(verdict?.status).toBe(400);
    expect(verdict?.detail).toMatch(detail);
  });

  it('answers 400 for a CSeq method mismatch, but 501 when the method is unknown (RFC 4475 §3.1.2.17-18)', () => {
    expect(checkRequest(request('OPTIONS', 'sip:b@x', [], '', 'INVITE'), { role: 'uas' })).toMatchObject({ status: 400 });
    expect(checkRequest(request('NEWMETHOD', 'sip:b@x', [], '', 'INVITE'), { role: 'proxy' })).toMatchObject({ status: 501 });
  });
});

describe('checkRequest as a registrar (RFC 3261 §10.3)', () => {
  it('accepts a REGISTER and refuses other methods with Allow: REGISTER, OPTIONS', () => {
    expect(checkRequest(request('REGISTER', 'sip:b.example', ['Contact: <sip:bob@192.0.2.4>;expires=60']), { role: 'registrar' })).toBeUndefined();
    expect(checkRequest(request('INVITE', 'sip:b.example'), { role: 'registrar' })).toMatchObject({ status: 405, headers: [{ name: 'Allow', value: 'REGISTER, OPTIONS' }] });
  });

  it('answers 400 for a wildcard Contact without Expires: 0 or next to another Contact', () => {
    expect(checkRequest(request('REGISTER', 'sip:b.example', ['Contact: *']), { role: 'registrar' })).toMatchObject({ status: 400 });
    expect(checkRequest(request('REGISTER', 'sip:b.example', ['Contact: *', 'Expires: 0']), { role: 'registrar' })).toBeUndefined();
    expect(checkRequest(request('REGISTER', 'sip:b.example', ['Contact: *', 'Contact: <sip:x@y>', 'Expires: 0']), { role: 'registrar' })).toMatchObject({ status: 400 });
  });
});

describe('checkRequest as a proxy (RFC 3261 §16.3)', () => {
  it('answers 483 when Max-Forwards is 0, optionally letting OPTIONS through to be answered locally', () => {
    const r = request('OPTIONS', 'sip:b@x');
    r.headers.set('Max-Forwards', '0');
    expect(checkRequest(r, { role: 'proxy' })).toMatchObject({ status: 483 });
    expect(checkRequest(r, { role: 'proxy', optionsAtZeroMaxForwards: 'answer' })).toBeUndefined();
  });

  it('answers 420 for Proxy-Require tags it does not support, and ignores Require', () => {
    expect(checkRequest(request('INVITE', 'sip:b@x', ['Proxy-Require: foo', 'Require: bar']), { role: 'proxy' })).toMatchObject({ status: 420, headers: [{ name: 'Unsupported', value: 'foo' }] });
    expect(checkRequest(request('INVITE', 'sip:b@x', ['Require: bar']), { role: 'proxy' })).toBeUndefined();
  });

  it('answers 482 when the loop hook says so, and forwards unknown methods', () => {
    expect(checkRequest(request('INVITE', 'sip:b@x'), { role: 'proxy', detectLoop: () => true })).toMatchObject({ status: 482 });
    expect(checkRequest(request('FROB', 'sip:b@x'), { role: 'proxy' })).toBeUndefined();
  });

  it('does not look at headers a proxy does not use, such as Contact', () => {
    expect(checkRequest(request('REGISTER', 'sip:b.example', ['Contact: sip:u@x?Route=y']), { role: 'proxy' })).toBeUndefined();
  });
});

describe('parse errors and responses', () => {
  it('turns a request parse error into 400 or 505 when there is a Via to answer to', () => {
    const headers = new SipHeaders([{ name: 'Via', value: 'SIP/2.0/UDP h' }]);
    expect(rejectionForParseError(new SipParseError('bad', { isRequest: true, method: 'INVITE', headers, status: 505 }))).toMatchObject({ status: 505 });
    expect(rejectionForParseError(new SipParseError('bad', { isRequest: true, method: 'INVITE', headers: new SipHeaders() }))).toBeUndefined();
    expect(rejectionForParseError(new SipParseError('bad', { isRequest: false, headers }))).toBeUndefined();
  });

  it('drops responses a UAC must discard and broadcast-bound responses at a proxy', () => {
    expect(checkResponse(response(['SIP/2.0/UDP a;branch=z9hG4bK1']), 'uas')).toBeUndefined();
    expect(checkResponse(response(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2']), 'uas')?.because).toMatch(/exactly one Via/);
    expect(checkResponse(response(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK2']), 'proxy')?.because).toMatch(/broadcast/);
    expect(checkResponse(response(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2']), 'proxy')).toBeUndefined();
  });

  it('screens raw bytes in one call and never throws on garbage', () => {
    expect(screenMessage(new Uint8Array([0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), { role: 'proxy' })).toMatchObject({ action: 'drop' });
    const ok = screenMessage(new TextEncoder().encode('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 0\r\n\r\n'), { role: 'uas' });
    expect(ok).toMatchObject({ action: 'reject', rejection: { status: 400 } });
  });
});

describe('bodies', () => {
  it('answers 400 to a UAS request whose body has no Content-Type (RFC 3261 §20.15)', () => {
    expect(checkRequest(request('INVITE', 'sip:b@x', [], 'v=0\r\n'), { role: 'uas' })).toMatchObject({ status: 400, detail: expect.stringMatching(/Content-Type/) });
    expect(checkRequest(request('INVITE', 'sip:b@x', [], 'v=0\r\n'), { role: 'proxy' })).toBeUndefined();
  });
});
