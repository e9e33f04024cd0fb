/**
 * A JsSIP `Socket` over the `ws` package: SIP over WebSocket (RFC 7118) for JsSIP under plain Node, where
 * there is no global WebSocket and JsSIP's own WebSocketInterface fails silently.
 *
 * One WsSocket is one connection slot; JsSIP's Transport drives it (connect / disconnect / send) and is told
 * about it through `onconnect`, `ondisconnect(error, code, reason)` and `ondata(text)`.
 *
 * Reconnection is JsSIP's: its Transport retries after an abnormal `ondisconnect` with a randomised
 * exponential back-off bounded by the UA settings `connection_recovery_min_interval` and
 * `connection_recovery_max_interval` (seconds). This class never reconnects on its own, so that there is
 * exactly one recovery policy; it only reports `error = true` for every close it did not initiate.
 *
 * ```
 *                 connect()               'open'
 *   disconnected ───────────► connecting ────────► connected
 *     ▲  ▲  ▲                     │                  │    │
 *     │  │  └── handshake error, ─┘                  │    │ disconnect()
 *     │  │      'close', disconnect()                │    ▼
 *     │  └───── 'close' (peer or network) ───────────┘  closing
 *     └──────── 'close' ────────────────────────────────────┘
 * ```
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';

/** Connection states (see the diagram above). */
export enum WsSocketState {
  Disconnected = 'disconnected',
  Connecting = 'connecting',
  Connected = 'connected',
  Closing = 'closing',
}

const TRANSITIONS: Readonly<Record<WsSocketState, readonly WsSocketState[]>> = {
  [WsSocketState.Disconnected]: [WsSocketState.Connecting],
  [WsSocketState.Connecting]: [WsSocketState.Connected, WsSocketState.Disconnected],
  [WsSocketState.Connected]: [WsSocketState.Closing, WsSocketState.Disconnected],
  [WsSocketState.Closing]: [WsSocketState.Disconnected],
};

/** Options of a WsSocket. */
export interface WsSocketOptions {
  /** `ws://host[:port][/path]` or `wss://…`. */
  url: string;
  /**
   * PEM certificate(s) to trust for `wss:` in addition to nothing else: a private CA or the server's own
   * self-signed certificate (its subjectAltName must still match the URL's host).
   */
  trustedCertificatePem?: string;
  /** Abort an opening handshake that takes longer than this (default 10 000 ms). */
  handshakeTimeoutMs?: number;
  /** Largest accepted message (default 1 MiB; RFC 7118 puts one SIP message in one WebSocket message). */
  maxMessageBytes?: number;
  /** Called with every SIP message sent and received (the lab's SIP trace: `lab.trace.device(name)`). */
  trace?: WsSocketTrace;
}

/** A SIP message tap (shaped like the lab trace's device hook). */
export interface WsSocketTrace {
  sent(message: string): void;
  received(message: string): void;
}

/** Events of a WsSocket (JsSIP itself uses the on* callbacks, not these). */
export interface WsSocketEvents {
  stateChange: (to: WsSocketState, from: WsSocketState) => void;
  /** Something went wrong on the connection (a failed handshake, a TLS error); followed by a disconnect. */
  error: (error: Error) => void;
}

/** The WebSocket subprotocol of SIP (RFC 7118 §4). */
export const SIP_SUBPROTOCOL = 'sip';

/** A JsSIP Socket (via_transport, url, sip_uri, connect, disconnect, send, isConnected, isConnecting, on*). */
export class WsSocket extends EventEmitter {
  /** Called by JsSIP's Transport (it assigns these). */
  onconnect: () => void = () => undefined;
  ondisconnect: (error: boolean, code?: number, reason?: string) => void = () => undefined;
  ondata: (data: string) => void = () => undefined;

  private readonly options: Required<Omit<WsSocketOptions, 'trustedCertificatePem' | 'trace'>> & Pick<WsSocketOptions, 'trustedCertificatePem' | 'trace'>;
  private readonly sipUri: string;
  private viaTransport: string;
  private ws: WebSocket | null = null;
  private current: WsSocketState = WsSocketState.Disconnected;

