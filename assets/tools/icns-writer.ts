/**
 * Writes a macOS .icns file from PNGs: the `icns` magic and total length, then one element per image
 * (OSType + length including its 8-byte header + PNG data), all big-endian. The element types are those
 * of PNG-carrying icons (macOS 10.7+): each pixel size at 1x, and the @2x Retina variants.
 */
import { readPngInfo } from './png-info';

/** Element type for each (pixels, scale). */
export const ICNS_TYPES: ReadonlyArray<{ type: string; pixels: number; label: string }> = [
  { type: 'icp4', pixels: 16, label: '16x16' },
  { type: 'ic11', pixels: 32, label: '16x16@2x' },
  { type: 'icp5', pixels: 32, label: '32x32' },
  { type: 'ic12', pixels: 64, label: '32x32@2x' },
  { type: 'ic07', pixels: 128, label: '128x128' },
  { type: 'ic13', pixels: 256, label: '128x128@2x' },
  { type: 'ic08', pixels: 256, label: '256x256' },
  { type: 'ic14', pixels: 512, label: '256x256@2x' },
  { type: 'ic09', pixels: 512, label: '512x512' },
  { type: 'ic10', pixels: 1024, label: '512x512@2x' },
];

/** The .icns with every element of ICNS_TYPES, taking each from `pngBySize` (square PNGs keyed by pixel size). */
export function writeIcns(pngBySize: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const elements = ICNS_TYPES.map(({ type, pixels }) => {
    const png = pngBySize.get(pixels);
    if (png === undefined) throw new Error(`.icns needs a ${pixels} px PNG for ${type}`);
    const info = readPngInfo(png);
    if (info.width !== pixels || info.height !== pixels) throw new Error(`the ${pixels} px PNG is ${info.width}x${info.height}`);
    return { type, png };
  });
  const total = 8 + elements.reduce((sum, e) => sum + 8 + e.png.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  writeType(out, 0, 'icns');
  view.setUint32(4, total);
  let offset = 8;
  for (const { type, png } of elements) {
    writeType(out, offset, type);
    view.setUint32(offset + 4, 8 + png.length);
    out.set(png, offset + 8);
    offset += 8 + png.length;
  }
  return out;
}

/** Reads an .icns back into its elements (to check what was written). */
export function readIcns(bytes: Uint8Array): Array<{ type: string; data: Uint8Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || readType(bytes, 0) !== 'icns') throw new Error('not an .icns file');
  if (view.getUint32(4) !== bytes.length) throw new Error(`.icns length field says ${view.getUint32(4)}, file has ${bytes.length} bytes`);
  const elements: Array<{ type: string; data: Uint8Array }> = [];
  let offset = 8;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) throw new Error('.icns element header is truncated');
    const length = view.getUint32(offset + 4);
    if (length < 8 || offset + length > bytes.length) throw new Error(`.icns element at ${offset} has a bad length ${length}`);
    elements.push({ type: readType(bytes, offset), data: bytes.subarray(offset + 8, offset + length) });
    offset += length;
  }
  return elements;
}

function writeType(out: Uint8Array, at: number, type: string): void {
  for (let i = 0; i < 4; i++) out[at + i] = type.charCodeAt(i);
}

function readType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}
