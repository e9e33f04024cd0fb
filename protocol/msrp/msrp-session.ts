/**
 * One MSRP session (RFC 4975 §5): a local URI, the remote path, an outgoing queue that is chunked lazily,
 * reassembly of incoming chunks, and success/failure reporting. Sessions carry no I/O: an
 * `MsrpConnection` pulls their chunks and pushes them incoming requests, and several sessions may share
 * one connection.
 *
 * ```
 *            attach to a connection (active side)
 *   Idle ───────────────────────────────────────────► Binding
 *    │  \                                               │ 200 to the binding SEND
 *    │   \  first SEND from the peer (passive side)     ▼
 *    │    └───────────────────────────────────────────► Active
 *    │                                                  │
 *    └───────── close() / connection lost / binding refused ─────► Closed
 * ```
 *
 * Flow control: `bufferedAmount` counts the bytes queued and not yet handed to the connection. When it
 * reaches `highWaterMark`, `send()` returns `false` in `accepted` and `needsDrain` is true; the `drain`
 * event fires once it is down to `lowWaterMark` (half the high one by default), so an owner relaying from
 * a socket can pause reading until then without pausing and resuming on every chunk.
 *
 * Relays work chunk by chunk instead of message by message: `handleChunksWith(handler)` hands over each
 * incoming SEND chunk as it arrives (no reassembly), and `sendStream(contentType)` sends a message whose
 * chunks are pushed as they become known, each with its own Byte-Range and continuation flag.
 */
import { TypedEmitter } from '../common/typed-emitter';
import { ChunkStream } from './msrp-chunk-stream';
import { MessageChunker, type ChunkSource, type OutgoingChunk } from './msrp-chunker';
import {
  formatByteRange,
  formatPath,
  formatStatus,
  MsrpHeaderError,
  parseByteRange,
  parseFailureReport,
  parseStatus,
  parseSuccessReport,
  type ByteRange,
  type FailureReport,
  type MsrpStatus,
} from './msrp-headers';
import { newMsrpMessageId } from './msrp-ids';
import { IDENT, MsrpHeaders, msrpStatusComment, type ContinuationFlag, type MsrpHeader, type MsrpRequest } from './msrp-message';
import { MsrpReassembler, type ReassemblerOptions } from './msrp-reassembler';
import { compactString } from './msrp-strings';
import { formatMsrpUri, msrpUrisEqual, type MsrpUri } from './msrp-uri';

/** Session states; see the diagram in this module's comment. */
export enum MsrpSessionState {
  Idle = 'idle',
  Binding = 'binding',
  Active = 'active',
  Closed = 'closed',
}

const SESSION_TRANSITIONS: Readonly<Record<MsrpSessionState, readonly MsrpSessionState[]>> = {
  [MsrpSessionState.Idle]: [MsrpSessionState.Binding, MsrpSessionState.Active, MsrpSessionState.Closed],
  [MsrpSessionState.Binding]: [MsrpSessionState.Active, MsrpSessionState.Closed],
  [MsrpSessionState.Active]: [MsrpSessionState.Closed],
  [MsrpSessionState.Closed]: [],
};

/** Options of a session. */
export interface MsrpSessionOptions {
  /** Our URI, as in our SDP `a=path`. */
  localUri: MsrpUri;
  /** The peer's path from its SDP. A passive session may leave it unset and learn it from the first SEND. */
  remotePath?: MsrpUri[];
  /** Size of an outgoing message's first chunk (see `ChunkerOptions.chunkSize`). Default 2048. */
  chunkSize?: number;
  /** Largest outgoing chunk; chunks double up to it (see `ChunkerOptions.maxChunkSize`). */
  maxChunkSize?: number;
  /** Queued bytes at which `needsDrain` turns true. Default 1 MiB. */
  highWaterMark?: number;
  /** Queued bytes at or below which `drain` fires after the high-water mark was reached. Default half of it. */
  lowWaterMark?: number;
  /** Bounds of incoming reassembly. */
  reassembly?: ReassemblerOptions;
}

/** Per-message options of `send()`. */
export interface MsrpSendOptions {
  /** The MSRP Message-ID; a random one by default. */
  messageId?: string;
  /** Ask the receiver for a success REPORT (RFC 4975 §7.1.2). Default false. */
  successReport?: boolean;
  /** Failure-Report of the chunks. Default `yes`: every chunk is acknowledged by a response. */
  failureReport?: FailureReport;
}

