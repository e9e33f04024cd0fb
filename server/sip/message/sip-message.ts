/**
 * The SIP message model shared by every part of the server stack (RFC 3261 §7).
 *
 * A message keeps its headers as an ordered list of (canonical name, raw value) pairs, so that a proxy
 * forwards what it did not touch byte for byte, and parses structured values (URIs, Via, name-addr) only
 * when asked. The body is raw bytes; Content-Length always counts bytes (RFC 3261 §20.14).
 */
import type { Via } from './via';

/** Compact header forms (RFC 3261 §7.3.3 and the registries of later RFCs) → canonical long names. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

/** Canonical spelling of well-known header names; others keep the spelling they arrived with. */
const CANONICAL: ReadonlyMap<string, string> = new Map(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
    'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
    'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'Contribution-ID', 'Conversation-ID',
    'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From', 'In-Reply-To', 'InReplyTo-Contribution-ID',
    'Max-Forwards', 'Min-Expires', 'Min-SE', 'MIME-Version', 'Organization', 'P-Asserted-Identity', 'Path',
    'Priority', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Reason', 'Record-Route', 'Refer-To',
    'Referred-By', 'Reject-Contact', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route',
    'Server', 'Session-Expires', 'Subject', 'Subscription-State', 'Supported', 'Target-Dialog', 'Timestamp', 'To',
    'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Identity', 'Flow-Timer',
  ].map((n) => [n.toLowerCase(), n]),
);

/** Headers whose values may be comma-separated lists (RFC 3261 §7.3.1); others are single-valued. */
const LIST_HEADERS: ReadonlySet<string> = new Set(
  [
    'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'alert-info', 'allow', 'allow-events',
    'call-info', 'contact', 'content-encoding', 'content-language', 'error-info', 'in-reply-to', 'path',
    'p-asserted-identity', 'proxy-require', 'record-route', 'reject-contact', 'require', 'route', 'supported',
    'unsupported', 'via', 'warning',
  ],
);

/** What the message layer knows about one header name as spelled on the wire. */
interface NameInfo {
  /** The canonical spelling (compact forms expanded, known names re-cased, others as received). */
  readonly canonical: string;
  /** The lower-cased canonical name: the comparison key (header names are case-insensitive, §7.3.1). */
  readonly key: string;
  /** Whether the header's grammar is a comma-separated list. */
  readonly list: boolean;
  /** Whether the name is a token (§7.3.1: header names are tokens). */
  readonly token: boolean;
}

/**
 * Name → what we know about it. Header names repeat across messages (a few dozen spellings in practice), so
 * every lookup after the first is one Map hit; the cache is bounded so that an attacker who sends random
 * names cannot grow it without limit.
 */
const NAME_CACHE = new Map<string, NameInfo>();
const NAME_CACHE_LIMIT = 2048;

function nameInfo(name: string): NameInfo {
  const cached = NAME_CACHE.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const canonical = COMPACT_FORMS[lower] ?? CANONICAL.get(lower) ?? name;
  const key = canonical.toLowerCase();
  const info: NameInfo = { canonical, key, list: LIST_HEADERS.has(key), token: isTokenName(name) };
  if (NAME_CACHE.size < NAME_CACHE_LIMIT) NAME_CACHE.set(name, info);
  return info;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") (RFC 3261 §25.1). */
function isTokenName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
      || c === 0x2d || c === 0x2e || c === 0x21 || c === 0x25 || c === 0x2a || c === 0x5f || c === 0x2b
      || c === 0x60 || c === 0x27 || c === 0x7e;
    if (!ok) return false;
  }
  return true;
}

/** The canonical name for a header name as received (compact forms expanded, known names re-cased). */
export function canonicalHeaderName(name: string): string {
  return nameInfo(name).canonical;
}

/** True when the header's grammar allows a comma-separated list of values. */
export function isListHeader(name: string): boolean {
  return nameInfo(name).list;
}

/**
 * Split a header value at top-level commas: commas inside quoted strings or `<…>` do not split
 * (RFC 3261 §7.3.1). Surrounding whitespace is trimmed; empty elements are dropped.
 */
