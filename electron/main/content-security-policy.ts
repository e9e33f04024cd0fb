/**
 * The renderer's Content Security Policy, sent both as a response header (session.webRequest) and as the
 * `<meta http-equiv>` of renderer/index.html, so that it holds even for a page loaded from `file:`.
 * The renderer talks to the device only through the preload (Electron) or a WebSocket to 127.0.0.1 (the
 * browser shell), so nothing else may be fetched or connected to.
 */

/** The policy's directives. */
export const CSP_DIRECTIVES: Readonly<Record<string, string>> = Object.freeze({
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  'connect-src': "'self' ws://127.0.0.1:* ws://localhost:*",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-ancestors': "'none'",
});

/** The policy as one header value. */
export const CONTENT_SECURITY_POLICY: string = Object.entries(CSP_DIRECTIVES)
  .map(([name, value]) => `${name} ${value}`)
  .join('; ');

/** Response headers as Electron's webRequest hands them over. */
export type ResponseHeaders = Record<string, string[]>;

/**
 * The headers with our policy set, replacing any Content-Security-Policy the response carried (header
 * names are case-insensitive, RFC 9110 §5.1).
 */
export function withContentSecurityPolicy(headers: ResponseHeaders | undefined): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}
