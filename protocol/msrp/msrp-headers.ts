/**
 * Structured MSRP header values (RFC 4975 §8, grammar in §9): paths, Byte-Range, Status, the report
 * headers and Content-Type. Parsers throw `MsrpHeaderError` with the reason; formatters produce the
 * canonical form.
 */
import { formatMsrpUri, MsrpUriError, parseMsrpUri, type MsrpUri } from './msrp-uri';

/** Thrown for a header value that does not follow its grammar. */
export class MsrpHeaderError extends Error {
  override readonly name = 'MsrpHeaderError';
}

/** Most URIs accepted in one To-Path/From-Path (a bound on hostile input). */
export const MAX_PATH_LENGTH = 16;

/** Parse a To-Path/From-Path value: one or more MSRP URIs separated by spaces (RFC 4975 §8.1). */
export function parsePath(value: string): MsrpUri[] {
  const parts = value.trim().split(/[ \t]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new MsrpHeaderError('empty path');
  if (parts.length > MAX_PATH_LENGTH) throw new MsrpHeaderError(`path longer than ${MAX_PATH_LENGTH} URIs`);
  try {
    return parts.map(parseMsrpUri);
  } catch (e) {
    if (e instanceof MsrpUriError) throw new MsrpHeaderError(`bad path: ${e.message}`);
    throw e;
  }
}

/** Format a path. */
export function formatPath(path: readonly MsrpUri[]): string {
  return path.map(formatMsrpUri).join(' ');
}

/**
 * A Byte-Range (RFC 4975 §7.1.1, §8.4): 1-based inclusive `start-end/total`; `end` and `total` may be
 * unknown (`*`), written here as `undefined`.
 */
export interface ByteRange {
  start: number;
  end: number | undefined;
  total: number | undefined;
}

const BYTE_RANGE = /^(\d{1,15})-(\d{1,15}|\*)\/(\d{1,15}|\*)$/;

/** Parse a Byte-Range value; throws on bad grammar or an inconsistent range. */
export function parseByteRange(value: string): ByteRange {
  const m = BYTE_RANGE.exec(value.trim());
  if (!m) throw new MsrpHeaderError(`bad Byte-Range ${JSON.stringify(value.slice(0, 64))}`);
  const start = Number(m[1]);
  const end = m[2] === '*' ? undefined : Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (start < 1) throw new MsrpHeaderError('Byte-Range start must be at least 1');
  // An empty body has end = start - 1 (e.g. 1-0/0, RFC 4975 §7.1.1).
  if (end !== undefined && end < start - 1) throw new MsrpHeaderError(`Byte-Range end ${end} before start ${start}`);
  if (total !== undefined && end !== undefined && end > total) throw new MsrpHeaderError(`Byte-Range end ${end} beyond total ${total}`);
  return { start, end, total };
}

/** Format a Byte-Range. */
export function formatByteRange(range: ByteRange): string {
  return `${range.start}-${range.end ?? '*'}/${range.total ?? '*'}`;
}

/** A Status header (RFC 4975 §8.5): `namespace SP status-code [SP comment]`; namespace 000 is MSRP. */
export interface MsrpStatus {
  namespace: number;
  code: number;
  comment: string;
}

/** Parse a Status value. */
export function parseStatus(value: string): MsrpStatus {
  const m = /^(\d{3}) (\d{3})(?: (.*))?$/.exec(value.trim());
  if (!m) throw new MsrpHeaderError(`bad Status ${JSON.stringify(value.slice(0, 64))}`);
  return { namespace: Number(m[1]), code: Number(m[2]), comment: m[3] ?? '' };
}

/** Format a Status value. */
export function formatStatus(status: MsrpStatus): string {
  const head = `${String(status.namespace).padStart(3, '0')} ${String(status.code).padStart(3, '0')}`;
  return status.comment ? `${head} ${status.comment}` : head;
}

/** Success-Report values (RFC 4975 §7.1.2); absent means `no`. */
export type SuccessReport = 'yes' | 'no';
/** Failure-Report values (RFC 4975 §7.1.2); absent means `yes`. */
export type FailureReport = 'yes' | 'no' | 'partial';

/** Parse a Success-Report value (`undefined` → the default `no`). */
export function parseSuccessReport(value: string | undefined): SuccessReport {
  if (value === undefined) return 'no';
  const v = value.trim().toLowerCase();
  if (v === 'yes' || v === 'no') return v;
  throw new MsrpHeaderError(`bad Success-Report ${JSON.stringify(value.slice(0, 32))}`);
}

/** Parse a Failure-Report value (`undefined` → the default `yes`). */
export function parseFailureReport(value: string | undefined): FailureReport {
  if (value === undefined) return 'yes';
  const v = value.trim().toLowerCase();
  if (v === 'yes' || v === 'no' || v === 'partial') return v;
  throw new MsrpHeaderError(`bad Failure-Report ${JSON.stringify(value.slice(0, 32))}`);
}

/** A media type with parameters, as in Content-Type. Type and subtype are lower-cased. */
export interface MediaType {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

const MIME_TOKEN = /^[A-Za-z0-9!#$&^_.+-]+$/;

/** Parse `type/subtype *( ; name=value )`; quoted values are unquoted. */
export function parseMediaType(value: string): MediaType {
  const [essence = '', ...rest] = splitParams(value);
  const slash = essence.indexOf('/');
  const type = essence.slice(0, slash).trim().toLowerCase();
  const subtype = essence.slice(slash + 1).trim().toLowerCase();
  if (slash < 0 || !MIME_TOKEN.test(type) || !MIME_TOKEN.test(subtype)) {
    throw new MsrpHeaderError(`bad media type ${JSON.stringify(value.slice(0, 64))}`);
  }
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new MsrpHeaderError(`bad media type parameter ${JSON.stringify(p.slice(0, 64))}`);
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!MIME_TOKEN.test(name)) throw new MsrpHeaderError(`bad media type parameter name ${JSON.stringify(name)}`);
    params[name] = v;
  }
  return { type, subtype, params };
}

/** `type/subtype` of a Content-Type value, lower-cased, or undefined when it does not parse. */
export function mediaTypeEssence(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const t = parseMediaType(value);
    return `${t.type}/${t.subtype}`;
  } catch {
    return undefined;
  }
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted && ch === '\\') {
      cur += ch + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
