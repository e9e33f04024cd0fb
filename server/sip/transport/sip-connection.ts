/**
 * One reliable connection (TCP, TLS, WS or WSS) and the flow it carries (RFC 5626 §3.1): its state, its
 * timers (connect, half-open, idle) and its channel.
 *
 * ```
 *   outbound                              inbound
 *  ┌────────────┐                    ┌────────────┐  half-open: accepted, no complete
 *  │ connecting │                    │  accepted  │  message yet (reaped on a timer)
 *  └─────┬──────┘                    └─────┬──────┘
 *        │ connected / handshake done      │ first complete message
 *        └────────────────┬────────────────┘
 *                         ▼
 *                  ┌─────────────┐
 *                  │ established │
 *                  └──────┬──────┘
 *                         │ close(): limit, idle, framing error, layer closing
 *                         ▼
 *                  ┌─────────────┐
 *                  │   closing   │   (orderly shutdown, forced after a grace period)
 *                  └──────┬──────┘
 *                         │ socket closed
 *                         ▼
 *                  ┌─────────────┐
 *                  │   closed    │ ◄── also straight from any other state on reset, error or destroy()
 *                  └─────────────┘
 * ```
 */
import type { Socket } from 'node:net';
import type { Endpoint, TransportProtocol } from './transport-types';
import type { ChannelSink, MessageChannel } from './message-channel';
import { TypedEmitter } from './typed-emitter';
import { TransportError } from './transport-error';
import { formatEndpoint } from './endpoint';

/** States of a connection (see the diagram above). */
export enum ConnectionState {
  Connecting = 'connecting',
  Accepted = 'accepted',
  Established = 'established',
  Closing = 'closing',
  Closed = 'closed',
}

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  [ConnectionState.Connecting]: [ConnectionState.Established, ConnectionState.Closing, ConnectionState.Closed],
  [ConnectionState.Accepted]: [ConnectionState.Established, ConnectionState.Closing, ConnectionState.Closed],
  [ConnectionState.Established]: [ConnectionState.Closing, ConnectionState.Closed],
  [ConnectionState.Closing]: [ConnectionState.Closed],
  [ConnectionState.Closed]: [],
};

/** Throws unless the diagram above has an arrow `from` → `to`. */
export function checkConnectionTransition(from: ConnectionState, to: ConnectionState, id = '?'): void {
  if (!TRANSITIONS[from].includes(to)) throw new Error(`SipConnection ${id}: illegal transition ${from} -> ${to}`);
}

/** Events of a connection. */
export interface SipConnectionEvents {
  stateChange: (to: ConnectionState, from: ConnectionState) => void;
  /** One complete message as received. */
  message: (raw: Uint8Array) => void;
  /**
   * A problem on the connection (a framing error, a frame too large). A fatal one is followed by closing,
   * after the listeners ran: a listener may still send one last message (a 400) ahead of the FIN.
   */
  fault: (error: TransportError) => void;
}

/** Timers of a connection, in milliseconds; 0 disables one. */
export interface ConnectionTimers {
  /** An outbound connection must be usable within this. */
  connectTimeoutMs: number;
  /** An inbound connection must deliver a complete message within this (half-open reaping). */
  halfOpenTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** After an orderly close starts, the socket is destroyed if still open after this. */
  closeGraceMs: number;
}

/** How a connection is created. */
export interface SipConnectionInit {
  id: string;
  protocol: TransportProtocol;
  direction: 'inbound' | 'outbound';
  /** The TCP socket underneath everything (TLS and WebSocket run on top of it). */
  socket: Socket;
  /** The peer (for outbound, the target; for inbound, the socket's remote address). */
  remote: Endpoint;
  timers: ConnectionTimers;
  /** Extra sockets layered over `socket` (a TLS socket) that must be destroyed with it. */
  layers?: Socket[];
}

/** A reliable connection carrying one flow (see the module comment for its state machine). */
export class SipConnection extends TypedEmitter<SipConnectionEvents> {
  /** The flow identifier (RFC 5626 flow), unique within the process. */
  readonly id: string;
  readonly protocol: TransportProtocol;
  readonly direction: 'inbound' | 'outbound';
  readonly remote: Endpoint;
  /** When the connection was created (ms since epoch). */
  readonly createdAt = Date.now();

