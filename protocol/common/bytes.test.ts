import { describe, expect, it } from 'vitest';
import { ascii, bytesEqual, concatBytes, indexOfBytes, latin1, utf8 } from './bytes';
import { randomAlphanumeric, randomUuid } from './random';

describe('byte helpers', () => {
  it('finds a needle at the start, middle, end, or not at all, within bounds', () => {
    const hay = utf8('ab\r\n---x\r\n---y');
    expect(indexOfBytes(hay, utf8('---y'))).toBe(10);
    expect(indexOfBytes(hay, utf8('ab'))).toBe(0);
    expect(indexOfBytes(hay, utf8('---z'))).toBe(-1);
    expect(indexOfBytes(hay, utf8('---y'), 0, 13)).toBe(-1);
    expect(indexOfBytes(hay, utf8('\r\n'), 3)).toBe(8);
  });

  it('converts Latin-1 both ways and refuses wide characters', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(ascii(latin1(all))).toEqual(all);
    expect(() => ascii('€')).toThrow(RangeError);
  });

  it('concatenates and compares', () => {
    expect(bytesEqual(concatBytes([utf8('ab'), new Uint8Array(0), utf8('c')]), utf8('abc'))).toBe(true);
    expect(bytesEqual(utf8('ab'), utf8('ac'))).toBe(false);
  });
});

describe('random identifiers', () => {
  it('gives alphanumeric tokens long enough for the entropy asked', () => {
    const t = randomAlphanumeric(80);
    expect(t).toMatch(/^[A-Za-z0-9]{14}$/); // ceil(80 / log2(62)) = 14
    expect(new Set(Array.from({ length: 500 }, () => randomAlphanumeric(64))).size).toBe(500);
    expect(randomUuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
