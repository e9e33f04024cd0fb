/**
 * MSRP parser (RFC 4975 §7.1 framing, grammar §9), byte-exact and binary-safe.
 *
 * `MsrpStreamParser` takes bytes as they come off a connection, in pieces of any size, and returns the
 * complete messages. A body is everything between the blank line after the headers and the CRLF that
 * precedes `-------<transaction-id>` followed by a continuation flag and CRLF, so it may hold any bytes
 * except that end-line. Every size is bounded; input that breaks the grammar or a bound raises
 * `MsrpParseError`, after which the stream cannot be resynchronized and the owner must close it.
 */
import { ascii, indexOfBytes, latin1 } from '../common/bytes';
import { IDENT, MsrpHeaders, type ContinuationFlag, type MsrpMessage } from './msrp-message';

/** Why parsing failed. */
export type MsrpParseErrorCode = 'syntax' | 'header-too-large' | 'too-many-headers' | 'body-too-large' | 'closed';

/** Thrown for bytes that are not MSRP, or that exceed a bound. */
export class MsrpParseError extends Error {
  override readonly name = 'MsrpParseError';
  constructor(
    readonly code: MsrpParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Bounds on what one message may use. */
export interface MsrpParserLimits {
  /** Start line plus headers, in bytes. Default 16 KiB. */
  maxHeadBytes: number;
  /** The start line alone, CRLF included. Default 1 KiB (an ident is at most 32 bytes, RFC 4975 §9). */
  maxStartLineBytes: number;
  /** Header lines. Default 64. */
  maxHeaders: number;
  /** Body of one request (one chunk), in bytes. Default 1 MiB. */
  maxBodyBytes: number;
}

/** The default bounds. */
export const DEFAULT_PARSER_LIMITS: Readonly<MsrpParserLimits> = {
  maxHeadBytes: 16 * 1024,
  maxStartLineBytes: 1024,
  maxHeaders: 64,
  maxBodyBytes: 1024 * 1024,
};

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
/** Every message starts with these bytes (RFC 4975 §9 `req-start` / `resp-start`). */
const MSRP_PREFIX = ascii('MSRP ');
/** A body at least this large is handed out as a view of the receive buffer, which is then replaced. */
const ZERO_COPY_BODY_BYTES = 32 * 1024;
const INITIAL_BUFFER_BYTES = 64 * 1024;
/** Stretches of body at least this long are searched with `indexOfBytes` for the whole end marker. */
const LONG_SEARCH_BYTES = 1024;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

type Phase =
  | { kind: 'start' }
  | { kind: 'headers'; start: StartLine; headers: MsrpHeaders; headBytes: number }
  | {
      kind: 'body';
      start: StartLine & { kind: 'request' };
      headers: MsrpHeaders;
      bodyStart: number;
      searchFrom: number;
      /** Length of the end marker `CRLF -------<transaction-id>`. */
      markerLength: number;
      /** The end marker's bytes, made when a long stretch of body is searched. */
      endMarker: Uint8Array | undefined;
      /** The body length its Byte-Range announces, if it does. */
      declared: number | undefined;
    };

/** Where the buffer ends when it holds a body of announced length and its end-line, rounded up to 4 KiB. */
function bodyEnd(phase: Extract<Phase, { kind: 'body' }>): number {
  return Math.ceil((phase.bodyStart + phase.declared! + phase.markerLength + 3) / 4096) * 4096;
}

type StartLine =
  | { kind: 'request'; transactionId: string; method: string }
  | { kind: 'response'; transactionId: string; status: number; comment: string };

/** Incremental MSRP parser for one connection's byte stream. */
export class MsrpStreamParser {
  private readonly limits: MsrpParserLimits;
  private buf = new Uint8Array(INITIAL_BUFFER_BYTES);
  private len = 0;
  private pos = 0;
  private phase: Phase = { kind: 'start' };
  private failed: MsrpParseError | undefined;

  constructor(limits: Partial<MsrpParserLimits> = {}) {
    this.limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.len - this.pos;
  }

  /** Bytes the receive buffer can hold now (what this connection's parser costs in memory). */
  get capacity(): number {
    return this.buf.length;
  }

  /**
   * Feed bytes; returns the messages they complete, in order. Throws `MsrpParseError` on bad input;
   * after that every call throws the same error.
   */
  push(chunk: Uint8Array): MsrpMessage[] {
    if (this.failed) throw this.failed;
    this.append(chunk);
    const out: MsrpMessage[] = [];
    try {
      for (;;) {
        const message = this.step();
        if (message === null) break;
        if (message !== undefined) out.push(message);
      }
    } catch (e) {
      if (e instanceof MsrpParseError) this.failed = e;
      throw e;
    }
    return out;
  }

  /** One parsing step: a message, `undefined` (progress, no message yet) or `null` (need more bytes). */
  private step(): MsrpMessage | undefined | null {
    const phase = this.phase;
    if (phase.kind === 'body') return this.stepBody(phase);
    if (phase.kind === 'start') this.checkStartPrefix();
    const lineEnd = this.findLineEnd();
    if (lineEnd < 0) {
      const pending = this.len - this.pos + (phase.kind === 'headers' ? phase.headBytes : 0);
      if (phase.kind === 'start' && pending > this.limits.maxStartLineBytes) {
        throw new MsrpParseError('header-too-large', `MSRP start line exceeds ${this.limits.maxStartLineBytes} bytes`);
      }
      if (pending > this.limits.maxHeadBytes) throw new MsrpParseError('header-too-large', `MSRP head exceeds ${this.limits.maxHeadBytes} bytes`);
      return null;
    }
    if (phase.kind === 'start' && lineEnd + 2 - this.pos > this.limits.maxStartLineBytes) {
      throw new MsrpParseError('header-too-large', `MSRP start line exceeds ${this.limits.maxStartLineBytes} bytes`);
    }
    const line = decodeHeadLine(this.buf, this.pos, lineEnd);
    if (line.includes('\r')) throw new MsrpParseError('syntax', 'bare CR in MSRP head');
    const lineBytes = lineEnd + 2 - this.pos;
    this.pos = lineEnd + 2;
    if (phase.kind === 'start') {
      if (line === '') return undefined; // tolerate stray CRLF between messages
      this.phase = { kind: 'headers', start: parseStartLine(line), headers: new MsrpHeaders(), headBytes: lineBytes };
      return undefined;
    }
    phase.headBytes += lineBytes;
    if (phase.headBytes > this.limits.maxHeadBytes) throw new MsrpParseError('header-too-large', `MSRP head exceeds ${this.limits.maxHeadBytes} bytes`);
    const { start, headers } = phase;
    const tid = start.transactionId;
    if (line.startsWith('-------')) {
      if (line.length !== 8 + tid.length || line.slice(7, 7 + tid.length) !== tid) {
        throw new MsrpParseError('syntax', `end-line ${JSON.stringify(line.slice(0, 80))} does not match transaction ${tid}`);
      }
      const flag = line[line.length - 1]!;
      if (flag !== '$' && flag !== '+' && flag !== '#') throw new MsrpParseError('syntax', `bad continuation flag ${JSON.stringify(flag)}`);
      this.phase = { kind: 'start' };
      return finish(start, headers, undefined, flag);
    }
    if (line === '') {
      if (start.kind === 'response') throw new MsrpParseError('syntax', 'a response has no body (RFC 4975 §7.2)');
      const markerLength = 9 + tid.length;
      // A chunk's Byte-Range announces its length (RFC 4975 §7.1.1): the buffer grows to fit it, no further.
      const declared = declaredBodyLength(headers.get('Byte-Range'));
      const phase: Phase = { kind: 'body', start, headers, bodyStart: this.pos, searchFrom: this.pos, markerLength, endMarker: undefined, declared };
      this.phase = phase;
      if (declared !== undefined && declared >= ZERO_COPY_BODY_BYTES) this.roomForBody(phase);
      return undefined;
    }
    if (headers.size >= this.limits.maxHeaders) throw new MsrpParseError('too-many-headers', `more than ${this.limits.maxHeaders} headers`);
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!HEADER_NAME.test(name)) throw new MsrpParseError('syntax', `bad header line ${JSON.stringify(line.slice(0, 80))}`);
    headers.append(name, line.slice(colon + 1).trim());
    return undefined;
  }

  private stepBody(phase: Extract<Phase, { kind: 'body' }>): MsrpMessage | undefined | null {
    const m = phase.markerLength;
    // The body may be empty, in which case the CRLF of `data CRLF` directly follows the blank line.
    let at = Math.max(phase.bodyStart, phase.searchFrom);
    for (;;) {
      at = this.findMarker(phase, at);
      if (at < 0 || at + m + 3 > this.len) {
        // Resume at the marker found (its flag and CRLF are still to come) or where a partial one could begin.
        phase.searchFrom = at >= 0 ? at : Math.max(phase.bodyStart, this.len - m + 1);
        if (Math.min(this.len, phase.searchFrom) - phase.bodyStart > this.limits.maxBodyBytes) {
          throw new MsrpParseError('body-too-large', `MSRP body exceeds ${this.limits.maxBodyBytes} bytes`);
        }
        return null;
      }
      const flag = this.buf[at + m]!;
      if ((flag === 0x24 || flag === 0x2b || flag === 0x23) && this.buf[at + m + 1] === CR && this.buf[at + m + 2] === LF) {
        if (at - phase.bodyStart > this.limits.maxBodyBytes) {
          throw new MsrpParseError('body-too-large', `MSRP body exceeds ${this.limits.maxBodyBytes} bytes`);
        }
        this.pos = at + m + 3;
        this.phase = { kind: 'start' };
        const body = this.takeBody(phase.bodyStart, at);
        return finish(phase.start, phase.headers, body, String.fromCharCode(flag) as ContinuationFlag);
      }
      at++;
    }
  }

  /**
   * Where the end marker (`CRLF -------<transaction-id>`) first lies wholly in the received bytes at or after
   * `from`, or -1. Short stretches are searched CR by CR; long ones (large bodies) with `indexOfBytes`, which
   * uses the host's vectorized search where there is one.
   */
  private findMarker(phase: Extract<Phase, { kind: 'body' }>, from: number): number {
    const m = phase.markerLength;
    const buf = this.buf;
    const end = this.len;
    const tid = phase.start.transactionId;
    // A short body ends at one of the first CRs; what follows it in the buffer belongs to later messages.
    if (end - from < LONG_SEARCH_BYTES || (phase.declared !== undefined && phase.declared < LONG_SEARCH_BYTES)) {
      for (let at = buf.indexOf(CR, from); at >= 0 && at + m <= end; at = buf.indexOf(CR, at + 1)) if (this.endMarkerAt(tid, at)) return at;
      return -1;
    }
    return indexOfBytes(buf, (phase.endMarker ??= ascii(`\r\n-------${tid}`)), from, end);
  }

  /**
   * The body bytes [start, end). A large body is a view of the receive buffer, which the parser then gives
   * up for a fresh one holding what follows the message: no copy of the body, and it is never overwritten.
   */
  private takeBody(start: number, end: number): Uint8Array {
    if (end - start < ZERO_COPY_BODY_BYTES) return this.buf.slice(start, end);
    const body = this.buf.subarray(start, end);
    const rest = this.buf.subarray(this.pos, this.len);
    this.buf = new Uint8Array(Math.max(INITIAL_BUFFER_BYTES, rest.length));
    this.buf.set(rest);
    this.len = rest.length;
    this.pos = 0;
    return body;
  }

  /**
   * Reject at once what cannot become a start line: after optional CRLFs, the first five bytes must be
   * `MSRP ` (RFC 4975 §9), so a peer speaking another protocol is refused without waiting for a line end.
   */
  private checkStartPrefix(): void {
    let at = this.pos;
    while (at + 1 < this.len && this.buf[at] === CR && this.buf[at + 1] === LF) at += 2; // stray CRLFs are skipped
    if (at + 1 === this.len && this.buf[at] === CR) return; // perhaps another stray CRLF
    const n = Math.min(MSRP_PREFIX.length, this.len - at);
    for (let i = 0; i < n; i++) {
      if (this.buf[at + i] !== MSRP_PREFIX[i]) throw new MsrpParseError('syntax', `not an MSRP start line: ${JSON.stringify(latin1(this.buf, at, at + n))}`);
    }
  }

  /** Whether `CRLF -------<tid>` starts at `at` (the caller made sure it fits in the received bytes). */
  private endMarkerAt(tid: string, at: number): boolean {
    const buf = this.buf;
    if (buf[at] !== CR || buf[at + 1] !== LF) return false;
    for (let i = at + 2; i < at + 9; i++) if (buf[i] !== DASH) return false;
    for (let i = 0; i < tid.length; i++) if (buf[at + 9 + i] !== tid.charCodeAt(i)) return false;
    return true;
  }

  /** Index of the CR of the next CRLF at or after `pos`, or -1. A bare CR or LF is a syntax error. */
  private findLineEnd(): number {
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0 || lf >= this.len) return -1;
    if (lf === this.pos || this.buf[lf - 1] !== CR) throw new MsrpParseError('syntax', 'bare LF in MSRP head');
    return lf - 1;
  }

