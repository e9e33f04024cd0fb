/**
 * Parse one SIP message from bytes (RFC 3261 §7, §25).
 *
 * The parser is byte-exact and lazy: it checks the start line, splits and unfolds header lines (§7.3.1),
 * expands compact names (§7.3.3), and takes exactly Content-Length bytes of body (§18.3, §20.14). Header
 * values stay raw text; structured values are parsed on demand (`parseVia`, `parseNameAddr`, …) or by
 * `checkRequest`. On an error it still reports what it understood (request or response, method, the
 * well-formed header lines) so that a server can answer a broken request with 400 (RFC 4475 §3.1.2).
 *
 * Semantics are those of a whole datagram or WebSocket message: bytes beyond Content-Length are
 * discarded (§18.3), and a missing Content-Length means "the rest is the body" (RFC 2543 compatibility,
 * RFC 4475 §3.4). Streams are framed first by `SipStreamFramer`.
 */
import { isTokenCode } from './abnf';
import { SipParseError } from './parse-error';
import { type SipMessage, SipHeaders } from './sip-message';
import { clip, parseUri } from './sip-uri';

/** Options of {@link parseMessage}. */
export interface ParseOptions {
  /**
   * What to do with bytes after the body: `'discard'` (UDP, RFC 3261 §18.3; the default) or `'reject'`
   * (a WebSocket message carries exactly one SIP message, RFC 7118 §5.3).
   */
  trailing?: 'discard' | 'reject';
}

const CR = 0x0d;
const LF = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

/** Parse one message. Throws {@link SipParseError} with the partial information described above. */
export function parseMessage(bytes: Uint8Array, options: ParseOptions = {}): SipMessage {
  let start = 0;
  let line = 1;
  // §7.5: ignore CRLFs before the start line.
  while (start + 1 < bytes.length && bytes[start] === CR && bytes[start + 1] === LF) {
    start += 2;
    line++;
  }
  const headEnd = findHeaderEnd(bytes, start);
  if (headEnd < 0) {
    throw new SipParseError(start >= bytes.length ? 'empty message' : 'no empty line ends the header section', { offset: bytes.length });
  }
  const text = decodeHead(bytes, start, headEnd);
  const head = parseHead(text, start, line);
  const bodyStart = headEnd + 4;
  const available = bytes.length - bodyStart;
  let length = available;
  if (head.contentLength !== undefined) {
    length = head.contentLength;
    if (length > available) {
      throw head.fail(`Content-Length ${length} exceeds the ${available} bytes of body received`, bodyStart, 400);
    }
    if (length < available && options.trailing === 'reject') {
      throw head.fail(`${available - length} bytes follow the body announced by Content-Length`, bodyStart + length, 400);
    }
  }
  // a copy (Uint8Array#slice even on a Node Buffer, whose own slice() would share memory)
  const body = length === 0 ? EMPTY : Uint8Array.prototype.slice.call(bytes, bodyStart, bodyStart + length);
  if (head.request) {
    return { type: 'request', method: head.request.method, uri: head.request.uri, headers: head.headers, body };
  }
  return { type: 'response', status: head.response!.status, reason: head.response!.reason, headers: head.headers, body };
}

/** Parse a message from text (encoded as UTF-8 first). */
export function parseMessageText(text: string, options?: ParseOptions): SipMessage {
  return parseMessage(new TextEncoder().encode(text), options);
}

/** Index of the CRLFCRLF that ends the header section (the index of its first CR), or -1. */
export function findHeaderEnd(bytes: Uint8Array, from: number): number {
  let i = bytes.indexOf(LF, from + 1);
  while (i >= 0 && i + 2 < bytes.length) {
    if (bytes[i - 1] === CR && bytes[i + 1] === CR && bytes[i + 2] === LF) return i - 1;
    i = bytes.indexOf(LF, i + 1);
  }
  return -1;
}

/**
 * Read the Content-Length of a header section (bytes `from`..`to`, excluding the final CRLFCRLF) without
 * parsing the rest: what a stream framer needs. Returns undefined when absent; throws
 * {@link SipParseError} when repeated or not a number.
 */
export function scanContentLength(bytes: Uint8Array, from: number, to: number): number | undefined {
  const text = decodeHead(bytes, from, to);
  let found: number | undefined;
  let pos = 0;
  while (pos < text.length) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', pos);
    if (colon > pos && colon < eol) {
      const name = text.slice(pos, colon).trimEnd().toLowerCase();
      if (name === 'content-length' || name === 'l') {
        let value = text.slice(colon + 1, eol);
        // folded continuation lines belong to this value
        while (eol + 2 < text.length && (text.charCodeAt(eol + 2) === 0x20 || text.charCodeAt(eol + 2) === 0x09)) {
          const next = text.indexOf('\r\n', eol + 2);
          const end = next < 0 ? text.length : next;
          value += ' ' + text.slice(eol + 2, end);
          eol = end;
        }
        if (found !== undefined) throw new SipParseError('more than one Content-Length header (RFC 4475 §3.3.9)', { offset: from + pos });
        found = contentLengthValue(value.trim(), from + pos);
      }
    }
    pos = eol + 2;
  }
  return found;
}

