/**
 * CPIM messages (RFC 3862) as CPM sends them inside MSRP: message headers (From, To, cc, DateTime,
 * Subject, NS and namespaced headers such as `imdn.Message-ID`, RFC 5438 §6.2), a blank line, the
 * encapsulated MIME headers (Content-Type, Content-Length counted in bytes), a blank line, the body.
 *
 * ```
 * From: "Alice" <sip:alice@a.example>
 * To: <sip:bob@b.example>
 * DateTime: 2026-11-24T10:00:00.000Z
 * NS: imdn <urn:ietf:params:imdn>
 * imdn.Message-ID: Xs8fe2b9
 * imdn.Disposition-Notification: positive-delivery, display
 *
 * Content-Type: text/plain;charset=utf-8
 * Content-Length: 5
 *
 * hello
 * ```
 */
import { concatBytes, decodeUtf8Strict, indexOfBytes, utf8 } from '../common/bytes';

/** The IMDN namespace URI (RFC 5438 §6.2). */
export const IMDN_NAMESPACE = 'urn:ietf:params:imdn';

/** Thrown for bytes that are not a CPIM message, or that exceed a bound. */
export class CpimError extends Error {
  override readonly name = 'CpimError';
}

/** A From/To/cc value: an optional display name and a URI. */
export interface CpimAddress {
  displayName?: string;
  uri: string;
}

/** A message header as written: `[prefix.]Name: [;params ]value`. */
export interface CpimHeader {
  /** The namespace prefix before the dot, if any. */
  prefix?: string;
  name: string;
  value: string;
  /** Header parameters such as `lang=fr`, without the leading `;`. */
  params?: string[];
}

/** IMDN dispositions a sender may ask for (RFC 5438 §6.3). */
export type DispositionNotification = 'positive-delivery' | 'negative-delivery' | 'display' | 'processing';

/** A decoded CPIM message. */
export interface CpimMessage {
  from: CpimAddress | undefined;
  to: CpimAddress[];
  cc: CpimAddress[];
  /** DateTime as written (RFC 3339). */
  dateTime: string | undefined;
  subject: string | undefined;
  /** Declared namespaces: prefix → URI (`''` for the default namespace). */
  namespaces: Record<string, string>;
  /** Every message header, in order. */
  headers: CpimHeader[];
  /** `imdn.Message-ID`, resolved through the NS declarations. */
  imdnMessageId: string | undefined;
  /** `imdn.Disposition-Notification`, resolved through the NS declarations. */
  dispositionNotification: string[];
  /** The encapsulated MIME headers, in order. */
  contentHeaders: Array<{ name: string; value: string }>;
  contentType: string | undefined;
  body: Uint8Array;
}

/** What `encodeCpim` needs. */
export interface CpimInput {
  from: CpimAddress;
  to: CpimAddress[];
  cc?: CpimAddress[];
  /** A `Date`, or an RFC 3339 string used as is. */
  dateTime: Date | string;
  subject?: string;
  imdn?: { messageId: string; dispositionNotification?: DispositionNotification[] };
  /** Further namespace declarations: prefix → URI. */
  namespaces?: Record<string, string>;
  /** Further message headers (after the standard ones). */
  headers?: CpimHeader[];
  contentType: string;
  /** Further MIME headers (Content-Disposition, Content-ID…). Content-Length is always computed. */
  contentHeaders?: Array<{ name: string; value: string }>;
  body: Uint8Array | string;
}

/** Bounds of the decoder. */
export interface CpimLimits {
  /** Bytes of both header blocks together. Default 16 KiB. */
  maxHeaderBytes: number;
  /** Header lines of both blocks together. Default 64. */
  maxHeaders: number;
}

