import { describe, expect, it } from 'vitest';
import { createRequest } from '../sip/message/sip-message';
import { fromTagOrNone, toTagOrNone } from './dialog-tags';

function requestWith(from: string, to: string) {
  return createRequest('INVITE', 'sip:bob@example.test', [
    { name: 'From', value: from },
    { name: 'To', value: to },
  ]);
}

describe('dialog tags read by the Conversation Server', () => {
  it('reads the From and To tags of a request inside a dialog', () => {
    const request = requestWith('<sip:alice@example.test>;tag=a1', 'Bob <sip:bob@example.test>;TAG=b2');
    expect(fromTagOrNone(request)).toBe('a1');
    expect(toTagOrNone(request)).toBe('b2');
  });

  it('reads no To tag on an initial request', () => {
    expect(toTagOrNone(requestWith('<sip:alice@example.test>;tag=a1', '<sip:bob@example.test>'))).toBeUndefined();
  });

  it('reads an unparsable From or To as having no tag instead of throwing', () => {
    const request = requestWith('<sip:alice@example.test;tag=a1', '"unterminated <sip:bob@example.test>;tag=b2');
    expect(fromTagOrNone(request)).toBeUndefined();
    expect(toTagOrNone(request)).toBeUndefined();
  });
});
