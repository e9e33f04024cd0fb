/**
 * A probe of a Conversation Server's SIP listening point, for tests: a TLS connection opened as its core would
 * open one, and an OPTIONS written on it (RFC 3261 §11).
 */
import { connect, type TLSSocket } from 'node:tls';
import type { Endpoint } from '../../sip/transport/transport-types';

/** An open probe connection and the status line of the first answer it reads. */
export interface SipProbe {
  socket: TLSSocket;
  /** Resolves with the first response's status line, once its head is complete. */
  statusLine: Promise<string>;
}

/** Connect to `address` over TLS, trusting `ca`; resolves once the handshake is done. The caller destroys the socket. */
export async function connectSipProbe(address: Endpoint, ca: string): Promise<SipProbe> {
  const socket = connect({ host: address.host, port: address.port, ca });
  try {
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const statusLine = new Promise<string>((resolve) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
  });
  return { socket, statusLine };
}

/** The bytes of an OPTIONS to `to` sent from `socket`'s end, with `callId` (also the branch's suffix). */
export function sipOptionsRequest(to: Endpoint, socket: TLSSocket, callId: string): string {
  return [
    `OPTIONS sip:${to.host}:${to.port};transport=tls SIP/2.0`,
    `Via: SIP/2.0/TLS ${socket.localAddress ?? '127.0.0.1'}:${socket.localPort ?? 0};branch=z9hG4bK-${callId};rport`,
    'Max-Forwards: 70',
    'From: <sip:probe@a.example>;tag=probe',
    `To: <sip:${to.host}:${to.port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
