/**
 * TEMPORARY stand-in for ../message/parse, serialize and framing while they are being written.
 * Delete when the real modules exist.
 */
import { SipHeaders, createRequest, createResponse, type SipMessage } from '../message/sip-message';

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
}

const dec = new TextDecoder();
const enc = new TextEncoder();

function headerEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

export function parseMessage(bytes: Uint8Array): SipMessage {
  const end = headerEnd(bytes);
  if (end < 0) throw new SipParseError('no end of headers');
  const head = dec.decode(bytes.subarray(0, end)).replace(/\r\n[ \t]+/g, ' ');
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  const headers = new SipHeaders();
  for (const line of lines) {
    const c = line.indexOf(':');
    if (c <= 0) throw new SipParseError(`bad header line '${line}'`);
    headers.append(line.slice(0, c).trim(), line.slice(c + 1).trim());
  }
  const cl = headers.get('Content-Length');
  const len = cl === undefined ? bytes.length - end - 4 : Number(cl);
  if (!Number.isInteger(len) || len < 0) throw new SipParseError('bad Content-Length');
  const body = bytes.slice(end + 4, end + 4 + len);
  if (body.length < len) throw new SipParseError('body shorter than Content-Length');
  const resp = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(start);
  if (resp) return createResponse(Number(resp[1]), resp[2] ?? '', headers, body);
  const req = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (req) return createRequest(req[1] ?? '', req[2] ?? '', headers, body);
  throw new SipParseError(`bad start line '${start}'`);
}

export function serializeMessage(msg: SipMessage): Uint8Array {
  const start = msg.type === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const h = msg.headers.clone();
  h.set('Content-Length', String(msg.body.length));
  const lines = [start, ...[...h].map((x) => `${x.name}: ${x.value}`)];
  const head = enc.encode(lines.join('\r\n') + '\r\n\r\n');
  const out = new Uint8Array(head.length + msg.body.length);
  out.set(head);
  out.set(msg.body, head.length);
  return out;
}

export class SipStreamFramer {
  private buf = new Uint8Array(0);
  constructor(private readonly opts: { maxMessageSize?: number; onKeepAlive?: (kind: 'ping' | 'pong') => void } = {}) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const b = new Uint8Array(this.buf.length + chunk.length);
    b.set(this.buf);
    b.set(chunk, this.buf.length);
    this.buf = b;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buf.length >= 4 && this.buf[0] === 13 && this.buf[1] === 10 && this.buf[2] === 13 && this.buf[3] === 10) {
        this.buf = this.buf.slice(4);
        this.opts.onKeepAlive?.('ping');
        continue;
      }
      if (this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10 && (this.buf.length < 3 || this.buf[2] !== 13)) {
        this.buf = this.buf.slice(2);
        this.opts.onKeepAlive?.('pong');
        continue;
      }
      const end = headerEnd(this.buf);
      if (end < 0) {
        if (this.buf.length > (this.opts.maxMessageSize ?? 65535)) throw new SipParseError('message too large');
        return out;
      }
      const head = dec.decode(this.buf.subarray(0, end));
      const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
      if (!m) throw new SipParseError('missing Content-Length on a stream transport');
      const total = end + 4 + Number(m[1]);
      if (total > (this.opts.maxMessageSize ?? 65535)) throw new SipParseError('message too large');
      if (this.buf.length < total) return out;
      out.push(this.buf.slice(0, total));
      this.buf = this.buf.slice(total);
    }
  }
}
