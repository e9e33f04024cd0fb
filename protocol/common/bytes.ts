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

/** The host's native search for a byte sequence, if it has one (see `nativeSearch`). */
type NativeSearch = (haystack: Uint8Array, needle: Uint8Array, from: number, to: number) => number;

/** The members of Node's `Buffer` used for `nativeSearch` (typed structurally: no Node types here). */
interface BufferHost {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { indexOf(value: Uint8Array, byteOffset: number): number };
}

/**
 * Node's `Buffer#indexOf` over a view of the same memory (no copy): a vectorized search, some thirty times
 * faster than scanning from JavaScript. Found at run time, so this module still runs in the renderer,
 * where the portable search below is used.
 */
const nativeSearch: NativeSearch | undefined = (() => {
  const host = (globalThis as { Buffer?: BufferHost }).Buffer;
  if (typeof host?.from !== 'function') return undefined;
  return (haystack, needle, from, to) => host.from(haystack.buffer, haystack.byteOffset, to).indexOf(needle, from);
})();

/** Stretches at least this long go to the native search when there is one. */
const NATIVE_SEARCH_MIN_BYTES = 1024;

/**
 * Index of `needle` in `haystack[from, to)`, or -1. Long stretches use the host's native sequence search
 * when it has one; otherwise the native search for the first byte, then a comparison.
 */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0, to = haystack.length): number {
  const n = needle.length;
  if (n === 0) return from <= to ? from : -1;
  if (nativeSearch && to - from >= NATIVE_SEARCH_MIN_BYTES) {
    const at = nativeSearch(haystack, needle, Math.max(0, from), Math.min(to, haystack.length));
    return at >= 0 && at + n <= to ? at : -1;
  }
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

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
