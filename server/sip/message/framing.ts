/**
 * Message framing for the transports: byte streams (TCP, TLS; RFC 3261 §18.3) and WebSocket messages
 * (RFC 7118 §5.1).
 *
 * On a stream, Content-Length is the only way to find where a message ends, so it is mandatory; a message
 * without it, or with a bad one, means framing is lost and the connection must be closed. Between
 * messages the stream may carry RFC 5626 §3.5.1 keep-alives: a CRLFCRLF "ping", which a server answers
 * with a CRLF "pong".
 */
import { findHeaderEnd, parseMessage, scanContentLength } from './parse';
import { SipParseError } from './parse-error';
import type { SipMessage } from './sip-message';

/** What one `push` found, in stream order. */
export type FramerOutput =
  /** A complete message, start line to end of body (leading CRLFs excluded). Parse it with `parseMessage`. */
  | { kind: 'message'; bytes: Uint8Array }
  /** A CRLFCRLF keep-alive ping: answer with a single CRLF (RFC 5626 §3.5.1). */
  | { kind: 'ping' }
  /** A CRLF pong (clients only: the answer to our ping). */
  | { kind: 'pong' }
  /** Framing is lost: close the connection. For a request, `error.headers` may allow a 400/513 first. */
  | { kind: 'error'; error: SipParseError };

/** States of a {@link SipStreamFramer}. */
export enum FramerState {
  /** Between messages: skipping CRLFs, spotting keep-alives. */
  Idle = 'idle',
  /** Inside a header section, waiting for its CRLFCRLF. */
  Headers = 'headers',
  /** Header section complete, waiting for Content-Length bytes of body. */
  Body = 'body',
  /** Framing lost (terminal): the connection must be closed. */
  Failed = 'failed',
}

/** A state change, as reported by the `stateChange` event. */
export interface FramerStateChange {
  from: FramerState;
  to: FramerState;
}

/** Options of {@link SipStreamFramer}. */
export interface FramerOptions {
  /** Largest message accepted, headers and body (bytes). Default 64 KiB. */
  maxMessageSize?: number;
  /**
   * Which side of RFC 5626 keep-alives we are: a `server` (default) reports CRLFCRLF as `ping` and ignores
   * a lone CRLF before a message (RFC 3261 §7.5); a `client` reports each CRLF as `pong`.
   */
  keepAliveRole?: 'server' | 'client';
}

const ALLOWED: Readonly<Record<FramerState, readonly FramerState[]>> = {
  [FramerState.Idle]: [FramerState.Headers, FramerState.Failed],
  [FramerState.Headers]: [FramerState.Body, FramerState.Idle, FramerState.Failed],
  [FramerState.Body]: [FramerState.Idle, FramerState.Failed],
  [FramerState.Failed]: [],
};

const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits a TCP/TLS byte stream into SIP messages: handles messages split across chunks or coalesced in one,
 * leading CRLFs, keep-alives, a size limit, and a missing Content-Length (framing lost).
 *
 * ```
 *            first non-CRLF byte              CRLFCRLF found, Content-Length > 0
 *   ┌──────┐ ───────────────────► ┌─────────┐ ──────────────────────────────────► ┌──────┐
 *   │ idle │                      │ headers │                                     │ body │
 *   └──────┘ ◄─────────────────── └─────────┘                                     └──────┘
 *      ▲  ▲   Content-Length: 0: message out                                         │
 *      │  └──────────────────────────────────────────────────────────────────────────┘
 *      │                     body complete: message out
 *   CRLF / CRLFCRLF (ping, pong)
 *
 *   headers/body ── too large, no/bad Content-Length ──► failed (terminal: close the connection)
 * ```
 */
export class SipStreamFramer {
  private buffer = new Uint8Array(4096);
  /** Bytes held in `buffer`. */
  private length = 0;
  /** Start of the current message (or of unread data when idle). */
  private start = 0;
  /** Where the CRLFCRLF search resumes in the headers state. */
  private scanFrom = 0;
  /** End of the current message (body state). */
  private messageEnd = 0;
  /** Lone CRLFs seen while idle (server side), waiting to know whether a ping follows. */
  private pendingCrlf = 0;
  private current: FramerState = FramerState.Idle;
  private failure: SipParseError | undefined;
  private readonly listeners = new Set<(change: FramerStateChange) => void>();
  private readonly maxMessageSize: number;
  private readonly client: boolean;

  constructor(options: FramerOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? 64 * 1024;
    this.client = options.keepAliveRole === 'client';
    if (!Number.isInteger(this.maxMessageSize) || this.maxMessageSize < 16) throw new RangeError('maxMessageSize must be an integer ≥ 16');
  }

  /** The current state. */
  get state(): FramerState {
    return this.current;
  }

  /** Subscribe to state changes. */
  on(event: 'stateChange', listener: (change: FramerStateChange) => void): this {
    if (event === 'stateChange') this.listeners.add(listener);
    return this;
  }

  /** Unsubscribe. */
  off(event: 'stateChange', listener: (change: FramerStateChange) => void): this {
    if (event === 'stateChange') this.listeners.delete(listener);
    return this;
  }

  /** Bytes received but not yet part of an emitted message. */
  get buffered(): number {
    return this.length - this.start;
  }

