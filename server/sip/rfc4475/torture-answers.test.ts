import { describe, expect, it } from 'vitest';
import { createRequest, createResponse, type SipRequest } from '../message/sip-message';
import { ackForFinal, echoProblems, tryParseMessage } from './torture-answers';

const invite = (): SipRequest => createRequest('INVITE', 'sip:bob@example.com', [
  { name: 'Via', value: 'SIP/2.0/TLS client.invalid;branch=z9hG4bK1' },
  { name: 'From', value: '<sip:alice@example.com>;tag=a' },
  { name: 'To', value: '<sip:bob@example.com>' },
  { name: 'Call-ID', value: 'c1' },
  { name: 'CSeq', value: '4 INVITE' },
]);

const answer = (status: number, to = '<sip:bob@example.com>;tag=b', cseq = '4 INVITE') => createResponse(status, 'X', [
  { name: 'Via', value: 'SIP/2.0/TLS client.invalid;branch=z9hG4bK1' },
  { name: 'From', value: '<sip:alice@example.com>;tag=a' },
  { name: 'To', value: to },
  { name: 'Call-ID', value: 'c1' },
  { name: 'CSeq', value: cseq },
]);

describe('what an answer must copy from its request', () => {
  it('accepts a final response that echoes From, Call-ID and CSeq and tags To', () => {
    expect(echoProblems(invite(), answer(486))).toEqual([]);
  });

  it('names a changed CSeq and a To left without a tag', () => {
    expect(echoProblems(invite(), answer(486, '<sip:bob@example.com>', '5 INVITE'))).toEqual([
      'CSeq not echoed: sent "4 INVITE", got ["5 INVITE"]',
      'To without a tag: "<sip:bob@example.com>"',
    ]);
  });

  it('has nothing to say when the request did not parse', () => {
    expect(tryParseMessage(new TextEncoder().encode('not sip'))).toBeUndefined();
    expect(echoProblems(undefined, answer(400))).toEqual([]);
  });
});

describe('the ACK that ends a failed INVITE', () => {
  it('takes the INVITE’s Via, From, Call-ID and CSeq number, and the response’s To', () => {
    const ack = ackForFinal(invite(), answer(486));
    expect(ack?.method).toBe('ACK');
    expect(ack?.uri).toBe('sip:bob@example.com');
    expect(ack?.headers.get('To')).toBe('<sip:bob@example.com>;tag=b');
    expect(ack?.headers.get('CSeq')).toBe('4 ACK');
    expect(ack?.headers.get('Via')).toBe('SIP/2.0/TLS client.invalid;branch=z9hG4bK1');
  });

  it('is not made for a 2xx (a new transaction, §13.2.2.4) nor for another method', () => {
    expect(ackForFinal(invite(), answer(200))).toBeUndefined();
    const options = invite();
    options.method = 'OPTIONS';
    expect(ackForFinal(options, answer(486))).toBeUndefined();
  });
});
