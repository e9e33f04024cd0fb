import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, StoreInputError, validateBatch, validateDateTime, validateDeliveryUpdates, validateMessage } from './store-validation';
import { message } from './testing/store-fixtures';

describe('validateMessage', () => {
  it('returns a clean copy with the default delivery state and without unknown fields', () => {
    const input = { ...message(), extra: 'dropped' };
    expect(validateMessage(input, 0)).toEqual({ ...message(), delivery: 'none' });
  });

  it.each([
    ['a non-object', 'hello', /must be an object/],
    ['a number as body', { ...message(), body: 5 }, /body must be a string/],
    ['a conversation id with a slash', message({ conversationId: 'a/b' }), /conversationId is malformed/],
    ['a conversation id with a space', message({ conversationId: 'a b' }), /conversationId is malformed/],
    ['an over-long message id', message({ messageId: 'x'.repeat(129) }), /messageId is malformed/],
    ['an empty message id', message({ messageId: '' }), /messageId is malformed/],
    ['an http sender', message({ sender: 'http://evil' }), /sender is malformed/],
    ['a recipient with a newline', message({ recipient: 'sip:bob@b.example\r\nX: y' }), /recipient is malformed/],
    ['an unknown direction', { ...message(), direction: 'sideways' }, /direction/],
    ['a date without zone', message({ dateTime: '2026-11-26T20:00:00' }), /RFC 3339/],
    ['a content type without subtype', message({ contentType: 'text' }), /contentType is malformed/],
    ['an oversize body', message({ body: 'é'.repeat(MAX_BODY_BYTES / 2 + 1) }), /exceeds/],
    ['a lone surrogate', message({ body: 'a\uD800b' }), /well-formed/],
    ['an unknown delivery state', { ...message(), delivery: 'read' }, /delivery/],
  ])('refuses %s', (_name, input, reason) => {
    expect(() => validateMessage(input, 3)).toThrow(reason);
  });

  it('names the offending message in the reason', () => {
    expect(() => validateBatch([message(), message({ sender: 'x' })])).toThrow('messages[1].sender is malformed');
  });
});

describe('validateDateTime', () => {
  it.each(['2026-11-26T20:00:00Z', '2026-11-26t20:00:00.123456z', '2024-02-29T23:59:60+14:00', '2026-01-01T00:00:00-05:30'])('accepts %s', (v) => {
    expect(validateDateTime(v, 'd')).toBe(v);
  });

  it.each(['2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-31T00:00:00Z', '2026-11-26T24:00:00Z', '2026-11-26 20:00:00Z', '26-11-26T20:00:00Z'])('refuses %s', (v) => {
    expect(() => validateDateTime(v, 'd')).toThrow(StoreInputError);
  });
});

describe('validateDeliveryUpdates', () => {
  it('accepts IMDN outcomes and refuses anything else', () => {
    expect(validateDeliveryUpdates([{ conversationId: 'c', messageId: 'm', state: 'displayed', at: '2026-11-26T20:00:00Z' }])).toHaveLength(1);
    expect(() => validateDeliveryUpdates([{ conversationId: 'c', messageId: 'm', state: 'none' }])).toThrow(/state/);
    expect(() => validateDeliveryUpdates({})).toThrow(/array/);
    expect(() => validateDeliveryUpdates([])).toThrow(/empty/);
  });
});