/** Per-message options of `sendStream()`; `T` is the type of the owner's `tag`. */
export interface MsrpStreamOptions<T = unknown> extends MsrpSendOptions {
  /** Merge chunks queued back to back up to this many bytes (see `ChunkStream`). Default 0: never. */
  coalesceUpTo?: number;
  /**
   * Called once with the outcome and the stream, synchronously, as soon as the outcome is known (when `done`
   * would resolve): a relay forwarding many small messages then needs no promise per message, and one
   * callback serves all its streams (no closure per message), telling them apart by `stream.tag`. `done` stays
   * available.
   */
  onDone?: (outcome: MsrpSendOutcome, stream: OutgoingStream<T>) => void;
  /** The owner's data about this message, kept as `stream.tag`. */
  tag?: T;
}

/** How sending one message ended. Status 408 means no response in time, status 0 a local failure. */
export type MsrpSendOutcome =
  | { ok: true; messageId: string }
  | { ok: false; messageId: string; status: number; comment: string };

/** A queued outgoing message. `done` resolves (never rejects) when every chunk is acknowledged or one failed. */
export interface OutgoingMessage {
  readonly messageId: string;
  /** False when the session's queue had reached its high-water mark (the message is still queued). */
  readonly accepted: boolean;
  readonly done: Promise<MsrpSendOutcome>;
}

/** A complete incoming message. `headers` are those of its first chunk to arrive. */
export interface ReceivedMsrpMessage {
  messageId: string;
  contentType: string;
  body: Uint8Array;
  headers: MsrpHeaders;
}

/** An incoming REPORT (RFC 4975 §7.1.2). */
export interface MsrpReport {
  messageId: string;
  status: MsrpStatus;
  byteRange: ByteRange | undefined;
}

/** A stream of chunks being sent (see `MsrpSession.sendStream`). */
export interface OutgoingStream<T = unknown> {
  readonly messageId: string;
  readonly done: Promise<MsrpSendOutcome>;
  /** What the owner passed as `tag` (undefined when it passed none). */
  readonly tag: T | undefined;
  /**
   * Queue the next chunk. Returns false when the session's queue is at its high-water mark (the chunk is
   * still queued; wait for `drain`), and also when the stream can take no more (session closed, message
   * failed or aborted: the chunk is dropped and `done` tells why).
   */
  push(chunk: OutgoingChunk): boolean;
}

/** One incoming SEND chunk, as a relay sees it (see `MsrpSession.handleChunksWith`). */
export interface ReceivedMsrpChunk {
  messageId: string;
  byteRange: ByteRange;
  continuation: ContinuationFlag;
  body: Uint8Array;
  contentType: string;
  headers: MsrpHeaders;
  /** Its Success-Report, parsed (RFC 4975 §7.1.2; absent: `no`). Set on the chunks a session hands out. */
  successReport?: boolean;
  /** Its Failure-Report, parsed (absent: `yes`). Set on the chunks a session hands out. */
  failureReport?: FailureReport;
}

/**
 * Decides the response to one incoming chunk: 200, or an error status of RFC 4975 §10. With `holdResponse`, a
 * 200 is not sent until `releaseHeldResponses()`: the sender's window of unanswered requests then fills and it
 * pauses, while the connection is still read (a relay's flow control when it must keep reading the sender's
 * connection for the responses that come back on it).
 */
export type MsrpChunkHandler = (chunk: ReceivedMsrpChunk) => { status: number; comment?: string; holdResponse?: boolean };

/** Why a session closed: `local` (its owner), `connection-lost`, or `refused` (the peer answered 481 or refused the binding). */
export type MsrpSessionCloseCause = 'local' | 'connection-lost' | 'refused';

/** Events of a session. */
export type MsrpSessionEvents = {
  stateChange: (state: MsrpSessionState, previous: MsrpSessionState) => void;
  message: (message: ReceivedMsrpMessage) => void;
  /** The peer aborted a message it had started (`#`). */
  messageAborted: (messageId: string) => void;
  report: (report: MsrpReport) => void;
  drain: () => void;
};

/** What a session needs from the connection that carries it (implemented by `MsrpConnection`). */
export interface MsrpSessionCarrier {
  /** The session has something to send. */
  wake(session: MsrpSession): void;
  /** Write a request that expects no response (REPORT). */
  writeUnacknowledged(session: MsrpSession, method: string, headers: MsrpHeader[]): void;
  /** The session is closing: forget it. */
  detach(session: MsrpSession): void;
}

/** A request prepared by a session for its connection to send. */
export interface PreparedRequest {
  /** The header lines, each ending with CRLF: To-Path, From-Path first, Content-Type last (RFC 4975 §7.1). */
  headerLines: string;
  body: Uint8Array | undefined;
  continuation: OutgoingChunk['continuation'];
  /** Whether the connection should wait for a response (Failure-Report yes). */
  expectsResponse: boolean;
  /** Opaque handle passed back in `requestSucceeded` / `requestFailed`. */
  ticket: SendTicket;
}

