/**
 * name-addr and addr-spec header values: From, To, Contact, Route, Record-Route, Refer-To, Referred-By,
 * P-Asserted-Identity… (RFC 3261 §20.10, §25.1).
 *
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *
 * Without angle brackets the URI ends at the first `;` (what follows are header parameters, not URI
 * parameters) and may not contain `,`, `;` or `?` (§20.10). A token display name may touch the `<`
 * (RFC 4475 §3.1.1.6 accepts `caller<sip:…>`).
 */
import { TOKEN, isClass, isWsp, quoteString, scanQuotedString, skipWsp } from './abnf';
import { type HeaderParam, getParam, scanHeaderParams, serializeHeaderParams } from './header-params';
import { SipParseError } from './parse-error';
import { type Uri, describe, parseUri, serializeUri } from './sip-uri';

/** A parsed name-addr or addr-spec with its header parameters. */
export interface NameAddr {
  /** The display name, unquoted (quoted-pairs resolved); undefined when there is none. */
  displayName: string | undefined;
  uri: Uri;
  /** The URI text exactly as it appeared (informational: serialization uses `uri`). */
  uriText: string;
  /** Whether the URI was enclosed in `<>`. */
  angleBrackets: boolean;
  /** Header parameters (tag, expires, q, +sip.instance…), raw and in order. */
  params: HeaderParam[];
}

/** Parse a single-valued name-addr header (From, To, Refer-To…). Throws {@link SipParseError}. */
export function parseNameAddr(text: string): NameAddr {
  const { value, end } = scanNameAddr(text, 0, false);
  if (end < text.length) throw new SipParseError(`unexpected ${describe(text, end)} after address`, { offset: end });
  return value;
}

/**
 * Parse a comma-separated list of name-addrs (Contact, Route, Record-Route, Path). Empty elements are an
 * error (the grammar has none). Throws {@link SipParseError}.
 */
export function parseNameAddrList(text: string): NameAddr[] {
  const out: NameAddr[] = [];
  let i = 0;
  for (;;) {
    const { value, end } = scanNameAddr(text, i, true);
    out.push(value);
    if (end >= text.length) return out;
    i = end + 1; // past the comma
  }
}

/** Parse a Contact header value: `*` (RFC 3261 §10.2.2, wildcard) or a list of name-addrs. */
export function parseContactList(text: string): NameAddr[] | '*' {
  if (text.trim() === '*') return '*';
  return parseNameAddrList(text);
}

/**
 * The values parsed lately by {@link sharedNameAddr} / {@link sharedContactList}. One received request has its
 * To, From and Contact read by several layers in turn (the UAS checks, the registrar's own checks, the
 * registrar), and a client's next request of the same transaction or dialog (a REGISTER answering its 401, an
 * INVITE answering its 407) repeats them moments later, with other clients' requests in between.
 *
 * A direct-mapped table of {@link SHARED_SLOTS} slots, chosen by a few characters of the text: one comparison
 * per lookup, a newer value replacing an older one in its slot. Plain arrays, not a Map: a Map whose entries come
 * and go thousands of times a second keeps what it held alive across young-generation collections (measured:
 * 1.3 MB surviving each scavenge instead of 0.1 MB, three times the pause).
 */
const SHARED_SLOTS = 64;

/** The slot of `text`: its length and characters where values of one kind differ (user part, port, tags). */
function slotOf(text: string): number {
  const n = text.length;
  let h = Math.imul(n, 0x01000193);
  h = mix(h, text, 5);
  h = mix(h, text, 9);
  h = mix(h, text, 12);
  h = mix(h, text, 16);
  h = mix(h, text, n >> 1);
  h = mix(h, text, n - 10);
  h = mix(h, text, n - 6);
  h = mix(h, text, n - 2);
  return (h >>> 0) & (SHARED_SLOTS - 1);
}

function mix(h: number, text: string, at: number): number {
  return Math.imul(h ^ (at >= 0 && at < text.length ? text.charCodeAt(at) : 0), 0x01000193);
}

class LastParsed<T> {
  private readonly texts: (string | undefined)[] = new Array<string | undefined>(SHARED_SLOTS).fill(undefined);
  private readonly values: (T | undefined)[] = new Array<T | undefined>(SHARED_SLOTS).fill(undefined);

  constructor(private readonly parse: (text: string) => T) {}

  get(text: string): T {
    const slot = slotOf(text);
    if (this.texts[slot] === text) return this.values[slot] as T;
    const value = this.parse(text); // throws before anything is remembered
    this.texts[slot] = text;
    this.values[slot] = value;
    return value;
  }
}