interface Head {
  request?: { method: string; uri: string };
  response?: { status: number; reason: string };
  headers: SipHeaders;
  contentLength: number | undefined;
  fail(reason: string, offset: number, status: 400 | 505): SipParseError;
}

function decodeHead(bytes: Uint8Array, from: number, to: number): string {
  try {
    return decoder.decode(bytes.subarray(from, to));
  } catch {
    throw new SipParseError('header section is not valid UTF-8', { offset: firstInvalidUtf8(bytes, from, to) });
  }
}

/** Parse the start line and headers (text starts at byte `base` of the message, on line `firstLine`). */
function parseHead(text: string, base: number, firstLine: number): Head {
  return new HeadParser(text, base, firstLine).run();
}

/**
 * One pass over a header section. A class rather than closures: no per-message function objects.
 * The first problem found is remembered and parsing goes on, so that the error carries every
 * well-formed header line.
 */
class HeadParser implements Head {
  readonly headers = new SipHeaders();
  private errorReason: string | undefined;
  private errorIndex = 0;
  private errorStatus: 400 | 505 = 400;
  private isRequest: boolean | undefined;
  private method: string | undefined;
  request: Head['request'];
  response: Head['response'];
  contentLength: number | undefined;
  private contentLengthCount = 0;
  private name: string | undefined;
  private value = '';
  private nameIndex = 0;
  private hasBareCrOrLf = false;

  constructor(private readonly text: string, private readonly base: number, private readonly firstLine: number) {}

