/**
 * The byte stream under an MSRP connection, as `MsrpConnectionPool` sees it, and an adapter for a Node
 * `net.Socket`. The adapter is typed structurally (`StreamSocketLike`), so protocol/ still imports no
 * Node module: the Node-side owners (the device's `MsrpEndpoint`, the server's `MsrpServerEndpoint`)
 * create the sockets and hand them over.
 */
import { concatBytes } from '../common/bytes';

/** What a socket reports to the pool. */
export interface MsrpSocketHandler {
  /** Bytes were read. */
  data(bytes: Uint8Array): void;
  /** The socket can take more bytes after a `write` returned false. */
  drained(): void;
  /** The socket is gone (either side closed it, or it failed). Called once. */
  closed(): void;
}

/** A connected byte stream. */
export interface MsrpSocket {
  /** The peer's address for diagnostics, e.g. `127.0.0.1:50312`. */
  readonly label: string;
  /** Queue bytes; false asks the writer to wait for `drained`. */
  write(bytes: Uint8Array): boolean;
  /** Close at once. */
  destroy(): void;
  /** Stop reading (flow control); the peer's writes then back up in TCP. */
  pauseReading(): void;
  /** Read again. */
  resumeReading(): void;
  /** Start reporting events to `handler`; called once by the pool. */
  listen(handler: MsrpSocketHandler): void;
}

/** The members of a Node `net.Socket` that `adaptStreamSocket` uses. */
export interface StreamSocketLike {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly destroyed: boolean;
  write(data: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (data: Uint8Array) => void): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Small writes are gathered up to this many bytes and handed to the socket as one buffer. */
const GATHER_BYTES = 64 * 1024;
/** A write at least this large goes to the socket as it is (a large chunk body: no copy). */
const DIRECT_WRITE_BYTES = 16 * 1024;

/**
 * Adapt a Node `net.Socket` (or anything shaped like one). Errors are swallowed here because `close`
 * always follows them in Node; a write to a destroyed socket is dropped and reported as "wait".
 *
 * Writes made in one synchronous run (a connection pumping chunks, or answering a batch of requests) leave
 * together when the run ends: small ones are gathered into one buffer (one socket write for hundreds of
 * responses, instead of one each), large ones are passed on uncopied, all under one cork, so that they
 * leave in one system call. A write reports "wait" once the gathered bytes reach 64 KiB and the socket
 * asks for a pause.
 */
export function adaptStreamSocket(socket: StreamSocketLike): MsrpSocket {
  const host = socket.remoteAddress ?? '?';
  const label = `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? '?'}`;
  let listening = false;
  let corked = false;
  let gathered: Uint8Array[] = [];
  let gatheredBytes = 0;
  /** Hand the gathered writes to the socket as one; returns the socket's answer. */
  const flush = (): boolean => {
    if (gatheredBytes === 0) return true;
    const parts = gathered;
    const bytes = parts.length === 1 ? parts[0]! : concatBytes(parts);
    gathered = [];
    gatheredBytes = 0;
    return socket.destroyed ? false : socket.write(bytes);
  };
  const uncork = (): void => {
    corked = false;
    flush();
    if (!socket.destroyed) socket.uncork();
  };
  return {
    label,
    write(bytes) {
      if (socket.destroyed) return false;
      if (!corked) {
        corked = true;
        socket.cork();
        queueMicrotask(uncork);
      }
      if (bytes.length >= DIRECT_WRITE_BYTES) {
        flush();
        return socket.write(bytes);
      }
      gathered.push(bytes);
      gatheredBytes += bytes.length;
      return gatheredBytes < GATHER_BYTES || flush();
    },
    destroy: () => void socket.destroy(),
    pauseReading: () => void socket.pause(),
    resumeReading: () => void socket.resume(),
    listen(handler) {
      if (listening) throw new TypeError('listen() called twice on an MSRP socket');
      listening = true;
      socket.on('data', (data) => handler.data(data));
      socket.on('drain', () => handler.drained());
      socket.on('error', () => undefined);
      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        handler.closed();
      };
      socket.on('close', close);
      if (socket.destroyed) close();
    },
  };
}
