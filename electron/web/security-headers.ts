/**
 * Response headers of every page and file the shell serves. The renderer loads only its own scripts and
 * styles and talks only to its own origin's bridge, so the policy allows exactly that. The page URL carries
 * the device token: `Referrer-Policy: no-referrer` keeps it from leaking to any link target.
 */

/** The Content-Security-Policy for a shell served at `origin` (`http://127.0.0.1:41234`). */
export function contentSecurityPolicy(origin: string): string {
  const { host } = new URL(origin);
  const directives: readonly (readonly [string, string])[] = [
    ['default-src', "'self'"],
    ['script-src', "'self'"],
    ['style-src', "'self'"],
    ['img-src', "'self' data:"],
    ['font-src', "'self'"],
    ['connect-src', `'self' ws://${host}`],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
    ['frame-ancestors', "'none'"],
  ];
  return directives.map(([name, value]) => `${name} ${value}`).join('; ');
}

/** Every security header, for a shell served at `origin`. */
export function securityHeaders(origin: string): Readonly<Record<string, string>> {
  return Object.freeze({
    'Content-Security-Policy': contentSecurityPolicy(origin),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), display-capture=()',
    'Cache-Control': 'no-store',
  });
}
