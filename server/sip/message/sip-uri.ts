/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966; IPv6 references per RFC 5118).
 *
 * Parsed URIs keep every component exactly as received (escapes included), so that a proxy forwards what
 * it did not touch byte for byte; comparisons (§19.1.4) decode escapes first. Any other scheme parses as an
 * {@link AbsoluteUri} so that the receiver can answer 416 (Unsupported URI Scheme) instead of 400.
 */
import {
  HEX, HNV_UNRESERVED, PARAM_UNRESERVED, PASSWORD_EXTRA, RESERVED, UNRESERVED, USER_UNRESERVED,
  firstInvalid, isClass, percentDecode, percentEncode,
} from './abnf';
import { SipParseError } from './parse-error';

/** A `;name` or `;name=value` URI parameter, raw (escapes kept). `value` is null for a valueless parameter. */
export interface UriParam {
  name: string;
  value: string | null;
}

/** An embedded `?name=value` header of a SIP URI, raw (escapes kept). */
export interface UriHeader {
  name: string;
  value: string;
}

/** A `sip:` or `sips:` URI (RFC 3261 §19.1.1). */
export interface SipUri {
  readonly kind: 'sip';
  scheme: 'sip' | 'sips';
  /** The user part, raw; undefined when the URI has no userinfo. */
  user: string | undefined;
  /** The password, raw; undefined when absent (empty string for `user:@host`). */
  password: string | undefined;
  /** Domain name, IPv4 address or bracketed IPv6 reference (`[::1]`), as written. */
  host: string;
  port: number | undefined;
  params: UriParam[];
  headers: UriHeader[];
}

/** A `tel:` URI (RFC 3966 §3). */
export interface TelUri {
  readonly kind: 'tel';
  /** The telephone-subscriber number as written, e.g. `+1-201-555-0123` or `7042`. */
  number: string;
  params: UriParam[];
}

/** Any other URI (RFC 3261 `absoluteURI`): only the scheme is interpreted. */
export interface AbsoluteUri {
  readonly kind: 'absolute';
  /** The scheme, lower-cased. */
  scheme: string;
  /** Everything after the first `:`. */
  rest: string;
}

/** A URI as found in a Request-URI, name-addr or addr-spec. */
export type Uri = SipUri | TelUri | AbsoluteUri;

/** The kind of a SIP URI host. */
export type HostKind = 'domain' | 'ipv4' | 'ipv6';

/** Parse a URI. Throws {@link SipParseError} (with `offset` into `text`) when it is malformed. */
export function parseUri(text: string): Uri {
  const colon = schemeEnd(text);
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, scheme, colon + 1);
  if (scheme === 'tel') return parseTelUri(text, colon + 1);
  const bad = firstInvalid(text, UNRESERVED | RESERVED, colon + 1);
  if (colon + 1 >= text.length) throw new SipParseError(`empty ${scheme}: URI`, { offset: colon + 1 });
  if (bad >= 0) throw new SipParseError(`invalid character ${describe(text, bad)} in ${scheme}: URI`, { offset: bad });
  return { kind: 'absolute', scheme, rest: text.slice(colon + 1) };
}

