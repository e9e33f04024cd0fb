/**
 * The in-path Conversation Server's MSRP relay between the two legs it anchors (PROFILE.md: in-path = B2BUA
 * + MSRP relay). Each leg is an MSRP session the server terminates (it is a B2BUA, not an RFC 4976 relay),
 * so responses and REPORTs are hop by hop:
 *
 * - **SEND** chunks are relayed as they arrive (RFC 4975 §7.1.1), not after reassembly, keeping the
 *   Message-ID, Byte-Ranges, continuation flags, Content-Type and body (CPIM with `imdn.Message-ID` is
 *   opaque here); chunks that queue up back to back for a slower receiving leg leave merged into one
 *   (`coalesceChunkBytes`). Every chunk is answered 200 on its own leg; on the other leg the relay always
 *   asks for responses (`Failure-Report: yes`) because they are its acknowledgements.
 * - **Responses**: an error response from the receiving leg becomes a failure REPORT to the sender when it
 *   asked for failure reports (RFC 4975 §7.1.2; the hop-by-hop 200 was already sent).
 * - **REPORT**s from the receiving leg (a success report the sender asked for) are relayed to the sender.
 * - **Flow control**: while the receiving leg's queue is at its high-water mark, or the relay holds more
 *   than `maxStalledBytes` of complete-but-unacknowledged messages for it, or more than
 *   `maxPendingMessages` unacknowledged messages, the relay holds the sender back
 *   until it drains: a slow receiver costs the server bounded memory. It stops reading the sending leg's
 *   socket (`MsrpReadControl`), so that TCP pushes back on the sender; but while messages also go the other
 *   way, to the sender, that socket carries their 200s too, and the other direction may in turn be holding
 *   back the receiver: stopping both sockets would leave each direction waiting for responses the other
 *   stopped (a deadlock). Then the relay keeps reading and holds back its 200s to the sender instead
 *   (`holdResponse`): the sender's window of unanswered requests fills and it stops, within its window (a
 *   sender that ignores its window is stopped at the socket after `MAX_HELD_RESPONSES`).
 * - **Bookkeeping for transfers**: per direction, which messages were relayed and whether the receiving
 *   leg acknowledged them (every chunk answered 200). `replaceLeg(side, newSession)` moves a side to a new
 *   session (the transfer target's leg), replays to it what the old leg had not acknowledged, in order,
 *   and keeps relaying what the old leg still sends until its owner closes it (PROFILE.md steps 10–13).
 *   A message partly sent to the old leg is aborted there (`#`) and sent whole to the new one; one that was
 *   sent whole but not acknowledged may reach both, and receivers drop the duplicate by `imdn.Message-ID`.
 *
 * ```
 *   Relaying ──── close() ───► Closed
 * ```
 * A relayed message's state with the leg it was relayed to:
 * ```
 *   relaying ──(every chunk 200)──► acknowledged
 *      │ ├──(error response)──────► refused       (failure REPORT to the sender)
 *      │ └──(leg lost / 408)──────► undelivered ──(replaceLeg: replay)──► relaying
 *      └──(sender's # chunk)──────► aborted
 * ```
 */
import { TypedEmitter } from '../../../../protocol/common/typed-emitter';
import type { OutgoingChunk } from '../../../../protocol/msrp/msrp-chunker';
import type { FailureReport } from '../../../../protocol/msrp/msrp-headers';
import {
  MsrpSessionState,
  type MsrpReport,
  type MsrpSendOutcome,
  type MsrpSession,
  type OutgoingStream,
  type ReceivedMsrpChunk,
} from '../../../../protocol/msrp/msrp-session';

/** The two sides of a relay. */
export type RelaySide = 'a' | 'b';

/** Stops and restarts reading the socket under a session (implemented by `MsrpServerEndpoint`). */
export interface MsrpReadControl {
  /** Stop reading under `session` until `resumeReading(session, token)`. Returns false if it has no connection. */
  pauseReading(session: MsrpSession, token: unknown): boolean;
  resumeReading(session: MsrpSession, token: unknown): void;
}

