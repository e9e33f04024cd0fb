/**
 * Character classes and small scanning helpers of the RFC 3261 §25.1 grammar, as lookup tables so that the
 * hot paths test one array element per character and never backtrack.
 */
import { SipParseError } from './parse-error';

const ALPHANUM = 1;
/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = 1 << 1;
/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") */
export const WORD = 1 << 2;
/** unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
export const UNRESERVED = 1 << 3;
/** user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
export const USER_UNRESERVED = 1 << 4;
/** password characters besides unreserved: "&" / "=" / "+" / "$" / "," */
export const PASSWORD_EXTRA = 1 << 5;
/** param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
export const PARAM_UNRESERVED = 1 << 6;
/** hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
export const HNV_UNRESERVED = 1 << 7;
/** reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
export const RESERVED = 1 << 8;
/** HEXDIG */
export const HEX = 1 << 9;

const TABLE = new Uint16Array(128);
function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) TABLE[chars.charCodeAt(i)]! |= flag;
}
const ALNUM_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
mark(ALNUM_CHARS, ALPHANUM | TOKEN | WORD | UNRESERVED);
mark("-.!%*_+`'~", TOKEN);
mark("-.!%*_+`'~()<>:\\\"/[]?{}", WORD);
mark("-_.!~*'()", UNRESERVED);
mark('&=+$,;?/', USER_UNRESERVED);
mark('&=+$,', PASSWORD_EXTRA);
mark('[]/:&+$', PARAM_UNRESERVED);
mark('[]/?:+$', HNV_UNRESERVED);
mark(';/?:@&=+$,', RESERVED);
mark('0123456789abcdefABCDEF', HEX);

/** True when the character code belongs to any of the classes in `flags`. */
export function isClass(code: number, flags: number): boolean {
  return code < 128 && (TABLE[code]! & flags) !== 0;
}

/** True for a token character (RFC 3261 §25.1). */
export function isTokenCode(code: number): boolean {
  return code < 128 && (TABLE[code]! & TOKEN) !== 0;
}

/** True when `s` is a non-empty token (RFC 3261 §25.1). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (TABLE[c]! & TOKEN) === 0) return false;
  }
  return true;
}

/** True when `s` is a non-empty word (RFC 3261 §25.1, used by Call-ID). */
export function isWord(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (TABLE[c]! & WORD) === 0) return false;
  }
  return true;
}

/**
 * Index of the first character of `s` that is neither in `flags` nor part of a valid `escaped`
 * (`%` HEXDIG HEXDIG) sequence, or -1 when every character is allowed.
 */
export function firstInvalid(s: string, flags: number, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      if (i + 2 < to && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
        i += 2;
        continue;
      }
      return i;
    }
    if (c >= 128 || (TABLE[c]! & flags) === 0) return i;
  }
  return -1;
}

/** True for a hexadecimal digit. */
export function isHex(code: number): boolean {
  return code < 128 && (TABLE[code]! & HEX) !== 0;
}

/** True for SP or HTAB. */
export function isWsp(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Index of the first non-SP/HTAB character at or after `i`. */
export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the run of token characters starting at `i`. */
export function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (TABLE[c]! & TOKEN) === 0) break;
    i++;
  }
  return i;
}

/**
 * Parse a quoted-string starting at `i` (which must be `"`): returns the unescaped content and the index
 * just past the closing quote. quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) (RFC 3261 §25.1).
 */
export function scanQuotedString(s: string, i: number): { value: string; end: number } {
  let out = '';
  let chunk = i + 1;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c /* \ */) {
      const next = s.charCodeAt(j + 1);
      if (j + 1 >= s.length || next === 0x0a || next === 0x0d || next > 0x7f) {
        throw new SipParseError('invalid quoted-pair in quoted string', { offset: j });
      }
      out += s.slice(chunk, j) + s[j + 1];
      j++;
      chunk = j + 1;
    } else if (c === 0x22 /* " */) {
      return { value: out + s.slice(chunk, j), end: j + 1 };
    } else if (c === 0x0d || c === 0x0a) {
      break;
    }
  }
  throw new SipParseError('unterminated quoted string', { offset: i });
}

/** Quote a string as a quoted-string, escaping `"` and `\`. */
export function quoteString(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/**
 * Decode `%HH` escapes (RFC 3261 §19.1.2, RFC 3986 §2.1) into the characters they encode, read as UTF-8.
 * Decoding is never recursive: `%2541` becomes `%41`. Invalid escapes are kept as they are.
 */
export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const high = c >= 0xd800 && c <= 0xdbff;
      for (const b of utf8Encoder.encode(s.slice(i, high ? i + 2 : i + 1))) bytes.push(b);
      if (high) i++;
    }
  }
  return utf8.decode(new Uint8Array(bytes));
}

/**
 * Escape every character of `value` that is not in `flags` as `%HH` of its UTF-8 bytes (upper-case hex).
 */
export function percentEncode(value: string, flags: number): string {
  let out = '';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (c < 128 && (TABLE[c]! & flags) !== 0) {
      out += ch;
    } else {
      for (const b of utf8Encoder.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}