  /** Throws a TypeError naming the problem when the URL is not a usable ws:/wss: URL. */
  constructor(options: WsSocketOptions) {
    super();
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TypeError(`WsSocket: invalid WebSocket URL ${JSON.stringify(options.url)}`);
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      throw new TypeError(`WsSocket: URL scheme must be ws: or wss: (got ${JSON.stringify(parsed.protocol)})`);
    }
    if (options.trustedCertificatePem !== undefined && parsed.protocol !== 'wss:') {
      throw new TypeError('WsSocket: trustedCertificatePem only applies to wss: URLs');
    }
    this.options = {
      url: options.url,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024,
      trustedCertificatePem: options.trustedCertificatePem,
      trace: options.trace,
    };
    // JsSIP's own interface uses transport=ws for both ws: and wss: in the socket's SIP URI (RFC 7118 §5.2
    // only defines "ws" and "wss" for Via; the URI is used for the pre-loaded Route).
    this.sipUri = `sip:${parsed.host};transport=ws`;
    this.viaTransport = parsed.protocol === 'wss:' ? 'WSS' : 'WS';
  }

  /** The Via transport token (RFC 7118 §5.1): `WS` or `WSS`. */
  get via_transport(): string {
    return this.viaTransport;
  }

  set via_transport(value: string) {
    this.viaTransport = value.toUpperCase();
  }

  /** The WebSocket URL. */
  get url(): string {
    return this.options.url;
  }

  /** A SIP URI for the server end (used for a pre-loaded Route). */
  get sip_uri(): string {
    return this.sipUri;
  }

  /** The current state. */
  get state(): WsSocketState {
    return this.current;
  }

  override on<E extends keyof WsSocketEvents>(event: E, listener: WsSocketEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof WsSocketEvents>(event: E, listener: WsSocketEvents[E]): this {
    return super.off(event, listener);
  }

  /** Open the connection (no-op when connecting or connected). Failures arrive as `ondisconnect(true, …)`. */
  connect(): void {
    if (this.current !== WsSocketState.Disconnected) return;
    this.transition(WsSocketState.Connecting);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url, SIP_SUBPROTOCOL, {
        handshakeTimeout: this.options.handshakeTimeoutMs,
        maxPayload: this.options.maxMessageBytes,
        perMessageDeflate: false,
        ...(this.options.trustedCertificatePem !== undefined ? { ca: this.options.trustedCertificatePem } : {}),
      });
    } catch (error) {
      this.fail(error);
      this.transition(WsSocketState.Disconnected);
      queueMicrotask(() => this.ondisconnect(true, 1006, 'connect failed'));
      return;
    }
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      if (ws.protocol !== SIP_SUBPROTOCOL) {
        // RFC 7118 §4: the server must agree on "sip"; ws already refuses other answers, this is belt and braces.
        this.fail(new Error(`server did not select the "${SIP_SUBPROTOCOL}" subprotocol`));
        ws.terminate();
        return;
      }
      this.transition(WsSocketState.Connected);
      this.onconnect();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (this.ws !== ws) return;
      // RFC 7118 §5.4: SIP may come in text or binary frames; JsSIP wants text (UTF-8).
      const text = toText(data);
      this.options.trace?.received(text);
      this.ondata(text);
    });
    ws.on('error', (error: Error) => {
      if (this.ws === ws) this.fail(error);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasClosing = this.current === WsSocketState.Closing;
      this.transition(WsSocketState.Disconnected);
      if (!wasClosing) this.ondisconnect(code !== 1000, code, reason.toString('utf8'));
    });
  }

  /**
   * Close the connection (RFC 6455 closing handshake, code 1000). JsSIP's Transport reports its own
   * disconnect, so no `ondisconnect` follows a disconnect() it asked for.
   */
  disconnect(): void {
    const ws = this.ws;
    if (!ws) return;
    if (this.current === WsSocketState.Connecting) {
      // Abort the handshake; the socket's 'error' ("closed before the connection was established") is ignored.
      this.ws = null;
      ws.on('error', () => undefined);
      ws.terminate();
      this.transition(WsSocketState.Disconnected);
      return;
    }
    if (this.current === WsSocketState.Connected) {
      this.transition(WsSocketState.Closing);
      ws.close(1000);
    }
  }

  /** Send one SIP message as one text frame (RFC 7118 §5.4); false when not connected. */
  send(message: string): boolean {
    const ws = this.ws;
    if (!ws || this.current !== WsSocketState.Connected) return false;
    this.options.trace?.sent(message);
    ws.send(message, (error) => {
      if (error && this.ws === ws) this.fail(error);
    });
    return true;
  }

  /** True when open. */
  isConnected(): boolean {
    return this.current === WsSocketState.Connected;
  }

  /** True while the opening handshake runs. */
  isConnecting(): boolean {
    return this.current === WsSocketState.Connecting;
  }

  /** The one transition function: refuses moves the diagram does not have. */
  private transition(to: WsSocketState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`WsSocket: illegal transition ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', to, from);
  }

  private fail(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    // An 'error' event without listeners would throw: only emit when someone listens.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function toText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