/** Relay states; see the diagram in this module's comment. */
export enum MsrpRelayState {
  Relaying = 'relaying',
  Closed = 'closed',
}

const RELAY_TRANSITIONS: Readonly<Record<MsrpRelayState, readonly MsrpRelayState[]>> = {
  [MsrpRelayState.Relaying]: [MsrpRelayState.Closed],
  [MsrpRelayState.Closed]: [],
};

/** Where a relayed message stands with the leg it was relayed to (diagram in this module's comment). */
export type RelayedMessageState = 'relaying' | 'acknowledged' | 'refused' | 'undelivered' | 'aborted';

/** What the relay knows of one message it relayed. */
export interface MsrpRelayRecord {
  messageId: string;
  contentType: string;
  /** Bytes received from the sender so far. */
  bytes: number;
  /** Whether the sender's last chunk arrived. */
  complete: boolean;
  state: RelayedMessageState;
  /** The leg it was last relayed to (undefined when that side had no open leg). */
  leg: MsrpSession | undefined;
  /** How many legs it was relayed to: 1, more after replays. */
  deliveries: number;
}

/** Options of a relay. */
export interface MsrpRelayOptions {
  legA: MsrpSession;
  legB: MsrpSession;
  /** Pauses the sending leg's socket; without it the relay cannot push back (in-memory tests). */
  readControl?: MsrpReadControl;
  /** Largest message relayed; a larger one is refused with 413. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Messages in progress (first chunk seen, last not yet) per sending leg. Default 64; more get 413. */
  maxIncompleteMessages?: number;
  /** Complete but unacknowledged bytes held per direction before the sender is paused. Default 4 MiB. */
  maxStalledBytes?: number;
  /**
   * Messages relayed and not yet acknowledged per direction before the sender is held back (released at half).
   * Default 4096: four windows of the receiving connection (1024 requests), so that one window is in flight and
   * another queued behind it even at the release. A deeper queue of small messages (the leg's 1 MiB high-water
   * mark is 10,000 of 100 B) costs memory and garbage-collector time: what waits that long survives
   * young-generation collections, each of which copies it (some 0.4 µs of relay CPU per 100 B message).
   */
  maxPendingMessages?: number;
  /** Settled records kept per direction for `relayed()`. Default 1000. */
  historySize?: number;
  /**
   * Chunks of one message that queued up back to back on the receiving leg leave as one chunk of up to
   * this many bytes (0: never merge). Default 64 KiB, well under any receiver's chunk bound.
   */
  coalesceChunkBytes?: number;
}

/** The result of `replaceLeg`. */
export interface ReplaceLegResult {
  /** Message-IDs replayed, in order, when the switch happened at once (the new leg was bound); else empty. */
  replayed: string[];
  /**
   * Resolves with the Message-IDs replayed once the side switched; rejects if the new leg closed before it
   * was bound (the side then stays with the old leg). Marked handled: ignoring it is safe.
   */
  switched: Promise<string[]>;
}

/** Events of a relay. */
export type MsrpRelayEvents = {
  stateChange: (state: MsrpRelayState, previous: MsrpRelayState) => void;
  /** A message's first chunk was relayed towards `towards`. */
  relayed: (towards: RelaySide, messageId: string) => void;
  /** The leg on `towards` acknowledged every chunk of a message. */
  acknowledged: (towards: RelaySide, messageId: string) => void;
  /** The current leg of `side` closed (its connection went away, or its owner closed it). */
  legClosed: (side: RelaySide, session: MsrpSession, reason: string) => void;
};