/** Identifies what a request was for, to settle it when its response comes. */
export interface SendTicket {
  readonly entry: QueueEntry | undefined;
  readonly binding: boolean;
  readonly bytes: number;
}

interface QueueEntry {
  messageId: string;
  contentType: string;
  chunker: ChunkSource;
  successReport: boolean;
  failureReport: FailureReport;
  inFlight: number;
  settled: boolean;
  /** Dropped from the queue (lazily; see `removeEntry`). */
  removed: boolean;
  /** The outcome, once settled. */
  outcome: MsrpSendOutcome | undefined;
  /** Resolves `done`, once something asked for it (see `outcomePromise`). */
  resolve: ((outcome: MsrpSendOutcome) => void) | undefined;
  /** `sendStream`'s handle and `onDone`. */
  stream: StreamHandle<unknown> | undefined;
}

/** The promise of an entry's outcome: made on demand, so that a stream whose owner passed `onDone` never makes one. */
function outcomePromise(entry: QueueEntry): Promise<MsrpSendOutcome> {
  if (entry.outcome) return Promise.resolve(entry.outcome);
  return new Promise<MsrpSendOutcome>((resolve) => (entry.resolve = resolve));
}

/**
 * What `sendStream` returns; `done` is made when first read. A class with methods rather than closures: a relay
 * makes one per message, and every closure (with its context) would be garbage to collect.
 */
class StreamHandle<T> implements OutgoingStream<T> {
  private promise: Promise<MsrpSendOutcome> | undefined;

  constructor(
    private readonly session: MsrpSession,
    private readonly entry: QueueEntry,
    private readonly chunks: ChunkStream,
    readonly tag: T | undefined,
    readonly onDone: ((outcome: MsrpSendOutcome, stream: OutgoingStream<T>) => void) | undefined,
  ) {}

  get messageId(): string {
    return this.entry.messageId;
  }

  get done(): Promise<MsrpSendOutcome> {
    return (this.promise ??= outcomePromise(this.entry));
  }

  push(chunk: OutgoingChunk): boolean {
    return this.session.pushToStream(this.chunks, chunk);
  }
}

/** The result of handing a session one incoming SEND: the response status, and what to do after responding. */
export interface SendHandling {
  status: number;
  comment: string;
  afterResponse: () => void;
  /** Answer later: the carrier hands the session the answer with `holdResponse` instead of sending it. */
  holdResponse?: boolean;
}

/** `afterResponse` when there is nothing to do after responding. */
const nothing = (): void => undefined;

/** A relayed chunk's usual handling (shared: a relay answers every chunk, and one object each would be garbage). */
const RELAYED_OK: Readonly<SendHandling> = Object.freeze({ status: 200, comment: msrpStatusComment(200), afterResponse: nothing });
/** The same, answered only at `releaseHeldResponses()`. */
const RELAYED_OK_LATER: Readonly<SendHandling> = Object.freeze({ ...RELAYED_OK, holdResponse: true });

/** An MSRP session endpoint. */
export class MsrpSession extends TypedEmitter<MsrpSessionEvents> {
  readonly localUri: MsrpUri;
  private remote: MsrpUri[] | undefined;
  private current: MsrpSessionState = MsrpSessionState.Idle;
  private carrierRef: MsrpSessionCarrier | undefined;
  /** Outgoing messages in order; entries before `head` have produced every chunk. */
  private queue: QueueEntry[] = [];
  private head = 0;
  private removedCount = 0;
  private readonly chunking: { chunkSize?: number; maxChunkSize?: number };
  /** Bytes queued, not yet handed to the connection. */
  private queued = 0;
  private drainPending = false;
  private bindingInFlight = false;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  /** Made on the first chunk to reassemble: a relay's legs hand chunks on and never need one. */
  private reassemblerRef: MsrpReassembler | undefined;
  private readonly reassembly: ReassemblerOptions | undefined;
  /** Headers of the first chunk of each message being reassembled (made with the reassembler). */
  private firstHeadersRef: Map<string, MsrpHeaders> | undefined;
  private chunkHandler: MsrpChunkHandler | undefined;
  private parked: { chunks: ReceivedMsrpChunk[]; bytes: number } | undefined;
  private closedWith: { cause: MsrpSessionCloseCause; reason: string } | undefined;
  /** Answers held back (see `holdResponse`). */
  private held: Array<() => void> | undefined;
  /** `To-Path: …` and `From-Path: …` lines of what we send, formatted once per remote path. */
  private pathLines: string | undefined;

