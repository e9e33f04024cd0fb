/**
 * One page's WebSocket to one device: commands in (each checked by the contract's validators before the
 * device sees it), replies and every device event out. The framing is bridge-frames.ts.
 *
 * ```
 *            close()                socketClosed()
 *   open ───────────────► closing ─────────────────► closed
 *     │                                                 ▲
 *     └───────────────── socketClosed() ────────────────┘
 * ```
 * `open`: commands are dispatched and events forwarded. `closing`: the shell asked the socket to close;
 * nothing more is sent, replies still in flight are dropped. `closed`: the socket is gone and the session has
 * stopped listening to the device.
 *
 * Nothing a page sends can crash the shell: a malformed frame, an unknown channel or bad arguments get an
 * error reply (or, without a usable request id, an `error` event), and a device that throws answers
 * `[internal] …`. A page may keep at most `maxInFlight` commands waiting; one that stops reading (its send
 * buffer beyond `maxBufferedBytes`) is disconnected with 1008 rather than buffered without bound.
 */
import { EventEmitter } from 'node:events';
import { createCommandDispatcher, createEventSender, type CommandDispatcher } from '../api/bridge';
import { eventChannel } from '../api/channels';
import { DEVICE_EVENT_NAMES, DeviceApiError, type DeviceApi, type DeviceEventName, type ShellCommands } from '../api/device-api';
import { errorFrame, eventFrame, isCommandFrame, parseCommandFrame, replyFrame } from './bridge-frames';

/** States of a bridge session. */
export enum BridgeSessionState {
  Open = 'open',
  Closing = 'closing',
  Closed = 'closed',
}

const TRANSITIONS: Readonly<Record<BridgeSessionState, readonly BridgeSessionState[]>> = {
  [BridgeSessionState.Open]: [BridgeSessionState.Closing, BridgeSessionState.Closed],
  [BridgeSessionState.Closing]: [BridgeSessionState.Closed],
  [BridgeSessionState.Closed]: [],
};

/** What the session needs from its WebSocket (the shell server adapts `ws`; tests use a double). */
export interface BridgeSocketPort {
  /** Send one text frame. */
  send(text: string): void;
  /** Start the closing handshake (RFC 6455 §7.1.2). */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written. */
  bufferedAmount(): number;
}

/** Options of a bridge session. */
export interface BridgeSessionOptions {
  /** The device id the page authenticated for (for logs). */
  deviceId: string;
  /** The device the page drives. */
  device: DeviceApi;
  /** The shell's own commands for this device (`tryLocally`); one it lacks is answered `invalid-state`. */
  shell?: Partial<ShellCommands>;
  socket: BridgeSocketPort;
  /** Commands a page may have waiting at once (default 64). */
  maxInFlight?: number;
  /** Send-buffer size beyond which the page is disconnected (default 32 MiB). */
  maxBufferedBytes?: number;
}

/** Events of a bridge session. */
export interface BridgeSessionEvents {
  stateChange: [state: BridgeSessionState, previous: BridgeSessionState];
}

/** WebSocket close codes used here (RFC 6455 §7.4.1). */
export const CLOSE_CODES = Object.freeze({ goingAway: 1001, policyViolation: 1008 });

/** A page's bridge to one device. */
export class BridgeSession extends EventEmitter<BridgeSessionEvents> {
  private current: BridgeSessionState = BridgeSessionState.Open;
  private readonly dispatch: CommandDispatcher;
  private readonly unsubscribe: (() => void)[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly maxBufferedBytes: number;

  constructor(private readonly options: BridgeSessionOptions) {
    super();
    this.maxInFlight = options.maxInFlight ?? 64;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.dispatch = createCommandDispatcher(options.device, options.shell);
    const send = createEventSender((channel, payload) => this.send(() => eventFrame(channel, payload), null));
    for (const name of DEVICE_EVENT_NAMES) this.unsubscribe.push(this.forward(name, send));
  }

  /** The current state. */
  get state(): BridgeSessionState {
    return this.current;
  }

  /** The device this session drives. */
  get deviceId(): string {
    return this.options.deviceId;
  }

  /** Commands dispatched and not yet answered. */
  get pendingCommands(): number {
    return this.inFlight;
  }

  /** Handle one frame from the page. `binary` frames are refused (the bridge speaks JSON text only). */
  receive(data: string, binary = false): void {
    if (this.current !== BridgeSessionState.Open) return;
    if (binary) {
      this.reportProblem('a binary frame was ignored (the bridge takes JSON text frames only)');
      return;
    }
    const frame = parseCommandFrame(data);
    if (!isCommandFrame(frame)) {
      const error = new DeviceApiError('invalid-argument', `bridge: ${frame.problem}`);
      const id = frame.id;
      if (id === null) this.reportProblem(`${error.detail}; the frame was ignored`);
      else this.send(() => errorFrame(id, error), id);
      return;
    }
    if (this.inFlight >= this.maxInFlight) {
      const busy = new DeviceApiError('invalid-state', `bridge: more than ${this.maxInFlight} commands are waiting; retry when some are answered`);
      this.send(() => errorFrame(frame.id, busy), frame.id);
      return;
    }
    this.inFlight++;
    const id = frame.id;
    void this.dispatch(frame.channel, frame.args)
      .then(
        (value) => this.send(() => replyFrame(id, value), id),
        (error: unknown) => this.send(() => errorFrame(id, error), id),
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  /** Ask the page's socket to close (shell shutting down, or a policy violation). */
  close(code: number = CLOSE_CODES.goingAway, reason = 'the shell is stopping'): void {
    if (this.current !== BridgeSessionState.Open) return;
    this.stopListening();
    this.transition(BridgeSessionState.Closing);
    this.options.socket.close(code, reason);
  }

  /** The socket is gone (closed by either side, or failed). */
  socketClosed(): void {
    if (this.current === BridgeSessionState.Closed) return;
    this.stopListening();
    this.transition(BridgeSessionState.Closed);
  }

  private forward<E extends DeviceEventName>(name: E, send: ReturnType<typeof createEventSender>): () => void {
    return this.options.device.on(name, (payload) => send(name, payload));
  }

  private stopListening(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
  }

  private reportProblem(message: string): void {
    this.send(() => eventFrame(eventChannel('error'), { code: 'invalid-argument', message, conversationId: null }), null);
  }

  /**
   * Send the frame `build` makes. A value JSON cannot carry (a cycle, a BigInt) becomes an `[internal]` error
   * reply to request `id` (an event that cannot be carried is dropped): the page is answered, the shell lives on.
   */
  private send(build: () => string, id: number | null): void {
    if (this.current !== BridgeSessionState.Open) return;
    if (this.options.socket.bufferedAmount() > this.maxBufferedBytes) {
      this.close(CLOSE_CODES.policyViolation, 'the page is not reading its frames');
      return;
    }
    let text: string;
    try {
      text = build();
    } catch (error) {
      if (id === null) return;
      text = errorFrame(id, new DeviceApiError('internal', `bridge: the result cannot be sent as JSON (${error instanceof Error ? error.message : String(error)})`));
    }
    this.options.socket.send(text);
  }

  /** The one place the state changes; throws on a move the diagram does not have. */
  private transition(next: BridgeSessionState): void {
    const previous = this.current;
    if (!TRANSITIONS[previous].includes(next)) throw new Error(`bridge session ${this.options.deviceId}: illegal transition ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}
