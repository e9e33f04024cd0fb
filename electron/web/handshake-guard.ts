/**
 * Who may talk to the shell. The shell listens on loopback, but any web page the user opens can make the
 * browser connect to 127.0.0.1; so a WebSocket to the bridge must prove two things (RFC 6455 §10.2):
 *
 * - it comes from the shell's own pages: `Origin` is exactly the shell's origin, and `Host` is exactly the
 *   shell's host (no DNS-rebound name; the same Host check covers the static files);
 * - it may drive this device: `/bridge?device=<id>&token=<token>` with the random per-run token of that very
 *   device (another device's token, or none, is refused). Tokens are compared in constant time.
 *
 * A refusal names no reason to the client (the same 403 for an unknown device and a wrong token), only to
 * the shell's log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The bridge's path. */
export const BRIDGE_PATH = '/bridge';

/** The parts of an upgrade request the guard looks at. */
export interface HandshakeRequest {
  url?: string | undefined;
  headers: IncomingHttpHeaders;
}

/** The guard's verdict on an upgrade request. */
export type HandshakeDecision =
  | { ok: true; deviceId: string }
  | { ok: false; status: 400 | 403 | 404; reason: string };

/** Options of the guard. */
export interface HandshakeGuardOptions {
  /** The devices that may be bridged, by id. */
  deviceIds: readonly string[];
  /** The shell's origin, e.g. `http://127.0.0.1:41234` (a function: the port is known only once listening). */
  origin: () => string;
  /** Token source (default 32 random bytes, base64url). */
  newToken?: () => string;
}

/** Decides whether a request may reach the shell and which device a bridge connection drives. */
export class HandshakeGuard {
  private readonly tokens = new Map<string, Buffer>();
  private readonly plain = new Map<string, string>();

  constructor(private readonly options: HandshakeGuardOptions) {
    const newToken = options.newToken ?? (() => randomBytes(32).toString('base64url'));
    for (const id of options.deviceIds) {
      if (this.plain.has(id)) throw new Error(`handshake guard: device id ${JSON.stringify(id)} appears twice`);
      const token = newToken();
      this.plain.set(id, token);
      this.tokens.set(id, digest(token));
    }
  }

  /** The token of `deviceId` (for the URL the shell prints); throws for an unknown device. */
  tokenFor(deviceId: string): string {
    const token = this.plain.get(deviceId);
    if (token === undefined) throw new Error(`handshake guard: no device ${JSON.stringify(deviceId)}`);
    return token;
  }

  /** True when the request's `Host` is the shell's own (every request, static files included). */
  hostAllowed(headers: IncomingHttpHeaders): boolean {
    const host = headers.host;
    return typeof host === 'string' && host.toLowerCase() === new URL(this.options.origin()).host.toLowerCase();
  }

  /** Checks a WebSocket upgrade request. */
  check(request: HandshakeRequest): HandshakeDecision {
    const raw = request.url ?? '';
    const queryAt = raw.indexOf('?');
    const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
    if (path !== BRIDGE_PATH) return { ok: false, status: 404, reason: `no WebSocket endpoint at ${path.slice(0, 64)}` };
    if (!this.hostAllowed(request.headers)) return { ok: false, status: 403, reason: `foreign Host ${describe(request.headers.host)}` };
    const origin = request.headers.origin;
    if (origin !== this.options.origin()) return { ok: false, status: 403, reason: `foreign Origin ${describe(origin)}` };
    const query = new URLSearchParams(queryAt === -1 ? '' : raw.slice(queryAt + 1));
    const devices = query.getAll('device');
    const tokens = query.getAll('token');
    if (devices.length !== 1 || tokens.length !== 1) return { ok: false, status: 400, reason: 'the URL must carry exactly one device and one token' };
    const deviceId = devices[0]!;
    const expected = this.tokens.get(deviceId);
    // An unknown device is checked against a throwaway digest so that it costs what a wrong token costs.
    const matches = timingSafeEqual(expected ?? digest(''), digest(tokens[0]!));
    if (expected === undefined) return { ok: false, status: 403, reason: `unknown device ${describe(deviceId)}` };
    if (!matches) return { ok: false, status: 403, reason: `wrong token for ${deviceId}` };
    return { ok: true, deviceId };
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function describe(value: unknown): string {
  if (value === undefined) return '(none)';
  return JSON.stringify(String(value).slice(0, 80));
}
