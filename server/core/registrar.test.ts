import { describe, expect, it } from 'vitest';
import { DigestResponder, parseDigestChallenges } from '../auth/digest';
import { parseContactList } from '../sip/message/name-addr';
import { getParamText } from '../sip/message/header-params';
import { parseMessageText } from '../sip/message/parse';
import type { SipRequest, SipResponse } from '../sip/message/sip-message';
import type { ReceivedMessage } from '../sip/transport/transport-types';
import { LocationService } from './location-service';
import { Registrar } from './registrar';

const users = new Map([['alice', { user: 'alice', password: 'alice-secret' }], ['bob', { user: 'bob', password: 'bob-secret' }]]);
let clock = 1_000_000;

function setup(algorithms?: ('MD5' | 'SHA-256')[]) {
  const location = new LocationService({ domain: 'a.example', now: () => clock });
  const registrar = new Registrar({ domain: 'a.example', users: (u) => users.get(u), location, newTag: () => 'srv', now: () => clock, ...(algorithms ? { algorithms } : {}) });
  return { location, registrar };
}

function register(opts: { user?: string; cseq?: number; contact?: string; expires?: string; callId?: string; extra?: string } = {}): SipRequest {
  const user = opts.user ?? 'alice';
  const text =
    `REGISTER sip:a.example SIP/2.0\r\n` +
    `Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:${user}@a.example>;tag=f1\r\nTo: <sip:${user}@a.example>\r\n` +
    `Call-ID: ${opts.callId ?? 'reg-1'}\r\nCSeq: ${opts.cseq ?? 1} REGISTER\r\n` +
    `Contact: ${opts.contact ?? '<sip:k3@abc.invalid;transport=ws>;+sip.instance="<urn:uuid:aaaa-1>";reg-id=1;+cpm.device-name="Laptop";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"'}\r\n` +
    (opts.expires ? `Expires: ${opts.expires}\r\n` : '') +
    `Supported: gruu, outbound\r\n${opts.extra ?? ''}Content-Length: 0\r\n\r\n`;
  return parseMessageText(text) as SipRequest;
}

const received = (message: SipRequest, flowId = 'flow-1'): ReceivedMessage => ({
  message,
  raw: new Uint8Array(),
  source: { protocol: 'ws', host: '127.0.0.1', port: 50000 },
  local: { protocol: 'ws', host: '127.0.0.1', port: 5066 },
  flowId,
});

/** Answer the registrar's challenge the way a device does. */
function withCredentials(registrar: Registrar, req: SipRequest, password = 'alice-secret', user = 'alice'): SipRequest {
  const challenge = registrar.register(req, received(req)).response;
  expect(challenge.status).toBe(401);
  const [c] = parseDigestChallenges(challenge.headers.getAll('WWW-Authenticate'));
  const responder = new DigestResponder(c!, user, password);
  req.headers.set('Authorization', responder.authorize('REGISTER', req.uri));
  return req;
}

function contactsOf(response: SipResponse) {
  return response.headers.getAll('Contact').flatMap((c) => {
    const list = parseContactList(c);
    return list === '*' ? [] : list;
  });
}