  constructor(options: MsrpSessionOptions) {
    super();
    if (options.localUri.sessionId === undefined) throw new TypeError('a session URI needs a session-id');
    this.localUri = options.localUri;
    this.remote = options.remotePath ? [...options.remotePath] : undefined;
    this.chunking = {
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
      ...(options.maxChunkSize !== undefined ? { maxChunkSize: options.maxChunkSize } : {}),
    };
    new MessageChunker(new Uint8Array(0), this.chunking); // RangeError now for bad sizes, not at the first send()
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.lowWaterMark = Math.min(this.highWaterMark, options.lowWaterMark ?? Math.floor(this.highWaterMark / 2));
    this.reassembly = options.reassembly;
  }

  /** Current state. */
  get state(): MsrpSessionState {
    return this.current;
  }

  /** The peer's path (To-Path of what we send), if known. */
  get remotePath(): readonly MsrpUri[] | undefined {
    return this.remote;
  }

  /** Set the peer's path (from the SDP answer, before attaching). */
  setRemotePath(path: readonly MsrpUri[]): void {
    if (path.length === 0) throw new TypeError('a remote path needs at least one URI');
    this.remote = [...path];
    this.pathLines = undefined;
  }

  /** The carrier this session is attached to, if any. */
  get carrier(): MsrpSessionCarrier | undefined {
    return this.carrierRef;
  }

  /** Bytes queued and not yet handed to the connection. */
  get bufferedAmount(): number {
    return this.queued;
  }

  /** True while `bufferedAmount` is at or above `highWaterMark`: stop feeding until `drain`. */
  get needsDrain(): boolean {
    return this.queued >= this.highWaterMark;
  }

  /**
   * Queue a message. It is chunked lazily and sent once the session is bound. Throws `TypeError` on a
   * closed session or invalid arguments (caller bugs, not peer input).
   */
  send(body: Uint8Array, contentType: string, options: MsrpSendOptions = {}): OutgoingMessage {
    if (this.current === MsrpSessionState.Closed) throw new TypeError('send() on a closed MSRP session');
    if (/[\r\n\0]/.test(contentType) || !contentType.includes('/')) throw new TypeError(`bad content type ${JSON.stringify(contentType)}`);
    const accepted = !this.needsDrain;
    const entry = this.enqueue(new MessageChunker(body, this.chunking), contentType, options);
    const done = outcomePromise(entry);
    this.queued += body.length;
    if (this.needsDrain) this.drainPending = true;
    this.wakeCarrier();
    return { messageId: entry.messageId, accepted, done };
  }

  /**
   * Queue a message whose chunks will be pushed as they become known (a relay forwarding chunks as they
   * arrive, RFC 4975 §7.1.1): each pushed chunk is sent with its own Byte-Range and continuation flag, in
   * push order (chunks queued back to back merge up to `coalesceUpTo` bytes, see `ChunkStream`), and the
   * message ends with the `$` (or `#`) chunk. `done` resolves (and `onDone` is called) when every chunk was
   * acknowledged or one failed. Throws `TypeError` on a closed session or invalid arguments.
   */
  sendStream<T = unknown>(contentType: string, options: MsrpStreamOptions<T> = {}): OutgoingStream<T> {
    if (this.current === MsrpSessionState.Closed) throw new TypeError('sendStream() on a closed MSRP session');
    if (/[\r\n\0]/.test(contentType) || !contentType.includes('/')) throw new TypeError(`bad content type ${JSON.stringify(contentType)}`);
    const chunks = new ChunkStream(options.coalesceUpTo);
    const entry = this.enqueue(chunks, contentType, options);
    const stream = new StreamHandle<T>(this, entry, chunks, options.tag, options.onDone);
    entry.stream = stream as StreamHandle<unknown>;
    return stream;
  }

  /** @internal `OutgoingStream.push` of a stream of this session. */
  pushToStream(stream: ChunkStream, chunk: OutgoingChunk): boolean {
    if (this.current === MsrpSessionState.Closed || !stream.open) return false;
    stream.push(chunk);
    this.queued += chunk.body.length;
    if (this.needsDrain) this.drainPending = true;
    this.wakeCarrier();
    return !this.needsDrain;
  }

  /**
   * Hand every incoming SEND chunk to `handler` as it arrives instead of reassembling messages (a relay's
   * receiving side); `undefined` restores reassembly. The handler's verdict becomes the response status
   * (RFC 4975 §7.2). Bodiless SENDs are still answered here. No success REPORT is generated in this mode:
   * a relay forwards `Success-Report` and relays the REPORT it gets back.
   */
  handleChunksWith(handler: MsrpChunkHandler | undefined): void {
    if (handler && (this.reassemblerRef?.pendingCount ?? 0) > 0) throw new TypeError('handleChunksWith() while messages are being reassembled');
    this.chunkHandler = handler;
    const parked = this.parked;
    this.parked = undefined;
    // Chunks parked before the handler existed go to it first, in order (they were answered 200 already);
    // without a handler they are reassembled into messages as if they had just arrived.
    for (const chunk of parked?.chunks ?? []) {
      if (handler) handler(chunk);
      else this.reassemble(chunk).afterResponse();
    }
  }