interface Relayed {
  readonly messageId: string;
  readonly contentType: string;
  readonly successReport: boolean;
  readonly failureReport: FailureReport;
  readonly source: MsrpSession;
  /** The direction it goes (and through it the relay), for `MsrpRelay.streamDone`. */
  readonly dir: Direction;
  chunks: OutgoingChunk[];
  bytes: number;
  complete: boolean;
  /** Counted in the direction's stalled bytes (complete, or undelivered). */
  stalled: boolean;
  state: RelayedMessageState;
  target: MsrpSession | undefined;
  stream: OutgoingStream<Relayed> | undefined;
  deliveries: number;
  refusal: { status: number; comment: string } | undefined;
}

interface Direction {
  readonly relay: MsrpRelay;
  readonly towards: RelaySide;
  /** Unsettled messages, in arrival order. */
  readonly pending: Set<Relayed>;
  readonly history: Relayed[];
  /** Incomplete messages by sending session and Message-ID. */
  incoming: Map<MsrpSession, Map<string, Relayed>> | undefined;
  /** Bytes held for unsettled messages. */
  held: number;
  /** Of those, bytes that wait only on the receiver (complete or undelivered messages). */
  stalledBytes: number;
  /** Sending sessions whose reading is paused for this direction. */
  paused: Set<MsrpSession> | undefined;
  /** Sending sessions whose 200s are held back for this direction (see the module comment). */
  holding: Set<MsrpSession> | undefined;
  readonly token: object;
}

/** `Relayed.chunks` of a record that holds none (shared, never written to: most records hold one chunk). */
const NO_CHUNKS: OutgoingChunk[] = [];

const other = (side: RelaySide): RelaySide => (side === 'a' ? 'b' : 'a');

/** The verdict on a chunk relayed or dropped without complaint (shared: one per chunk would be garbage). */
const ACCEPTED: Readonly<{ status: number }> = Object.freeze({ status: 200 });
/** The same, its 200 held back until the receiving side drains (flow control, see the module comment). */
const ACCEPTED_LATER: Readonly<{ status: number; holdResponse: boolean }> = Object.freeze({ status: 200, holdResponse: true });

/**
 * 200s held back from one sender before its socket is paused anyway: four windows of our own devices (1024
 * requests each). Only a sender that ignores its window of unanswered requests gets there.
 */
export const MAX_HELD_RESPONSES = 4096;

/** Relays MSRP between two legs of an in-path Conversation Server session. */
export class MsrpRelay extends TypedEmitter<MsrpRelayEvents> {
  private current = MsrpRelayState.Relaying;
  private readonly legs: Record<RelaySide, MsrpSession>;
  /** Every session the relay serves (current and retired legs) and its side. */
  private readonly sides = new Map<MsrpSession, RelaySide>();
  private readonly directions: Record<RelaySide, Direction>;
  private readonly readControl: MsrpReadControl | undefined;
  private readonly maxMessageBytes: number;
  private readonly maxIncomplete: number;
  private readonly maxStalledBytes: number;
  private readonly maxPending: number;
  private readonly historySize: number;
  private readonly coalesceChunkBytes: number;
  private readonly unsubscribe = new Map<MsrpSession, () => void>();

  constructor(options: MsrpRelayOptions) {
    super();
    if (options.legA === options.legB) throw new TypeError('a relay needs two different legs');
    this.legs = { a: options.legA, b: options.legB };
    this.readControl = options.readControl;
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxIncomplete = options.maxIncompleteMessages ?? 64;
    this.maxStalledBytes = options.maxStalledBytes ?? 4 * 1024 * 1024;
    this.maxPending = options.maxPendingMessages ?? 4096;
    this.historySize = options.historySize ?? 1000;
    this.coalesceChunkBytes = options.coalesceChunkBytes ?? 64 * 1024;
    const direction = (towards: RelaySide): Direction => ({
      relay: this,
      towards,
      pending: new Set(),
      history: [],
      incoming: undefined, // made when a message comes in chunks (idle sessions are many: they cost no Map)
      held: 0,
      stalledBytes: 0,
      paused: undefined, // made when flow control first pauses a sender
      holding: undefined,
      token: { relayTowards: towards },
    });
    this.directions = { a: direction('a'), b: direction('b') };
    this.adopt(options.legA, 'a');
    this.adopt(options.legB, 'b');
  }