export function splitHeaderList(value: string): string[] {
  if (value.indexOf(',') < 0) {
    const only = value.trim();
    return only ? [only] : [];
  }
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (inQuotes) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inQuotes = false;
    } else if (ch === 0x22) inQuotes = true;
    else if (ch === 0x3c /* < */) inAngle = true;
    else if (ch === 0x3e /* > */) inAngle = false;
    else if (ch === 0x2c /* , */ && !inAngle) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** One header line as it stands in the message (the name canonicalized, the value unfolded). */
export interface SipHeader {
  name: string;
  value: string;
}

/**
 * Ordered, case-insensitive header collection. Repeated headers are kept as separate entries in arrival
 * order; `values()` also splits comma-separated lists so that `Via: a, b` and two `Via` lines read alike.
 *
 * Every line is checked when it enters the collection: the name must be a token and the value must not
 * contain CR or LF (either would let a value forge header lines, RFC 3261 §7.3.1). A `TypeError` says
 * which. So a serializer can trust what it iterates, and the lines it yields are read-only.
 */
export class SipHeaders implements Iterable<Readonly<SipHeader>> {
  private readonly list: SipHeader[] = [];
  /** `keys[i]` is the comparison key of `list[i]` (lower-cased canonical name). */
  private readonly keys: string[] = [];
  /**
   * @internal The topmost Via parsed (`via`), with the first Via line it was read from (`line`) and its own text
   * in that line (`text`; the whole line unless the line lists several): see `via-routing.ts` `topVia`. Kept on
   * the message itself, since every layer reads it, rather than in a WeakMap entry per message.
   */
  topViaMemo: { readonly line: string; readonly text: string; readonly via: Via } | undefined = undefined;

  constructor(entries?: Iterable<SipHeader>) {
    if (entries) for (const e of entries) this.append(e.name, e.value);
  }

  /** Number of header lines. */
  get size(): number {
    return this.list.length;
  }

  [Symbol.iterator](): Iterator<Readonly<SipHeader>> {
    return this.list[Symbol.iterator]();
  }

  has(name: string): boolean {
    return this.keys.includes(nameInfo(name).key);
  }

  /** The first line's whole value, or undefined. */
  get(name: string): string | undefined {
    const at = this.keys.indexOf(nameInfo(name).key);
    return at < 0 ? undefined : this.list[at]!.value;
  }

  /** Number of lines of `name` (what `getAll(name).length` says, without building the array). */
  count(name: string): number {
    const key = nameInfo(name).key;
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === key) n++;
    return n;
  }

  /** Every line's whole value, in order (lists not split). */
  getAll(name: string): string[] {
    const key = nameInfo(name).key;
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === key) out.push(this.list[i]!.value);
    return out;
  }

  /** Every value in order, comma-separated lists split for list headers (Via, Route, Contact…). */
  values(name: string): string[] {
    const lines = this.getAll(name);
    if (!nameInfo(name).list) return lines;
    const out: string[] = [];
    for (const line of lines) out.push(...splitHeaderList(line));
    return out;
  }

  /** The first value of a list header (the topmost Via or Route), or undefined. */
  first(name: string): string | undefined {
    const line = this.get(name);
    if (line === undefined) return undefined;
    return nameInfo(name).list ? splitHeaderList(line)[0] : line;
  }

  /** Replace every line of `name` with one line, where the first of them stood (else at the end). */
  set(name: string, value: string): this {
    const info = checkedName(name);
    checkValue(value, info.canonical);
    const at = this.keys.indexOf(info.key);
    this.remove(name);
    const line = { name: info.canonical, value };
    if (at < 0) {
      this.list.push(line);
      this.keys.push(info.key);
    } else {
      // lines before `at` are never of this name, so `at` is still the right place after remove()
      this.list.splice(at, 0, line);
      this.keys.splice(at, 0, info.key);
    }
    return this;
  }

  /** Add a line after every other. */
  append(name: string, value: string): this {
    const info = checkedName(name);
    checkValue(value, info.canonical);
    this.list.push({ name: info.canonical, value });
    this.keys.push(info.key);
    return this;
  }

  /** Add a line before the first line of the same name (or at the top): how a proxy adds Via / Record-Route. */
  prepend(name: string, value: string): this {
    const info = checkedName(name);
    checkValue(value, info.canonical);
    const found = this.keys.indexOf(info.key);
    const at = found < 0 ? 0 : found;
    this.list.splice(at, 0, { name: info.canonical, value });
    this.keys.splice(at, 0, info.key);
    return this;
  }

  /** Remove every line of `name`; returns how many were removed. */
  remove(name: string): number {
    const key = nameInfo(name).key;
    let removed = 0;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] === key) {
        this.list.splice(i, 1);
        this.keys.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Remove the first value of a list header (the topmost Via or Route) and return it. A line holding
   * a comma-separated list keeps its remaining values.
   */
  shift(name: string): string | undefined {
    const at = this.keys.indexOf(nameInfo(name).key);
    if (at < 0) return undefined;
    const line = this.list[at]!;
    const parts = splitHeaderList(line.value);
    const head = parts.shift();
    if (parts.length === 0) {
      this.list.splice(at, 1);
      this.keys.splice(at, 1);
    } else {
      this.list[at] = { name: line.name, value: parts.join(', ') };
    }
    return head;
  }

  /**
   * Replace the first value of a list header (the topmost Via) with `value`, every other value and line kept
   * where it stands: `shift` then `prepend`, in place when that first line holds one value only.
   */
  replaceFirst(name: string, value: string): this {
    const info = checkedName(name);
    checkValue(value, info.canonical);
    const at = this.keys.indexOf(info.key);
    const line = at < 0 ? undefined : this.list[at]!;
    if (line !== undefined && line.value.indexOf(',') < 0) {
      this.list[at] = { name: line.name, value };
      return this;
    }
    this.shift(name);
    return this.prepend(name, value);
  }

  clone(): SipHeaders {
    const copy = new SipHeaders();
    for (let i = 0; i < this.list.length; i++) {
      const line = this.list[i]!;
      copy.list.push({ name: line.name, value: line.value });
      copy.keys.push(this.keys[i]!);
    }
    return copy;
  }

  /**
   * Append a line without the checks of {@link append}: for the message parser only, which has already
   * read the name as a token and split the value at CRLF (and leaves out any value holding a bare CR
   * or LF). Anyone else must use `append`.
   */
  static appendParsed(headers: SipHeaders, name: string, value: string): void {
    const info = nameInfo(name);
    headers.list.push({ name: info.canonical, value });
    headers.keys.push(info.key);
  }
}