  /**
   * Accept chunks before their handler exists (a relay leg the device may bind, and send on, before the
   * relay is set up): up to `maxBytes` are answered 200 and held, more get 413; the next
   * `handleChunksWith(handler)` hands them to `handler` first, in order (`handleChunksWith(undefined)`
   * reassembles them into `message` events instead).
   */
  parkChunks(maxBytes: number): void {
    if (this.chunkHandler) throw new TypeError('parkChunks() on a session that already has a chunk handler');
    const parked = { chunks: [] as ReceivedMsrpChunk[], bytes: 0 };
    const refused = new Set<string>(); // the rest of a refused message is refused too, not parked in part
    this.parked = parked;
    this.chunkHandler = (chunk) => {
      if (refused.has(chunk.messageId) || parked.bytes + chunk.body.length > maxBytes) {
        refused.add(chunk.messageId);
        if (refused.size > 1024) refused.delete(refused.values().next().value!); // bounded memory
        return { status: 413, comment: 'the relay is not ready for this much' };
      }
      parked.chunks.push(chunk);
      parked.bytes += chunk.body.length;
      return { status: 200 };
    };
  }

  /** 200s held back by the chunk handler (`holdResponse`), not yet sent. */
  get heldResponseCount(): number {
    return this.held?.length ?? 0;
  }

  /** Send the 200s the chunk handler held back, in the order of their requests. Returns how many. */
  releaseHeldResponses(): number {
    const held = this.held;
    if (!held) return 0;
    this.held = undefined;
    for (const respond of held) respond();
    return held.length;
  }

  /** Why the session closed: by `close()` (`local`), its connection going away, or the peer refusing it. */
  get closeInfo(): { cause: MsrpSessionCloseCause; reason: string } | undefined {
    return this.closedWith;
  }

  /**
   * Abort a queued or partly sent message: nothing more of it is sent, the peer is told with a `#` chunk
   * when it had received part of it, and its `done` resolves with status 0. Returns false if unknown.
   */
  abort(messageId: string): boolean {
    const entry = this.queue.find((e) => e.messageId === messageId && !e.settled);
    if (!entry) return false;
    const remaining = entry.chunker.remainingBytes;
    const chunk = entry.chunker.abort();
    this.queued -= remaining;
    this.settle(entry, { ok: false, messageId, status: 0, comment: 'aborted' });
    if (chunk && this.carrierRef) {
      // The # chunk still carries the content type and is acknowledged like any chunk.
      this.abortChunks.push({ entry, chunk });
      this.carrierRef.wake(this);
    } else this.removeEntry(entry);
    this.checkDrain();
    return true;
  }

  private readonly abortChunks: Array<{ entry: QueueEntry; chunk: OutgoingChunk }> = [];

  /** Send a REPORT for a message we received (RFC 4975 §7.1.2), e.g. a relay's failure report. */
  sendReport(messageId: string, status: MsrpStatus, byteRange: ByteRange, toPath?: readonly MsrpUri[]): void {
    const path = toPath ?? this.remote;
    if (!this.carrierRef || !path) throw new TypeError('sendReport() on a session that is not connected');
    this.carrierRef.writeUnacknowledged(this, 'REPORT', [
      { name: 'To-Path', value: formatPath(path) },
      { name: 'From-Path', value: formatMsrpUri(this.localUri) },
      { name: 'Message-ID', value: messageId },
      { name: 'Byte-Range', value: formatByteRange(byteRange) },
      { name: 'Status', value: formatStatus(status) },
    ]);
  }

  /** Close the session: queued messages fail with status 0, the connection forgets the session. */
  close(): void {
    if (this.current === MsrpSessionState.Closed) return;
    this.shutdown('session closed', 'local');
  }

  // ---- called by the connection ----

  /** The answer to a request whose handling said `holdResponse`, to send at `releaseHeldResponses()`. */
  holdResponse(respond: () => void): void {
    if (this.current === MsrpSessionState.Closed) return;
    (this.held ??= []).push(respond);
  }

  /** Attach to a carrier on the active side: the session will send its binding SEND at once. */
  attachActive(carrier: MsrpSessionCarrier): void {
    if (!this.remote) throw new TypeError('attach needs the remote path (from the SDP)');
    if (this.carrierRef) throw new TypeError('session is already attached to a connection');
    this.carrierRef = carrier;
    this.transition(MsrpSessionState.Binding);
    carrier.wake(this);
  }