  /** Current state. */
  get state(): MsrpRelayState {
    return this.current;
  }

  /** The current leg of side A. */
  get legA(): MsrpSession {
    return this.legs.a;
  }

  /** The current leg of side B. */
  get legB(): MsrpSession {
    return this.legs.b;
  }

  /** Bytes the relay holds for messages not yet acknowledged, both directions. */
  get bufferedBytes(): number {
    return this.directions.a.held + this.directions.b.held;
  }

  /** Bytes held for messages towards `towards`. */
  heldBytes(towards: RelaySide): number {
    return this.directions[towards].held;
  }

  /** Whether the relay is holding back the senders towards `towards` (flow control). */
  isPaused(towards: RelaySide): boolean {
    const dir = this.directions[towards];
    return (dir.paused?.size ?? 0) > 0 || (dir.holding?.size ?? 0) > 0;
  }

  /** Records of the messages relayed towards `towards`: recent settled ones, then the unsettled, in order. */
  relayed(towards: RelaySide): MsrpRelayRecord[] {
    const dir = this.directions[towards];
    return [...dir.history.slice(-this.historySize), ...dir.pending].map((r) => ({
      messageId: r.messageId,
      contentType: r.contentType,
      bytes: r.bytes,
      complete: r.complete,
      state: r.state,
      leg: r.target,
      deliveries: r.deliveries,
    }));
  }

  /** Message-IDs relayed towards `towards` that its leg has not acknowledged (what a transfer replays). */
  unacknowledged(towards: RelaySide): string[] {
    return [...this.directions[towards].pending].filter((r) => r.state === 'relaying' || r.state === 'undelivered').map((r) => r.messageId);
  }

  /**
   * Move `side` to `session`, the transfer target's leg. What `session` sends is relayed from now on; the
   * switch itself happens once `session` is bound ("as soon as A-Dn's MSRP connection is up", PROFILE.md
   * steps 10–13), at once if it already is: from then on what the other side sends goes to `session`,
   * and with `replayUnacknowledged` (default) every message the old leg had not acknowledged is relayed
   * to it first, in order (a message partly sent to the old leg is aborted there with `#`). The old leg
   * stays served for what it still sends until its owner closes it (on its BYE).
   *
   * Call it as soon as the new leg exists (not after it is bound): the new device's binding SEND may
   * already carry a message, which is relayed only if the relay serves the leg by then.
   * Throws `TypeError` when the relay is closed or `session` is closed or already served by this relay.
   */
  replaceLeg(side: RelaySide, session: MsrpSession, options: { replayUnacknowledged?: boolean } = {}): ReplaceLegResult {
    if (this.current === MsrpRelayState.Closed) throw new TypeError('replaceLeg() on a closed relay');
    if (this.sides.has(session)) throw new TypeError('replaceLeg() with a session the relay already serves');
    if (session.state === MsrpSessionState.Closed) throw new TypeError('replaceLeg() with a closed session');
    const replay = options.replayUnacknowledged ?? true;
    this.adopt(session, side);
    if (session.state === MsrpSessionState.Active) {
      const replayed = this.switchLeg(side, session, replay);
      return { replayed, switched: Promise.resolve(replayed) };
    }
    const switched = new Promise<string[]>((resolve, reject) => {
      const onState = (state: MsrpSessionState): void => {
        if (state !== MsrpSessionState.Active && state !== MsrpSessionState.Closed) return;
        session.off('stateChange', onState);
        if (state === MsrpSessionState.Active && this.current === MsrpRelayState.Relaying) resolve(this.switchLeg(side, session, replay));
        else reject(new Error(`the new leg of side ${side} closed before it was bound: the side was not switched`));
      };
      session.on('stateChange', onState);
    });
    switched.catch(() => undefined);
    return { replayed: [], switched };
  }

