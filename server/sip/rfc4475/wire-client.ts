/**
 * A raw SIP client for wire tests: it sends bytes exactly as given, over UDP or over one TCP or TLS
 * connection, and parses whatever comes back (streams framed per RFC 3261 §18.3). Nothing is checked or fixed on the
 * way out, which is the point: torture and fuzz tests need to put broken messages on the wire.
 *
 * Sockets bind to 127.0.0.1 only, and the client refuses to send anywhere but a loopback address.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Socket, connect } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { SipStreamFramer } from '../message/framing';
import { parseMessage } from '../message/parse';
import type { SipMessage } from '../message/sip-message';

/** One thing the client received: a parsed message, or bytes that did not parse. */
export type WireItem = { kind: 'message'; message: SipMessage } | { kind: 'garbage'; bytes: Uint8Array; reason: string };

/** Where to send: a loopback address and port. */
export interface WireTarget {
  host: string;
  port: number;
}

/** The transports a wire client speaks. */
export type WireTransport = 'udp' | 'tcp' | 'tls';

/**
 * How a TLS client trusts the server (RFC 3261 §26.3.1: TLS between proxies authenticates the server): the
 * CA that signed its certificate and, when the certificate names another host than the address dialled, the
 * name to check it against (SNI).
 */
export interface WireTlsOptions {
  ca: string | Buffer;
  servername?: string;
}

/** A raw client over one transport. Create it with {@link openWireClient}. */
export interface WireClient {
  readonly transport: WireTransport;
  /** Our own address (the port to name in a Via so that UDP responses reach us, RFC 3261 §18.2.2). */
  readonly local: WireTarget;
  /** Everything received so far, in arrival order. */
  readonly received: readonly WireItem[];
  /** True once a TCP or TLS connection has closed (always false for UDP). */
  readonly closed: boolean;
  /** Send bytes as they are (one datagram, or one write on the connection). */
  send(bytes: Uint8Array): Promise<void>;
  /**
   * Resolve with the first message, already received or arriving later, that `accept` takes; with
   * undefined when the connection closes first or `timeoutMs` passes.
   */
  waitFor(accept: (message: SipMessage) => boolean, timeoutMs: number): Promise<SipMessage | undefined>;
  /**
   * Send `bytes` and resolve with the first message `accept` takes (as {@link waitFor}). Over UDP the bytes
   * are sent again while no answer has come, like a UAC's Timer E (RFC 3261 §17.1.2.2: T1, doubling up to
   * T2; here 100 ms and 800 ms), so that a datagram lost on a busy machine does not fail a test.
   */
  exchange(bytes: Uint8Array, accept: (message: SipMessage) => boolean, timeoutMs: number): Promise<SipMessage | undefined>;
  /** TCP: resolve when the connection is closed (by either side), or false after `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean>;
  /** TCP: send FIN (no more bytes from us) but keep reading. */
  endWrite(): void;
  /** Close the socket. */
  close(): Promise<void>;
}

/**
 * Open a UDP socket on 127.0.0.1 (ephemeral port) aimed at `target`, or a TCP connection to it, or a TLS
 * one (then `tls` says whom to trust; the handshake must succeed before this resolves).
 */
export async function openWireClient(transport: WireTransport, target: WireTarget, tls?: WireTlsOptions): Promise<WireClient> {
  if (!isLoopback(target.host)) throw new Error(`wire client: ${target.host} is not a loopback address`);
  if (transport === 'udp') return UdpWireClient.open(target);
  if (transport === 'tcp') return TcpWireClient.open('tcp', target);
  if (!tls) throw new Error('wire client: TLS needs the CA to trust (tls.ca)');
  return TcpWireClient.open('tls', target, tls);
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1';
}

interface Waiter {
  accept: (message: SipMessage) => boolean;
  done: (message: SipMessage | undefined) => void;
}

/** What both transports share: the received list and the waiters. */
abstract class BaseWireClient {
  readonly received: WireItem[] = [];
  private waiters: Waiter[] = [];
  private closeWaiters: (() => void)[] = [];
  protected isClosed = false;
  /** Set once `close()` was called: no more sends, no more retransmissions. */
  protected ended = false;

  get closed(): boolean {
    return this.isClosed;
  }

