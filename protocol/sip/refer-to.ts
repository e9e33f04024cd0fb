/**
 * Refer-To values with embedded headers (RFC 3261 §19.1.1 and §19.1.5, RFC 3515 §2.1): the Join REFER's
 * `Refer-To: <J?Target-Dialog=…&Require=tdialog&Conversation-ID=…>` (PROFILE.md steps 6–9).
 *
 * The INVITE's Request-URI is the Refer-To URI without its `?headers`, keeping every URI parameter (`gr`);
 * the embedded headers are percent-decoded. Headers that must never be embedded (§19.1.5) are refused.
 */

/** A Refer-To split into the URI to invite and the headers to put on that INVITE. */
export interface ReferTarget {
  /** The Request-URI of the triggered request: the URI without `?headers`, parameters kept. */
  uri: string;
  /** The embedded headers, decoded, in order. */
  headers: { name: string; value: string }[];
}

/** Headers RFC 3261 §19.1.5 forbids in a URI that triggers a request. */
const FORBIDDEN = new Set(['from', 'to', 'call-id', 'cseq', 'via', 'route', 'record-route', 'contact']);

/** Percent-encode a header value for embedding (§19.1.1: everything outside `hnv-unreserved / unreserved`). */
export function escapeHeaderValue(value: string): string {
  const bytes = new TextEncoder().encode(value);
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    // unreserved (alphanum and mark) and hnv-unreserved, minus what would confuse a reader ("?", "&", "=")
    if (/[A-Za-z0-9\-_.!~*'()[\]/:+$]/.test(c)) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `<uri?Name=value&…>` with each value escaped; throws for a forbidden header name. */
export function formatReferTo(target: ReferTarget): string {
  if (target.uri.includes('?') || target.uri.includes('>')) throw new Error('Refer-To: the URI must not carry headers already');
  const parts = target.headers.map((h) => {
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(h.name)) throw new Error(`Refer-To: invalid header name ${JSON.stringify(h.name)}`);
    if (FORBIDDEN.has(h.name.toLowerCase())) throw new Error(`Refer-To: ${h.name} must not be embedded (RFC 3261 §19.1.5)`);
    return `${h.name}=${escapeHeaderValue(h.value)}`;
  });
  return parts.length > 0 ? `<${target.uri}?${parts.join('&')}>` : `<${target.uri}>`;
}

/** Parse a Refer-To value (name-addr or addr-spec); throws an Error naming the problem. */
export function parseReferTo(value: string): ReferTarget {
  const trimmed = value.trim();
  let inner: string;
  const lt = trimmed.indexOf('<');
  if (lt >= 0) {
    const gt = trimmed.indexOf('>', lt);
    if (gt < 0) throw new Error('Refer-To: unbalanced angle brackets');
    inner = trimmed.slice(lt + 1, gt);
  } else {
    inner = trimmed.split(';')[0] ?? '';
  }
  if (!/^sips?:/i.test(inner)) throw new Error('Refer-To: not a SIP URI');
  const q = inner.indexOf('?');
  const uri = q < 0 ? inner : inner.slice(0, q);
  const headers: { name: string; value: string }[] = [];
  if (q >= 0) {
    for (const pair of inner.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded: string;
      try {
        decoded = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
      } catch {
        throw new Error(`Refer-To: bad escape in header ${JSON.stringify(name)}`);
      }
      if (FORBIDDEN.has(name.toLowerCase())) throw new Error(`Refer-To: ${name} must not be embedded (RFC 3261 §19.1.5)`);
      headers.push({ name, value: decoded });
    }
  }
  if (uri.length < 5) throw new Error('Refer-To: empty URI');
  return { uri, headers };
}

/** The value of an embedded header, case-insensitively. */
export function embeddedHeader(target: ReferTarget, name: string): string | undefined {
  const key = name.toLowerCase();
  return target.headers.find((h) => h.name.toLowerCase() === key)?.value;
}
