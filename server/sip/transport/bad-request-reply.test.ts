import { describe, expect, it } from 'vitest';
import { SipHeaders } from '../message/sip-message';
import { SipParseError } from '../message/parse-error';
import { TransportError } from './transport-error';
import { badRequestReply } from './bad-request-reply';

function understood(method = 'OPTIONS', without?: string): SipHeaders {
  const h = new SipHeaders([
    { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1' },
    { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK2' },
    { name: 'From', value: '<sip:a@example.test>;tag=1' },
    { name: 'To', value: '<sip:b@example.test>' },
    { name: 'Call-ID', value: 'c1@example.test' },
    { name: 'CSeq', value: `1 ${method}` },
  ]);
  if (without) h.remove(without);
  return h;
}

describe('answering a request that could not be parsed', () => {
  it('builds a 400 that copies Via, From, To, Call-ID and CSeq and adds a To tag', () => {
    const error = new SipParseError('bad header', { isRequest: true, method: 'OPTIONS', headers: understood() });
    const reply = badRequestReply(new TransportError('bad-message', 'wrapped', { cause: error }))!;
    expect(reply.status).toBe(400);
    expect(reply.reason).toBe('Bad Request');
    expect(reply.headers.values('Via')).toHaveLength(2);
    expect(reply.headers.get('Call-ID')).toBe('c1@example.test');
    expect(reply.headers.get('To')).toMatch(/^<sip:b@example\.test>;tag=[0-9a-f]{12}$/);
    expect(reply.headers.get('Warning')).toBe('399 - "bad header"');
  });

  it('uses the status the parser asks for (513 for a message too large)', () => {
    const error = new SipParseError('too big', { isRequest: true, method: 'MESSAGE', headers: understood('MESSAGE'), status: 513 });
    expect(badRequestReply(error)?.status).toBe(513);
  });

  it('never answers an ACK, a response, or a request missing a header it must copy', () => {
    expect(badRequestReply(new SipParseError('x', { isRequest: true, method: 'ACK', headers: understood('ACK') }))).toBeUndefined();
    expect(badRequestReply(new SipParseError('x', { isRequest: false, headers: understood() }))).toBeUndefined();
    expect(badRequestReply(new SipParseError('x', { isRequest: true, method: 'OPTIONS', headers: understood('OPTIONS', 'Call-ID') }))).toBeUndefined();
    expect(badRequestReply(new Error('not a parse error'))).toBeUndefined();
  });
});