  /**
   * Feed bytes from the stream; returns what became complete, in order. After an `error` output the framer
   * is failed and further pushes return that same error again.
   */
  push(chunk: Uint8Array): FramerOutput[] {
    if (this.current === FramerState.Failed) return [{ kind: 'error', error: this.failure! }];
    this.append(chunk);
    const out: FramerOutput[] = [];
    for (;;) {
      if (this.current === FramerState.Idle) {
        if (!this.stepIdle(out)) break;
      } else if (this.current === FramerState.Headers) {
        if (!this.stepHeaders(out)) break;
      } else if (this.current === FramerState.Body) {
        if (!this.stepBody(out)) break;
      } else {
        break;
      }
    }
    this.compact();
    return out;
  }

  /** The one transition function: every state change goes through here and is checked. */
  private transition(to: FramerState): void {
    const from = this.current;
    if (!ALLOWED[from].includes(to)) throw new Error(`SipStreamFramer: illegal transition ${from} → ${to}`);
    this.current = to;
    for (const listener of this.listeners) listener({ from, to });
  }

  private stepIdle(out: FramerOutput[]): boolean {
    while (this.start < this.length) {
      const b = this.buffer[this.start]!;
      if (b === CR) {
        if (this.start + 1 >= this.length) return false; // wait for the LF
        if (this.buffer[this.start + 1] !== LF) break; // garbage: let the header parser report it
        this.start += 2;
        if (this.client) {
          out.push({ kind: 'pong' });
        } else if (++this.pendingCrlf === 2) {
          this.pendingCrlf = 0;
          out.push({ kind: 'ping' });
        }
        continue;
      }
      break;
    }
    if (this.start >= this.length) return false;
    this.pendingCrlf = 0; // a lone CRLF before a message is just ignored (§7.5)
    this.scanFrom = this.start;
    this.transition(FramerState.Headers);
    return true;
  }

  private stepHeaders(out: FramerOutput[]): boolean {
    const end = findHeaderEnd(this.buffer.subarray(0, this.length), Math.max(this.start, this.scanFrom - 3));
    if (end < 0) {
      this.scanFrom = this.length;
      if (this.length - this.start > this.maxMessageSize) {
        this.fail(out, new SipParseError(`header section larger than ${this.maxMessageSize} bytes`, { status: 513 }));
      }
      return false;
    }
    let contentLength: number | undefined;
    try {
      contentLength = scanContentLength(this.buffer, this.start, end);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.fail(out, this.describeFailure(e.reason, end, 400));
      return false;
    }
    if (contentLength === undefined) {
      this.fail(out, this.describeFailure('a message on a stream must have a Content-Length (RFC 3261 §18.3)', end, 400));
      return false;
    }
    this.messageEnd = end + 4 + contentLength;
    if (this.messageEnd - this.start > this.maxMessageSize) {
      this.fail(out, this.describeFailure(`message of ${this.messageEnd - this.start} bytes exceeds the limit of ${this.maxMessageSize}`, end, 513));
      return false;
    }
    this.transition(FramerState.Body);
    return true;
  }

  private stepBody(out: FramerOutput[]): boolean {
    if (this.length < this.messageEnd) return false;
    out.push({ kind: 'message', bytes: this.buffer.slice(this.start, this.messageEnd) });
    this.start = this.messageEnd;
    this.transition(FramerState.Idle);
    return true;
  }

  /** A framing error carrying whatever the header section tells about the message. */
  private describeFailure(reason: string, headerEnd: number, status: 400 | 513): SipParseError {
    try {
      const m = parseMessage(this.buffer.slice(this.start, headerEnd + 4));
      const isRequest = m.type === 'request';
      return new SipParseError(reason, { status, isRequest, headers: m.headers, ...(m.type === 'request' ? { method: m.method } : {}) });
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      return new SipParseError(reason, { status, isRequest: e.isRequest, method: e.method, headers: e.headers });
    }
  }

  private fail(out: FramerOutput[], error: SipParseError): void {
    this.failure = error;
    this.transition(FramerState.Failed);
    this.buffer = new Uint8Array(0);
    this.length = this.start = 0;
    out.push({ kind: 'error', error });
  }

  private append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < this.length + chunk.length) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    this.buffer.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** Drop consumed bytes so the buffer does not grow without bound. */
  private compact(): void {
    if (this.start === 0) return;
    this.buffer.copyWithin(0, this.start, this.length);
    this.length -= this.start;
    this.scanFrom = Math.max(0, this.scanFrom - this.start);
    this.messageEnd -= this.start;
    this.start = 0;
  }
}

/** One WebSocket message, read as SIP. */
export type WebSocketFrame = { kind: 'message'; message: SipMessage } | { kind: 'keepalive' };

const encoder = new TextEncoder();

/**
 * Read one WebSocket message (RFC 7118 §5.1: each carries exactly one SIP message; bytes after the
 * Content-Length body are an error). A message made only of CRLFs is a keep-alive. Throws
 * {@link SipParseError}.
 */
export function parseWebSocketFrame(data: Uint8Array | string): WebSocketFrame {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  let onlyCrlf = bytes.length > 0;
  for (let i = 0; i < bytes.length && onlyCrlf; i++) onlyCrlf = bytes[i] === CR || bytes[i] === LF;
  if (onlyCrlf) return { kind: 'keepalive' };
  return { kind: 'message', message: parseMessage(bytes, { trailing: 'reject' }) };
}