  private switchLeg(side: RelaySide, session: MsrpSession, replay: boolean): string[] {
    this.legs[side] = session;
    const dir = this.directions[side];
    const replayed: string[] = [];
    if (replay) {
      for (const rec of [...dir.pending]) {
        if (rec.state !== 'relaying' && rec.state !== 'undelivered') continue;
        const previous = rec.target;
        rec.stream = undefined; // its outcome on the old leg no longer counts
        if (previous && previous !== session && previous.state !== MsrpSessionState.Closed) previous.abort(rec.messageId);
        this.deliver(dir, rec);
        replayed.push(rec.messageId);
      }
    }
    this.updateFlow(dir);
    return replayed;
  }

  /** Stop relaying and close every leg (current and retired). Idempotent. */
  close(): void {
    if (this.current === MsrpRelayState.Closed) return;
    this.transition(MsrpRelayState.Closed);
    for (const dir of Object.values(this.directions)) {
      for (const source of dir.paused ?? []) this.readControl?.resumeReading(source, dir.token);
      dir.paused = undefined;
      for (const source of dir.holding ?? []) source.releaseHeldResponses();
      dir.holding = undefined;
      for (const rec of [...dir.pending]) {
        // Never lose a message silently (RFC 4975 §7.1.2): what was not acknowledged when the session ends gets a
        // failure REPORT on the sender's leg while that leg is still up, so the sender can tell its user.
        if (rec.state !== 'acknowledged' && rec.state !== 'aborted' && rec.state !== 'refused') {
          this.reportFailure(rec, 481, 'Session ended before delivery');
        }
        this.release(dir, rec);
      }
      dir.incoming = undefined;
    }
    for (const [session, off] of [...this.unsubscribe]) {
      off();
      session.close();
    }
    this.unsubscribe.clear();
  }

  // ---- internals ----

  /** Serve `session` as a leg of `side`: relay what it sends, forward its REPORTs, watch its drain and close. */
  private adopt(session: MsrpSession, side: RelaySide): void {
    this.sides.set(session, side);
    session.handleChunksWith((chunk) => this.onChunk(session, side, chunk));
    const onReport = (report: MsrpReport): void => this.onReport(side, report);
    const onDrain = (): void => this.updateFlow(this.directions[side]);
    const onState = (state: MsrpSessionState): void => {
      if (state === MsrpSessionState.Closed) this.onSessionClosed(session, side);
    };
    session.on('report', onReport).on('drain', onDrain).on('stateChange', onState);
    this.unsubscribe.set(session, () => {
      session.off('report', onReport).off('drain', onDrain).off('stateChange', onState);
      session.handleChunksWith(undefined);
    });
  }

