/**
 * The MSRP message model (RFC 4975 §7): requests (SEND, REPORT, and methods we do not know) and responses,
 * headers as an ordered case-insensitive list, bodies as raw bytes.
 */

/** One header line: the name as it arrived, the value without surrounding whitespace. */
export interface MsrpHeader {
  name: string;
  value: string;
}

/** Ordered, case-insensitive MSRP header collection. */
export class MsrpHeaders implements Iterable<MsrpHeader> {
  private readonly list: MsrpHeader[] = [];
  /** Lower-cased names, parallel to `list`: a lookup lower-cases only the name asked for. */
  private readonly keys: string[] = [];

  constructor(entries?: Iterable<MsrpHeader>) {
    if (entries) for (const e of entries) this.append(e.name, e.value);
  }

  /** Number of header lines. */
  get size(): number {
    return this.list.length;
  }

  [Symbol.iterator](): Iterator<MsrpHeader> {
    return this.list[Symbol.iterator]();
  }

  /** Whether a header of that name is present. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    const at = this.keys.indexOf(key);
    return at < 0 ? undefined : this.list[at]!.value;
  }

  /** Every value of `name` in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.list.filter((_, i) => this.keys[i] === key).map((h) => h.value);
  }

  /** Replace every line of `name` with one line (in the place of the first, else at the end). */
  set(name: string, value: string): this {
    const key = name.toLowerCase();
    const at = this.keys.indexOf(key);
    this.remove(name);
    const to = at < 0 ? this.list.length : at;
    this.list.splice(to, 0, { name, value });
    this.keys.splice(to, 0, key);
    return this;
  }

  /** Add a line at the end. */
  append(name: string, value: string): this {
    this.list.push({ name, value });
    this.keys.push(name.toLowerCase());
    return this;
  }

  /** Remove every line of `name`; returns how many were removed. */
  remove(name: string): number {
    const key = name.toLowerCase();
    const before = this.list.length;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.keys[i] !== key) continue;
      this.list.splice(i, 1);
      this.keys.splice(i, 1);
    }
    return before - this.list.length;
  }

  /** A deep copy. */
  clone(): MsrpHeaders {
    return new MsrpHeaders(this.list.map((h) => ({ ...h })));
  }
}

/** The continuation flag of the end-line (RFC 4975 §7.1): complete, more chunks follow, or aborted. */
export type ContinuationFlag = '$' | '+' | '#';

/** An MSRP request. `body` is present iff the request had a content section (a Content-Type). */
export interface MsrpRequest {
  readonly kind: 'request';
  transactionId: string;
  /** Upper-case method name: `SEND`, `REPORT`, or any extension method. */
  method: string;
  headers: MsrpHeaders;
  /** The chunk's bytes; `undefined` for a request without a content section. */
  body: Uint8Array | undefined;
  continuation: ContinuationFlag;
}

/** An MSRP response (RFC 4975 §7.2). Responses never carry a body. */
export interface MsrpResponse {
  readonly kind: 'response';
  transactionId: string;
  status: number;
  /** The comment after the status code (a reason phrase), possibly empty. */
  comment: string;
  headers: MsrpHeaders;
}

/** Either kind of MSRP message. */
export type MsrpMessage = MsrpRequest | MsrpResponse;

/** Header names of RFC 4975 §8 that this code reads or writes. */
export const MsrpHeaderName = {
  ToPath: 'To-Path',
  FromPath: 'From-Path',
  MessageId: 'Message-ID',
  ByteRange: 'Byte-Range',
  SuccessReport: 'Success-Report',
  FailureReport: 'Failure-Report',
  Status: 'Status',
  ContentType: 'Content-Type',
} as const;

/** Response codes of RFC 4975 §10 with their usual comments. */
export const MSRP_STATUS_COMMENTS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Message Too Large',
  415: 'Unsupported Media Type',
  423: 'Parameter Out Of Bounds',
  481: 'Session Does Not Exist',
  501: 'Unknown Method',
  506: 'Session Already Bound',
};

/** The usual comment for a status code. */
export function msrpStatusComment(status: number): string {
  return MSRP_STATUS_COMMENTS[status] ?? '';
}

/** Transaction id and Message-ID grammar: `ident = ALPHANUM 3*31ident-char` (RFC 4975 §9). */
export const IDENT = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/;

/** Build a request with the given headers in order (To-Path and From-Path are expected first). */
export function createMsrpRequest(
  method: string,
  transactionId: string,
  headers: Iterable<MsrpHeader>,
  body?: Uint8Array,
  continuation: ContinuationFlag = '$',
): MsrpRequest {
  return { kind: 'request', method, transactionId, headers: new MsrpHeaders(headers), body, continuation };
}
