import { describe, expect, it } from 'vitest';
import { parseCSeq, serializeCSeq } from './cseq';

describe('parseCSeq', () => {
  it('reads the number and method, leading zeros and folded whitespace included', () => {
    expect(parseCSeq('0009 INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq(' 4294967295   REGISTER ')).toEqual({ seq: 4294967295, method: 'REGISTER' });
  });

  it.each([
    ['36893488147419103232 REGISTER', /larger than 2\*\*32-1/],
    ['4294967296 INVITE', /larger than 2\*\*32-1/],
    ['INVITE', /sequence number/],
    ['12INVITE', /whitespace/],
    ['12 INV ITE', /invalid CSeq method/],
  ])('rejects %j', (text, message) => {
    expect(() => parseCSeq(text)).toThrow(message);
  });

  it('serializes', () => {
    expect(serializeCSeq({ seq: 7, method: 'BYE' })).toBe('7 BYE');
  });
});
