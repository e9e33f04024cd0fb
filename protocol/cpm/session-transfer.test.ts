import { describe, expect, it } from 'vitest';
import { encodeSessionTransfer, parseSessionTransfer, SessionTransferError, type SessionTransfer } from './session-transfer';

const good: SessionTransfer = {
  version: 1,
  conversationId: '6f1c9a2e-0d4b-4c1e-9b7a-2f3e4d5c6b7a',
  peer: { uri: 'sip:bob@b.example', displayName: 'Bob' },
  sourceDeviceName: 'Laptop',
  historyCursor: 'msg-000123',
};

describe('session transfer body (application/vnd.cpm.session-transfer+json)', () => {
  it('round-trips a full body and a minimal one', () => {
    expect(parseSessionTransfer(encodeSessionTransfer(good))).toEqual(good);
    const minimal: SessionTransfer = { version: 1, conversationId: 'c1', peer: { uri: 'sip:b@x' }, sourceDeviceName: 'Phone' };
    expect(parseSessionTransfer(new TextEncoder().encode(encodeSessionTransfer(minimal)))).toEqual(minimal);
  });

  it('drops unknown fields', () => {
    expect(parseSessionTransfer(JSON.stringify({ ...good, extra: { deep: true } }))).toEqual(good);
  });

  it.each<[string, unknown, string]>([
    ['not an object', [1, 2], 'body'],
    ['a wrong version', { ...good, version: 2 }, 'version'],
    ['a missing conversation id', { ...good, conversationId: undefined }, 'conversationId'],
    ['a conversation id with spaces', { ...good, conversationId: 'a b' }, 'conversationId'],
    ['a peer that is a string', { ...good, peer: 'sip:bob@b.example' }, 'peer'],
    ['a peer URI of another scheme', { ...good, peer: { uri: 'javascript:alert(1)' } }, 'peer.uri'],
    ['an empty device name', { ...good, sourceDeviceName: ' ' }, 'sourceDeviceName'],
    ['a device name with a newline', { ...good, sourceDeviceName: 'a\nb' }, 'sourceDeviceName'],
    ['a numeric history cursor', { ...good, historyCursor: 5 }, 'historyCursor'],
    ['a huge display name', { ...good, peer: { uri: 'sip:b@x', displayName: 'x'.repeat(300) } }, 'peer.displayName'],
  ])('rejects a body with %s, naming the field', (_name, body, field) => {
    const attempt = (): SessionTransfer => parseSessionTransfer(JSON.stringify(body));
    expect(attempt).toThrow(SessionTransferError);
    try {
      attempt();
    } catch (e) {
      expect((e as SessionTransferError).field).toBe(field);
    }
  });

  it('rejects bytes that are not JSON, not UTF-8, or too large', () => {
    expect(() => parseSessionTransfer('{')).toThrow('not JSON');
    expect(() => parseSessionTransfer(Uint8Array.of(0x7b, 0xff, 0x7d))).toThrow('not UTF-8');
    expect(() => parseSessionTransfer(`{"a":"${'x'.repeat(9000)}"}`)).toThrow('larger than');
  });

  it('refuses to encode an invalid body', () => {
    expect(() => encodeSessionTransfer({ ...good, sourceDeviceName: '' })).toThrow(SessionTransferError);
  });
});
