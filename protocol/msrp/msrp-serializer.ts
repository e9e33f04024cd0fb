/**
 * MSRP serializer (RFC 4975 §7.1, §7.2): start line, To-Path and From-Path first, the other headers,
 * then either the end-line directly or a blank line, the body, CRLF and the end-line.
 */
import { ascii, concatBytes, indexOfBytes, utf8 } from '../common/bytes';
import { IDENT, type MsrpMessage, type MsrpRequest, type MsrpResponse } from './msrp-message';

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
  return body === undefined || indexOfBytes(body, ascii(`-------${transactionId}`)) < 0;
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
