import { describe, expect, it } from 'vitest';
import { buildResponse } from './response-builder';
import { sampleRequest } from './sample-messages';

describe('buildResponse (§8.2.6)', () => {
  it('copies Vias in order, From, To, Call-ID, CSeq, and adds the To tag to non-100 responses', () => {
    const request = sampleRequest('INVITE');
    request.headers.append('Via', 'SIP/2.0/TCP 192.0.2.50;branch=z9hG4bK-2');
    request.headers.append('Timestamp', '54');
    request.headers.append('Record-Route', '<sip:p.example.com;lr>');
    const trying = buildResponse(request, 100, { toTag: 'x' });
    expect(trying.headers.get('To')).toBe('<sip:bob@example.com>');
    expect(trying.headers.get('Timestamp')).toBe('54');
    expect(trying.headers.has('Record-Route')).toBe(false);
    const ok = buildResponse(request, 200, { toTag: 'x', headers: [{ name: 'Contact', value: '<sip:b@192.0.2.9>' }] });
    expect(ok.reason).toBe('OK');
    expect(ok.headers.getAll('Via')).toEqual(request.headers.getAll('Via'));
    expect(ok.headers.get('To')).toBe('<sip:bob@example.com>;tag=x');
    expect(ok.headers.getAll('Record-Route')).toEqual(['<sip:p.example.com;lr>']);
    expect(ok.headers.get('Contact')).toBe('<sip:b@192.0.2.9>');
  });

  it('keeps an existing To tag and refuses a status outside 100–699', () => {
    const request = sampleRequest('BYE', { toTag: 'kept' });
    expect(buildResponse(request, 200, { toTag: 'new' }).headers.get('To')).toBe('<sip:bob@example.com>;tag=kept');
    expect(() => buildResponse(request, 700)).toThrow('100–699');
  });

  it('copies a To it cannot parse as it is, without a tag (a 400 may still answer it)', () => {
    const request = sampleRequest('OPTIONS');
    request.headers.set('To', '<sip:bob@example.com');
    expect(buildResponse(request, 400, { toTag: 'x' }).headers.get('To')).toBe('<sip:bob@example.com');
    expect(buildResponse(sampleRequest('OPTIONS'), 400, { toTag: 'x' }).headers.get('To')).toBe('<sip:bob@example.com>;tag=x');
  });
});
