import { describe, expect, it } from 'vitest';
import { AuthParamsError, formatAuthHeader, parseAuthHeader, quoteString } from './auth-params';

describe('parseAuthHeader', () => {
  it('reads quoted strings with escapes, bare tokens and case-insensitive names', () => {
    const [c] = parseAuthHeader('Digest Realm="a \\"quoted\\" \\\\ realm", nc=00000001 ,qop=auth,  uri="sip:bob@b.example;transport=ws"');
    expect(c?.scheme).toBe('Digest');
    expect(c?.params.get('realm')).toBe('a "quoted" \\ realm');
    expect(c?.params.get('nc')).toBe('00000001');
    expect(c?.params.get('qop')).toBe('auth');
    expect(c?.params.get('uri')).toBe('sip:bob@b.example;transport=ws');
  });

  it('splits several challenges sharing one header value', () => {
    const list = parseAuthHeader('Digest realm="r", algorithm=SHA-256, nonce="n1", Digest realm="r", nonce="n2", Basic, Newauth realm="x"');
    expect(list.map((c) => c.scheme)).toEqual(['Digest', 'Digest', 'Basic', 'Newauth']);
    expect(list[1]?.params.get('nonce')).toBe('n2');
    expect(list[3]?.params.get('realm')).toBe('x');
  });

  it('accepts whitespace around "=" (BWS) and empty list elements', () => {
    const [c] = parseAuthHeader('Digest  realm = "r" ,, nonce= "n"');
    expect(c?.params.get('realm')).toBe('r');
    expect(c?.params.get('nonce')).toBe('n');
  });

  it.each([
    ['an unterminated quoted string', 'Digest realm="abc'],
    ['a duplicate parameter', 'Digest realm="a", REALM="b"'],
    ['a parameter before any scheme', 'realm="a"'],
    ['a missing value', 'Digest realm=, nonce="x"'],
    ['a CR LF (header injection)', 'Digest realm="a"\r\nX-Evil: 1'],
    ['a NUL inside quotes', 'Digest realm="a\u0000b"'],
    ['garbage after a value', 'Digest realm="a" nonce="b"'],
    ['a token68 form', 'Digest abc=='],
    ['a stray quote', 'Digest "realm"'],
    ['a backslash at the end', 'Digest realm="a\\'],
  ])('rejects %s', (_name, value) => {
    expect(() => parseAuthHeader(value)).toThrow(AuthParamsError);
  });

  it('refuses oversize values instead of scanning them', () => {
    expect(() => parseAuthHeader(`Digest realm="${'a'.repeat(10_000)}"`)).toThrow(/longer than/);
  });
});

describe('formatAuthHeader', () => {
  it('round-trips values with quotes and backslashes through the parser', () => {
    const value = formatAuthHeader('Digest', [
      { name: 'username', value: 'o"brien\\x' },
      { name: 'algorithm', value: 'SHA-256', token: true },
    ]);
    expect(value).toBe('Digest username="o\\"brien\\\\x", algorithm=SHA-256');
    expect(parseAuthHeader(value)[0]?.params.get('username')).toBe('o"brien\\x');
  });

  it('refuses a non-token as a token value and control characters in quoted values', () => {
    expect(() => formatAuthHeader('Digest', [{ name: 'nc', value: 'a b', token: true }])).toThrow(AuthParamsError);
    expect(() => quoteString('a\nb')).toThrow(AuthParamsError);
  });
});
