import { describe, expect, it } from 'vitest';
import { parseMessage } from './parse';
import { serializeMessage, serializeMessageToString } from './serialize';
import { createRequest, createResponse } from './sip-message';

describe('serializeMessage', () => {
  it('writes start line, headers in order, the body byte length and an empty line', () => {
    const req = createRequest('MESSAGE', 'sip:bob@b.example', [
      { name: 'Via', value: 'SIP/2.0/TCP a.example;branch=z9hG4bK1' },
      { name: 'Content-Length', value: '999' },
      { name: 'Content-Type', value: 'text/plain' },
    ], 'ça va');
    expect(serializeMessageToString(req)).toBe(
      'MESSAGE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/TCP a.example;branch=z9hG4bK1\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\nça va',
    );
  });

  it('appends Content-Length when the message has none, and keeps binary bodies intact', () => {
    const body = new Uint8Array([0, 255, 13, 10, 13, 10, 1]);
    const res = createResponse(200, 'OK', [{ name: 'CSeq', value: '1 MESSAGE' }], body);
    const bytes = serializeMessage(res);
    expect(new TextDecoder().decode(bytes.subarray(0, bytes.length - 7))).toBe('SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\nContent-Length: 7\r\n\r\n');
    expect(bytes.subarray(bytes.length - 7)).toEqual(body);
    const back = parseMessage(bytes);
    expect(back.body).toEqual(body);
  });

  it('refuses values that would break framing', () => {
    expect(() => serializeMessage(createRequest('OPTIONS', 'sip:a@b', [{ name: 'X', value: 'a\r\nInjected: yes' }]))).toThrow(TypeError);
    expect(() => serializeMessage(createRequest('OPTIONS', 'sip:a@b', [{ name: 'Bad Name', value: 'x' }]))).toThrow(/not a token/);
    expect(() => serializeMessage(createResponse(99, 'Nope'))).toThrow(/100-699/);
    expect(() => serializeMessage(createRequest('OPTIONS', 'sip:a@b x', []))).toThrow(/without whitespace/);
    expect(() => serializeMessage(createResponse(200, 'OK\r\nX: y'))).toThrow(/reason phrase/);
  });
});