  /** Bind on the passive side, on the peer's first SEND; adopts its From-Path if no remote path is known. */
  bindPassive(carrier: MsrpSessionCarrier, fromPath: readonly MsrpUri[]): void {
    if (this.carrierRef) throw new TypeError('session is already bound to a connection');
    this.carrierRef = carrier;
    if (!this.remote) {
      this.remote = [...fromPath];
      this.pathLines = undefined;
    }
    this.transition(MsrpSessionState.Active);
    if (this.hasOutput()) carrier.wake(this);
  }

  /** Whether the peer's From-Path fits this session: its originating URI is our remote endpoint (RFC 4975 §7.3). */
  acceptsFromPath(fromPath: readonly MsrpUri[]): boolean {
    if (!this.remote) return true;
    const theirs = fromPath[fromPath.length - 1];
    const expected = this.remote[this.remote.length - 1];
    return theirs !== undefined && expected !== undefined && msrpUrisEqual(theirs, expected);
  }

  /** Whether the session has a request ready to send now. */
  hasOutput(): boolean {
    if (this.current === MsrpSessionState.Binding) return !this.bindingInFlight;
    if (this.current !== MsrpSessionState.Active) return false;
    return this.abortChunks.length > 0 || this.firstReady() !== undefined;
  }

  /** The next request to send, or undefined. */
  nextRequest(): PreparedRequest | undefined {
    if (!this.hasOutput() || !this.remote) return undefined;
    this.pathLines ??= compactString(`To-Path: ${formatPath(this.remote)}\r\nFrom-Path: ${formatMsrpUri(this.localUri)}\r\n`);
    const binding = this.current === MsrpSessionState.Binding;
    const aborted = this.abortChunks.shift();
    const entry = aborted?.entry ?? this.firstReady();
    if (binding) this.bindingInFlight = true;
    if (!entry) {
      // Nothing queued: the bodiless binding SEND (RFC 4975 §5.4, PROFILE.md).
      const headerLines = `${this.pathLines}Message-ID: ${newMsrpMessageId()}\r\nByte-Range: 1-0/0\r\n`;
      return { headerLines, body: undefined, continuation: '$', expectsResponse: true, ticket: { entry: undefined, binding, bytes: 0 } };
    }
    const chunk = aborted?.chunk ?? entry.chunker.next()!;
    if (!aborted) this.queued -= chunk.body.length;
    // Message-ID and the content type were checked by send(); Content-Type comes last (RFC 4975 §7.1).
    let headerLines = `${this.pathLines}Message-ID: ${entry.messageId}\r\nByte-Range: ${formatByteRange(chunk.byteRange)}\r\n`;
    if (entry.successReport) headerLines += 'Success-Report: yes\r\n';
    if (entry.failureReport !== 'yes' && !binding) headerLines += `Failure-Report: ${entry.failureReport}\r\n`;
    headerLines += `Content-Type: ${entry.contentType}\r\n`;
    const expectsResponse = binding || entry.failureReport === 'yes';
    if (expectsResponse) entry.inFlight++;
    this.checkDrain();
    const ticket: SendTicket = { entry, binding, bytes: chunk.body.length };
    if (!expectsResponse) this.requestSucceeded(ticket);
    return { headerLines, body: chunk.body, continuation: chunk.continuation, expectsResponse, ticket };
  }

  /** A request of ours got a 2xx (or needed no response). */
  requestSucceeded(ticket: SendTicket): void {
    if (ticket.binding) {
      this.bindingInFlight = false;
      if (this.current === MsrpSessionState.Binding) this.transition(MsrpSessionState.Active);
    }
    const entry = ticket.entry;
    if (this.current === MsrpSessionState.Closed) return;
    if (entry) {
      if (ticket.binding || entry.failureReport === 'yes') entry.inFlight--;
      if (entry.chunker.done && entry.inFlight === 0) {
        this.settle(entry, { ok: true, messageId: entry.messageId });
        this.removeEntry(entry);
      }
    }
    if (this.carrierRef && this.hasOutput()) this.carrierRef.wake(this);
  }

  /** A request of ours failed (error response, timeout, or local failure). */
  requestFailed(ticket: SendTicket, status: number, comment: string): void {
    const entry = ticket.entry;
    if (entry) {
      entry.inFlight--;
      this.queued -= entry.chunker.remainingBytes;
      entry.chunker.abort();
      this.settle(entry, { ok: false, messageId: entry.messageId, status, comment });
      this.removeEntry(entry);
      this.checkDrain();
    }
    // A refused binding SEND or a 481 means the peer does not have this session (RFC 4975 §7.2).
    if (ticket.binding || status === 481) this.shutdown(`peer answered ${status} ${comment}`.trim(), 'refused');
  }

