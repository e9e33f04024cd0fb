/**
 * Via header values (RFC 3261 §20.42, §25.1; IPv6 sent-by per RFC 5118 §4.5; rport per RFC 3581).
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *
 * SLASH, COLON and SEMI allow whitespace around them (RFC 4475 §3.1.1.1 has `SIP  /   2.0 /UDP`).
 */
import { isWsp, scanToken, skipWsp } from './abnf';
import { type HeaderParam, getParam, scanHeaderParams, serializeHeaderParams } from './header-params';
import { SipParseError } from './parse-error';
import { clip, describe, hostKind, isIpv4, isIpv6 } from './sip-uri';

/** The RFC 3261 magic cookie that starts every compliant branch (§8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

/** One parsed Via value. */
export interface Via {
  /** Usually `SIP`. */
  protocolName: string;
  /** Usually `2.0`. */
  protocolVersion: string;
  /** The transport as written (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`, or an extension). */
  transport: string;
  /** sent-by host as written (IPv6 in brackets). */
  host: string;
  port: number | undefined;
  /** Every parameter, raw and in order. */
  params: HeaderParam[];
  branch: string | undefined;
  /** The `received` address (IPv4 or IPv6, without brackets). */
  received: string | undefined;
  /** `rport`: null when present without a value (a request for it, RFC 3581 §3), undefined when absent. */
  rport: number | null | undefined;
  maddr: string | undefined;
  ttl: number | undefined;
}

/** Parse a single via-parm. Throws {@link SipParseError}. */
export function parseVia(text: string): Via {
  const { via, end } = scanVia(text, 0, false);
  if (end < text.length) throw new SipParseError(`unexpected ${describe(text, end)} after Via`, { offset: end });
  return via;
}

/** Parse a comma-separated Via header value (no empty elements allowed). Throws {@link SipParseError}. */
export function parseViaList(text: string): Via[] {
  const out: Via[] = [];
  let i = 0;
  for (;;) {
    const { via, end } = scanVia(text, i, true);
    out.push(via);
    if (end >= text.length) return out;
    i = end + 1;
  }
}

/** Parse every Via of a message, top first, from its Via header lines. Throws {@link SipParseError}. */
export function parseVias(lines: readonly string[]): Via[] {
  const out: Via[] = [];
  for (const line of lines) out.push(...parseViaList(line));
  return out;
}

/** Serialize a Via value. */
export function serializeVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${via.host}${port}${serializeHeaderParams(via.params)}`;
}

/** True when the branch follows RFC 3261 (magic cookie plus at least one more character, §8.1.1.7). */
export function isRfc3261Branch(branch: string | undefined): boolean {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}

function scanVia(text: string, start: number, list: boolean): { via: Via; end: number } {
  let i = skipWsp(text, start);
  if (i >= text.length || (list && text.charCodeAt(i) === 0x2c)) {
    throw new SipParseError(list ? 'empty element in Via list' : 'empty Via', { offset: i });
  }
  // No closures here: this runs for every message (a closure per call would be an allocation per message).
  let end = tokenEnd(text, i, 'protocol name');
  const protocolName = text.slice(i, end);
  i = slashEnd(text, end);
  end = tokenEnd(text, i, 'protocol version');
  const protocolVersion = text.slice(i, end);
  i = slashEnd(text, end);
  end = tokenEnd(text, i, 'transport');
  const transport = text.slice(i, end);
  i = end;
  if (!isWsp(text.charCodeAt(i))) throw new SipParseError(`expected whitespace before Via sent-by, found ${describe(text, i)}`, { offset: i });
  i = skipWsp(text, i);
  const hostStart = i;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0) throw new SipParseError('unterminated IPv6 reference in Via', { offset: i });
    i = close + 1;
  } else {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e)) break;
      i++;
    }
  }
  const host = text.slice(hostStart, i);
  if (hostKind(host) === undefined) throw new SipParseError(host ? `invalid Via sent-by host "${clip(host)}"` : 'missing Via sent-by host', { offset: hostStart });
  let port: number | undefined;
  const afterHost = skipWsp(text, i);
  if (text.charCodeAt(afterHost) === 0x3a) {
    i = skipWsp(text, afterHost + 1);
    const digitsStart = i;
    while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    port = portValue(text.slice(digitsStart, i), digitsStart, 'Via sent-by port');
  }
  const params: HeaderParam[] = [];
  end = scanHeaderParams(text, i, params, list);
  const via: Via = {
    protocolName, protocolVersion, transport, host, port, params,
    branch: undefined, received: undefined, rport: undefined, maddr: undefined, ttl: undefined,
  };
  const branch = getParam(params, 'branch');
  if (branch === null) throw new SipParseError('Via branch parameter without a value', { offset: hostStart });
  via.branch = branch;
  const received = getParam(params, 'received');
  if (received !== undefined) {
    if (received === null || !(isIpv4(received) || isIpv6(received))) {
      throw new SipParseError('Via received parameter must be an IPv4 or IPv6 address', { offset: hostStart });
    }
    via.received = received;
  }
  const rport = getParam(params, 'rport');
  if (rport !== undefined) via.rport = rport === null ? null : portValue(rport, hostStart, 'Via rport');
  const maddr = getParam(params, 'maddr');
  if (maddr !== undefined) {
    if (maddr === null || hostKind(maddr) === undefined) throw new SipParseError('Via maddr parameter must be a host', { offset: hostStart });
    via.maddr = maddr;
  }
  const ttl = getParam(params, 'ttl');
  if (ttl !== undefined) {
    if (ttl === null || !/^[0-9]{1,3}$/.test(ttl) || Number(ttl) > 255) throw new SipParseError('Via ttl must be 0-255', { offset: hostStart });
    via.ttl = Number(ttl);
  }
  return { via, end };
}

/** End of the token at `i` (what the sent-protocol expects there); throws when there is none. */
function tokenEnd(text: string, i: number, what: string): number {
  const end = scanToken(text, i);
  if (end === i) throw new SipParseError(`expected ${what} in Via, found ${describe(text, i)}`, { offset: i });
  return end;
}

/** Past the "/" (with optional whitespace around it) of a sent-protocol; throws when it is missing. */
function slashEnd(text: string, i: number): number {
  i = skipWsp(text, i);
  if (text.charCodeAt(i) !== 0x2f) throw new SipParseError(`expected "/" in Via sent-protocol, found ${describe(text, i)}`, { offset: i });
  return skipWsp(text, i + 1);
}

function portValue(digits: string, offset: number, what: string): number {
  if (!/^[0-9]{1,5}$/.test(digits) || Number(digits) > 65535) throw new SipParseError(`invalid ${what} "${clip(digits)}"`, { offset });
  return Number(digits);
}
