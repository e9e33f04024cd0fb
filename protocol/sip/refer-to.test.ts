import { describe, expect, it } from 'vitest';
import { embeddedHeader, formatReferTo, parseReferTo } from './refer-to';

describe('Refer-To with embedded headers (RFC 3261 §19.1.1, §19.1.5)', () => {
  const j = 'sip:bob@b.example;gr=urn:uuid:0000-bbbb';
  it('round-trips the Join REFER’s J: URI parameters kept, values escaped then decoded', () => {
    const text = formatReferTo({
      uri: j,
      headers: [
        { name: 'Target-Dialog', value: 'T-call@a;local-tag=bob;remote-tag=lap' },
        { name: 'Require', value: 'tdialog' },
        { name: 'Conversation-ID', value: 'c 1=2' },
      ],
    });
    expect(text).toContain('Target-Dialog=T-call%40a%3Blocal-tag%3Dbob%3Bremote-tag%3Dlap');
    expect(text).toContain('Conversation-ID=c%201%3D2');
    const parsed = parseReferTo(text);
    expect(parsed.uri).toBe(j);
    expect(embeddedHeader(parsed, 'target-dialog')).toBe('T-call@a;local-tag=bob;remote-tag=lap');
    expect(embeddedHeader(parsed, 'Conversation-ID')).toBe('c 1=2');
  });

  it('refuses headers that must never be embedded, bad escapes and non-SIP URIs', () => {
    expect(() => formatReferTo({ uri: j, headers: [{ name: 'Call-ID', value: 'x' }] })).toThrow(/19\.1\.5/);
    expect(() => parseReferTo(`<${j}?From=sip%3Aeve%40x>`)).toThrow(/19\.1\.5/);
    expect(() => parseReferTo(`<${j}?Require=%E0%A4%A>`)).toThrow(/bad escape/);
    expect(() => parseReferTo('<http://example.com/>')).toThrow(/not a SIP URI/);
    expect(() => parseReferTo(`<${j}`)).toThrow(/unbalanced/);
  });
});
