/**
 * Small typed accessors for the header fields every element reads (RFC 3261 §20). Each returns undefined
 * when the header is absent and throws {@link SipParseError} when it is present but malformed.
 */
import { isToken, isWord, skipWsp, scanToken } from './abnf';
import { type HeaderParam, getParam, scanHeaderParams } from './header-params';
import { sharedNameAddr } from './name-addr';
import { SipParseError } from './parse-error';
import { clip } from './sip-uri';
import type { SipMessage } from './sip-message';
import { splitHeaderList } from './sip-message';

/** The Call-ID (RFC 3261 §20.8: `word [ "@" word ]`). */
export function callId(message: SipMessage): string | undefined {
  const value = message.headers.get('Call-ID');
  if (value === undefined) return undefined;
  if (!isCallId(value)) throw new SipParseError(`invalid Call-ID "${clip(value)}"`);
  return value;
}

/** True when `value` is a syntactically valid Call-ID. */
export function isCallId(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 0) return isWord(value);
  return isWord(value.slice(0, at)) && isWord(value.slice(at + 1));
}

/** The From tag (RFC 3261 §19.3), undefined when absent (RFC 2543 peers send none). */
export function fromTag(message: SipMessage): string | undefined {
  const value = message.headers.get('From');
  return value === undefined ? undefined : (getParam(sharedNameAddr(value).params, 'tag') ?? undefined);
}

/** The To tag, undefined outside a dialog. */
export function toTag(message: SipMessage): string | undefined {
  const value = message.headers.get('To');
  return value === undefined ? undefined : (getParam(sharedNameAddr(value).params, 'tag') ?? undefined);
}

/** Max-Forwards (RFC 3261 §20.22: 0–255; leading zeros allowed). */
export function maxForwards(message: SipMessage): number | undefined {
  const value = message.headers.get('Max-Forwards');
  if (value === undefined) return undefined;
  return boundedInteger(value, 255, 'Max-Forwards');
}

/** Content-Length as declared (the parser has already checked it against the body). */
export function contentLength(message: SipMessage): number | undefined {
  const value = message.headers.get('Content-Length');
  if (value === undefined) return undefined;
  return boundedInteger(value, Number.MAX_SAFE_INTEGER, 'Content-Length');
}

/** Expires (RFC 3261 §20.19, delta-seconds). Values above 2**32-1 are clamped to it (§25.1 delta-seconds). */
export function expires(message: SipMessage): number | undefined {
  const value = message.headers.get('Expires');
  if (value === undefined) return undefined;
  return deltaSeconds(value, 'Expires');
}

/** A delta-seconds value (`1*DIGIT`), clamped to 2**32-1. Throws {@link SipParseError} when not digits. */
export function deltaSeconds(value: string, what: string): number {
  const v = value.trim();
  if (!/^[0-9]+$/.test(v)) throw new SipParseError(`${what} must be a number of seconds, found "${clip(value)}"`);
  const n = Number(v);
  return n > 0xffffffff ? 0xffffffff : n;
}

/** The option tags of Require, Supported, Proxy-Require or Unsupported (RFC 3261 §20.32, §20.37, §20.29). */
export function optionTags(message: SipMessage, header: 'Require' | 'Supported' | 'Proxy-Require' | 'Unsupported'): string[] {
  const out: string[] = [];
  for (const line of message.headers.getAll(header)) {
    for (const tag of splitHeaderList(line)) {
      if (!isToken(tag)) throw new SipParseError(`invalid option tag "${clip(tag)}" in ${header}`);
      out.push(tag);
    }
  }
  return out;
}

/** A media type with its parameters (RFC 3261 §20.15, §25.1 media-type). */
export interface MediaType {
  /** Lower-cased type, e.g. `application`; `*` in Accept ranges. */
  type: string;
  /** Lower-cased subtype, e.g. `sdp`. */
  subtype: string;
  params: HeaderParam[];
}

/** Parse `type/subtype *(SEMI m-parameter)`. Throws {@link SipParseError}. */
export function parseMediaType(text: string): MediaType {
  const { media, end } = scanMediaType(text, 0, false);
  if (end < text.length) throw new SipParseError(`unexpected text after media type "${clip(text)}"`, { offset: end });
  return media;
}

/** The Content-Type of a message. */
export function contentType(message: SipMessage): MediaType | undefined {
  const value = message.headers.get('Content-Type');
  return value === undefined ? undefined : parseMediaType(value);
}

/** The media ranges of every Accept header, in order (RFC 3261 §20.1). An empty Accept header gives []. */
export function acceptRanges(message: SipMessage): MediaType[] | undefined {
  const lines = message.headers.getAll('Accept');
  if (lines.length === 0) return undefined;
  const out: MediaType[] = [];
  for (const line of lines) for (const part of splitHeaderList(line)) out.push(parseMediaType(part));
  return out;
}

/** True when `type` (e.g. `application/sdp`) falls in one of `ranges` (`*\/*`, `application/*` or exact). */
export function mediaTypeMatches(ranges: readonly MediaType[], type: string): boolean {
  const [t, s] = type.toLowerCase().split('/');
  return ranges.some((r) => (r.type === '*' || r.type === t) && (r.subtype === '*' || r.subtype === s));
}

/** `type/subtype` of a media type, lower-case. */
export function mediaTypeName(media: MediaType): string {
  return `${media.type}/${media.subtype}`;
}

function scanMediaType(text: string, start: number, list: boolean): { media: MediaType; end: number } {
  let i = skipWsp(text, start);
  const typeEnd = scanToken(text, i);
  const type = text.slice(i, typeEnd);
  i = skipWsp(text, typeEnd);
  if (!type || text.charCodeAt(i) !== 0x2f) throw new SipParseError(`invalid media type "${clip(text)}"`, { offset: i });
  i = skipWsp(text, i + 1);
  const subEnd = scanToken(text, i);
  const subtype = text.slice(i, subEnd);
  if (!subtype) throw new SipParseError(`invalid media subtype in "${clip(text)}"`, { offset: i });
  const params: HeaderParam[] = [];
  const end = scanHeaderParams(text, subEnd, params, list);
  return { media: { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params }, end };
}

function boundedInteger(value: string, max: number, what: string): number {
  const v = value.trim();
  if (!/^[0-9]+$/.test(v)) throw new SipParseError(`${what} must be a number, found "${clip(value)}"`);
  const n = Number(v);
  if (n > max) throw new SipParseError(`${what} ${clip(v)} is larger than ${max}`);
  return n;
}
