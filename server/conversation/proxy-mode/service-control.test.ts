import { describe, expect, it } from 'vitest';
import { createRequest, type SipHeader, type SipRequest } from '../../sip/message/sip-message';
import type { SipUri } from '../../sip/message/sip-uri';
import { checkCpmInvite, asksForCpmSession, serviceRoleOf } from './service-control';

const ICSI_TAG = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';
const CS = '127.0.0.1:5071';

/** A CPM-session INVITE as CS A sees it after popping its own Route (the core's odi Route remains). */
function invite(overrides: Record<string, string | null> = {}): SipRequest {
  const headers: Record<string, string | null> = {
    Via: 'SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKcore1',
    Route: '<sip:127.0.0.1:5061;transport=tls;lr;odi=0123abcd>',
    From: '<sip:alice@a.example>;tag=a1',
    To: '<sip:bob@b.example>',
    'Call-ID': 'c1@a.example',
    CSeq: '1 INVITE',
    Contact: '<sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000001>',
    'P-Asserted-Identity': '<sip:alice@a.example>',
    'Accept-Contact': `*;${ICSI_TAG}`,
    'Conversation-ID': 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    'Contribution-ID': 'abcdef-1',
    ...overrides,
  };
  const list: SipHeader[] = [];
  for (const [name, value] of Object.entries(headers)) if (value !== null) list.push({ name, value });
  return createRequest('INVITE', 'sip:bob@b.example', list);
}

const isOwn = (uri: SipUri): boolean => `${uri.host}:${uri.port ?? 5060}` === CS;

describe('the role the core gave a CPM-session INVITE', () => {
  it('is read from the orig or term parameter of our own Route entry', () => {
    const orig = invite({ Route: `<sip:${CS};transport=tls;lr;orig>, <sip:127.0.0.1:5061;transport=tls;lr;odi=1>` });
    const term = invite({ Route: `<sip:${CS};transport=tls;lr;term>, <sip:127.0.0.1:5061;transport=tls;lr;odi=1>` });
    expect(serviceRoleOf(orig, isOwn)).toBe('orig');
    expect(serviceRoleOf(term, isOwn)).toBe('term');
  });

  it('is not taken from someone else’s Route, nor found when our entry has none', () => {
    expect(serviceRoleOf(invite({ Route: '<sip:127.0.0.1:5061;transport=tls;lr;orig>' }), isOwn)).toBeUndefined();
    expect(serviceRoleOf(invite({ Route: `<sip:${CS};transport=tls;lr>` }), isOwn)).toBeUndefined();
    expect(serviceRoleOf(invite({ Route: '<not a uri' }), isOwn)).toBeUndefined();
  });
});

describe('the CPM feature tag in Accept-Contact', () => {
  it('is found alone or in a list of ICSIs, and not when another service is asked for', () => {
    expect(asksForCpmSession(invite())).toBe(true);
    expect(asksForCpmSession(invite({ 'Accept-Contact': '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session";explicit' }))).toBe(true);
    expect(asksForCpmSession(invite({ 'Accept-Contact': '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"' }))).toBe(false);
    expect(asksForCpmSession(invite({ 'Accept-Contact': null }))).toBe(false);
  });
});

describe('originating and terminating service control', () => {
  it('accepts Alice’s own INVITE and reports what the session table needs', () => {
    expect(checkCpmInvite(invite(), 'orig', 'a.example')).toEqual({
      ok: true,
      info: {
        role: 'orig',
        conversationId: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
        contributionId: 'abcdef-1',
        assertedIdentity: 'sip:alice@a.example',
      },
    });
  });

  it.each([
    [{ 'Accept-Contact': null }, 400, 'Bad Request: Accept-Contact lacks the CPM session feature tag'],
    [{ 'Conversation-ID': null }, 400, 'Bad Request: missing Conversation-ID'],
    [{ 'Conversation-ID': 'two words' }, 400, 'Bad Request: malformed Conversation-ID'],
    [{ 'Contribution-ID': null }, 400, 'Bad Request: missing Contribution-ID'],
    [{ 'Contribution-ID': 'x'.repeat(129) }, 400, 'Bad Request: malformed Contribution-ID'],
    [{ Route: null }, 403, 'Forbidden: no route back to the core'],
    [{ 'P-Asserted-Identity': null }, 403, 'Forbidden: no P-Asserted-Identity'],
    [{ 'P-Asserted-Identity': '<sip:carol@a.example>' }, 403, 'Forbidden: P-Asserted-Identity is not the From user'],
    [{ 'P-Asserted-Identity': '<sip:bob@b.example>', From: '<sip:bob@b.example>;tag=b1' }, 403, 'Forbidden: originator is not a user of a.example'],
  ])('refuses an originating INVITE with %o: %i %s', (overrides, status, reason) => {
    expect(checkCpmInvite(invite(overrides), 'orig', 'a.example')).toEqual({ ok: false, rejection: { status, reason } });
  });

  it('refuses an INVITE the core did not route for service control', () => {
    expect(checkCpmInvite(invite(), undefined, 'a.example')).toEqual({
      ok: false,
      rejection: { status: 403, reason: 'Forbidden: not routed by the core for service control' },
    });
  });

  it('on the terminating side, accepts a caller of another domain, as asserted by the peer core', () => {
    const result = checkCpmInvite(invite(), 'term', 'b.example');
    expect(result).toMatchObject({ ok: true, info: { role: 'term', assertedIdentity: 'sip:alice@a.example' } });
  });

  it('refuses a repeated Conversation-ID as malformed', () => {
    const request = invite();
    request.headers.append('Conversation-ID', 'another-one');
    expect(checkCpmInvite(request, 'orig', 'a.example')).toEqual({ ok: false, rejection: { status: 400, reason: 'Bad Request: malformed Conversation-ID' } });
  });
});
