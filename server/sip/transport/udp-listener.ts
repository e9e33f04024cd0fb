/**
 * One UDP listening point (RFC 3261 §18.1.1, §18.2.1): one SIP message per datagram, sent from and received
 * on the same bound socket so that responses and NATs see a stable source port (RFC 3581).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { Endpoint } from './transport-types';
import { normalizeIp } from './endpoint';
import { TransportError, asTransportError } from './transport-error';
import type { UdpBufferSizes } from './transport-options';

/** Largest UDP payload: 65535 minus the IP and UDP headers (IPv4: 20 + 8; IPv6: 40 + 8 without jumbograms). */
export function maxDatagramSize(family: 4 | 6): number {
  return family === 4 ? 65_507 : 65_487;
}

/**
 * The address lookup of our sockets. The transport sends only to IP literals (`validateEndpoint`), which
 * `dns.lookup` answers on the next tick: every datagram would wait a tick and allocate for it. An IP literal is
 * answered at once; anything else still goes to `dns.lookup`.
 */
function literalLookup(hostname: string, options: LookupOneOptions, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

/** Callbacks of a UDP listener. */
export interface UdpListenerHandlers {
  /** One datagram; `local` is the listener's own address. */
  datagram(bytes: Uint8Array, source: Endpoint, local: Endpoint): void;
  error(error: TransportError): void;
}

/** A bound UDP socket. */
export class UdpListener {
  private readonly socket: Socket;
  private bound: Endpoint | undefined;
  /** 4 or 6. */
  readonly family: 4 | 6;

  private constructor(socket: Socket, family: 4 | 6) {
    this.socket = socket;
    this.family = family;
  }

  /**
   * Bind a UDP socket on host:port (port 0: ephemeral) and size its buffers (a size of 0 keeps the system
   * default; the OS clamps the rest). Rejects with `no-listener` when either fails.
   */
  static bind(host: string, port: number, buffers: UdpBufferSizes, handlers: UdpListenerHandlers): Promise<UdpListener> {
    const family = isIP(host) === 6 ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
    const listener = new UdpListener(socket, family);
    return new Promise((resolve, reject) => {
      const onBindError = (error: Error): void => {
        socket.close();
        reject(asTransportError('no-listener', `cannot bind udp ${host}:${port}`, error));
      };
      socket.once('error', onBindError);
      socket.bind(port, host, () => {
        socket.off('error', onBindError);
        try {
          if (buffers.receive > 0) socket.setRecvBufferSize(buffers.receive);
          if (buffers.send > 0) socket.setSendBufferSize(buffers.send);
        } catch (error) {
          socket.close();
          reject(asTransportError('no-listener', `cannot size the buffers of udp ${host}:${port}`, error));
          return;
        }
        socket.on('error', (error: Error) => handlers.error(asTransportError('send-failed', 'udp socket error', error)));
        const local = listener.local;
        socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
          const host = normalizeIp(rinfo.address) ?? rinfo.address;
          handlers.datagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { protocol: 'udp', host, port: rinfo.port }, local);
        });
        resolve(listener);
      });
    });
  }

  /** The bound address (asked of the socket once: it does not change while bound). */
  get local(): Endpoint {
    if (this.bound === undefined) {
      const a = this.socket.address();
      this.bound = { protocol: 'udp', host: normalizeIp(a.address) ?? a.address, port: a.port };
    }
    return { ...this.bound };
  }

  /** The buffer sizes the OS granted, in bytes (Linux reports twice what it was asked, see `UdpBufferSizes`). */
  get bufferSizes(): UdpBufferSizes {
    return { receive: this.socket.getRecvBufferSize(), send: this.socket.getSendBufferSize() };
  }

  /**
   * Send one datagram now and forget it: the kernel takes it or drops it, and UDP tells nothing more either way
   * (Node reports no ICMP error on an unconnected socket; RFC 3261 §18.4 makes acting on them optional). Costs
   * no callback, promise or tick per datagram, which a server sending tens of thousands a second notices.
   * Throws a `TransportError` when the bytes cannot fit a datagram.
   */
  sendNow(bytes: Uint8Array, host: string, port: number): void {
    if (bytes.length > maxDatagramSize(this.family)) {
      throw new TransportError('message-too-large', `${bytes.length} bytes do not fit in one UDP datagram (RFC 3261 §18.1.1: use a reliable transport)`);
    }
    this.socket.send(bytes, port, host);
  }

  /** Send one datagram; resolves once the kernel took it. */
  send(bytes: Uint8Array, host: string, port: number): Promise<void> {
    if (bytes.length > maxDatagramSize(this.family)) {
      return Promise.reject(
        new TransportError('message-too-large', `${bytes.length} bytes do not fit in one UDP datagram (RFC 3261 §18.1.1: use a reliable transport)`),
      );
    }
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, port, host, (error) => {
        if (error) reject(asTransportError('send-failed', `udp send to ${host}:${port} failed`, error));
        else resolve();
      });
    });
  }

  /** Unbind. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
