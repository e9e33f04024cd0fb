/**
 * MSRP serializer (RFC 4975 §7.1, §7.2): start line, To-Path and From-Path first, the other headers,
 * then either the end-line directly or a blank line, the body, CRLF and the end-line.
 */
import { ascii, concatBytes, indexOfBytes, utf8 } from '../common/bytes';
import { IDENT, type ContinuationFlag, type MsrpMessage, type MsrpRequest, type MsrpResponse } from './msrp-message';

/** Thrown when a message cannot be written as given (a bug in the caller, or a body that holds its end-line). */
export class MsrpSerializeError extends Error {
  override readonly name = 'MsrpSerializeError';
}

/** Thrown when the body contains `-------<transaction-id>`: pick another transaction id (RFC 4975 §7.1). */
export class MsrpEndLineCollisionError extends MsrpSerializeError {}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const METHOD = /^[A-Z]+$/;
const CRLF = '\r\n';

/** Serialize a request or response to bytes. Throws `MsrpSerializeError` on invalid input. */
export function serializeMsrp(message: MsrpMessage): Uint8Array {
  return message.kind === 'request' ? serializeRequest(message) : serializeResponse(message);
}

/** Whether `body` may be sent under `transactionId` (it must not contain `-------<transaction-id>`). */
export function bodyAllowsTransactionId(body: Uint8Array | undefined, transactionId: string): boolean {
  if (body === undefined || body.length < 7 + transactionId.length) return true;
  // A short body without a '-' needs no needle; a long one goes to the (native) sequence search at once.
  if (body.length < 1024 && body.indexOf(0x2d) < 0) return true;
  return indexOfBytes(body, ascii(`-------${transactionId}`)) < 0;
}

/** Bodies at least this large are written as their own part instead of being copied behind the head. */
export const SEPARATE_BODY_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/**
 * The wire form of a request whose start-line parts and header lines come from this package's own checked
 * values (the connection's send path, RFC 4975 §7.1): no re-validation and no header objects. Each line of
 * `headerLines` ends with CRLF, To-Path and From-Path first, Content-Type last when there is a body. The
 * caller has made sure the body does not contain the end-line (`bodyAllowsTransactionId`).
 *
 * Returns the bytes to write in order: one array (a single allocation, the body copied once) or, for a
 * body of `SEPARATE_BODY_BYTES` or more, head, body and end-line, so that the body is never copied.
 */
export function frameRequest(
  transactionId: string,
  method: string,
  headerLines: string,
  body: Uint8Array | undefined,
  continuation: ContinuationFlag,
): Uint8Array[] {
  const endLine = `-------${transactionId}${continuation}${CRLF}`;
  if (body === undefined) return [utf8(`MSRP ${transactionId} ${method}${CRLF}${headerLines}${endLine}`)];
  const head = `MSRP ${transactionId} ${method}${CRLF}${headerLines}${CRLF}`;
  const tail = CRLF + endLine;
  if (body.length >= SEPARATE_BODY_BYTES) return [utf8(head), body, utf8(tail)];
  const out = new Uint8Array(head.length + body.length + tail.length);
  // encodeInto writes exactly head.length bytes iff the head is ASCII (the usual case); else encode it apart.
  const encoded = encoder.encodeInto(head, out);
  if (encoded.read !== head.length || encoded.written !== head.length) return [concatBytes([utf8(head), body, utf8(tail)])];
  out.set(body, head.length);
  let at = head.length + body.length;
  for (let i = 0; i < tail.length; i++) out[at++] = tail.charCodeAt(i);
  return [out];
}

/**
 * The wire form of a response (RFC 4975 §7.2) to a request this package parsed: `toPath` and `fromPath`
 * are single URIs taken from that request's header lines (the parser admits no CR or LF in them), and the
 * comment is cleaned of CR, LF and NUL here.
 */
export function frameResponse(transactionId: string, status: number, comment: string, toPath: string, fromPath: string): Uint8Array {
  const text = comment === '' ? '' : ` ${/[\r\n\0]/.test(comment) ? comment.replace(/[\r\n\0]/g, ' ') : comment}`;
  return utf8(`MSRP ${transactionId} ${status}${text}${CRLF}To-Path: ${toPath}${CRLF}From-Path: ${fromPath}${CRLF}-------${transactionId}$${CRLF}`);
}

function serializeRequest(req: MsrpRequest): Uint8Array {
  checkIdent(req.transactionId);
  if (!METHOD.test(req.method)) throw new MsrpSerializeError(`bad method ${JSON.stringify(req.method)}`);
  if (!'$+#'.includes(req.continuation) || req.continuation.length !== 1) {
    throw new MsrpSerializeError(`bad continuation flag ${JSON.stringify(req.continuation)}`);
  }
  const head = `MSRP ${req.transactionId} ${req.method}${CRLF}${headerBlock(req.headers)}`;
  const endLine = `-------${req.transactionId}${req.continuation}${CRLF}`;
  const hasContent = req.body !== undefined;
  if (hasContent && !req.headers.has('Content-Type')) {
    throw new MsrpSerializeError('a request with a body needs a Content-Type (RFC 4975 §7.1)');
  }
  if (!hasContent) return utf8(head + endLine);
  if (!bodyAllowsTransactionId(req.body, req.transactionId)) {
    throw new MsrpEndLineCollisionError(`body contains the end-line of transaction ${req.transactionId}`);
  }
  return concatBytes([utf8(head + CRLF), req.body!, utf8(CRLF + endLine)]);
}

function serializeResponse(res: MsrpResponse): Uint8Array {
  checkIdent(res.transactionId);
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 999) {
    throw new MsrpSerializeError(`bad status ${res.status}`);
  }
  checkValue(res.comment);
  const comment = res.comment ? ` ${res.comment}` : '';
  return utf8(`MSRP ${res.transactionId} ${res.status}${comment}${CRLF}${headerBlock(res.headers)}-------${res.transactionId}$${CRLF}`);
}

function headerBlock(headers: Iterable<{ name: string; value: string }>): string {
  const list = [...headers];
  const order = (n: string): number => (n.toLowerCase() === 'to-path' ? 0 : n.toLowerCase() === 'from-path' ? 1 : 2);
  // To-Path then From-Path first (RFC 4975 §9 `headers`); a stable sort keeps the others in order.
  list.sort((a, b) => order(a.name) - order(b.name));
  if (list[0]?.name.toLowerCase() !== 'to-path' || list[1]?.name.toLowerCase() !== 'from-path') {
    throw new MsrpSerializeError('To-Path and From-Path are required');
  }
  let out = '';
  for (const h of list) {
    if (!HEADER_NAME.test(h.name)) throw new MsrpSerializeError(`bad header name ${JSON.stringify(h.name)}`);
    checkValue(h.value);
    out += `${h.name}: ${h.value}${CRLF}`;
  }
  return out;
}

function checkIdent(id: string): void {
  if (!IDENT.test(id)) throw new MsrpSerializeError(`bad transaction id ${JSON.stringify(id)}`);
}

function checkValue(value: string): void {
  if (/[\r\n\0]/.test(value)) throw new MsrpSerializeError('CR, LF or NUL in a header value or comment');
}
