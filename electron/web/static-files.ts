/**
 * The shell's static file server for the built renderer (dist/renderer/): GET and HEAD only (RFC 9110
 * §9.3.1–9.3.2; anything else is 405 with `Allow`), `/` is `index.html`, no directory listing, no dotfiles,
 * and nothing outside the root: a path segment that is `.` or `..` (also percent-encoded), that holds a
 * slash, a backslash or NUL once decoded, or a file whose real path (symlinks resolved) leaves the root
 * is refused. Every response carries the security headers (security-headers.ts).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

/** Content types by file extension; anything else is served as `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
});

/** Options of the static handler. */
export interface StaticFilesOptions {
  /** The folder served (its real path is taken once, at the first request). */
  root: string;
  /** Headers added to every response. */
  headers: () => Readonly<Record<string, string>>;
}

/** Why a request path was refused, or the relative segments it names. */
export type ResolvedPath = { ok: true; segments: string[] } | { ok: false; status: 400 | 403; reason: string };

/**
 * Splits a request target's path into decoded segments, refusing traversal (RFC 3986 §3.3 dot segments,
 * in any encoding) and characters a file name must not smuggle in.
 */
export function resolveRequestPath(target: string): ResolvedPath {
  const queryAt = target.search(/[?#]/);
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  if (!path.startsWith('/')) return { ok: false, status: 400, reason: 'the request target must be an absolute path' };
  const segments: string[] = [];
  for (const raw of path.split('/').slice(1)) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: 'the path is not valid percent-encoded UTF-8' };
    }
    if (segment === '.' || segment === '..') return { ok: false, status: 403, reason: 'path traversal refused' };
    if (/[/\\\0]/.test(segment)) return { ok: false, status: 403, reason: 'path traversal refused' };
    segments.push(segment);
  }
  return { ok: true, segments };
}

/** A request handler serving `options.root`. Never throws; every failure is an HTTP status. */
export function createStaticHandler(options: StaticFilesOptions): (request: IncomingMessage, response: ServerResponse) => void {
  let rootReal: Promise<string> | null = null;
  const root = (): Promise<string> => (rootReal ??= realpath(options.root));

  const finish = (response: ServerResponse, head: boolean, status: number, text: string, extra: Record<string, string> = {}): void => {
    const body = Buffer.from(`${text}\n`, 'utf8');
    response.writeHead(status, { ...options.headers(), ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) });
    response.end(head ? undefined : body);
  };

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? '';
    const head = method === 'HEAD';
    if (method !== 'GET' && !head) {
      finish(response, false, 405, `${method} is not allowed: this server only serves files`, { Allow: 'GET, HEAD' });
      return;
    }
    const resolved = resolveRequestPath(request.url ?? '');
    if (!resolved.ok) {
      finish(response, head, resolved.status, resolved.reason);
      return;
    }
    const segments = resolved.segments.length === 1 && resolved.segments[0] === '' ? ['index.html'] : resolved.segments;
    if (segments.some((s) => s === '' || s.startsWith('.'))) {
      // An empty segment is a directory (`/assets/`, `//x`): there is no listing; dotfiles are never served.
      finish(response, head, 404, 'not found');
      return;
    }
    let base: string;
    let file: string;
    try {
      base = await root();
      file = await realpath(join(base, ...segments));
    } catch {
      finish(response, head, 404, 'not found');
      return;
    }
    if (!file.startsWith(base + sep)) {
      finish(response, head, 403, 'path traversal refused');
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      finish(response, head, 404, 'not found');
      return;
    }
    response.writeHead(200, {
      ...options.headers(),
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(info.size),
    });
    if (head) {
      response.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  };

  return (request, response) => {
    serve(request, response).catch(() => {
      if (!response.headersSent) finish(response, false, 500, 'internal error');
      else response.destroy();
    });
  };
}
