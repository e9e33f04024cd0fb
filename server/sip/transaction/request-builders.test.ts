import { describe, expect, it } from 'vitest';
import { buildCancel, buildNon2xxAck } from './request-builders';
import { buildResponse } from './response-builder';
import { sampleRequest } from './sample-messages';

describe('derived requests', () => {
  it('builds a CANCEL with the request\'s top Via only, its Route, and CSeq method CANCEL (§9.1)', () => {
    const invite = sampleRequest('INVITE', { cseq: 4 });
    invite.headers.append('Via', 'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK-lower');
    invite.headers.append('Route', '<sip:p1.example.com;lr>');
    const cancel = buildCancel(invite);
    expect(cancel.uri).toBe(invite.uri);
    expect(cancel.headers.values('Via')).toEqual(['SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-test-1']);
    expect(cancel.headers.get('CSeq')).toBe('4 CANCEL');
    expect(cancel.headers.get('To')).toBe(invite.headers.get('To'));
    expect(cancel.headers.getAll('Route')).toEqual(['<sip:p1.example.com;lr>']);
  });

  it('builds the ACK for a non-2xx with the response\'s To (its tag) (§17.1.1.3)', () => {
    const invite = sampleRequest('INVITE', { cseq: 4 });
    const ack = buildNon2xxAck(invite, buildResponse(invite, 486, { toTag: 'busy' }));
    expect(ack.headers.get('To')).toBe('<sip:bob@example.com>;tag=busy');
    expect(ack.headers.get('CSeq')).toBe('4 ACK');
  });

  it('explains what is missing', () => {
    const invite = sampleRequest('INVITE');
    invite.headers.remove('Call-ID');
    expect(() => buildCancel(invite)).toThrow('request has no Call-ID');
  });
});