function checkedName(name: string): NameInfo {
  const info = nameInfo(name);
  if (!info.token) throw new TypeError(`header name "${name.length > 40 ? `${name.slice(0, 40)}…` : name}" is not a token (RFC 3261 §7.3.1)`);
  return info;
}

function checkValue(value: string, name: string): void {
  if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) throw new TypeError(`${name} value contains CR or LF`);
}

/** A SIP request (RFC 3261 §7.1). `uri` is the Request-URI as text; parse it with `parseUri` when needed. */
export interface SipRequest {
  readonly type: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Uint8Array;
}

/** A SIP response (RFC 3261 §7.2). */
export interface SipResponse {
  readonly type: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Uint8Array;
}

export type SipMessage = SipRequest | SipResponse;

const EMPTY = new Uint8Array(0);

/** Build a request; the body may be text (encoded as UTF-8) or bytes. */
export function createRequest(method: string, uri: string, headers?: Iterable<SipHeader>, body?: string | Uint8Array): SipRequest {
  return { type: 'request', method, uri, headers: new SipHeaders(headers), body: toBytes(body) };
}

/** Build a response; the body may be text (encoded as UTF-8) or bytes. */
export function createResponse(status: number, reason: string, headers?: Iterable<SipHeader>, body?: string | Uint8Array): SipResponse {
  return { type: 'response', status, reason, headers: new SipHeaders(headers), body: toBytes(body) };
}

function toBytes(body: string | Uint8Array | undefined): Uint8Array {
  if (body === undefined) return EMPTY;
  return typeof body === 'string' ? new TextEncoder().encode(body) : body;
}

/** The body as UTF-8 text. */
export function bodyText(message: SipMessage): string {
  return new TextDecoder().decode(message.body);
}

/** Default reason phrases (RFC 3261 §21 and the extensions this project speaks). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy', 380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 412: 'Conditional Request Failed', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required',
  422: 'Session Interval Too Small', 423: 'Interval Too Brief', 429: 'Provide Referrer Identity',
  430: 'Flow Failed', 433: 'Anonymity Disallowed', 439: 'First Hop Lacks Outbound Support',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

/** The reason phrase for a status code, falling back to the class's generic phrase. */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? REASON_PHRASES[Math.floor(status / 100) * 100] ?? 'Unknown';
}