  waitFor(accept: (message: SipMessage) => boolean, timeoutMs: number): Promise<SipMessage | undefined> {
    for (const item of this.received) if (item.kind === 'message' && accept(item.message)) return Promise.resolve(item.message);
    if (this.isClosed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        accept,
        done: (message) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(message);
        },
      };
      const timer = setTimeout(() => waiter.done(undefined), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  abstract send(bytes: Uint8Array): Promise<void>;
  abstract readonly transport: WireTransport;

  async exchange(bytes: Uint8Array, accept: (message: SipMessage) => boolean, timeoutMs: number): Promise<SipMessage | undefined> {
    const answer = this.waitFor(accept, timeoutMs);
    await this.send(bytes);
    if (this.transport === 'udp') {
      let done = false;
      void answer.then(() => {
        done = true;
      });
      void (async () => {
        const deadline = Date.now() + timeoutMs;
        for (let interval = 100; !done && !this.ended && Date.now() + interval < deadline; interval = Math.min(interval * 2, 800)) {
          await new Promise((resolve) => setTimeout(resolve, interval));
          if (!done && !this.ended) await this.send(bytes).catch(() => undefined);
        }
      })();
    }
    return answer;
  }

  protected deliver(bytes: Uint8Array): void {
    let message: SipMessage;
    try {
      message = parseMessage(bytes);
    } catch (error) {
      this.received.push({ kind: 'garbage', bytes, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.received.push({ kind: 'message', message });
    for (const w of [...this.waiters]) if (w.accept(message)) w.done(message);
  }

  protected markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const w of [...this.waiters]) w.done(undefined);
    for (const c of this.closeWaiters.splice(0)) c();
  }
}

class UdpWireClient extends BaseWireClient implements WireClient {
  readonly transport = 'udp' as const;

  private constructor(private readonly socket: UdpSocket, readonly local: WireTarget, private readonly target: WireTarget) {
    super();
    socket.on('message', (data) => this.deliver(new Uint8Array(data)));
  }

  static open(target: WireTarget): Promise<UdpWireClient> {
    const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, target.host.includes(':') ? '::1' : '127.0.0.1', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined); // ICMP unreachable and the like: the test sees no answer
        const address = socket.address();
        resolve(new UdpWireClient(socket, { host: address.address, port: address.port }, target));
      });
    });
  }

  send(bytes: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(new Error('wire client: the socket is closed'));
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, this.target.port, this.target.host, (error) => (error ? reject(error) : resolve()));
    });
  }

  endWrite(): void {
    // nothing to half-close on UDP
  }

  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A stream client: TCP, or TLS over TCP (the same framing, RFC 3261 §18.3). */
class TcpWireClient extends BaseWireClient implements WireClient {
  private readonly framer = new SipStreamFramer({ keepAliveRole: 'client' });

  private constructor(readonly transport: 'tcp' | 'tls', private readonly socket: Socket, readonly local: WireTarget) {
    super();
    socket.on('data', (data: Buffer) => {
      for (const out of this.framer.push(new Uint8Array(data))) {
        if (out.kind === 'message') this.deliver(out.bytes);
        else if (out.kind === 'error') this.received.push({ kind: 'garbage', bytes: new Uint8Array(0), reason: out.error.message });
      }
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', () => undefined); // a reset ends in 'close'
  }

  static open(transport: 'tcp' | 'tls', target: WireTarget, tls?: WireTlsOptions): Promise<TcpWireClient> {
    return new Promise((resolve, reject) => {
      const options: ConnectionOptions = { host: target.host, port: target.port, ca: tls?.ca, ...(tls?.servername ? { servername: tls.servername } : {}) };
      const socket = transport === 'tls' ? connectTls(options) : connect({ host: target.host, port: target.port, noDelay: true });
      if (transport === 'tls') socket.setNoDelay(true);
      const ready = transport === 'tls' ? 'secureConnect' : 'connect';
      socket.once('error', reject);
      socket.once(ready, () => {
        socket.off('error', reject);
        resolve(new TcpWireClient(transport, socket, { host: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 }));
      });
    });
  }

  send(bytes: Uint8Array): Promise<void> {
    if (this.isClosed || this.socket.writableEnded) return Promise.reject(new Error('wire client: the connection is closed'));
    return new Promise((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  endWrite(): void {
    this.socket.end();
  }

  close(): Promise<void> {
    this.ended = true;
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}

/**
 * The same message with the transport and sent-by port of its topmost Via replaced (the port is added when
 * absent), the rest byte for byte: folding, odd spacing and broken parameters included. A server sends a
 * response over the transport the Via names, to the sent-by port unless `rport` is present (RFC 3261
 * §18.2.2, RFC 3581 §4); torture messages name transports and ports we do not use, so a test that sends one
 * over UDP points it at its own socket this way (as a UAC's transport writes its own Via, §18.1.1).
 * Messages whose top Via has no recognisable sent-protocol and sent-by are returned unchanged.
 */
export function withTopViaSentBy(bytes: Uint8Array, transport: string, port: number): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1'); // one char per byte: offsets are byte offsets
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  // the first header line named Via or v (its value may be folded onto the next lines)
  const line = /\r\n(?:via|v)[ \t]*:/i.exec(head);
  if (!line) return bytes;
  const valueStart = line.index + line[0].length;
  // sent-protocol LWS sent-by, LWS being any run of SP, HTAB and CRLF (folding); the port is optional
  const lws = '[ \\t\\r\\n]*';
  const sentBy = new RegExp(`^(${lws}SIP${lws}/${lws}2\\.0${lws}/${lws})([A-Za-z]+)([ \\t\\r\\n]+)(\\[[0-9A-Fa-f:.]+\\]|[^ \\t\\r\\n;:,]+)([ \\t]*:[ \\t]*[0-9]+)?`, 'i')
    .exec(head.slice(valueStart));
  if (!sentBy) return bytes;
  const [, before = '', , gap = '', host = '', oldPort = ''] = sentBy;
  const transportAt = valueStart + before.length;
  const hostEnd = transportAt + sentBy[2]!.length + gap.length + host.length;
  return new Uint8Array(Buffer.from(
    `${text.slice(0, transportAt)}${transport}${gap}${host}:${port}${text.slice(hostEnd + oldPort.length)}`,
    'latin1',
  ));
}
