/**
 * The one error type of the SIP message layer: every syntax problem in a message, a URI or a header value
 * is reported as a `SipParseError`, never as a crash or another exception type.
 */
import type { SipHeaders } from './sip-message';

/** What the parser had understood of a message before it gave up: enough, for a request, to answer it. */
export interface SipParsePartial {
  /** True for a request, false for a response, undefined when not even the start line was recognisable. */
  isRequest?: boolean;
  /** The request method, when the start line got that far. */
  method?: string;
  /** The header lines that were well formed (all of them are kept, even those after the faulty line). */
  headers?: SipHeaders;
}

/** Where an error sits and what the parser had understood so far. */
export interface SipParseErrorDetails extends SipParsePartial {
  /** Byte offset in the message (or character offset in a header value / URI) where the problem was found. */
  offset?: number;
  /** 1-based line number in the message, when parsing a whole message. */
  line?: number;
  /**
   * The status a server should answer a request with: 400 (RFC 3261 §21.4.1), 505 for a SIP version it
   * does not speak (§21.5.6) or 513 for a message over the size limit (§21.5.7). Defaults to 400.
   */
  status?: 400 | 505 | 513;
}

/** A message, header value or URI that does not follow the RFC 3261 grammar (§25) or our framing rules. */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /** Human-readable description of what is wrong. */
  readonly reason: string;
  readonly offset: number | undefined;
  readonly line: number | undefined;
  readonly isRequest: boolean | undefined;
  readonly method: string | undefined;
  readonly headers: SipHeaders | undefined;
  readonly status: 400 | 505 | 513;

  constructor(reason: string, details: SipParseErrorDetails = {}) {
    const where = details.line !== undefined ? ` (line ${details.line})` : details.offset !== undefined ? ` (offset ${details.offset})` : '';
    super(`${reason}${where}`);
    this.reason = reason;
    this.offset = details.offset;
    this.line = details.line;
    this.isRequest = details.isRequest;
    this.method = details.method;
    this.headers = details.headers;
    this.status = details.status ?? 400;
  }

  /** The Call-ID, when the parser got that far. */
  get callId(): string | undefined {
    return this.headers?.get('Call-ID');
  }

  /** The topmost Via value (raw), when the parser got that far: where a 400 goes. */
  get topVia(): string | undefined {
    return this.headers?.first('Via');
  }
}