  /** The connection went away. */
  connectionLost(reason: string): void {
    if (this.current !== MsrpSessionState.Closed) this.shutdown(reason, 'connection-lost', false);
  }

  /** Handle an incoming SEND routed to this session (paths already parsed and checked). */
  receiveSend(request: MsrpRequest): SendHandling {
    const headers = request.headers;
    const messageId = headers.get('Message-ID');
    if (messageId === undefined || !IDENT.test(messageId)) return { status: 400, comment: 'missing or bad Message-ID', afterResponse: nothing };
    let byteRange: ByteRange;
    let successReport: boolean;
    let failureReport: FailureReport;
    try {
      successReport = parseSuccessReport(headers.get('Success-Report')) === 'yes';
      failureReport = parseFailureReport(headers.get('Failure-Report'));
      const br = headers.get('Byte-Range');
      byteRange = br === undefined ? { start: 1, end: undefined, total: undefined } : parseByteRange(br);
    } catch (e) {
      if (e instanceof MsrpHeaderError) return { status: 400, comment: e.message, afterResponse: nothing };
      throw e;
    }
    const contentType = headers.get('Content-Type');
    if (request.body === undefined || contentType === undefined) {
      if (request.body !== undefined) return { status: 400, comment: 'body without Content-Type', afterResponse: nothing };
      // A bodiless SEND: binds or keeps alive, carries no message.
      return { status: 200, comment: 'OK', afterResponse: nothing };
    }
    if (this.chunkHandler) return this.relayChunk(this.chunkHandler, request, request.body, messageId, byteRange, contentType, successReport, failureReport);
    return this.reassemble({ messageId, byteRange, continuation: request.continuation, body: request.body, contentType, headers });
  }

  /** Add one chunk to its message; the response and, for a complete message, its delivery. */
  private reassemble(chunk: ReceivedMsrpChunk): SendHandling {
    const { messageId, headers, contentType } = chunk;
    const result = (this.reassemblerRef ??= new MsrpReassembler(this.reassembly)).add(chunk);
    const firstHeaders = (this.firstHeadersRef ??= new Map<string, MsrpHeaders>());
    switch (result.kind) {
      case 'error':
        firstHeaders.delete(messageId);
        return { status: result.status, comment: result.reason, afterResponse: nothing };
      case 'duplicate':
        return { status: 200, comment: 'OK', afterResponse: nothing };
      case 'partial':
        if (!firstHeaders.has(messageId)) firstHeaders.set(messageId, headers);
        return { status: 200, comment: 'OK', afterResponse: nothing };
      case 'aborted':
        firstHeaders.delete(messageId);
        return { status: 200, comment: 'OK', afterResponse: () => this.emit('messageAborted', messageId) };
      case 'complete': {
        const first = firstHeaders.get(messageId) ?? headers;
        firstHeaders.delete(messageId);
        const total = result.body.length;
        const wantsReport = headers.get('Success-Report')?.trim().toLowerCase() === 'yes';
        const fromPath = headers.get('From-Path');
        return {
          status: 200,
          comment: 'OK',
          afterResponse: () => {
            if (wantsReport && this.carrierRef && fromPath !== undefined) {
              this.carrierRef.writeUnacknowledged(this, 'REPORT', [
                { name: 'To-Path', value: fromPath },
                { name: 'From-Path', value: formatMsrpUri(this.localUri) },
                { name: 'Message-ID', value: messageId },
                { name: 'Byte-Range', value: `1-${total}/${total}` },
                { name: 'Status', value: `000 200 ${msrpStatusComment(200)}` },
              ]);
            }
            this.emit('message', { messageId, contentType: first.get('Content-Type') ?? contentType, body: result.body, headers: first });
          },
        };
      }
    }
  }