/** Parse a URI that must be `sip:` or `sips:`. */
export function parseSipUri(text: string): SipUri;
/** @internal */
export function parseSipUri(text: string, scheme: 'sip' | 'sips', from: number): SipUri;
export function parseSipUri(text: string, knownScheme?: 'sip' | 'sips', knownFrom?: number): SipUri {
  let scheme = knownScheme;
  let i = knownFrom ?? 0;
  if (scheme === undefined) {
    const colon = schemeEnd(text);
    const s = text.slice(0, colon).toLowerCase();
    if (s !== 'sip' && s !== 'sips') throw new SipParseError(`not a SIP or SIPS URI: ${s}:`, { offset: 0 });
    scheme = s;
    i = colon + 1;
  }
  const len = text.length;
  let user: string | undefined;
  let password: string | undefined;
  // '@' may appear only as the userinfo delimiter: user, password, params and headers all exclude it.
  const at = text.indexOf('@', i);
  if (at >= 0) {
    const pw = text.indexOf(':', i);
    const userEnd = pw >= 0 && pw < at ? pw : at;
    if (userEnd === i) throw new SipParseError('empty user part before @', { offset: i });
    const badUser = firstInvalid(text, UNRESERVED | USER_UNRESERVED, i, userEnd);
    if (badUser >= 0) throw new SipParseError(`invalid character ${describe(text, badUser)} in URI user part`, { offset: badUser });
    user = text.slice(i, userEnd);
    if (userEnd < at) {
      const badPw = firstInvalid(text, UNRESERVED | PASSWORD_EXTRA, userEnd + 1, at);
      if (badPw >= 0) throw new SipParseError(`invalid character ${describe(text, badPw)} in URI password`, { offset: badPw });
      password = text.slice(userEnd + 1, at);
    }
    i = at + 1;
  }
  // host
  const hostStart = i;
  if (text.charCodeAt(i) === 0x5b /* [ */) {
    const close = text.indexOf(']', i);
    if (close < 0) throw new SipParseError('unterminated IPv6 reference', { offset: i });
    i = close + 1;
  } else {
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === 0x3a || c === 0x3b || c === 0x3f) break; // : ; ?
      i++;
    }
  }
  const host = text.slice(hostStart, i);
  if (hostKind(host) === undefined) {
    throw new SipParseError(host ? `invalid host "${clip(host)}" in SIP URI` : 'missing host in SIP URI', { offset: hostStart });
  }
  let port: number | undefined;
  if (text.charCodeAt(i) === 0x3a) {
    const portStart = ++i;
    while (i < len && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    port = parsePort(text.slice(portStart, i), portStart);
  }
  const params: UriParam[] = [];
  while (text.charCodeAt(i) === 0x3b /* ; */) {
    const nameStart = ++i;
    while (i < len && text.charCodeAt(i) !== 0x3b && text.charCodeAt(i) !== 0x3f && text.charCodeAt(i) !== 0x3d) i++;
    const name = checkParamPart(text, nameStart, i, 'URI parameter name');
    let value: string | null = null;
    if (text.charCodeAt(i) === 0x3d /* = */) {
      const valueStart = ++i;
      while (i < len && text.charCodeAt(i) !== 0x3b && text.charCodeAt(i) !== 0x3f) i++;
      value = checkParamPart(text, valueStart, i, `value of URI parameter "${name}"`);
    }
    params.push({ name, value });
  }
  const headers: UriHeader[] = [];
  if (text.charCodeAt(i) === 0x3f /* ? */) {
    do {
      const nameStart = ++i;
      while (i < len && text.charCodeAt(i) !== 0x3d && text.charCodeAt(i) !== 0x26) i++;
      if (i === nameStart) throw new SipParseError('empty header name in URI headers', { offset: nameStart });
      const badName = firstInvalid(text, UNRESERVED | HNV_UNRESERVED, nameStart, i);
      if (badName >= 0) throw new SipParseError(`invalid character ${describe(text, badName)} in URI header name`, { offset: badName });
      if (text.charCodeAt(i) !== 0x3d) throw new SipParseError('URI header without "="', { offset: i });
      const valueStart = ++i;
      while (i < len && text.charCodeAt(i) !== 0x26) i++;
      const badValue = firstInvalid(text, UNRESERVED | HNV_UNRESERVED, valueStart, i);
      if (badValue >= 0) throw new SipParseError(`invalid character ${describe(text, badValue)} in URI header value`, { offset: badValue });
      headers.push({ name: text.slice(nameStart, valueStart - 1), value: text.slice(valueStart, i) });
    } while (text.charCodeAt(i) === 0x26 /* & */);
  }
  if (i < len) throw new SipParseError(`unexpected ${describe(text, i)} in SIP URI`, { offset: i });
  return { kind: 'sip', scheme, user, password, host, port, params, headers };
}

