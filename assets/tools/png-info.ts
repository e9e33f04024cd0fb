/**
 * Just enough of PNG (ISO/IEC 15948, RFC 2083 §3–4) to check an image: the signature and the IHDR chunk's
 * width, height, bit depth and colour type.
 */

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** What IHDR says about an image. */
export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** 6 = truecolour with alpha. */
  colourType: number;
}

/** Reads the header of a PNG; throws a clear error for anything that is not one. */
export function readPngInfo(bytes: Uint8Array): PngInfo {
  if (bytes.length < 33) throw new Error(`not a PNG: ${bytes.length} bytes is shorter than a signature and an IHDR chunk`);
  for (let i = 0; i < PNG_SIGNATURE.length; i++) {
    if (bytes[i] !== PNG_SIGNATURE[i]) throw new Error('not a PNG: bad signature');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (view.getUint32(8) !== 13 || type !== 'IHDR') throw new Error('not a PNG: the first chunk is not a 13-byte IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24]!, colourType: bytes[25]! };
}