  private onChunk(source: MsrpSession, fromSide: RelaySide, chunk: ReceivedMsrpChunk): { status: number; comment?: string } {
    if (this.current === MsrpRelayState.Closed) return { status: 481 };
    const dir = this.directions[other(fromSide)];
    let incoming = dir.incoming?.get(source);
    let rec = incoming?.get(chunk.messageId);
    const last = chunk.continuation !== '+';
    if (!rec) {
      if (chunk.continuation === '#') return ACCEPTED; // nothing of it was relayed
      if (incoming && incoming.size >= this.maxIncomplete) {
        // Forget refused messages first: their senders were told to stop.
        for (const [id, r] of incoming) if (r.refusal) incoming.delete(id);
        if (incoming.size >= this.maxIncomplete) return { status: 413, comment: `more than ${this.maxIncomplete} messages in progress` };
      }
      if (!chunk.contentType.includes('/')) return { status: 400, comment: `bad Content-Type ${JSON.stringify(chunk.contentType.slice(0, 60))}` };
      if ((chunk.byteRange.total ?? 0) > this.maxMessageBytes) return { status: 413, comment: `message exceeds ${this.maxMessageBytes} bytes` };
      rec = {
        messageId: chunk.messageId,
        contentType: chunk.contentType,
        successReport: chunk.successReport ?? chunk.headers.get('Success-Report')?.trim().toLowerCase() === 'yes',
        failureReport: chunk.failureReport ?? parseFailureReportLoosely(chunk.headers.get('Failure-Report')),
        source,
        dir,
        chunks: NO_CHUNKS,
        bytes: 0,
        complete: false,
        stalled: false,
        state: 'relaying',
        target: undefined,
        stream: undefined,
        deliveries: 0,
        refusal: undefined,
      };
      dir.pending.add(rec);
      if (!last) {
        if (!incoming) (dir.incoming ??= new Map()).set(source, (incoming = new Map()));
        incoming.set(rec.messageId, rec);
      }
      this.deliver(dir, rec);
      if (this.listenerCount('relayed') > 0) this.emit('relayed', dir.towards, rec.messageId); // per message: no arguments array for nobody
    } else if (last) incoming?.delete(chunk.messageId);
    if (rec.refusal) return rec.refusal; // the receiver refused it: tell the sender to stop
    const end = chunk.byteRange.start - 1 + chunk.body.length;
    if (end > this.maxMessageBytes) {
      // Chunks already on the wire will follow: keep refusing them until the last one.
      rec.refusal = { status: 413, comment: `message exceeds ${this.maxMessageBytes} bytes` };
      this.abortRecord(dir, rec);
      return rec.refusal;
    }
    const out: OutgoingChunk = { body: chunk.body, byteRange: chunk.byteRange, continuation: chunk.continuation };
    if (chunk.continuation === '#') {
      // The sender gave up: pass the abort on and forget the message (RFC 4975 §7.1.1).
      rec.stream?.push(out);
      rec.state = 'aborted';
      if (!rec.stream) this.release(dir, rec);
      return ACCEPTED;
    }
    if (rec.chunks === NO_CHUNKS) rec.chunks = [out];
    else rec.chunks.push(out);
    rec.bytes += out.body.length;
    dir.held += out.body.length;
    if (rec.stalled) dir.stalledBytes += out.body.length;
    if (last) {
      rec.complete = true;
      this.markStalled(dir, rec);
    }
    rec.stream?.push(out);
    this.updateFlow(dir);
    if (!dir.holding?.has(source)) return ACCEPTED;
    if (source.heldResponseCount >= MAX_HELD_RESPONSES && !dir.paused?.has(source) && this.readControl?.pauseReading(source, dir.token)) {
      (dir.paused ??= new Set()).add(source); // it ignores its window: stop it at the socket
    }
    return ACCEPTED_LATER;
  }

  /** Relay `rec` (from its first held chunk) to the current leg of its direction. */
  private deliver(dir: Direction, rec: Relayed): void {
    const target = this.legs[dir.towards];
    let stream: OutgoingStream<Relayed> | undefined;
    if (target.state !== MsrpSessionState.Closed) {
      stream = target.sendStream<Relayed>(rec.contentType, {
        messageId: rec.messageId,
        successReport: rec.successReport,
        failureReport: 'yes',
        coalesceUpTo: this.coalesceChunkBytes,
        onDone: MsrpRelay.streamDone, // no promise and no closure per message, nor per relay
        tag: rec,
      });
    }
    rec.target = stream ? target : undefined;
    rec.stream = stream;
    if (!stream) {
      rec.state = 'undelivered';
      this.markStalled(dir, rec);
      return;
    }
    rec.state = 'relaying';
    rec.deliveries++;
    if (rec.stalled && !rec.complete) {
      rec.stalled = false;
      dir.stalledBytes -= rec.bytes;
    }
    for (const chunk of rec.chunks) stream.push(chunk);
  }

