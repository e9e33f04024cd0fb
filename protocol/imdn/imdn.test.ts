import { describe, expect, it } from 'vitest';
import { decodeCpim } from '../cpim/cpim';
import { decodeImdn, encodeImdn, encodeImdnCpim, ImdnError, type Imdn } from './imdn';

const NS = 'urn:ietf:params:xml:ns:imdn';

describe('IMDN documents (RFC 5438 §7)', () => {
  it('parses the RFC style display notification with optional elements', () => {
    const imdn = decodeImdn(
      `<?xml version="1.0" encoding="UTF-8"?>
      <imdn xmlns="${NS}">
        <message-id>34jk324j</message-id>
        <datetime>2008-04-04T12:16:49-00:00</datetime>
        <recipient-uri>im:bob@example.com</recipient-uri>
        <original-recipient-uri>im:bob@example.com</original-recipient-uri>
        <subject>Weekly report</subject>
        <display-notification><status><displayed/></status></display-notification>
      </imdn>`,
    );
    expect(imdn).toEqual({
      messageId: '34jk324j',
      dateTime: '2008-04-04T12:16:49-00:00',
      recipientUri: 'im:bob@example.com',
      originalRecipientUri: 'im:bob@example.com',
      subject: 'Weekly report',
      notification: { kind: 'display', status: 'displayed' },
    });
  });

  it.each<Imdn['notification']>([
    { kind: 'delivery', status: 'delivered' },
    { kind: 'delivery', status: 'failed' },
    { kind: 'display', status: 'displayed' },
    { kind: 'processing', status: 'stored' },
    { kind: 'display', status: 'forbidden' },
  ])('round-trips a %o notification', (notification) => {
    const imdn: Imdn = { messageId: 'a<b&c', dateTime: '2026-11-24T10:00:00Z', notification };
    expect(decodeImdn(new TextEncoder().encode(encodeImdn(imdn)))).toEqual(imdn);
  });

  it('accepts a prefixed namespace', () => {
    const imdn = decodeImdn(`<i:imdn xmlns:i="${NS}"><i:message-id>m1</i:message-id><i:datetime>x</i:datetime><i:delivery-notification><i:status><i:delivered/></i:status></i:delivery-notification></i:imdn>`);
    expect(imdn.notification).toEqual({ kind: 'delivery', status: 'delivered' });
  });

  it('refuses to encode a status that does not belong to the kind', () => {
    expect(() => encodeImdn({ messageId: 'm', dateTime: 'd', notification: { kind: 'display', status: 'delivered' } as unknown as Imdn['notification'] })).toThrow(ImdnError);
  });

  it.each([
    ['the wrong namespace', '<imdn xmlns="urn:other"><message-id>m</message-id><datetime>d</datetime></imdn>', 'not an IMDN'],
    ['no message-id', `<imdn xmlns="${NS}"><datetime>d</datetime><delivery-notification><status><delivered/></status></delivery-notification></imdn>`, 'missing <message-id>'],
    ['no notification', `<imdn xmlns="${NS}"><message-id>m</message-id><datetime>d</datetime></imdn>`, 'no delivery'],
    ['two notifications', `<imdn xmlns="${NS}"><message-id>m</message-id><datetime>d</datetime><delivery-notification><status><delivered/></status></delivery-notification><display-notification><status><displayed/></status></display-notification></imdn>`, 'more than one'],
    ['a status of another kind', `<imdn xmlns="${NS}"><message-id>m</message-id><datetime>d</datetime><delivery-notification><status><displayed/></status></delivery-notification></imdn>`, 'bad status'],
    ['an entity bomb', `<!DOCTYPE imdn [<!ENTITY a "a">]><imdn xmlns="${NS}"/>`, 'not well-formed'],
  ])('rejects a document with %s', (_name, xml, why) => {
    expect(() => decodeImdn(xml)).toThrow(ImdnError);
    expect(() => decodeImdn(xml)).toThrow(why);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => decodeImdn(Uint8Array.of(0x3c, 0xff, 0x3e))).toThrow('not UTF-8');
  });

  it('wraps a notification in CPIM with Content-Disposition notification and its own Message-ID', () => {
    const cpim = decodeCpim(encodeImdnCpim({
      from: { uri: 'sip:bob@b.example' },
      to: { uri: 'sip:alice@a.example' },
      messageId: 'n0tif1',
      dateTime: '2026-11-24T10:00:01Z',
      imdn: { messageId: 'orig1', dateTime: '2026-11-24T10:00:00Z', notification: { kind: 'delivery', status: 'delivered' } },
    }));
    expect(cpim.imdnMessageId).toBe('n0tif1');
    expect(cpim.contentType).toBe('message/imdn+xml;charset=utf-8');
    expect(cpim.contentHeaders).toContainEqual({ name: 'Content-Disposition', value: 'notification' });
    expect(decodeImdn(cpim.body).messageId).toBe('orig1');
  });
});
