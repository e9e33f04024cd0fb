import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CSP_DIRECTIVES, CONTENT_SECURITY_POLICY, withContentSecurityPolicy } from './content-security-policy';

/** Directives a <meta> policy cannot carry (CSP3 §6.1: frame-ancestors is ignored there). */
const HEADER_ONLY = new Set(['frame-ancestors']);

describe('the Content Security Policy', () => {
  it('is the same in renderer/index.html as in the response header, apart from header-only directives', () => {
    const html = readFileSync(fileURLToPath(new URL('../../renderer/index.html', import.meta.url)), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const expected = Object.entries(CSP_DIRECTIVES).filter(([name]) => !HEADER_ONLY.has(name)).map(([n, v]) => `${n} ${v}`);
    expect(meta!.split(/;\s*/)).toEqual(expected);
  });

  it("allows scripts and connections only from the app itself and loopback WebSockets", () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(CSP_DIRECTIVES['connect-src']).toBe("'self' ws://127.0.0.1:* ws://localhost:*");
  });

  it('replaces a policy the response carried, whatever the header name case', () => {
    expect(withContentSecurityPolicy({ 'CONTENT-SECURITY-POLICY': ['default-src *'], Server: ['x'] })).toEqual({
      Server: ['x'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
    expect(withContentSecurityPolicy(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});
