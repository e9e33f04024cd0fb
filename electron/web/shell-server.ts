/**
 * The shell's HTTP server: the built renderer as static files, and the DeviceApi bridge as WebSockets on
 * `/bridge`, one `BridgeSession` per page, each bound to the one device its token names (handshake-guard.ts).
 * Listens on 127.0.0.1 by default, port 0 (ephemeral) unless told otherwise.
 *
 * A refused upgrade is answered with a bare HTTP status and the connection is closed: the page never gets a
 * WebSocket, so it can send nothing to any device.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DeviceApi, ShellCommands } from '../api/device-api';
import { BridgeSession, BridgeSessionState } from './bridge-session';
import { HandshakeGuard } from './handshake-guard';
import { securityHeaders } from './security-headers';
import { createStaticHandler } from './static-files';

/** Options of the shell server. */
export interface ShellServerOptions {
  /** The devices to bridge, by id. */
  devices: ReadonlyMap<string, DeviceApi>;
  /** The shell's own commands (`tryLocally`) of each device, by id. */
  shellCommands?: ReadonlyMap<string, Partial<ShellCommands>>;
  /** The folder of the built renderer. */
  staticRoot: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Pages connected to one device at once (default 8). */
  maxPagesPerDevice?: number;
  /** Largest frame a page may send, bytes (default 8 MiB: a 1 MiB-character message in UTF-8, and then some). */
  maxFrameBytes?: number;
  /** One line per refused handshake or page connection. */
  log?: (line: string) => void;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** A listening shell server. */
export class ShellServer {
  private readonly sessions = new Set<BridgeSession>();
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly guard: HandshakeGuard,
    /** The shell's origin, `http://127.0.0.1:PORT`. */
    readonly origin: string,
  ) {}

  /** Start listening. */
  static async start(options: ShellServerOptions): Promise<ShellServer> {
    const host = options.host ?? '127.0.0.1';
    let origin = '';
    const guard = new HandshakeGuard({ deviceIds: [...options.devices.keys()], origin: () => origin });
    const staticFiles = createStaticHandler({ root: options.staticRoot, headers: () => securityHeaders(origin) });
    const http = createServer((request, response) => {
      if (origin === '' || !guard.hostAllowed(request.headers)) {
        response.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        response.end('this server answers only to its own host name\n');
        return;
      }
      staticFiles(request, response);
    });
    http.on('clientError', (_error, socket) => socket.destroy());
    const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 8 * 1024 * 1024, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const address = http.address() as AddressInfo;
    origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    const server = new ShellServer(http, wss, guard, origin);
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => server.upgrade(request, socket, head, options));
    return server;
  }

  /** The token of a device, for its URL. */
  tokenFor(deviceId: string): string {
    return this.guard.tokenFor(deviceId);
  }

  /** The page URL of a device: the renderer, with the device and its token in the query. */
  deviceUrl(deviceId: string): string {
    const query = new URLSearchParams({ device: deviceId, token: this.tokenFor(deviceId) });
    return `${this.origin}/?${query.toString()}`;
  }

  /** Pages connected right now, by device id. */
  connectedPages(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.sessions) out.set(s.deviceId, (out.get(s.deviceId) ?? 0) + 1);
    return out;
  }

  /** Close every page's socket (1001), stop listening, and resolve once everything is closed. */
  async close(): Promise<void> {
    for (const session of [...this.sessions]) session.close();
    const closing = [...this.sockets].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          const timer = setTimeout(() => ws.terminate(), 1000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    );
    await Promise.all(closing);
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, options: ShellServerOptions): void {
    socket.on('error', () => socket.destroy());
    const decision = this.guard.check(request);
    if (!decision.ok) {
      refuse(socket, decision.status);
      options.log?.(`bridge: refused a page: ${decision.reason}`);
      return;
    }
    if ((this.connectedPages().get(decision.deviceId) ?? 0) >= (options.maxPagesPerDevice ?? 8)) {
      refuse(socket, 503);
      options.log?.(`bridge: refused a page: ${decision.deviceId} already has the most pages connected`);
      return;
    }
    const deviceId = decision.deviceId;
    const device = options.devices.get(deviceId);
    if (!device) {
      refuse(socket, 403);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws, deviceId, device, options));
  }

  private attach(ws: WebSocket, deviceId: string, device: DeviceApi, options: ShellServerOptions): void {
    this.sockets.add(ws);
    const shell = options.shellCommands?.get(deviceId);
    const session = new BridgeSession({
      deviceId,
      device,
      ...(shell ? { shell } : {}),
      socket: {
        send: (text) => ws.send(text),
        close: (code, reason) => ws.close(code, reason),
        bufferedAmount: () => ws.bufferedAmount,
      },
    });
    this.sessions.add(session);
    session.on('stateChange', (state) => {
      if (state === BridgeSessionState.Closed) this.sessions.delete(session);
    });
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
      const text = bytes.toString('utf8');
      session.receive(isBinary ? '' : text, isBinary);
    });
    ws.on('error', (error) => options.log?.(`bridge: page of ${deviceId}: ${error.message}`));
    ws.on('close', () => {
      this.sockets.delete(ws);
      session.socketClosed();
    });
    options.log?.(`bridge: a page connected to ${deviceId}`);
  }
}

/** Answer a refused upgrade with a bare status and close the connection. */
function refuse(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