const DEFAULT_LIMITS: CpimLimits = { maxHeaderBytes: 16 * 1024, maxHeaders: 64 };
const NAME = /^[A-Za-z0-9!#$%&'*+^_`|~-]+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
const CRLFCRLF = utf8('\r\n\r\n');

/** Encode a CPIM message. Throws `CpimError` on values that cannot be written (CR/LF, bad names). */
export function encodeCpim(input: CpimInput): Uint8Array {
  const lines: string[] = [];
  const add = (name: string, value: string): void => {
    if (/[\r\n]/.test(value)) throw new CpimError(`CR or LF in CPIM header ${name}`);
    lines.push(`${name}: ${value}`);
  };
  add('From', formatAddress(input.from));
  for (const a of input.to) add('To', formatAddress(a));
  for (const a of input.cc ?? []) add('cc', formatAddress(a));
  const dateTime = typeof input.dateTime === 'string' ? input.dateTime : input.dateTime.toISOString();
  if (!RFC3339.test(dateTime)) throw new CpimError(`DateTime is not RFC 3339: ${JSON.stringify(dateTime)}`);
  add('DateTime', dateTime);
  if (input.subject !== undefined) add('Subject', input.subject);
  const namespaces: Record<string, string> = { ...(input.imdn ? { imdn: IMDN_NAMESPACE } : {}), ...input.namespaces };
  for (const [prefix, uri] of Object.entries(namespaces)) {
    if (prefix !== '' && !NAME.test(prefix)) throw new CpimError(`bad namespace prefix ${JSON.stringify(prefix)}`);
    add('NS', prefix ? `${prefix} <${uri}>` : `<${uri}>`);
  }
  if (input.imdn) {
    add('imdn.Message-ID', input.imdn.messageId);
    if (input.imdn.dispositionNotification?.length) add('imdn.Disposition-Notification', input.imdn.dispositionNotification.join(', '));
  }
  for (const h of input.headers ?? []) {
    if (!NAME.test(h.name) || (h.prefix !== undefined && !NAME.test(h.prefix))) throw new CpimError(`bad CPIM header name ${JSON.stringify(h.name)}`);
    const params = h.params?.length ? `;${h.params.join(';')} ` : '';
    add(h.prefix ? `${h.prefix}.${h.name}` : h.name, params + h.value);
  }
  const body = typeof input.body === 'string' ? utf8(input.body) : input.body;
  const mime: string[] = [];
  const addMime = (name: string, value: string): void => {
    if (!NAME.test(name) || /[\r\n]/.test(value)) throw new CpimError(`bad MIME header ${JSON.stringify(name)}`);
    mime.push(`${name}: ${value}`);
  };
  addMime('Content-Type', input.contentType);
  for (const h of input.contentHeaders ?? []) if (!/^content-(type|length)$/i.test(h.name)) addMime(h.name, h.value);
  addMime('Content-Length', String(body.length));
  return concatBytes([utf8(`${lines.join('\r\n')}\r\n\r\n${mime.join('\r\n')}\r\n\r\n`), body]);
}

/** Decode a CPIM message. Throws `CpimError` with the reason on bad or oversized input. */
export function decodeCpim(bytes: Uint8Array, limits: Partial<CpimLimits> = {}): CpimMessage {
  const { maxHeaderBytes, maxHeaders } = { ...DEFAULT_LIMITS, ...limits };
  const firstEnd = indexOfBytes(bytes, CRLFCRLF, 0, Math.min(bytes.length, maxHeaderBytes + 4));
  if (firstEnd < 0) throw new CpimError(bytes.length > maxHeaderBytes ? `CPIM headers exceed ${maxHeaderBytes} bytes` : 'CPIM message headers are not terminated by an empty line');
  const mimeStart = firstEnd + 4;
  const secondEnd = indexOfBytes(bytes, CRLFCRLF, mimeStart, Math.min(bytes.length, mimeStart + maxHeaderBytes + 4));
  if (secondEnd < 0) throw new CpimError('CPIM MIME headers are not terminated by an empty line');
  if (secondEnd + 4 > maxHeaderBytes + 8) throw new CpimError(`CPIM headers exceed ${maxHeaderBytes} bytes`);
  const messageLines = splitLines(bytes.subarray(0, firstEnd));
  const mimeLines = mimeStart === secondEnd + 2 ? [] : splitLines(bytes.subarray(mimeStart, secondEnd));
  if (messageLines.length + mimeLines.length > maxHeaders) throw new CpimError(`more than ${maxHeaders} CPIM header lines`);

  const headers = messageLines.map(parseHeaderLine);
  const namespaces: Record<string, string> = {};
  for (const h of headers) {
    if (h.prefix === undefined && h.name.toLowerCase() === 'ns') {
      const m = /^(?:([A-Za-z0-9!#$%&'*+^_`|~-]+)\s*)?<([^<>\s]+)>$/.exec(h.value);
      if (!m) throw new CpimError(`bad NS header ${JSON.stringify(h.value.slice(0, 80))}`);
      namespaces[m[1] ?? ''] = m[2]!;
    }
  }
  const plain = (name: string): CpimHeader[] => headers.filter((h) => h.prefix === undefined && h.name.toLowerCase() === name);
  const inNamespace = (uri: string, name: string): string | undefined => {
    for (const h of headers) {
      if (h.prefix !== undefined && namespaces[h.prefix] === uri && h.name.toLowerCase() === name.toLowerCase()) return h.value;
    }
    return undefined;
  };
  const fromHeaders = plain('from');
  if (fromHeaders.length > 1) throw new CpimError('more than one From header');
  const dateTime = plain('datetime')[0]?.value;
  if (dateTime !== undefined && !RFC3339.test(dateTime)) throw new CpimError(`DateTime is not RFC 3339: ${JSON.stringify(dateTime.slice(0, 40))}`);
  const dn = inNamespace(IMDN_NAMESPACE, 'Disposition-Notification');

  const contentHeaders = mimeLines.map((line) => {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !NAME.test(name)) throw new CpimError(`bad MIME header line ${JSON.stringify(line.slice(0, 80))}`);
    return { name, value: line.slice(colon + 1).trim() };
  });
  const mimeHeader = (name: string): string | undefined => contentHeaders.find((h) => h.name.toLowerCase() === name)?.value;
  let body = bytes.subarray(secondEnd + 4);
  const lengthText = mimeHeader('content-length');
  if (lengthText !== undefined) {
    if (!/^\d{1,10}$/.test(lengthText)) throw new CpimError(`bad Content-Length ${JSON.stringify(lengthText.slice(0, 20))}`);
    const length = Number(lengthText);
    const rest = body.length - length;
    // Tolerate only a trailing CRLF beyond the declared length.
    if (rest < 0 || (rest > 0 && !(rest === 2 && body[length] === 0x0d && body[length + 1] === 0x0a))) {
      throw new CpimError(`Content-Length ${length} does not match the ${body.length}-byte body`);
    }
    body = body.subarray(0, length);
  }
  return {
    from: fromHeaders[0] ? parseAddress(fromHeaders[0].value) : undefined,
    to: plain('to').map((h) => parseAddress(h.value)),
    cc: plain('cc').map((h) => parseAddress(h.value)),
    dateTime,
    subject: plain('subject')[0]?.value,
    namespaces,
    headers,
    imdnMessageId: inNamespace(IMDN_NAMESPACE, 'Message-ID'),
    dispositionNotification: dn === undefined ? [] : dn.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    contentHeaders,
    contentType: mimeHeader('content-type'),
    body: body.slice(),
  };
}

/** Format an address as `"Display Name" <uri>` or `<uri>`. */
export function formatAddress(address: CpimAddress): string {
  if (/[<>\s]/.test(address.uri) || address.uri === '') throw new CpimError(`bad URI ${JSON.stringify(address.uri)}`);
  if (address.displayName === undefined || address.displayName === '') return `<${address.uri}>`;
  return `"${address.displayName.replace(/[\\"]/g, (c) => `\\${c}`)}" <${address.uri}>`;
}

/** Parse `[Formal-name] <URI>` (RFC 3862 §3.3.1). */
export function parseAddress(value: string): CpimAddress {
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^<>\s]+)>\s*$/.exec(value);
  if (!m) throw new CpimError(`bad CPIM address ${JSON.stringify(value.slice(0, 80))}`);
  const displayName = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]?.trim();
  return displayName ? { displayName, uri: m[3]! } : { uri: m[3]! };
}

