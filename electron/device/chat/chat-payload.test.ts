import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../protocol/common/bytes';
import { encodeCpim } from '../../../protocol/cpim/cpim';
import { ChatPayloadError, decodeChatPayload, encodeNotification, encodeTextMessage } from './chat-payload';

const ALICE = { uri: 'sip:alice@a.example', displayName: 'Alice' };
const BOB = { uri: 'sip:bob@b.example' };

describe('chat payloads (CPIM with IMDN, RFC 3862 / RFC 5438)', () => {
  it('a text message carries its Message-ID, DateTime and asks for delivery and display notifications', () => {
    const at = new Date('2026-11-26T10:00:00.000Z');
    const { bytes, messageId, timestamp } = encodeTextMessage({ from: ALICE, to: BOB, text: 'grüß dich\r\nzweite Zeile', at });
    const wire = new TextDecoder().decode(bytes);
    expect(wire).toContain(`imdn.Message-ID: ${messageId}`);
    expect(wire).toContain('imdn.Disposition-Notification: positive-delivery, display');
    expect(wire).toContain('DateTime: 2026-11-26T10:00:00.000Z');
    expect(timestamp).toBe(at.getTime());
    const decoded = decodeChatPayload(bytes);
    expect(decoded).toMatchObject({ kind: 'text', messageId, text: 'grüß dich\r\nzweite Zeile', timestamp, wantsDelivery: true, wantsDisplay: true, from: ALICE });
  });

  it('a display notification names the original message and its DateTime', () => {
    const bytes = encodeNotification({ from: BOB, to: ALICE, messageId: 'orig-123', dateTime: '2026-11-26T10:00:00.000Z', kind: 'display' });
    const decoded = decodeChatPayload(bytes);
    expect(decoded.kind).toBe('imdn');
    if (decoded.kind !== 'imdn') return;
    expect(decoded.imdn).toMatchObject({ messageId: 'orig-123', dateTime: '2026-11-26T10:00:00.000Z', notification: { kind: 'display', status: 'displayed' } });
    const delivery = decodeChatPayload(encodeNotification({ from: BOB, to: ALICE, messageId: 'orig-123', dateTime: '2026-11-26T10:00:00.000Z', kind: 'delivery' }));
    expect(delivery).toMatchObject({ kind: 'imdn', imdn: { notification: { kind: 'delivery', status: 'delivered' } } });
  });

  it('takes the receive time when DateTime is missing, and asks for nothing when no disposition is requested', () => {
    const bytes = encodeCpim({ from: BOB, to: [ALICE], dateTime: '2026-01-01T00:00:00Z', imdn: { messageId: 'm-1' }, contentType: 'text/plain', body: 'hi' });
    const text = new TextDecoder().decode(bytes).replace('DateTime: 2026-01-01T00:00:00Z\r\n', '');
    const decoded = decodeChatPayload(utf8(text), 42);
    expect(decoded).toMatchObject({ kind: 'text', timestamp: 42, wantsDelivery: false, wantsDisplay: false });
  });

  it('refuses what it cannot use, with the reason', () => {
    expect(() => decodeChatPayload(utf8('no headers at all'))).toThrow(ChatPayloadError);
    const noId = encodeCpim({ from: BOB, to: [ALICE], dateTime: new Date(), contentType: 'text/plain', body: 'hi' });
    expect(() => decodeChatPayload(noId)).toThrow('text message without imdn.Message-ID');
    const html = encodeCpim({ from: BOB, to: [ALICE], dateTime: new Date(), imdn: { messageId: 'm-2' }, contentType: 'text/html', body: '<b>x</b>' });
    expect(() => decodeChatPayload(html)).toThrow('unsupported content type text/html');
    const badImdn = encodeCpim({ from: BOB, to: [ALICE], dateTime: new Date(), imdn: { messageId: 'm-3' }, contentType: 'message/imdn+xml', body: '<nope/>' });
    expect(() => decodeChatPayload(badImdn)).toThrow(/^bad IMDN: /);
    const latin1 = encodeCpim({ from: BOB, to: [ALICE], dateTime: new Date(), imdn: { messageId: 'm-4' }, contentType: 'text/plain', body: new Uint8Array([0xff, 0xfe]) });
    expect(() => decodeChatPayload(latin1)).toThrow('text message is not UTF-8');
  });
});
