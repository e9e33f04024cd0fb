/**
 * Writes a Windows .ico file whose images are PNGs (the ICONDIR / ICONDIRENTRY layout, little-endian;
 * PNG-compressed entries are supported since Windows Vista and required for 256 px).
 */
import { readPngInfo } from './png-info';

const HEADER = 6;
const ENTRY = 16;

/** One image of an .ico file. */
export interface IcoImage {
  png: Uint8Array;
}

/** The .ico holding `images` (1 to 256 px square PNGs, at most one per size), smallest first. */
export function writeIco(images: readonly IcoImage[]): Uint8Array {
  if (images.length === 0) throw new Error('an .ico needs at least one image');
  const sized = images.map((image) => ({ ...image, info: readPngInfo(image.png) })).sort((a, b) => a.info.width - b.info.width);
  const seen = new Set<number>();
  for (const { info } of sized) {
    if (info.width !== info.height) throw new Error(`.ico images must be square (got ${info.width}x${info.height})`);
    if (info.width < 1 || info.width > 256) throw new Error(`.ico images must be 1 to 256 px (got ${info.width})`);
    if (seen.has(info.width)) throw new Error(`two .ico images of ${info.width} px`);
    seen.add(info.width);
  }
  const total = HEADER + ENTRY * sized.length + sized.reduce((sum, s) => sum + s.png.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0, true); // reserved
  view.setUint16(2, 1, true); // type 1: icon
  view.setUint16(4, sized.length, true);
  let offset = HEADER + ENTRY * sized.length;
  sized.forEach(({ png, info }, i) => {
    const at = HEADER + ENTRY * i;
    out[at] = info.width === 256 ? 0 : info.width; // 0 means 256
    out[at + 1] = info.height === 256 ? 0 : info.height;
    out[at + 2] = 0; // no palette
    out[at + 3] = 0; // reserved
    view.setUint16(at + 4, 1, true); // colour planes
    view.setUint16(at + 6, 32, true); // bits per pixel
    view.setUint32(at + 8, png.length, true);
    view.setUint32(at + 12, offset, true);
    out.set(png, offset);
    offset += png.length;
  });
  return out;
}

/** One entry of an .ico as read back. */
export interface IcoEntry {
  width: number;
  height: number;
  bitCount: number;
  data: Uint8Array;
}

/** Reads an .ico's directory (to check what was written). */
export function readIco(bytes: Uint8Array): IcoEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER || view.getUint16(0, true) !== 0 || view.getUint16(2, true) !== 1) throw new Error('not an .ico file');
  const count = view.getUint16(4, true);
  const entries: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER + ENTRY * i;
    if (at + ENTRY > bytes.length) throw new Error('.ico directory is truncated');
    const size = view.getUint32(at + 8, true);
    const offset = view.getUint32(at + 12, true);
    if (offset + size > bytes.length) throw new Error(`.ico entry ${i} points past the end of the file`);
    entries.push({ width: bytes[at] || 256, height: bytes[at + 1] || 256, bitCount: view.getUint16(at + 6, true), data: bytes.subarray(offset, offset + size) });
  }
  return entries;
}