function parseTelUri(text: string, from: number): TelUri {
  let i = from;
  while (i < text.length && text.charCodeAt(i) !== 0x3b) i++;
  const number = text.slice(from, i);
  const global = number.startsWith('+');
  if (!isTelNumber(number, global)) throw new SipParseError(`invalid telephone number "${clip(number)}" in tel: URI`, { offset: from });
  const params: UriParam[] = [];
  while (text.charCodeAt(i) === 0x3b) {
    const nameStart = ++i;
    while (i < text.length && text.charCodeAt(i) !== 0x3b && text.charCodeAt(i) !== 0x3d) i++;
    const name = checkParamPart(text, nameStart, i, 'tel: URI parameter name');
    let value: string | null = null;
    if (text.charCodeAt(i) === 0x3d) {
      const valueStart = ++i;
      while (i < text.length && text.charCodeAt(i) !== 0x3b) i++;
      value = checkParamPart(text, valueStart, i, `value of tel: URI parameter "${name}"`);
    }
    params.push({ name, value });
  }
  if (!global && !params.some((p) => p.name.toLowerCase() === 'phone-context')) {
    throw new SipParseError('a local tel: number needs a phone-context parameter (RFC 3966 §5.1.5)', { offset: from });
  }
  return { kind: 'tel', number, params };
}

/**
 * global-number-digits = "+" *phonedigit DIGIT *phonedigit; local-number-digits = *phonedigit-hex
 * (HEXDIG / "*" / "#") *phonedigit-hex, with visual separators "-" "." "(" ")" (RFC 3966 §3). Linear scan.
 */
function isTelNumber(number: string, global: boolean): boolean {
  let digits = 0;
  for (let i = global ? 1 : 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29) continue;
    const digit = c >= 0x30 && c <= 0x39;
    if (global ? !digit : !(digit || isClass(c, HEX) || c === 0x2a || c === 0x23)) return false;
    digits++;
  }
  return digits > 0;
}