const lastNameAddrs = new LastParsed<Readonly<NameAddr>>(parseNameAddr);
const lastContactLists = new LastParsed<readonly Readonly<NameAddr>[] | '*'>(parseContactList);

/**
 * {@link parseNameAddr}, shared: a value parsed moments ago is not parsed again. The result may be handed to
 * other callers of this function: read it, never change it. Throws {@link SipParseError} like `parseNameAddr`.
 */
export function sharedNameAddr(text: string): Readonly<NameAddr> {
  return lastNameAddrs.get(text);
}

/** {@link parseContactList}, shared like {@link sharedNameAddr}: read the result, never change it. */
export function sharedContactList(text: string): readonly Readonly<NameAddr>[] | '*' {
  return lastContactLists.get(text);
}

/**
 * Serialize a name-addr from its parsed parts (so changes to `uri` or `params` show); angle brackets are
 * used when it had them, carries a display name, or the URI contains `;`, `,` or `?` (§20.10).
 */
export function serializeNameAddr(value: NameAddr): string {
  const uri = serializeUri(value.uri);
  const needsBrackets = value.angleBrackets || value.displayName !== undefined || /[;,?]/.test(uri);
  let out = '';
  if (value.displayName !== undefined) out += `${quoteString(value.displayName)} `;
  out += needsBrackets ? `<${uri}>` : uri;
  return out + serializeHeaderParams(value.params);
}

/** The `tag` parameter (RFC 3261 §19.3), or undefined. */
export function tagOf(value: NameAddr): string | undefined {
  const tag = getParam(value.params, 'tag');
  return tag ?? undefined;
}

/** Scan one name-addr/addr-spec from `i`; `end` is at the end of text or at the separating comma. */
function scanNameAddr(text: string, start: number, list: boolean): { value: NameAddr; end: number } {
  let i = skipWsp(text, start);
  if (i >= text.length || (list && text.charCodeAt(i) === 0x2c)) {
    throw new SipParseError(list ? 'empty element in address list' : 'empty address', { offset: i });
  }
  let displayName: string | undefined;
  let laquot = -1;
  if (text.charCodeAt(i) === 0x22 /* " */) {
    const q = scanQuotedString(text, i);
    displayName = q.value;
    i = skipWsp(text, q.end);
    if (text.charCodeAt(i) !== 0x3c) throw new SipParseError(`expected "<" after display name, found ${describe(text, i)}`, { offset: i });
    laquot = i;
  } else if (text.charCodeAt(i) === 0x3c /* < */) {
    laquot = i;
  } else {
    // *(token LWS) "<" — or else this is an addr-spec
    let j = i;
    while (j < text.length && (isClass(text.charCodeAt(j), TOKEN) || isWsp(text.charCodeAt(j)))) j++;
    if (text.charCodeAt(j) === 0x3c) {
      const name = text.slice(i, j).trim();
      if (name) displayName = name.replace(/[ \t]+/g, ' ');
      laquot = j;
    }
  }
  if (laquot >= 0) {
    const close = text.indexOf('>', laquot + 1);
    if (close < 0) throw new SipParseError('missing ">" after URI', { offset: laquot });
    const uriText = text.slice(laquot + 1, close);
    const uri = parseUriAt(uriText, laquot + 1);
    const params: HeaderParam[] = [];
    const end = scanHeaderParams(text, close + 1, params, list);
    return { value: { displayName, uri, uriText, angleBrackets: true, params }, end };
  }
  // addr-spec: the URI runs up to the first ";" / "," / whitespace
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 0x3b || c === 0x2c || isWsp(c)) break;
    j++;
  }
  const uriText = text.slice(i, j);
  if (uriText.includes('?')) {
    throw new SipParseError('a URI with embedded headers must be enclosed in "<>" (RFC 3261 §20.10)', { offset: i + uriText.indexOf('?') });
  }
  const uri = parseUriAt(uriText, i);
  const params: HeaderParam[] = [];
  const end = scanHeaderParams(text, j, params, list);
  return { value: { displayName: undefined, uri, uriText, angleBrackets: false, params }, end };
}

function parseUriAt(uriText: string, offset: number): Uri {
  try {
    return parseUri(uriText);
  } catch (e) {
    if (e instanceof SipParseError) throw new SipParseError(e.reason, { offset: offset + (e.offset ?? 0) });
    throw e;
  }
}
