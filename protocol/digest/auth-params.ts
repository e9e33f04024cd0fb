/**
 * Parsing and writing of authentication header values: `WWW-Authenticate`, `Proxy-Authenticate`,
 * `Authorization`, `Proxy-Authorization` and `Authentication-Info`.
 *
 * Grammar (RFC 9110 §11.2–11.4, which RFC 7616 and RFC 3261 §25.1 follow):
 * ```
 * challenge   = auth-scheme [ 1*SP #auth-param ]
 * auth-param  = token BWS "=" BWS ( token / quoted-string )
 * quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE ; quoted-pair = "\" char
 * ```
 * Several challenges may share one header value, separated by commas; a new challenge starts where a token
 * is not followed by `=`. token68 forms (Basic, Bearer) are not used by Digest and are rejected.
 */

/** One challenge or one set of credentials: the scheme and its parameters (names lower-cased). */
export interface AuthParams {
  /** The auth-scheme as received, e.g. `Digest`. Compare case-insensitively. */
  scheme: string;
  /** Parameter values with quoting removed; names are lower-cased. */
  params: Map<string, string>;
}

/** Thrown when an authentication header value does not follow the grammar. */
export class AuthParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthParamsError';
  }
}

/** Longest header value we parse; larger ones are refused rather than scanned. */
export const MAX_AUTH_HEADER_LENGTH = 8192;

/** tchar (RFC 9110 §5.6.2) by character code, for the ASCII range. */
const TCHAR_CODES: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") table[ch.charCodeAt(0)] = 1;
  return table;
})();

function isTcharCode(code: number): boolean {
  return code < 128 && TCHAR_CODES[code] === 1;
}

function isTchar(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && isTcharCode(ch.charCodeAt(0));
}

/** Characters that may never appear in a header value: CTLs except HTAB, and DEL. */
const FORBIDDEN_CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** True for characters that may never appear in a header value (CTLs except HTAB, and DEL). */
function isForbiddenControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Skip whitespace and empty list elements (`#rule` allows `, ,`); true when a comma was skipped. */
  skipSeparators(): boolean {
    let comma = false;
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === ','; ch = this.peek()) {
      if (ch === ',') comma = true;
      this.pos++;
    }
    return comma;
  }

  token(): string {
    const text = this.text;
    const start = this.pos;
    let end = start;
    while (end < text.length && isTcharCode(text.charCodeAt(end))) end++;
    this.pos = end;
    return text.slice(start, end);
  }

  quotedString(): string {
    // Caller has checked the opening quote. Runs of plain qdtext are taken as slices (one string per value,
    // not one per character: credentials are parsed on every authenticated request).
    const text = this.text;
    let pos = this.pos + 1;
    let runStart = pos;
    let out: string | undefined;
    for (;;) {
      if (pos >= text.length) throw new AuthParamsError('unterminated quoted-string');
      const code = text.charCodeAt(pos);
      if (isForbiddenControl(code)) throw new AuthParamsError(`control character 0x${code.toString(16)} in quoted-string`);
      if (code === 0x22 /* " */) {
        this.pos = pos + 1;
        const run = text.slice(runStart, pos);
        return out === undefined ? run : out + run;
      }
      if (code === 0x5c /* \ */) {
        if (pos + 1 >= text.length) throw new AuthParamsError('quoted-pair at end of input');
        if (isForbiddenControl(text.charCodeAt(pos + 1))) throw new AuthParamsError('control character in quoted-pair');
        out = (out ?? '') + text.slice(runStart, pos) + text[pos + 1]!;
        pos += 2;
        runStart = pos;
        continue;
      }
      pos++;
    }
  }
}

/**
 * Parse a header value holding one or more challenges or credentials.
 * Throws `AuthParamsError` on anything outside the grammar: duplicate parameters (RFC 9110 §11.2: a name
 * occurs once per challenge), unterminated quotes, control characters, missing values, oversize input.
 */
export function parseAuthHeader(value: string): AuthParams[] {
  if (value.length > MAX_AUTH_HEADER_LENGTH) throw new AuthParamsError(`header value longer than ${MAX_AUTH_HEADER_LENGTH} characters`);
  const control = FORBIDDEN_CONTROL.exec(value);
  if (control !== null) throw new AuthParamsError(`control character at offset ${control.index}`);
  const c = new Cursor(value);
  const out: AuthParams[] = [];
  let current: AuthParams | undefined;
  c.skipSeparators();
  let afterComma = true;
  while (!c.done) {
    const name = c.token();
    if (name === '') throw new AuthParamsError(`unexpected ${JSON.stringify(c.peek())} at offset ${c.pos}`);
    c.skipWhitespace();
    if (c.peek() === '=' && current !== undefined) {
      c.pos++;
      c.skipWhitespace();
      let paramValue: string;
      if (c.peek() === '"') paramValue = c.quotedString();
      else {
        paramValue = c.token();
        if (paramValue === '') throw new AuthParamsError(`parameter ${name} has no value`);
      }
      const key = name.toLowerCase();
      if (current.params.has(key)) throw new AuthParamsError(`duplicate parameter ${key}`);
      current.params.set(key, paramValue);
      c.skipWhitespace();
      if (!c.done && c.peek() !== ',') throw new AuthParamsError(`expected "," after parameter ${key} at offset ${c.pos}`);
    } else if (c.peek() === '=') {
      throw new AuthParamsError(`parameter ${name} before any auth-scheme`);
    } else {
      if (current !== undefined && !afterComma) {
        throw new AuthParamsError(`token68 or unexpected token after scheme ${current.scheme}`);
      }
      current = { scheme: name, params: new Map() };
      out.push(current);
    }
    afterComma = c.skipSeparators();
  }
  return out;
}

/** Quote a value as an RFC 9110 quoted-string, escaping `\` and `"`. Rejects control characters. */
export function quoteString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (isForbiddenControl(value.charCodeAt(i))) throw new AuthParamsError('control character in a value to quote');
  }
  return `"${value.replace(/["\\]/g, (m) => `\\${m}`)}"`;
}

/** A parameter to write: quoted or as a bare token. */
export interface AuthParamOut {
  name: string;
  value: string;
  /** Write as a token (e.g. `algorithm=MD5`, `nc=00000001`, `qop=auth` in credentials, `stale=true`). */
  token?: boolean;
}

/** Write `<scheme> name=value, name="value", …`. Token values are checked to be tokens. */
export function formatAuthHeader(scheme: string, params: readonly AuthParamOut[]): string {
  const parts = params.map((p) => {
    if (p.token) {
      if (p.value === '' || ![...p.value].every(isTchar)) throw new AuthParamsError(`${p.name} value is not a token`);
      return `${p.name}=${p.value}`;
    }
    return `${p.name}=${quoteString(p.value)}`;
  });
  return `${scheme} ${parts.join(', ')}`;
}