/** At most 40 characters of `s`, for error messages about possibly huge values. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Serialize a URI, components exactly as held. */
export function serializeUri(uri: Uri): string {
  if (uri.kind === 'absolute') return `${uri.scheme}:${uri.rest}`;
  if (uri.kind === 'tel') return `tel:${uri.number}${serializeParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) out += `${uri.user}${uri.password !== undefined ? `:${uri.password}` : ''}@`;
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += serializeParams(uri.params);
  if (uri.headers.length > 0) out += `?${uri.headers.map((h) => `${h.name}=${h.value}`).join('&')}`;
  return out;
}

function serializeParams(params: readonly UriParam[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

/** The kind of a host as written in a SIP URI or Via sent-by, or undefined when it is not a valid host. */
export function hostKind(host: string): HostKind | undefined {
  const n = host.length;
  if (n === 0) return undefined;
  if (host.charCodeAt(0) === 0x5b) {
    return host.charCodeAt(n - 1) === 0x5d && isIpv6(host.slice(1, -1)) ? 'ipv6' : undefined;
  }
  // hostname = *( domainlabel "." ) toplabel [ "." ]; labels are alphanum with inner "-"; toplabel starts
  // with ALPHA (RFC 3261 §25.1). One linear scan, no regex.
  const end = host.charCodeAt(n - 1) === 0x2e ? n - 1 : n;
  let labelStart = 0;
  let digitsAndDots = true;
  let topAlpha = false;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? host.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === labelStart || !isAlnum(host.charCodeAt(labelStart)) || !isAlnum(host.charCodeAt(i - 1))) return undefined;
      topAlpha = !isDigit(host.charCodeAt(labelStart));
      labelStart = i + 1;
    } else if (isDigit(c)) {
      // still possibly an IPv4 address
    } else if (isAlnum(c) || c === 0x2d) {
      digitsAndDots = false;
    } else {
      return undefined;
    }
  }
  if (digitsAndDots && end === n) return isIpv4(host) ? 'ipv4' : undefined;
  return topAlpha ? 'domain' : undefined;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** True for a dotted-quad IPv4 address (RFC 3261 §25.1 IPv4address, each part 0–255). */
export function isIpv4(s: string): boolean {
  // One pass over the characters (every host of every URI and Via comes here): four groups of 1–3 digits, each ≤ 255.
  let groups = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++groups > 4) return false;
      digits = 0;
      value = 0;
    } else {
      return false;
    }
  }
  return groups === 4;
}

/** True for an IPv6 address without brackets (RFC 3261 §25.1 IPv6address, RFC 4291 §2.2 text forms). */
export function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return false;
  let words = 8;
  let body = s;
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    // an embedded IPv4 address stands for the last two 16-bit words
    if (!isIpv4(tail)) return false;
    words = 6;
    body = s.slice(0, lastColon + 1);
    body = body.endsWith('::') ? body : body.slice(0, -1);
  }
  const double = body.indexOf('::');
  if (double !== body.lastIndexOf('::')) return false;
  const hex = (g: string): boolean => /^[0-9A-Fa-f]{1,4}$/.test(g);
  if (double < 0) {
    const groups = body.split(':');
    return groups.length === words && groups.every(hex);
  }
  const head = body.slice(0, double);
  const rest = body.slice(double + 2);
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  return headGroups.every(hex) && restGroups.every(hex) && headGroups.length + restGroups.length < words;
}

/** The host without IPv6 brackets, lower-cased: what a socket API and comparisons want. */
export function bareHost(host: string): string {
  return (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
}

/** A parameter's raw value: a string, null for a valueless parameter, undefined when absent. Names match case-insensitively. */
export function getUriParam(params: readonly UriParam[], name: string): string | null | undefined {
  const key = name.toLowerCase();
  for (const p of params) if (p.name.toLowerCase() === key) return p.value;
  return undefined;
}

/** A copy of a SIP URI without its embedded headers (a Request-URI built from a Refer-To, RFC 3515 §2.4.5). */
export function withoutHeaders(uri: SipUri): SipUri {
  return { ...uri, params: uri.params.map((p) => ({ ...p })), headers: [] };
}

/** The embedded headers of a SIP URI, decoded (RFC 3261 §19.1.5). */
export function decodedUriHeaders(uri: SipUri): { name: string; value: string }[] {
  return uri.headers.map((h) => ({ name: percentDecode(h.name), value: percentDecode(h.value) }));
}

/**
 * Escape a value for an embedded URI header (`?name=value`, RFC 3261 §19.1.1): everything outside
 * hnv-unreserved and unreserved is %-escaped, e.g. `@` → `%40`, `;` → `%3B`, `=` → `%3D`, space → `%20`.
 */
export function escapeUriHeaderValue(value: string): string {
  return percentEncode(value, UNRESERVED | HNV_UNRESERVED);
}

/** Build the `?name=value&…` part of a URI from plain (unescaped) header values. */
export function formatUriHeaders(headers: readonly { name: string; value: string }[]): UriHeader[] {
  return headers.map((h) => ({ name: percentEncode(h.name, UNRESERVED | HNV_UNRESERVED), value: escapeUriHeaderValue(h.value) }));
}

/** Escape text for a URI user part (RFC 3261 §19.1.2). */
export function escapeUriUser(value: string): string {
  return percentEncode(value, UNRESERVED | USER_UNRESERVED);
}

/** Escape text for a URI parameter name or value (RFC 3261 §19.1.2). */
export function escapeUriParam(value: string): string {
  return percentEncode(value, UNRESERVED | PARAM_UNRESERVED);
}

/** Parameters that make two SIP URIs differ when only one of them has it (RFC 3261 §19.1.4). */
const MUST_MATCH_PARAMS = new Set(['user', 'ttl', 'method', 'maddr']);

/**
 * URI equivalence (RFC 3261 §19.1.4 for SIP/SIPS, RFC 3966 §4 for tel): escapes decoded, userinfo
 * case-sensitive, everything else case-insensitive; user/ttl/method/maddr must be in both or neither,
 * other parameters only compared when in both; embedded headers must all match.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'absolute' && b.kind === 'absolute') return a.scheme === b.scheme && a.rest === b.rest;
  if (a.kind === 'tel' && b.kind === 'tel') {
    const digits = (n: string) => n.replace(/[().-]/g, '').toLowerCase();
    if (digits(a.number) !== digits(b.number) || a.params.length !== b.params.length) return false;
    return a.params.every((p) => paramValueEquals(p.value, getUriParam(b.params, p.name)));
  }
  if (a.kind !== 'sip' || b.kind !== 'sip') return false;
  if (a.scheme !== b.scheme) return false;
  if (decodeOpt(a.user) !== decodeOpt(b.user) || decodeOpt(a.password) !== decodeOpt(b.password)) return false;
  if (percentDecode(a.host).toLowerCase() !== percentDecode(b.host).toLowerCase() || a.port !== b.port) return false;
  for (const p of a.params) {
    const other = findDecodedParam(b.params, p.name);
    if (other === undefined) {
      if (MUST_MATCH_PARAMS.has(percentDecode(p.name).toLowerCase())) return false;
    } else if (!paramValueEquals(p.value, other)) {
      return false;
    }
  }
  for (const p of b.params) {
    if (MUST_MATCH_PARAMS.has(percentDecode(p.name).toLowerCase()) && findDecodedParam(a.params, p.name) === undefined) return false;
  }
  if (a.headers.length !== b.headers.length) return false;
  const bHeaders = decodedUriHeaders(b).map((h) => `${h.name.toLowerCase()}\n${h.value}`).sort();
  const aHeaders = decodedUriHeaders(a).map((h) => `${h.name.toLowerCase()}\n${h.value}`).sort();
  return aHeaders.every((h, i) => h === bHeaders[i]);
}

function findDecodedParam(params: readonly UriParam[], name: string): string | null | undefined {
  const key = percentDecode(name).toLowerCase();
  for (const p of params) if (percentDecode(p.name).toLowerCase() === key) return p.value;
  return undefined;
}

function paramValueEquals(a: string | null, b: string | null | undefined): boolean {
  if (b === undefined) return false;
  if (a === null || b === null) return a === b;
  return percentDecode(a).toLowerCase() === percentDecode(b).toLowerCase();
}

function decodeOpt(s: string | undefined): string | undefined {
  return s === undefined ? undefined : percentDecode(s);
}

/** Index of the scheme's colon; throws when `text` does not start with `scheme ":"`. */
function schemeEnd(text: string): number {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  const first = text.charCodeAt(0);
  if (!((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) {
    throw new SipParseError(text ? `URI must start with a scheme, found ${describe(text, 0)}` : 'empty URI', { offset: 0 });
  }
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) return i;
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
    if (!ok) throw new SipParseError(`invalid character ${describe(text, i)} in URI scheme`, { offset: i });
  }
  throw new SipParseError('URI has no scheme (missing ":")', { offset: text.length });
}

function checkParamPart(text: string, from: number, to: number, what: string): string {
  if (from === to) throw new SipParseError(`empty ${what}`, { offset: from });
  const bad = firstInvalid(text, UNRESERVED | PARAM_UNRESERVED, from, to);
  if (bad >= 0) throw new SipParseError(`invalid character ${describe(text, bad)} in ${what}`, { offset: bad });
  return text.slice(from, to);
}

function parsePort(digits: string, offset: number): number {
  if (digits.length === 0 || digits.length > 5) throw new SipParseError('invalid port', { offset });
  const port = Number(digits);
  if (port > 65535) throw new SipParseError(`port ${port} out of range`, { offset });
  return port;
}

/** A printable description of the character at `i` for error messages. */
export function describe(text: string, i: number): string {
  const c = text.charCodeAt(i);
  if (Number.isNaN(c)) return 'end of text';
  if (c < 0x20 || c === 0x7f) return `control character 0x${c.toString(16).padStart(2, '0')}`;
  return `"${text[i]}"`;
}