  private relayChunk(
    handler: MsrpChunkHandler,
    request: MsrpRequest,
    body: Uint8Array,
    messageId: string,
    byteRange: ByteRange,
    contentType: string,
    successReport: boolean,
    failureReport: FailureReport,
  ): SendHandling {
    // Positional, not an options object: this runs for every relayed chunk.
    const continuation = request.continuation;
    // The checks the reassembler would make on one chunk (RFC 4975 §7.1.1): a complete chunk matches its range.
    if (byteRange.end !== undefined) {
      const announced = byteRange.end - byteRange.start + 1;
      if (body.length > announced || (continuation === '$' && body.length !== announced)) {
        return { status: 400, comment: `Byte-Range ${byteRange.start}-${byteRange.end} does not match a body of ${body.length} bytes`, afterResponse: nothing };
      }
    }
    const end = byteRange.start - 1 + body.length;
    if (byteRange.total !== undefined && end > byteRange.total) return { status: 400, comment: `chunk ends at ${end} beyond the total ${byteRange.total}`, afterResponse: nothing };
    const verdict = handler({ messageId, byteRange, continuation, body, contentType, headers: request.headers, successReport, failureReport });
    if (verdict.status === 200 && verdict.comment === undefined) return verdict.holdResponse ? RELAYED_OK_LATER : RELAYED_OK;
    return { status: verdict.status, comment: verdict.comment ?? msrpStatusComment(verdict.status), afterResponse: nothing };
  }

  /** Handle an incoming REPORT routed to this session. Malformed reports are ignored (no response exists). */
  receiveReport(request: MsrpRequest): void {
    const messageId = request.headers.get('Message-ID');
    const statusText = request.headers.get('Status');
    if (messageId === undefined || statusText === undefined) return;
    try {
      const status = parseStatus(statusText);
      const br = request.headers.get('Byte-Range');
      this.emit('report', { messageId, status, byteRange: br === undefined ? undefined : parseByteRange(br) });
    } catch (e) {
      if (!(e instanceof MsrpHeaderError)) throw e;
    }
  }

  // ---- internals ----

  private shutdown(reason: string, cause: MsrpSessionCloseCause, notifyCarrier = true): void {
    if (this.current === MsrpSessionState.Closed) return; // re-entered from a stateChange listener
    this.closedWith = { cause, reason };
    const pending = this.queue.filter((e) => !e.removed);
    this.queue = [];
    this.head = 0;
    this.removedCount = 0;
    this.abortChunks.length = 0;
    this.queued = 0;
    this.held = undefined; // nobody to answer any more
    for (const entry of pending) this.settle(entry, { ok: false, messageId: entry.messageId, status: 0, comment: reason });
    const carrier = this.carrierRef;
    this.transition(MsrpSessionState.Closed);
    if (notifyCarrier && carrier) carrier.detach(this);
  }

  private enqueue(chunker: ChunkSource, contentType: string, options: MsrpSendOptions): QueueEntry {
    const messageId = options.messageId ?? newMsrpMessageId();
    if (!IDENT.test(messageId)) throw new TypeError(`bad Message-ID ${JSON.stringify(messageId)}`);
    const entry: QueueEntry = {
      messageId,
      contentType,
      chunker,
      successReport: options.successReport ?? false,
      failureReport: options.failureReport ?? 'yes',
      inFlight: 0,
      settled: false,
      removed: false,
      outcome: undefined,
      resolve: undefined,
      stream: undefined,
    };
    this.queue.push(entry);
    return entry;
  }

  private wakeCarrier(): void {
    if (this.carrierRef && this.current !== MsrpSessionState.Idle && this.current !== MsrpSessionState.Closed) this.carrierRef.wake(this);
  }

  private settle(entry: QueueEntry, outcome: MsrpSendOutcome): void {
    if (entry.settled) return;
    entry.settled = true;
    entry.outcome = outcome;
    entry.resolve?.(outcome);
    const stream = entry.stream;
    stream?.onDone?.(outcome, stream);
  }

  /** The first entry with a chunk to send now, in queue order. */
  private firstReady(): QueueEntry | undefined {
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.chunker.done) this.head++;
    // Past the head, only streams still waiting for chunks are skipped (a relay has a few at most).
    for (let i = this.head; i < queue.length; i++) if (queue[i]!.chunker.ready) return queue[i];
    return undefined;
  }

  /** Forget a settled entry. Removal is lazy, compacting when half the queue is gone: O(1) amortized. */
  private removeEntry(entry: QueueEntry): void {
    if (entry.removed) return;
    entry.removed = true;
    this.removedCount++;
    if (this.removedCount >= 64 && this.removedCount * 2 >= this.queue.length) {
      this.queue = this.queue.filter((e) => !e.removed);
      this.head = 0;
      this.removedCount = 0;
    }
  }

  private checkDrain(): void {
    // Hysteresis: a feeder that paused at the high-water mark resumes only at the low one, not per chunk.
    if (this.drainPending && this.queued <= this.lowWaterMark) {
      this.drainPending = false;
      this.emit('drain');
    }
  }

  /** The one place the state changes; throws on a move the diagram does not allow. */
  private transition(next: MsrpSessionState): void {
    const previous = this.current;
    if (!SESSION_TRANSITIONS[previous].includes(next)) throw new Error(`illegal MSRP session transition ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}
