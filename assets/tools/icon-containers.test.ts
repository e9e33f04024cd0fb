import { describe, expect, it } from 'vitest';
import { ICNS_TYPES, readIcns, writeIcns } from './icns-writer';
import { readIco, writeIco } from './ico-writer';
import { readPngInfo } from './png-info';

/** The start of a PNG: signature and an IHDR for `size`×`size` RGBA (CRC not checked here). */
function pngHeader(size: number, height = size): Uint8Array {
  const bytes = new Uint8Array(33 + (size % 7));
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12);
  view.setUint32(16, size);
  view.setUint32(20, height);
  bytes[24] = 8;
  bytes[25] = 6;
  return bytes;
}

describe('PNG header', () => {
  it('reads the size and refuses what is not a PNG', () => {
    expect(readPngInfo(pngHeader(48))).toEqual({ width: 48, height: 48, bitDepth: 8, colourType: 6 });
    expect(() => readPngInfo(new TextEncoder().encode('GIF89a and then some more bytes to be long enough'))).toThrow('not a PNG: bad signature');
    expect(() => readPngInfo(new Uint8Array(4))).toThrow(/shorter than/);
  });
});

describe('.ico writer', () => {
  it('writes a directory of PNG entries, smallest first, with 256 stored as 0 and offsets that point at each PNG', () => {
    const images = [256, 16, 32].map((size) => ({ png: pngHeader(size) }));
    const ico = writeIco(images);
    expect([...ico.subarray(0, 6)]).toEqual([0, 0, 1, 0, 3, 0]);
    expect(ico[6 + 16 * 2]).toBe(0); // the 256 px entry's width byte
    const entries = readIco(ico);
    expect(entries.map((e) => [e.width, e.height, e.bitCount])).toEqual([[16, 16, 32], [32, 32, 32], [256, 256, 32]]);
    expect(entries.map((e) => readPngInfo(e.data).width)).toEqual([16, 32, 256]);
  });

  it('refuses images it cannot hold', () => {
    expect(() => writeIco([])).toThrow('at least one image');
    expect(() => writeIco([{ png: pngHeader(512) }])).toThrow('1 to 256 px (got 512)');
    expect(() => writeIco([{ png: pngHeader(32, 16) }])).toThrow('must be square');
    expect(() => writeIco([{ png: pngHeader(32) }, { png: pngHeader(32) }])).toThrow('two .ico images of 32 px');
  });
});

describe('.icns writer', () => {
  it('writes every 1x and @2x element with big-endian lengths that add up to the file', () => {
    const pngs = new Map([16, 32, 64, 128, 256, 512, 1024].map((size) => [size, pngHeader(size)]));
    const icns = writeIcns(pngs);
    expect(new TextDecoder().decode(icns.subarray(0, 4))).toBe('icns');
    const elements = readIcns(icns);
    expect(elements.map((e) => e.type)).toEqual(ICNS_TYPES.map((t) => t.type));
    for (const [i, element] of elements.entries()) expect(readPngInfo(element.data).width).toBe(ICNS_TYPES[i]!.pixels);
  });

  it('names the missing size, and refuses a damaged file on reading', () => {
    expect(() => writeIcns(new Map([[16, pngHeader(16)]]))).toThrow('needs a 32 px PNG for ic11');
    const icns = writeIcns(new Map([16, 32, 64, 128, 256, 512, 1024].map((size) => [size, pngHeader(size)])));
    expect(() => readIcns(icns.subarray(0, icns.length - 1))).toThrow(/length field/);
  });
});