describe('Alice registers her Laptop with the a.example registrar', () => {
  it('is challenged first, then gets a 200 that lists her contact with pub-gruu and temp-gruu (RFC 5627 §7.1.2.1)', () => {
    const { registrar, location } = setup();
    const req = withCredentials(registrar, register());
    const result = registrar.register(req, received(req));
    expect(result.response.status).toBe(200);
    const [contact] = contactsOf(result.response);
    expect(getParamText(contact!.params, 'pub-gruu')).toBe('sip:alice@a.example;gr=urn:uuid:aaaa-1');
    expect(getParamText(contact!.params, 'temp-gruu')).toMatch(/^sip:tgruu\.[0-9a-f]+@a\.example;gr$/);
    expect(getParamText(contact!.params, '+cpm.device-name')).toBe('Laptop');
    const [binding] = location.bindings('sip:alice@a.example');
    expect(binding).toMatchObject({ instance: 'urn:uuid:aaaa-1', regId: 1, deviceName: 'Laptop', flowId: 'flow-1' });
    expect(location.byGruuUri('sip:alice@a.example;gr=urn:uuid:aaaa-1')).toBe(binding);
    expect(location.byGruuUri(getParamText(contact!.params, 'temp-gruu') ?? '')).toBe(binding);
  });

  it('the 200 lists the contact with its parameters as sent, its remaining time, and the Date of the registrar clock (§10.3 step 8)', () => {
    const { registrar } = setup();
    const req = withCredentials(registrar, register({ expires: '600' }));
    const ok = registrar.register(req, received(req)).response;
    expect(ok.headers.get('Date')).toBe(new Date(Math.floor(clock / 1000) * 1000).toUTCString());
    const [contact] = contactsOf(ok);
    expect(contact!.params.map((p) => p.name)).toEqual(['+sip.instance', 'reg-id', '+cpm.device-name', '+g.3gpp.icsi-ref', 'expires', 'pub-gruu', 'temp-gruu']);
    expect(getParamText(contact!.params, 'expires')).toBe('600');
    clock += 1500;
    const later = withCredentials(registrar, register({ cseq: 2, expires: '600' }));
    const refreshed = registrar.register(later, received(later)).response;
    expect(refreshed.headers.get('Date')).toBe(new Date(Math.floor(clock / 1000) * 1000).toUTCString());
  });

  it('a wrong password gets no registration, only another 401', () => {
    const { registrar, location } = setup();
    const req = withCredentials(registrar, register(), 'guess');
    expect(registrar.register(req, received(req)).response.status).toBe(401);
    expect(location.size()).toBe(0);
  });

  it('bob cannot register alice’s address with his own credentials (403)', () => {
    const { registrar, location } = setup();
    const req = withCredentials(registrar, register(), 'bob-secret', 'bob');
    expect(registrar.register(req, received(req)).response.status).toBe(403);
    expect(location.size()).toBe(0);
  });

  it('a refresh keeps one binding per instance and reg-id; un-REGISTER removes it and its GRUUs', () => {
    const { registrar, location } = setup();
    const first = withCredentials(registrar, register());
    registrar.register(first, received(first));
    const refresh = withCredentials(registrar, register({ cseq: 3 }));
    registrar.register(refresh, received(refresh));
    expect(location.size()).toBe(1);
    const bye = withCredentials(registrar, register({ cseq: 5, expires: '0' }));
    const r = registrar.register(bye, received(bye));
    expect(r.response.status).toBe(200);
    expect(location.size()).toBe(0);
    expect(location.byGruuUri('sip:alice@a.example;gr=urn:uuid:aaaa-1')).toBeUndefined();
  });

  it('an out-of-order REGISTER on the same Call-ID is refused and changes nothing (§10.3 step 7)', () => {
    const { registrar, location } = setup();
    const a = withCredentials(registrar, register({ cseq: 10 }));
    registrar.register(a, received(a));
    const stale = withCredentials(registrar, register({ cseq: 9, expires: '0' }));
    expect(registrar.register(stale, received(stale)).response.status).toBe(500);
    expect(location.size()).toBe(1);
  });

  it('too short an expiry gets 423 with Min-Expires; a reg-id without instance gets 400', () => {
    const { registrar } = setup();
    const short = withCredentials(registrar, register({ expires: '5' }));
    const r = registrar.register(short, received(short)).response;
    expect(r.status).toBe(423);
    expect(r.headers.get('Min-Expires')).toBe('60');
    const noInstance = withCredentials(registrar, register({ contact: '<sip:k@abc.invalid;transport=ws>;reg-id=1' }));
    expect(registrar.register(noInstance, received(noInstance)).response.status).toBe(400);
  });

  it('a wildcard Contact with Expires: 0 removes every binding; with another expiry it is a 400', () => {
    const { registrar, location } = setup();
    const a = withCredentials(registrar, register());
    registrar.register(a, received(a));
    const bad = withCredentials(registrar, register({ contact: '*', expires: '60', callId: 'other' }));
    expect(registrar.register(bad, received(bad)).response.status).toBe(400);
    const all = withCredentials(registrar, register({ contact: '*', expires: '0', callId: 'other' }));
    expect(registrar.register(all, received(all)).response.status).toBe(200);
    expect(location.size()).toBe(0);
  });

  it('a binding disappears when its flow closes (RFC 5626 §5.2) and when it expires', () => {
    const { registrar, location } = setup();
    const a = withCredentials(registrar, register({ expires: '60' }));
    registrar.register(a, received(a, 'flow-9'));
    expect(location.removeFlow('flow-9')).toBe(1);
    const b = withCredentials(registrar, register({ expires: '60', cseq: 4 }));
    registrar.register(b, received(b));
    clock += 61_000;
    expect(location.bindings('sip:alice@a.example')).toEqual([]);
  });

  it('offers SHA-256 first when configured (RFC 8760), and a SHA-256 answer registers', () => {
    const { registrar, location } = setup(['SHA-256', 'MD5']);
    const req = register();
    const challenge = registrar.register(req, received(req)).response;
    const challenges = parseDigestChallenges(challenge.headers.getAll('WWW-Authenticate'));
    expect(challenges.map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    req.headers.set('Authorization', new DigestResponder(challenges[0]!, 'alice', 'alice-secret').authorize('REGISTER', req.uri));
    expect(registrar.register(req, received(req)).response.status).toBe(200);
    expect(location.size()).toBe(1);
  });
});