  /**
   * `onDone` of every relayed stream, of every relay: the record is the stream's tag. An acknowledgement settles it
   * at once; a failure a moment later, once the session that reported it is done with its own bookkeeping (it may
   * be closing).
   */
  private static streamDone(this: void, outcome: MsrpSendOutcome, stream: OutgoingStream<Relayed>): void {
    const rec = stream.tag!;
    const relay = rec.dir.relay;
    if (outcome.ok) relay.onDelivered(rec.dir, rec, stream, outcome);
    else queueMicrotask(() => relay.onDelivered(rec.dir, rec, stream, outcome));
  }

  private onDelivered(dir: Direction, rec: Relayed, stream: OutgoingStream<Relayed>, outcome: MsrpSendOutcome): void {
    if (rec.stream !== stream || !dir.pending.has(rec)) return; // superseded by a replay, or released
    if (rec.state === 'aborted') {
      this.release(dir, rec);
    } else if (outcome.ok) {
      rec.state = 'acknowledged';
      this.release(dir, rec);
      if (this.listenerCount('acknowledged') > 0) this.emit('acknowledged', dir.towards, rec.messageId);
    } else if (outcome.status === 0 || outcome.status === 408 || outcome.status === 481) {
      // The leg went away or stopped answering: keep the message for a replay to a new leg.
      rec.state = 'undelivered';
      rec.stream = undefined;
      this.markStalled(dir, rec);
    } else {
      rec.state = 'refused';
      rec.refusal = { status: outcome.status, comment: outcome.comment };
      this.reportFailure(rec, outcome.status, outcome.comment);
      this.release(dir, rec);
    }
    this.updateFlow(dir);
  }

  /** A failure REPORT to the sender for a message the receiving leg refused (RFC 4975 §7.1.2). */
  private reportFailure(rec: Relayed, status: number, comment: string): void {
    if (rec.failureReport === 'no' || rec.source.state !== MsrpSessionState.Active) return;
    try {
      rec.source.sendReport(rec.messageId, { namespace: 0, code: status, comment }, { start: 1, end: rec.bytes, total: rec.complete ? rec.bytes : undefined });
    } catch {
      // The sender's leg is not connected any more: nobody to tell.
    }
  }

  /** A REPORT arrived on a leg of `side` about a message relayed towards it: relay it to the sender. */
  private onReport(side: RelaySide, report: MsrpReport): void {
    const dir = this.directions[side];
    const rec = findLast(dir, report.messageId);
    if (!rec) {
      // Already settled here (the next hop's 200 is hop by hop): a failure REPORT from further on must still reach
      // the sender, over the current leg of the other side (RFC 4975 §7.1.2, the REPORT follows the message back).
      const back = this.legs[other(side)];
      if (report.status.code >= 300 && back && back.state === MsrpSessionState.Active) {
        try {
          back.sendReport(report.messageId, report.status, report.byteRange ?? { start: 1, end: undefined, total: undefined });
        } catch {
          // nobody to tell
        }
      }
      return;
    }
    if (rec.source.state !== MsrpSessionState.Active) return;
    try {
      rec.source.sendReport(report.messageId, report.status, report.byteRange ?? { start: 1, end: rec.bytes, total: rec.bytes });
    } catch {
      // The sender's leg is not connected any more.
    }
  }

  private onSessionClosed(session: MsrpSession, side: RelaySide): void {
    if (this.current === MsrpRelayState.Closed) return;
    // Messages it was still sending cannot complete: abort them where they were being relayed.
    const dir = this.directions[other(side)];
    const incoming = dir.incoming?.get(session);
    dir.incoming?.delete(session);
    for (const rec of incoming?.values() ?? []) this.abortRecord(dir, rec);
    if (dir.paused?.delete(session)) this.readControl?.resumeReading(session, dir.token);
    dir.holding?.delete(session); // its held 200s went with it
    this.updateFlow(dir);
    if (this.legs[side] === session) this.emit('legClosed', side, session, session.closeInfo?.reason ?? 'closed');
  }

