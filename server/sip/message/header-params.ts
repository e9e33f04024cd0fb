/**
 * Header parameters: `*( SEMI generic-param )` after a name-addr, a Via or a media type
 * (RFC 3261 §25.1: generic-param = token [ EQUAL gen-value ]; gen-value = token / host / quoted-string;
 * SEMI and EQUAL allow surrounding whitespace).
 */
import { TOKEN, isClass, quoteString, scanQuotedString, scanToken, skipWsp } from './abnf';
import { SipParseError } from './parse-error';
import { describe } from './sip-uri';

/** One header parameter. `value` is raw: a quoted-string keeps its quotes; null for a valueless parameter. */
export interface HeaderParam {
  name: string;
  value: string | null;
}

/**
 * Parse `;name[=value]` parameters starting at `i` (which may be at whitespace before a `;`).
 * Stops at the end of `text` or at a top-level `,` (when `stopAtComma`); returns the index reached.
 */
export function scanHeaderParams(text: string, i: number, params: HeaderParam[], stopAtComma: boolean): number {
  i = skipWsp(text, i);
  while (text.charCodeAt(i) === 0x3b /* ; */) {
    i = skipWsp(text, i + 1);
    const nameEnd = scanToken(text, i);
    if (nameEnd === i) throw new SipParseError(`expected a parameter name after ";", found ${describe(text, i)}`, { offset: i });
    const name = text.slice(i, nameEnd);
    i = skipWsp(text, nameEnd);
    let value: string | null = null;
    if (text.charCodeAt(i) === 0x3d /* = */) {
      i = skipWsp(text, i + 1);
      const c = text.charCodeAt(i);
      if (c === 0x22 /* " */) {
        const q = scanQuotedString(text, i);
        value = text.slice(i, q.end);
        i = q.end;
      } else if (c === 0x5b /* [ IPv6 reference */) {
        const close = text.indexOf(']', i);
        if (close < 0) throw new SipParseError('unterminated IPv6 reference in parameter value', { offset: i });
        value = text.slice(i, close + 1);
        i = close + 1;
      } else {
        // token, or an IPv6address as via-received allows (RFC 3261 §20.42, RFC 5118 §4.5)
        let end = scanToken(text, i);
        while (text.charCodeAt(end) === 0x3a /* : */) end = scanToken(text, end + 1);
        if (end === i) throw new SipParseError(`expected a value for parameter "${name}", found ${describe(text, i)}`, { offset: i });
        value = text.slice(i, end);
        i = end;
      }
      i = skipWsp(text, i);
    }
    params.push({ name, value });
  }
  if (i < text.length && !(stopAtComma && text.charCodeAt(i) === 0x2c)) {
    throw new SipParseError(`unexpected ${describe(text, i)} after header parameters`, { offset: i });
  }
  return i;
}

/** A parameter's raw value (null when valueless, undefined when absent); names match case-insensitively. */
export function getParam(params: readonly HeaderParam[], name: string): string | null | undefined {
  const key = isLowerAscii(name) ? name : name.toLowerCase();
  for (const p of params) if (p.name === key || equalsLowerAscii(p.name, key)) return p.value;
  return undefined;
}

/** True when `text` has no upper-case ASCII letter (then it is its own lower-case form). */
function isLowerAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return false;
  }
  return true;
}

/**
 * `text.toLowerCase() === lower` for a token (ASCII) without making the lower-case copy: parameters are looked
 * up by name several times per message.
 */
function equalsLowerAscii(text: string, lower: string): boolean {
  if (text.length !== lower.length) return false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    else if (c > 0x7f) return text.toLowerCase() === lower; // not a token: compare as before
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** A parameter's value with the quotes of a quoted-string removed and its quoted-pairs resolved. */
export function getParamText(params: readonly HeaderParam[], name: string): string | null | undefined {
  const raw = getParam(params, name);
  if (raw === null || raw === undefined || raw.charCodeAt(0) !== 0x22) return raw;
  return scanQuotedString(raw, 0).value;
}

/** Serialize parameters as `;name=value` (values as held, so quoted-strings keep their quotes). */
export function serializeHeaderParams(params: readonly HeaderParam[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

/** The raw form of a parameter value: a token as is, anything else as a quoted-string. */
export function paramValue(text: string): string {
  if (text.length > 0 && [...text].every((ch) => isClass(ch.charCodeAt(0), TOKEN))) return text;
  return quoteString(text);
}