  private append(chunk: Uint8Array): void {
    if (this.pos > 0 && (this.pos === this.len || this.len + chunk.length > this.buf.length)) this.compact();
    this.reserve(this.len + chunk.length);
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    // Bytes past `len` from an earlier, longer fill must not be mistaken for data by indexOf: callers bound by len.
  }

  /**
   * Make the buffer hold at least `size` bytes (from index 0), keeping its content. It doubles, but never
   * past the end of a body of announced length: a large chunk then lies in a buffer of its own size, which
   * `takeBody` hands out as it is. Once an eighth of such a body is here, it makes room for the rest at once:
   * doubling up to it would allocate it two or three times over and copy what arrived each time (for a 256 KiB
   * chunk read 64 KiB at a time, 448 KiB of copies). Growth follows the bytes that arrived (within eight times
   * them), not what a peer announced.
   */
  private reserve(size: number): void {
    if (size <= this.buf.length) return;
    let grown = this.buf.length;
    while (grown < size) grown *= 2;
    const phase = this.phase;
    if (phase.kind === 'body' && phase.declared !== undefined) {
      const end = bodyEnd(phase);
      grown = Math.max(size, end <= 8 * size ? end : Math.min(grown, end));
    }
    const next = new Uint8Array(grown);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A long body of announced length begins: if an eighth of it is here, make room for all of it now (see `reserve`). */
  private roomForBody(phase: Extract<Phase, { kind: 'body' }>): void {
    if ((this.len - phase.bodyStart) * 8 < phase.declared!) return;
    if (this.pos > 0) this.compact();
    this.reserve(bodyEnd(phase));
  }

  private compact(): void {
    const shift = this.pos;
    this.buf.copyWithin(0, shift, this.len);
    this.len -= shift;
    this.pos = 0;
    if (this.phase.kind === 'body') {
      this.phase.bodyStart -= shift;
      this.phase.searchFrom -= shift;
    }
    // Shrink a buffer grown for one large body once it is no longer needed.
    if (this.buf.length > 256 * 1024 && this.len < 64 * 1024) {
      const small = new Uint8Array(64 * 1024);
      small.set(this.buf.subarray(0, this.len));
      this.buf = small;
    }
  }
}

/**
 * Parse exactly one complete message from `bytes` (for tests and tools). Throws `MsrpParseError` when
 * the bytes are not exactly one message.
 */
export function parseMsrpMessage(bytes: Uint8Array, limits?: Partial<MsrpParserLimits>): MsrpMessage {
  const parser = new MsrpStreamParser(limits);
  const messages = parser.push(bytes);
  if (messages.length !== 1 || parser.bufferedBytes !== 0) {
    throw new MsrpParseError('syntax', `expected one complete MSRP message, got ${messages.length} and ${parser.bufferedBytes} trailing bytes`);
  }
  return messages[0]!;
}

function parseStartLine(line: string): StartLine {
  const m = /^MSRP ([^ ]+) ([^ ]+)(?: (.*))?$/.exec(line);
  if (!m) throw new MsrpParseError('syntax', `bad MSRP start line ${JSON.stringify(line.slice(0, 80))}`);
  const transactionId = m[1]!;
  if (!IDENT.test(transactionId)) throw new MsrpParseError('syntax', `bad transaction id ${JSON.stringify(transactionId.slice(0, 40))}`);
  const word = m[2]!;
  if (/^\d{3}$/.test(word)) {
    return { kind: 'response', transactionId, status: Number(word), comment: m[3] ?? '' };
  }
  if (!/^[A-Z]+$/.test(word) || m[3] !== undefined) throw new MsrpParseError('syntax', `bad MSRP method ${JSON.stringify(word.slice(0, 40))}`);
  return { kind: 'request', transactionId, method: word };
}

function finish(start: StartLine, headers: MsrpHeaders, body: Uint8Array | undefined, flag: ContinuationFlag): MsrpMessage {
  if (start.kind === 'response') {
    if (flag !== '$') throw new MsrpParseError('syntax', 'a response ends with $ (RFC 4975 §7.2)');
    return { kind: 'response', transactionId: start.transactionId, status: start.status, comment: start.comment, headers };
  }
  return { kind: 'request', transactionId: start.transactionId, method: start.method, headers, body, continuation: flag };
}

/** The body length a Byte-Range announces (`start-end/…`), or undefined when it names no end or does not parse. */
function declaredBodyLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,15})-(\d{1,15})\//.exec(value);
  if (!m) return undefined;
  const length = Number(m[2]) - Number(m[1]) + 1;
  return length > 0 ? length : undefined;
}

const headDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One line of a head as text. Header values and comments are UTF-8 (RFC 4975 §9 `utf8text`); everything
 * else is ASCII by grammar, which the callers check, so the whole line is decoded as UTF-8 in one native call.
 */
function decodeHeadLine(buf: Uint8Array, start: number, end: number): string {
  try {
    return headDecoder.decode(buf.subarray(start, end));
  } catch {
    throw new MsrpParseError('syntax', 'MSRP head line is not UTF-8');
  }
}
