/**
 * SIP over a byte stream, TCP or TLS (RFC 3261 §18.3): the stream framer cuts messages by Content-Length;
 * a CRLFCRLF keep-alive ping is answered with a CRLF pong (RFC 5626 §3.5.1). A framing error leaves the
 * stream unsynchronized, so it is fatal for the connection.
 */
import type { Socket } from 'node:net';
import { setImmediate as afterIo } from 'node:timers';
import type { ChannelSink, MessageChannel } from './message-channel';
import { SipStreamFramer } from '../message/framing';
import { TransportError, asTransportError } from './transport-error';

const CRLF = new Uint8Array([13, 10]);

/** Options of a stream channel. */
export interface StreamChannelOptions {
  /** Largest message accepted; bigger ones are a framing error. */
  maxMessageSize: number;
  /**
   * For an outbound socket, the event that makes it usable: `connect` (TCP) or `secureConnect` (TLS); we are
   * then the client side of keep-alives. Absent for an inbound socket, which is usable at once and on which
   * we are the server side (answering pings).
   */
  openOn?: 'connect' | 'secureConnect';
}

/** A message channel over a TCP or TLS socket. */
export class StreamChannel implements MessageChannel {
  private readonly framer: SipStreamFramer;
  private broken = false;
  /** Writes are being gathered until the current round of I/O callbacks is over (see `write`). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(
    private readonly socket: Socket,
    private readonly sink: ChannelSink,
    options: StreamChannelOptions,
  ) {
    this.framer = new SipStreamFramer({
      maxMessageSize: options.maxMessageSize,
      keepAliveRole: options.openOn === undefined ? 'server' : 'client',
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (options.openOn !== undefined) socket.once(options.openOn, () => sink.open());
  }

  /**
   * Write one message. Messages written while the event loop works through one round of I/O (a burst of
   * datagrams, each answered with a message to the same peer) go out together when that round is over: one
   * TLS record and one system call for the lot instead of one each, and the peer reads them in one chunk.
   * The flush is scheduled with the `node:timers` setImmediate, which a test's fake clock does not hold back.
   */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.writable) {
        reject(new TransportError('send-failed', 'socket is not writable'));
        return;
      }
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        afterIo(this.uncork);
      }
      this.socket.write(bytes, (error) => {
        if (error) reject(asTransportError('send-failed', 'stream write failed', error));
        else resolve();
      });
    });
  }

  /** Half-close (FIN / close_notify). */
  end(): void {
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.broken) return;
    for (const out of this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
      switch (out.kind) {
        case 'message':
          this.sink.message(out.bytes);
          break;
        case 'ping':
          this.sink.activity();
          if (this.socket.writable) this.socket.write(CRLF);
          break;
        case 'pong':
          this.sink.activity();
          break;
        case 'error': {
          // Framing is lost: nothing after this point can be trusted (RFC 3261 §18.3).
          this.broken = true;
          const code = out.error.status === 513 ? 'message-too-large' : 'bad-message';
          this.sink.fault(new TransportError(code, `stream framing lost: ${out.error.message}`, { cause: out.error }), true);
          return;
        }
      }
    }
  }
}