  private stateValue: ConnectionState;
  private lastActivityAt = Date.now();
  /** The local end, read from the socket once it is connected (see {@link local}). */
  private localEnd: Endpoint | undefined;
  private reason: TransportError | undefined;
  private channel: MessageChannel | undefined;
  private readonly socket: Socket;
  private readonly layers: Socket[];
  private readonly timers: ConnectionTimers;
  private timer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly openWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(init: SipConnectionInit) {
    super();
    this.id = init.id;
    this.protocol = init.protocol;
    this.direction = init.direction;
    this.remote = init.remote;
    this.socket = init.socket;
    this.layers = init.layers ?? [];
    this.timers = init.timers;
    this.stateValue = init.direction === 'outbound' ? ConnectionState.Connecting : ConnectionState.Accepted;
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    if (this.stateValue === ConnectionState.Accepted) void this.local; // an accepted socket is connected already
    for (const s of [this.socket, ...this.layers]) {
      // Errors end in 'close'; the listener only keeps them from being thrown.
      s.on('error', (error: Error) => this.noteSocketError(error));
      s.once('close', () => this.onSocketClosed());
    }
    if (this.stateValue === ConnectionState.Connecting) {
      this.arm(this.timers.connectTimeoutMs, () => this.fail('timeout', `connect to ${formatEndpoint(this.remote)} timed out`));
    } else {
      this.arm(this.timers.halfOpenTimeoutMs, () =>
        this.fail('timeout', `half-open connection from ${formatEndpoint(this.remote)} sent no message in time`),
      );
    }
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Last traffic in either direction (ms since epoch). */
  get lastActivity(): number {
    return this.lastActivityAt;
  }

  /** Why it closed, when it closed on an error or a timer. */
  get closeReason(): TransportError | undefined {
    return this.reason;
  }

  /** Our side of the connection (known once the socket is connected). */
  get local(): Endpoint {
    // Read while the socket is connected and kept: a closed socket no longer knows its address.
    if (this.localEnd === undefined && this.socket.localPort !== undefined) {
      this.localEnd = { protocol: this.protocol, host: this.socket.localAddress ?? '', port: this.socket.localPort };
    }
    return this.localEnd === undefined ? { protocol: this.protocol, host: '', port: 0 } : { ...this.localEnd };
  }

  /** True while messages can still be sent (connecting, accepted or established). */
  get usable(): boolean {
    return this.stateValue !== ConnectionState.Closing && this.stateValue !== ConnectionState.Closed;
  }

  /** True for an inbound connection that has not yet delivered a complete message. */
  get halfOpen(): boolean {
    return this.stateValue === ConnectionState.Accepted;
  }

  /** Resolves once the connection is closed. */
  closed(): Promise<void> {
    return this.closedPromise;
  }

  /** The sink a channel reports to; give it to the channel's constructor, then `attach` the channel. */
  readonly sink: ChannelSink = {
    open: () => {
      if (this.stateValue === ConnectionState.Connecting) this.establish();
    },
    message: (raw) => {
      this.touch();
      if (this.stateValue === ConnectionState.Accepted) this.establish();
      if (this.stateValue === ConnectionState.Established) this.emit('message', raw);
    },
    activity: () => this.touch(),
    fault: (error, fatal) => {
      const reported =
        this.stateValue === ConnectionState.Connecting
          ? new TransportError('connect-failed', `connecting to ${formatEndpoint(this.remote)}: ${error.message}`, { cause: error })
          : error;
      this.emit('fault', reported);
      if (fatal) {
        this.reason ??= reported;
        this.close();
      }
    },
  };

  /** Put the protocol channel on this connection. */
  attach(channel: MessageChannel): void {
    this.channel = channel;
  }

  /** Send one whole message, waiting for an outbound connection to come up. */
  async send(bytes: Uint8Array): Promise<void> {
    if (this.stateValue === ConnectionState.Connecting) {
      await new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    }
    if (!this.usable || this.channel === undefined) {
      throw new TransportError('flow-not-found', `connection ${this.id} to ${formatEndpoint(this.remote)} is ${this.stateValue}`);
    }
    this.touch();
    await this.channel.write(bytes);
  }

  /** Orderly close; the socket is destroyed if it lingers past the grace period. */
  close(): void {
    if (!this.usable) return;
    this.transition(ConnectionState.Closing);
    this.rejectWaiters();
    this.clearTimer();
    if (this.channel !== undefined) this.channel.end();
    else this.socket.end();
    this.graceTimer = setTimeout(() => this.destroy(), this.timers.closeGraceMs);
    this.graceTimer.unref();
  }

  /** Immediate teardown; `closed()` resolves when the socket reports it. */
  destroy(): void {
    for (const s of this.layers) s.destroy();
    this.socket.destroy();
  }

  /** The one place the state changes. Throws on a move the diagram does not allow. */
  private transition(to: ConnectionState): void {
    const from = this.stateValue;
    checkConnectionTransition(from, to, this.id);
    this.stateValue = to;
    this.emit('stateChange', to, from);
  }

  private establish(): void {
    void this.local; // remembered while the socket still knows it
    this.transition(ConnectionState.Established);
    this.clearTimer();
    for (const w of this.openWaiters.splice(0)) w.resolve();
    this.scheduleIdle();
  }

  private touch(): void {
    this.lastActivityAt = Date.now();
  }

  private scheduleIdle(): void {
    const idle = this.timers.idleTimeoutMs;
    if (idle <= 0) return;
    const due = this.lastActivityAt + idle - Date.now();
    this.arm(Math.max(1, due), () => {
      if (Date.now() - this.lastActivityAt >= idle) {
        this.reason ??= new TransportError('timeout', `connection ${this.id} idle for ${idle} ms`);
        this.close();
      } else {
        this.scheduleIdle();
      }
    });
  }

  private fail(code: 'timeout', message: string): void {
    this.reason ??= new TransportError(code, message);
    this.destroy();
  }

  private arm(ms: number, fire: () => void): void {
    this.clearTimer();
    if (ms <= 0) return;
    this.timer = setTimeout(fire, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private noteSocketError(error: Error): void {
    this.reason ??= new TransportError(
      this.stateValue === ConnectionState.Connecting ? 'connect-failed' : 'send-failed',
      `connection ${this.id} to ${formatEndpoint(this.remote)}: ${error.message}`,
      { cause: error },
    );
  }

  private rejectWaiters(): void {
    const reason =
      this.reason ?? new TransportError('connect-failed', `connection to ${formatEndpoint(this.remote)} closed before it was up`);
    for (const w of this.openWaiters.splice(0)) w.reject(reason);
  }

  private onSocketClosed(): void {
    if (this.stateValue === ConnectionState.Closed) return;
    this.clearTimer();
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    // Tear down whatever is layered on the socket too, so that no half of it lingers.
    this.destroy();
    this.rejectWaiters();
    this.transition(ConnectionState.Closed);
    this.resolveClosed();
  }
}