function splitLines(bytes: Uint8Array): string[] {
  let text: string;
  try {
    text = decodeUtf8Strict(bytes);
  } catch {
    throw new CpimError('CPIM headers are not UTF-8');
  }
  const lines = text.split('\r\n');
  if (lines.some((l) => l.includes('\n') || l.includes('\r'))) throw new CpimError('CPIM header lines must end with CRLF');
  return lines;
}

function parseHeaderLine(line: string): CpimHeader {
  const colon = line.indexOf(':');
  const fullName = colon < 0 ? '' : line.slice(0, colon);
  const dot = fullName.indexOf('.');
  const prefix = dot < 0 ? undefined : fullName.slice(0, dot);
  const name = dot < 0 ? fullName : fullName.slice(dot + 1);
  if (!NAME.test(name) || (prefix !== undefined && !NAME.test(prefix))) throw new CpimError(`bad CPIM header line ${JSON.stringify(line.slice(0, 80))}`);
  let value = line.slice(colon + 1);
  const header: CpimHeader = { name, value: '' };
  if (prefix !== undefined) header.prefix = prefix;
  if (value.startsWith(';')) {
    const space = value.indexOf(' ');
    const paramText = space < 0 ? value : value.slice(0, space);
    header.params = paramText.slice(1).split(';').filter(Boolean);
    value = space < 0 ? '' : value.slice(space);
  }
  header.value = value.trim();
  return header;
}
