import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaders } from './security-headers';
import { createStaticHandler, resolveRequestPath } from './static-files';

let dir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpm-static-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1);');
  await writeFile(join(root, '.env'), 'SECRET=1');
  await writeFile(join(dir, 'secret.txt'), 'outside the root');
  await symlink(join(dir, 'secret.txt'), join(root, 'escape.txt'));
  const handler = createStaticHandler({ root, headers: () => securityHeaders('http://127.0.0.1:1') });
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A raw request (the path is sent exactly as given, no client-side normalisation). */
function get(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serving the built renderer', () => {
  it('serves / as index.html with its type and the security headers, ignoring the query', async () => {
    const res = await get('/?device=alice-laptop&token=abc');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>app</title>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("connect-src 'self' ws://127.0.0.1:1");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves a file with its type; HEAD gives the headers and no body', async () => {
    const js = await get('/assets/app.js');
    expect([js.status, js.headers['content-type'], js.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1);']);
    const head = await get('/assets/app.js', 'HEAD');
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '15', '']);
  });

  it('allows GET and HEAD only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await get('/index.html', method);
      expect([method, res.status, res.headers['allow']]).toEqual([method, 405, 'GET, HEAD']);
    }
  });

  it('lists no directory and serves no dotfile', async () => {
    expect((await get('/assets/')).status).toBe(404);
    expect((await get('/assets')).status).toBe(404);
    expect((await get('/.env')).status).toBe(404);
    expect((await get('/missing.js')).status).toBe(404);
  });

  it.each(['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/..%5csecret.txt', '/assets/%00.js', '/escape.txt'])(
    'refuses the traversal %s',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('outside the root');
    },
  );

  it('answers a malformed path with 400', async () => {
    expect((await get('/%E0%A4%A')).status).toBe(400);
    expect(resolveRequestPath('index.html')).toMatchObject({ ok: false, status: 400 });
  });
});
