/**
 * The SIP message model shared by every part of the server stack (RFC 3261 §7).
 *
 * A message keeps its headers as an ordered list of (canonical name, raw value) pairs, so that a proxy
 * forwards what it did not touch byte for byte, and parses structured values (URIs, Via, name-addr) only
 * when asked. The body is raw bytes; Content-Length always counts bytes (RFC 3261 §20.14).
 */

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

/** The canonical name for a header name as received (compact forms expanded, known names re-cased). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const long = COMPACT_FORMS[lower];
  if (long !== undefined) return long;
  return CANONICAL.get(lower) ?? name;
}

/** True when the header's grammar allows a comma-separated list of values. */
export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(canonicalHeaderName(name).toLowerCase());
}

/**
 * Split a header value at top-level commas: commas inside quoted strings or `<…>` do not split
 * (RFC 3261 §7.3.1). Surrounding whitespace is trimmed; empty elements are dropped.
 */
export function splitHeaderList(value: string): string[] {
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
 */
export class SipHeaders implements Iterable<SipHeader> {
  private readonly list: SipHeader[] = [];

  constructor(entries?: Iterable<SipHeader>) {
    if (entries) for (const e of entries) this.append(e.name, e.value);
  }

  /** Number of header lines. */
  get size(): number {
    return this.list.length;
  }

  [Symbol.iterator](): Iterator<SipHeader> {
    return this.list[Symbol.iterator]();
  }

  has(name: string): boolean {
    const key = canonicalHeaderName(name).toLowerCase();
    return this.list.some((h) => h.name.toLowerCase() === key);
  }

  /** The first line's whole value, or undefined. */
  get(name: string): string | undefined {
    const key = canonicalHeaderName(name).toLowerCase();
    for (const h of this.list) if (h.name.toLowerCase() === key) return h.value;
    return undefined;
  }

  /** Every line's whole value, in order (lists not split). */
  getAll(name: string): string[] {
    const key = canonicalHeaderName(name).toLowerCase();
    const out: string[] = [];
    for (const h of this.list) if (h.name.toLowerCase() === key) out.push(h.value);
    return out;
  }

  /** Every value in order, comma-separated lists split for list headers (Via, Route, Contact…). */
  values(name: string): string[] {
    const lines = this.getAll(name);
    if (!isListHeader(name)) return lines;
    const out: string[] = [];
    for (const line of lines) out.push(...splitHeaderList(line));
    return out;
  }

  /** The first value of a list header (the topmost Via or Route), or undefined. */
  first(name: string): string | undefined {
    const line = this.get(name);
    if (line === undefined) return undefined;
    return isListHeader(name) ? splitHeaderList(line)[0] : line;
  }

  /** Replace every line of `name` with one line. */
  set(name: string, value: string): this {
    const canonical = canonicalHeaderName(name);
    const key = canonical.toLowerCase();
    const at = this.list.findIndex((h) => h.name.toLowerCase() === key);
    this.remove(name);
    if (at < 0) this.list.push({ name: canonical, value });
    else this.list.splice(Math.min(at, this.list.length), 0, { name: canonical, value });
    return this;
  }

  /** Add a line after every other. */
  append(name: string, value: string): this {
    this.list.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Add a line before the first line of the same name (or at the top): how a proxy adds Via / Record-Route. */
  prepend(name: string, value: string): this {
    const canonical = canonicalHeaderName(name);
    const key = canonical.toLowerCase();
    const at = this.list.findIndex((h) => h.name.toLowerCase() === key);
    this.list.splice(at < 0 ? 0 : at, 0, { name: canonical, value });
    return this;
  }

  /** Remove every line of `name`; returns how many were removed. */
  remove(name: string): number {
    const key = canonicalHeaderName(name).toLowerCase();
    let removed = 0;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i]!.name.toLowerCase() === key) {
        this.list.splice(i, 1);
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
    const key = canonicalHeaderName(name).toLowerCase();
    const at = this.list.findIndex((h) => h.name.toLowerCase() === key);
    if (at < 0) return undefined;
    const line = this.list[at]!;
    const parts = splitHeaderList(line.value);
    const head = parts.shift();
    if (parts.length === 0) this.list.splice(at, 1);
    else line.value = parts.join(', ');
    return head;
  }

  clone(): SipHeaders {
    return new SipHeaders(this.list.map((h) => ({ ...h })));
  }
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