  /** Give up on a message: `#` to where it was going (if it started), then forget it. */
  private abortRecord(dir: Direction, rec: Relayed): void {
    if (rec.target && rec.target.state !== MsrpSessionState.Closed) rec.target.abort(rec.messageId);
    rec.state = 'aborted';
    this.release(dir, rec);
  }

  private markStalled(dir: Direction, rec: Relayed): void {
    if (rec.stalled) return;
    rec.stalled = true;
    dir.stalledBytes += rec.bytes;
  }

  /** Settle a record: drop its chunks, keep a bounded history. */
  private release(dir: Direction, rec: Relayed): void {
    if (!dir.pending.delete(rec)) return;
    dir.held -= rec.bytes;
    if (rec.stalled) dir.stalledBytes -= rec.bytes;
    rec.stalled = false;
    rec.chunks = NO_CHUNKS;
    rec.stream = undefined;
    dir.history.push(rec);
    // Trimmed in batches: O(1) amortized per message.
    if (dir.history.length >= 2 * this.historySize) dir.history.splice(0, dir.history.length - this.historySize);
  }

  /**
   * Hold back the senders towards `dir` while its receiver is saturated (its leg at the high-water mark, or
   * too many bytes waiting on it): pause their sockets, or hold back their 200s while messages go the other
   * way to them (see the module comment); release them once it is down to the low marks (the leg's low-water
   * mark, half the stalled-bytes bound), so that a busy receiver does not make the sender's socket flap.
   */
  private updateFlow(dir: Direction): void {
    if (!this.readControl || this.current === MsrpRelayState.Closed) return;
    const target = this.legs[dir.towards];
    const gone = target.state === MsrpSessionState.Closed;
    const count = dir.pending.size;
    const saturated = count >= this.maxPending || (gone ? dir.held > this.maxStalledBytes : target.needsDrain || dir.stalledBytes > this.maxStalledBytes);
    const relieved =
      count <= this.maxPending / 2 &&
      (gone ? dir.held <= this.maxStalledBytes / 2 : target.bufferedAmount <= target.lowWaterMark && dir.stalledBytes <= this.maxStalledBytes / 2);
    if (saturated) {
      for (const [source, side] of this.sides) {
        if (side === dir.towards || source.state === MsrpSessionState.Closed || dir.paused?.has(source) || dir.holding?.has(source)) continue;
        // Messages pending towards the sender's side wait for 200s that come on the sender's socket: keep reading it.
        if (this.directions[side].pending.size > 0) (dir.holding ??= new Set()).add(source);
        else if (this.readControl.pauseReading(source, dir.token)) (dir.paused ??= new Set()).add(source);
      }
    } else if (relieved) {
      if (dir.paused) for (const source of dir.paused) this.readControl.resumeReading(source, dir.token);
      dir.paused = undefined;
      if (dir.holding) for (const source of dir.holding) source.releaseHeldResponses();
      dir.holding = undefined;
    }
  }

  /** The one place the state changes; throws on a move the diagram does not allow. */
  private transition(next: MsrpRelayState): void {
    const previous = this.current;
    if (!RELAY_TRANSITIONS[previous].includes(next)) throw new Error(`illegal MSRP relay transition ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}

function findLast(dir: Direction, messageId: string): Relayed | undefined {
  let found: Relayed | undefined;
  for (const rec of dir.pending) if (rec.messageId === messageId) found = rec;
  if (found) return found;
  for (let i = dir.history.length - 1; i >= 0; i--) if (dir.history[i]!.messageId === messageId) return dir.history[i];
  return undefined;
}

/** Failure-Report of a chunk the session already validated (RFC 4975 §7.1.2); `yes` when absent. */
function parseFailureReportLoosely(value: string | undefined): FailureReport {
  const v = value?.trim().toLowerCase();
  return v === 'no' || v === 'partial' ? v : 'yes';
}
