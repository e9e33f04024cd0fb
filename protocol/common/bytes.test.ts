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

  it('finds a needle in a long haystack (the native search) exactly where a naive search does, up to the bound', () => {
    const naive = (h: Uint8Array, n: Uint8Array, from: number, to: number): number => {
      for (let i = from; i + n.length <= to; i++) if (n.every((b, j) => h[i + j] === b)) return i;
      return -1;
    };
    const hay = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5 === 0 ? 0x2d : 0x61 + ((i * 31) % 3)); // '-', 'a'..'c'
    const needles = [utf8('--'), utf8('-a-'), utf8('abcab'), utf8('-------tid1'), hay.slice(4990, 5000), hay.slice(1234, 1300)];
    for (const needle of needles) {
      for (const [from, to] of [[0, 5000], [7, 4999], [1000, 4000], [0, 1300]] as const) {
        expect(indexOfBytes(hay, needle, from, to)).toBe(naive(hay, needle, from, to));
      }
    }
    expect(indexOfBytes(hay, hay.slice(4990, 5000))).toBe(naive(hay, hay.slice(4990, 5000), 0, 5000));
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
