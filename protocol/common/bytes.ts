/**
 * Byte helpers for the wire formats in protocol/: ASCII/UTF-8 conversion and searching in `Uint8Array`s.
 * No Node `Buffer`: everything here runs in the renderer too.
 */

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decode UTF-8 strictly: invalid sequences throw a `TypeError` (callers turn it into their own error). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Decode UTF-8, replacing invalid sequences with U+FFFD (for diagnostics only). */
export function decodeUtf8Lenient(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes);
}

/** Latin-1/ASCII view of bytes: one char per byte, never fails (used for protocol lines that are ASCII by grammar). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = '';
  const step = 4096; // well below any engine's argument-count limit
  for (let i = start; i < end; i += step) {
    // `apply` takes the typed array as the argument list without building an array (unlike a spread).
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + step)) as unknown as number[]);
  }
  return out;
}

/** Bytes of an ASCII string; throws on a character above U+00FF (a bug in the caller, not bad input). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`non-Latin-1 character in protocol text at ${i}`);
    out[i] = c;
  }
  return out;
}

/** Concatenate byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Stretches at least this long are searched with Horspool's algorithm (for needles of 2 to 255 bytes). */
const SKIP_SEARCH_MIN_BYTES = 1024;

/**
 * Horspool's bad-character shift table of `needle` (2 to 255 bytes): how far a search window may move when
 * the byte under its last position is `b`.
 */
export function byteShiftTable(needle: Uint8Array): Uint8Array {
  const n = needle.length;
  if (n < 2 || n > 255) throw new RangeError(`a shift table needs a needle of 2 to 255 bytes, got ${n}`);
  const table = new Uint8Array(256).fill(n);
  for (let i = 0; i < n - 1; i++) table[needle[i]!] = n - 1 - i;
  return table;
}

/**
 * Index of `needle` in `haystack[from, to)`, or -1. Short stretches use the native search for the first
 * byte; long ones Horspool's algorithm, which inspects about one byte per needle length.
 */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0, to = haystack.length): number {
  const n = needle.length;
  if (n === 0) return from <= to ? from : -1;
  if (n >= 2 && n <= 255 && to - from >= SKIP_SEARCH_MIN_BYTES) return skipSearch(haystack, needle, byteShiftTable(needle), from, to);
  const first = needle[0]!;
  const last = to - n;
  let i = from;
  while (i <= last) {
    i = haystack.indexOf(first, i);
    if (i < 0 || i > last) return -1;
    let j = 1;
    while (j < n && haystack[i + j] === needle[j]) j++;
    if (j === n) return i;
    i++;
  }
  return -1;
}

/** Horspool search of `needle` in `haystack[from, to)` with its `byteShiftTable`; -1 when absent. */
export function skipSearch(haystack: Uint8Array, needle: Uint8Array, shifts: Uint8Array, from: number, to: number): number {
  const last = needle.length - 1;
  const lastByte = needle[last]!;
  for (let at = from; at + last < to; ) {
    const c = haystack[at + last]!;
    if (c === lastByte) {
      let j = last - 1;
      while (j >= 0 && haystack[at + j] === needle[j]) j--;
      if (j < 0) return at;
    }
    at += shifts[c]!;
  }
  return -1;
}

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