  run(): Head {
    const text = this.text;
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    this.startLine(text.slice(0, eol));
    const bare = firstBareCrOrLf(text);
    if (bare >= 0) {
      this.hasBareCrOrLf = true;
      this.note('bare CR or LF inside a header line', bare);
    }
    let pos = eol + 2;
    while (pos < text.length) {
      let end = text.indexOf('\r\n', pos);
      if (end < 0) end = text.length;
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09) {
        // folded continuation (LWS = [*WSP CRLF] 1*WSP): equivalent to one SP
        const more = trimWsp(text, pos, end);
        if (this.name === undefined) this.note('continuation line before any header', pos);
        else if (more) this.value = this.value ? `${this.value} ${more}` : more;
      } else {
        this.flush();
        this.headerLine(pos, end);
      }
      pos = end + 2;
    }
    this.flush();
    if (this.errorReason !== undefined) {
      throw new SipParseError(this.errorReason, {
        offset: this.base + byteLength(text, this.errorIndex), line: this.lineOf(this.errorIndex),
        isRequest: this.isRequest, method: this.method, headers: this.headers, status: this.errorStatus,
      });
    }
    // The parser is the head it read (no object or closure more per message).
    return this;
  }

  fail(reason: string, offset: number, status: 400 | 505): SipParseError {
    return new SipParseError(reason, { offset, isRequest: this.isRequest, method: this.method, headers: this.headers, status });
  }

  private note(reason: string, index: number, status: 400 | 505 = 400): void {
    if (this.errorReason !== undefined) return;
    this.errorReason = reason;
    this.errorIndex = index;
    this.errorStatus = status;
  }

  private startLine(line: string): void {
    if (line.length >= 4 && (line.charCodeAt(0) | 0x20) === 0x73 && (line.charCodeAt(1) | 0x20) === 0x69 && (line.charCodeAt(2) | 0x20) === 0x70 && line.charCodeAt(3) === 0x2f) {
      this.statusLine(line);
    } else {
      this.requestLine(line);
    }
  }

  /** Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2). */
  private statusLine(line: string): void {
    this.isRequest = false;
    const sp = line.indexOf(' ');
    const version = sp < 0 ? line : line.slice(0, sp);
    const code = sp < 0 ? '' : line.slice(sp + 1, sp + 4);
    const after = line.charCodeAt(sp + 4);
    if (!/^SIP\/2\.0$/i.test(version)) {
      this.note(`unsupported SIP version "${printable(clip(version))}" in status line`, 0);
    } else if (!/^[1-6][0-9][0-9]$/.test(code) || !(Number.isNaN(after) || after === 0x20)) {
      this.note('status code must be three digits from 100 to 699 (RFC 3261 §7.2)', sp + 1);
    } else {
      // Reason-Phrase is for humans: any text but control characters (tolerant of its stricter ABNF)
      const reason = Number.isNaN(after) ? '' : line.slice(sp + 5);
      const bad = controlIndex(reason);
      if (bad >= 0) this.note('control character in reason phrase', sp + 5 + bad);
      else this.response = { status: Number(code), reason };
    }
  }

  /** Request-Line = Method SP Request-URI SP SIP-Version, single spaces only (RFC 3261 §7.1, RFC 4475 §3.1.2.9). */
  private requestLine(line: string): void {
    const sp1 = line.indexOf(' ');
    const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    const m = sp1 < 0 ? line : line.slice(0, sp1);
    if (!isTokenString(m)) {
      this.note(m ? `invalid method "${printable(clip(m))}" in request line` : 'empty start line', 0);
      return;
    }
    this.isRequest = true;
    this.method = m;
    if (sp2 < 0) {
      this.note('request line must be "Method SP Request-URI SP SIP-Version" (RFC 3261 §7.1)', sp1 < 0 ? line.length : sp1);
      return;
    }
    const uri = line.slice(sp1 + 1, sp2);
    const version = line.slice(sp2 + 1);
    const versionMatch = /^SIP\/([0-9]+)\.([0-9]+)$/i.exec(version);
    if (uri.length === 0) this.note('extra whitespace in request line (RFC 4475 §3.1.2.9)', sp2);
    else if (!versionMatch) this.note(`invalid SIP-Version "${printable(clip(version))}" at the end of the request line`, sp2 + 1);
    else if (Number(versionMatch[1]) !== 2 || Number(versionMatch[2]) !== 0) this.note(`SIP version ${clip(version)} is not supported`, sp2 + 1, 505);
    else {
      try {
        parseUri(uri);
        this.request = { method: m, uri };
      } catch (e) {
        if (!(e instanceof SipParseError)) throw e;
        this.note(`invalid Request-URI: ${e.reason}`, sp1 + 1 + (e.offset ?? 0));
      }
    }
  }

  /** header = field-name *(SP / HTAB) ":" SWS value (RFC 3261 §7.3.1). */
  private headerLine(pos: number, end: number): void {
    const text = this.text;
    let i = pos;
    while (i < end && isTokenCode(text.charCodeAt(i))) i++;
    const nameEnd = i;
    while (i < end && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
    if (nameEnd === pos) {
      this.note(`header line must start with a header name, found "${printable(clip(text.slice(pos, end)))}"`, pos);
    } else if (i >= end || text.charCodeAt(i) !== 0x3a /* : */) {
      this.note(`expected ":" after header name "${clip(text.slice(pos, nameEnd))}"`, nameEnd);
    } else {
      this.name = text.slice(pos, nameEnd);
      this.nameIndex = pos;
      this.value = trimWsp(text, i + 1, end);
    }
  }

  /** Store the header being assembled; Content-Length is read on the way (one only, RFC 4475 §3.3.9). */
  private flush(): void {
    const name = this.name;
    if (name === undefined) return;
    const n = name.length;
    if ((n === 14 || n === 1) && (n === 1 ? (name.charCodeAt(0) | 0x20) === 0x6c : name.toLowerCase() === 'content-length')) {
      if (++this.contentLengthCount > 1) {
        this.note('more than one Content-Length header (RFC 4475 §3.3.9)', this.nameIndex);
      } else {
        try {
          this.contentLength = contentLengthValue(this.value, this.nameIndex);
        } catch (e) {
          if (!(e instanceof SipParseError)) throw e;
          this.note(e.reason, this.nameIndex);
        }
      }
    }
    // A value holding a bare CR or LF is left out: the message is refused anyway, and the headers that
    // come with the error must be safe to copy into a 400 (SipHeaders lines never hold CR or LF).
    if (!this.hasBareCrOrLf || !/[\r\n]/.test(this.value)) SipHeaders.appendParsed(this.headers, name, this.value);
    this.name = undefined;
  }

  private lineOf(index: number): number {
    let n = this.firstLine;
    for (let k = this.text.indexOf('\r\n'); k >= 0 && k < index; k = this.text.indexOf('\r\n', k + 2)) n++;
    return n;
  }
}

/** Index of the first CR not followed by LF or LF not preceded by CR, or -1. */
function firstBareCrOrLf(text: string): number {
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 0x0a) return i;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) if (text.charCodeAt(i - 1) !== 0x0d) return i;
  return -1;
}

function contentLengthValue(value: string, offset: number): number {
  if (!/^[0-9]+$/.test(value)) throw new SipParseError(`Content-Length must be a non-negative integer, found "${printable(clip(value))}"`, { offset });
  const digits = value.replace(/^0+(?=\d)/, '');
  if (digits.length > 15) throw new SipParseError(`Content-Length ${clip(digits)} is too large`, { offset });
  return Number(digits);
}

function isTokenString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenCode(s.charCodeAt(i))) return false;
  return true;
}

function trimWsp(text: string, from: number, to: number): string {
  while (from < to && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09)) from++;
  while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09)) to--;
  return text.slice(from, to);
}

function controlIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return i;
  }
  return -1;
}

function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** UTF-8 byte length of `text.slice(0, end)`. */
function byteLength(text: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Offset of the first byte that breaks UTF-8 in `bytes[from, to)`. */
function firstInvalidUtf8(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= to || (bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return from;
}
