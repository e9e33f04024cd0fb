/**
 * The server side of the WebSocket opening handshake for SIP (RFC 7118 §4, RFC 6455 §4.2).
 *
 * The layer accepts TCP itself (so that limits and the half-open timer cover the handshake) and injects each
 * socket (raw for ws, TLS for wss) into a private HTTP server that never listens. An upgrade must offer the
 * `sip` subprotocol: RFC 7118 §4 makes it the only one a SIP WebSocket server speaks, so a handshake
 * without it is refused with `400 Bad Request` rather than upgraded into a connection nobody can use.
 * Plain HTTP requests get `426 Upgrade Required`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/** The subprotocol token of RFC 7118 §4. */
export const SIP_SUBPROTOCOL = 'sip';

/** Callbacks of an acceptor. */
export interface WebSocketAcceptorHandlers {
  /** The handshake completed on `socket`; `ws` now owns it. */
  accepted(socket: Duplex, ws: WebSocket): void;
  /** The handshake was refused or broken; the socket is being destroyed. */
  refused(socket: Duplex, reason: string): void;
}

/** True when a `Sec-WebSocket-Protocol` request header offers `sip`. */
export function offersSipSubprotocol(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const values = Array.isArray(header) ? header : [header];
  return values.some((v) => v.split(',').some((p) => p.trim() === SIP_SUBPROTOCOL));
}

function refuse(socket: Duplex, status: string, text: string): void {
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/** Accepts WebSocket handshakes on sockets handed to `inject`. */
export class WebSocketAcceptor {
  private readonly http: Server;
  private readonly wss: WebSocketServer;

  constructor(maxPayload: number, handlers: WebSocketAcceptorHandlers) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload,
      handleProtocols: (protocols: Set<string>) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    });
    this.http = createServer();
    this.http.on('request', (_req, res) => {
      res.writeHead(426, { Connection: 'close', Upgrade: 'websocket', 'Content-Type': 'text/plain' });
      res.end('SIP over WebSocket only (RFC 7118)');
      res.socket?.destroy();
    });
    this.http.on('clientError', (error: Error, socket: Duplex) => {
      handlers.refused(socket, `bad HTTP handshake: ${error.message}`);
      refuse(socket, '400 Bad Request', 'bad handshake');
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!offersSipSubprotocol(req.headers['sec-websocket-protocol'])) {
        handlers.refused(socket, 'WebSocket handshake without the "sip" subprotocol (RFC 7118 §4)');
        refuse(socket, '400 Bad Request', 'the "sip" WebSocket subprotocol is required (RFC 7118)');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => handlers.accepted(socket, ws));
    });
  }

  /** Hand an accepted socket (raw TCP for ws, TLS for wss) to the HTTP handshake. */
  inject(socket: Duplex): void {
    this.http.emit('connection', socket);
  }
}
