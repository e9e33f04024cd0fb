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

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

function isTchar(ch: string | undefined): boolean {
  return ch !== undefined && TCHAR.test(ch);
}

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
    const start = this.pos;
    while (isTchar(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  quotedString(): string {
    // Caller has checked the opening quote.
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new AuthParamsError('unterminated quoted-string');
      const code = ch.charCodeAt(0);
      if (isForbiddenControl(code)) throw new AuthParamsError(`control character 0x${code.toString(16)} in quoted-string`);
      this.pos++;
      if (ch === '"') return out;
      if (ch === '\\') {
        const escaped = this.peek();
        if (escaped === undefined) throw new AuthParamsError('quoted-pair at end of input');
        if (isForbiddenControl(escaped.charCodeAt(0))) throw new AuthParamsError('control character in quoted-pair');
        this.pos++;
        out += escaped;
      } else {
        out += ch;
      }
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
  for (let i = 0; i < value.length; i++) {
    if (isForbiddenControl(value.charCodeAt(i))) throw new AuthParamsError(`control character at offset ${i}`);
  }
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
