/**
 * MSRP URIs (RFC 4975 §6): `msrp://host:port/session-id;tcp`, `msrps://…`, IPv6 hosts in brackets.
 *
 * ```
 * MSRP-URI   = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter )
 * session-id = 1*( unreserved / "+" / "=" / "/" )
 * ```
 */

/** A parsed MSRP URI. `host` never has brackets; IPv6 literals are kept as written (lower-cased). */
export interface MsrpUri {
  scheme: 'msrp' | 'msrps';
  /** The userinfo before `@`, if any (ignored in comparisons). */
  user?: string;
  host: string;
  port?: number;
  /** Absent on relay URIs (RFC 4976). */
  sessionId?: string;
  /** `tcp`, or another transport token, lower-cased. */
  transport: string;
  /** Further `;name[=value]` parameters, verbatim. */
  params: string[];
}

/** Thrown for text that is not an MSRP URI. */
export class MsrpUriError extends Error {
  override readonly name = 'MsrpUriError';
}

const SESSION_ID = /^[A-Za-z0-9\-._~+=/%]+$/;
const REG_NAME = /^[A-Za-z0-9\-._~%!$&'()*+,=]+$/;
const TOKEN = /^[A-Za-z0-9]+$/;
const PARAM = /^[A-Za-z0-9\-._~!$&'()*+,=:%]+$/;
const MAX_URI_LENGTH = 2048;

/** Parse an MSRP URI; throws `MsrpUriError` with the reason on bad input. */
export function parseMsrpUri(text: string): MsrpUri {
  if (text.length > MAX_URI_LENGTH) throw new MsrpUriError(`MSRP URI longer than ${MAX_URI_LENGTH} characters`);
  const m = /^(msrps?):\/\/([^/;]+)(?:\/([^;]*))?;(.*)$/i.exec(text);
  if (!m) throw new MsrpUriError(`not an MSRP URI: ${JSON.stringify(text.slice(0, 100))}`);
  const scheme = m[1]!.toLowerCase() as 'msrp' | 'msrps';
  let authority = m[2]!;
  const sessionPart = m[3];
  const [transport, ...params] = m[4]!.split(';');
  let user: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    user = authority.slice(0, at);
    authority = authority.slice(at + 1);
  }
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new MsrpUriError(`unclosed IPv6 literal in ${JSON.stringify(text)}`);
    host = authority.slice(1, close);
    if (!isIpv6(host)) throw new MsrpUriError(`bad IPv6 literal [${host}]`);
    const rest = authority.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new MsrpUriError(`junk after IPv6 literal: ${JSON.stringify(rest)}`);
      portText = rest.slice(1);
    }
  } else {
    const colon = authority.indexOf(':');
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
    if (!host || !REG_NAME.test(host)) throw new MsrpUriError(`bad host ${JSON.stringify(host)}`);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new MsrpUriError(`bad port ${JSON.stringify(portText)}`);
    port = Number(portText);
  }
  let sessionId: string | undefined;
  if (sessionPart !== undefined) {
    if (!SESSION_ID.test(sessionPart)) throw new MsrpUriError(`bad session-id ${JSON.stringify(sessionPart)}`);
    sessionId = sessionPart;
  }
  if (!transport || !TOKEN.test(transport)) throw new MsrpUriError(`bad transport ${JSON.stringify(transport)}`);
  for (const p of params) if (!PARAM.test(p)) throw new MsrpUriError(`bad URI parameter ${JSON.stringify(p)}`);
  const uri: MsrpUri = { scheme, host: host.toLowerCase(), transport: transport.toLowerCase(), params };
  if (user !== undefined) uri.user = user;
  if (port !== undefined) uri.port = port;
  if (sessionId !== undefined) uri.sessionId = sessionId;
  return uri;
}

/** Format an MSRP URI (IPv6 hosts bracketed). */
export function formatMsrpUri(uri: MsrpUri): string {
  const host = uri.host.includes(':') ? `[${uri.host}]` : uri.host;
  const user = uri.user !== undefined ? `${uri.user}@` : '';
  const port = uri.port !== undefined ? `:${uri.port}` : '';
  const session = uri.sessionId !== undefined ? `/${uri.sessionId}` : '';
  const params = uri.params.map((p) => `;${p}`).join('');
  return `${uri.scheme}://${user}${host}${port}${session};${uri.transport}${params}`;
}

/**
 * URI equality per RFC 4975 §6.1: scheme, host and transport compare case-insensitively, the session-id
 * case-sensitively, ports must both be absent or equal, userinfo and other parameters are ignored.
 * IPv6 literals compare by address value (`::1` equals `0:0:0:0:0:0:0:1`).
 */
export function msrpUrisEqual(a: MsrpUri, b: MsrpUri): boolean {
  return (
    a.scheme === b.scheme &&
    normalizeHost(a.host) === normalizeHost(b.host) &&
    a.port === b.port &&
    a.sessionId === b.sessionId &&
    a.transport === b.transport
  );
}

/** Equality of two paths (lists of URIs), element by element. */
export function msrpPathsEqual(a: readonly MsrpUri[], b: readonly MsrpUri[]): boolean {
  return a.length === b.length && a.every((u, i) => msrpUrisEqual(u, b[i]!));
}

/** A map key for a URI that agrees with `msrpUrisEqual`. */
export function msrpUriKey(uri: MsrpUri): string {
  return `${uri.scheme}|${normalizeHost(uri.host)}|${uri.port ?? ''}|${uri.transport}|${uri.sessionId ?? ''}`;
}

function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.includes(':') ? expandIpv6(h) ?? h : h;
}

function isIpv6(text: string): boolean {
  return expandIpv6(text) !== undefined;
}

/** The eight 16-bit groups of an IPv6 literal in full hex form, or undefined when it is not one. */
function expandIpv6(text: string): string | undefined {
  let s = text.toLowerCase();
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const o = v4.slice(2, 6).map(Number);
    if (o.some((x) => x > 255)) return undefined;
    s = `${v4[1]!}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const parts = s.split('::');
  if (parts.length > 2) return undefined;
  const head = parts[0] ? parts[0].split(':') : [];
  const rest = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  const groups = [...head, ...rest];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  if (parts.length === 1 ? groups.length !== 8 : groups.length > 7) return undefined;
  const zeros = Array<string>(8 - groups.length).fill('0');
  const all = parts.length === 2 ? [...head, ...zeros, ...rest] : head;
  return all.map((g) => g.padStart(4, '0')).join(':');
}
