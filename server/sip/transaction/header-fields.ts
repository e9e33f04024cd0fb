/**
 * The few header fields the transaction layer must read to match messages (RFC 3261 §17.1.3, §17.2.3):
 * the topmost Via, CSeq, and the tag of From/To. Deliberately small and strict; full parsers of these
 * headers live in server/sip/message/.
 */
import type { SipHeaders, SipMessage } from '../message/sip-message';

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** Thrown when a header the transaction layer needs is missing or malformed. */
export class HeaderFieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderFieldError';
  }
}

/** One parsed Via value (RFC 3261 §20.42). */
export interface ViaFields {
  /** Transport from the sent-protocol, upper case (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, …). */
  transport: string;
  /** sent-by host, lower case; an IPv6 reference keeps its brackets. */
  host: string;
  /** sent-by port, when present. */
  port: number | undefined;
  /** Parameters by lower-cased name; a flag parameter (`rport`) has value `''`. */
  params: ReadonlyMap<string, string>;
  /** The branch parameter, case kept (it is compared case-sensitively). */
  branch: string | undefined;
}

const VIA_RE = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?:\s*:\s*(\d{1,5}))?\s*((?:;[\s\S]*)?)$/i;

/** Parse one Via value; throws `HeaderFieldError` when it does not follow §20.42. */
export function parseVia(value: string): ViaFields {
  const m = VIA_RE.exec(value.trim());
  if (!m) throw new HeaderFieldError(`malformed Via: ${JSON.stringify(value)}`);
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new HeaderFieldError(`Via port out of range: ${m[3] ?? ''}`);
  const params = parseParams(m[4] ?? '');
  return { transport: m[1]!.toUpperCase(), host: m[2]!.toLowerCase(), port, params, branch: params.get('branch') };
}

/** The topmost Via of a message, parsed; throws `HeaderFieldError` when missing or malformed. */
export function topVia(message: SipMessage): ViaFields {
  const first = message.headers.first('Via');
  if (first === undefined) throw new HeaderFieldError('missing Via');
  return parseVia(first);
}

/** `host:port` of a Via's sent-by, for transaction matching (the port defaults per §18.1.1/§19.1.2). */
export function sentBy(via: ViaFields): string {
  const defaultPort = via.transport === 'TLS' || via.transport === 'WSS' ? 5061 : 5060;
  return `${via.host}:${via.port ?? defaultPort}`;
}

/** A parsed CSeq (RFC 3261 §20.16). */
export interface CSeqFields {
  seq: number;
  method: string;
}

/** Parse the CSeq header; throws `HeaderFieldError` when missing or malformed (sequence must fit 32 bits). */
export function parseCSeq(headers: SipHeaders): CSeqFields {
  const value = headers.get('CSeq');
  if (value === undefined) throw new HeaderFieldError('missing CSeq');
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(value);
  if (!m) throw new HeaderFieldError(`malformed CSeq: ${JSON.stringify(value)}`);
  const seq = Number(m[1]);
  if (seq > 0xffffffff) throw new HeaderFieldError(`CSeq number too large: ${m[1] ?? ''}`);
  return { seq, method: m[2]! };
}

/**
 * The `tag` parameter of a From or To value, or undefined. Header parameters follow the `>` of a name-addr,
 * or the first `;` of a bare addr-spec (§20.10: an addr-spec with `;` must be enclosed in `<>`).
 */
export function tagParam(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return parseParams(headerParamsPart(value)).get('tag');
}

/** The text holding the header parameters of a name-addr / addr-spec value. */
export function headerParamsPart(value: string): string {
  const close = lastAngleClose(value);
  if (close >= 0) return value.slice(close + 1);
  const semi = value.indexOf(';');
  return semi < 0 ? '' : value.slice(semi);
}

function lastAngleClose(value: string): number {
  let inQuotes = false;
  let close = -1;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuotes) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === '>') close = i;
  }
  return close;
}

/** Parse `;a=b;c` into a map with lower-cased names; quoted values lose their quotes. */
export function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    let val = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (val.length >= 2 && val.startsWith('"') && val.endsWith('"')) val = val.slice(1, -1);
    if (name) out.set(name, val);
  }
  return out;
}
