import { describe, expect, it } from 'vitest';
import { msrpPeerConnectionFactory, parseAssertedIdentity } from './cpm-invite-session';
import { MsrpPeerConnection } from './msrp-peer-connection';

describe('parseAssertedIdentity (RFC 3325 §9.1)', () => {
  it.each([
    ['<sip:alice@a.example>', { uri: 'sip:alice@a.example', displayName: '' }],
    ['"Alice \\"A\\" Smith" <sip:alice@a.example;user=phone>', { uri: 'sip:alice@a.example', displayName: 'Alice "A" Smith' }],
    ['Alice <sips:alice@a.example>', { uri: 'sips:alice@a.example', displayName: 'Alice' }],
    ['<tel:+4930123>, <sip:alice@a.example>', { uri: 'tel:+4930123', displayName: '' }],
    ['sip:bob@b.example;tag=1', { uri: 'sip:bob@b.example', displayName: '' }],
  ])('%s', (value, expected) => {
    expect(parseAssertedIdentity(value)).toEqual(expected);
  });

  it.each(['', '<http://example.com>', '"unterminated <sip:a@b>', '<mailto:a@b>'])('finds no identity in %j', (value) => {
    expect(parseAssertedIdentity(value)).toBeNull();
  });
});

describe('msrpPeerConnectionFactory', () => {
  it('builds the MsrpPeerConnection whose options travel in pcConfig', () => {
    const options = { localEndpoint: () => ({ path: [], acceptTypes: [], acceptWrappedTypes: [] }), onNegotiated: () => undefined };
    expect(msrpPeerConnectionFactory({ iceServers: [], cpmMsrp: options })).toBeInstanceOf(MsrpPeerConnection);
  });

  it('refuses a session that was not started through cpm-invite-session', () => {
    expect(() => msrpPeerConnectionFactory({ iceServers: [] })).toThrow('msrpPeerConnectionFactory: this session was not started through cpm-invite-session');
    expect(() => msrpPeerConnectionFactory(undefined)).toThrow(/not started through/);
  });
});
