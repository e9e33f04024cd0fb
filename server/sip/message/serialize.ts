/**
 * Serialize a SIP message (RFC 3261 §7): start line, header lines in order, Content-Length set to the
 * body's length in bytes (§20.14; added when missing), an empty line, the body.
 */
import { TOKEN, isClass } from './abnf';
import type { SipMessage } from './sip-message';

/** Header names already checked to be tokens (names repeat across messages; bounded). */
const checkedNames = new Set<string>();

/** Serialize to bytes. Throws a TypeError when a name or value would break the framing (CR/LF, bad name). */
export function serializeMessage(message: SipMessage): Uint8Array {
  const head = serializeHead(message);
  // Buffer's UTF-8 encoder (pooled for small messages) is the fastest way to bytes in Node; the result is
  // handed out as a plain Uint8Array view.
  let buf: Buffer;
  if (message.body.length === 0) {
    buf = Buffer.from(head, 'utf8');
  } else {
    const headLength = Buffer.byteLength(head, 'utf8');
    buf = Buffer.allocUnsafe(headLength + message.body.length);
    buf.write(head, 0, headLength, 'utf8');
    buf.set(message.body, headLength);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Serialize to text (the body decoded as UTF-8; use {@link serializeMessage} for binary bodies). */
export function serializeMessageToString(message: SipMessage): string {
  return serializeHead(message) + new TextDecoder().decode(message.body);
}

/** The start line and header section, ending with the empty line. */
export function serializeHead(message: SipMessage): string {
  let out: string;
  if (message.type === 'request') {
    checkText(message.method, 'method');
    checkText(message.uri, 'Request-URI');
    if (!message.method || !message.uri || /[ \t]/.test(message.uri)) throw new TypeError('request needs a method and a Request-URI without whitespace');
    out = `${message.method} ${message.uri} SIP/2.0\r\n`;
  } else {
    if (!Number.isInteger(message.status) || message.status < 100 || message.status > 699) {
      throw new TypeError(`status code ${message.status} is not in 100-699`);
    }
    checkText(message.reason, 'reason phrase');
    out = `SIP/2.0 ${message.status} ${message.reason}\r\n`;
  }
  const length = String(message.body.length);
  let sawLength = false;
  for (const h of message.headers) {
    checkName(h.name);
    checkText(h.value, h.name);
    if (h.name === 'Content-Length') {
      if (sawLength) continue;
      sawLength = true;
      out += `Content-Length: ${length}\r\n`;
    } else {
      out += `${h.name}: ${h.value}\r\n`;
    }
  }
  if (!sawLength) out += `Content-Length: ${length}\r\n`;
  return out + '\r\n';
}

function checkName(name: string): void {
  if (checkedNames.has(name)) return;
  if (name.length === 0) throw new TypeError('empty header name');
  for (let i = 0; i < name.length; i++) {
    if (!isClass(name.charCodeAt(i), TOKEN)) throw new TypeError(`header name "${name}" is not a token`);
  }
  if (checkedNames.size < 1024) checkedNames.add(name);
}

function checkText(text: string, what: string): void {
  if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) throw new TypeError(`${what} contains CR or LF`);
}
