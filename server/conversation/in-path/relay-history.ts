/**
 * History of an in-path session (PROFILE.md "History continuity": in-path, the Conversation Server writes what
 * it relays): every complete CPIM message (RFC 3862) a leg sends through the relay is recorded in the domain's
 * Message Store for this server's own user of the session, as sent by it (`out`) or to it (`in`), keyed by
 * Conversation-ID and `imdn.Message-ID` (the store drops duplicates, such as a replay to a transfer target).
 * IMDNs (`message/imdn+xml`, RFC 5438) are notifications, not messages: one that reaches our user about a
 * message it sent, or one our user's device sends about a message it received, moves that message's delivery
 * state forward in our user's history (delivered, displayed, or failed), as the user's devices show it.
 *
 * The relay forwards chunks as they come, so this class sees the chunks the relay accepted (it wraps the
 * relay's chunk handler on each leg session: `watch` before the session is given to the relay) and keeps
 * each message only until its last chunk, within bounds (history is best effort: a message past the bounds
 * is relayed but not recorded, and logged). Records are written in batches (`flushMs`, MAX_BATCH), and what
 * is batched is written when the session ends.
 */
import { decodeCpim } from '../../../protocol/cpim/cpim';
import { decodeImdn, type Imdn } from '../../../protocol/imdn/imdn';
import type { MsrpChunkHandler, MsrpSession, ReceivedMsrpChunk } from '../../../protocol/msrp/msrp-session';
import { MAX_BATCH, type DeliveryUpdate, type DeliveryUpdateState, type MessageInput } from '../../../protocol/store/store-types';
import type { MessageSink } from '../../store/message-sink';
import type { RelaySide } from './msrp/msrp-relay';

/** What a session's history needs. */
export interface RelayHistoryOptions {
  sink: MessageSink;
  conversationId: string;
  /** This server's user in the session (its AOR) and the side its device is on. */
  owner: string;
  ownerSide: RelaySide;
  /** Largest message recorded (bytes). Default 1 MiB. */
  maxMessageBytes?: number;
  /** Messages being assembled at once, per leg. Default 64. */
  maxPending?: number;
  /**
   * How long records wait to be written together (ms). Default 100: a store that syncs every write (SQLite
   * `synchronous=FULL`) is written at most ten times a second per session, or at every MAX_BATCH messages.
   */
  flushMs?: number;
  log?: (line: string) => void;
}

interface Assembly {
  /** Chunk bodies at their Byte-Range start (1-based, RFC 4975 §7.1.1). */
  parts: { start: number; body: Uint8Array }[];
  bytes: number;
}

/** Records what one in-path session relays. */
export class RelayHistory {
  private readonly pending = new Map<MsrpSession, Map<string, Assembly>>();
  private batch: MessageInput[] = [];
  private deliveries: DeliveryUpdate[] = [];
  private flushing: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly maxBytes: number;
  private readonly maxPending: number;

  constructor(private readonly options: RelayHistoryOptions) {
    this.maxBytes = options.maxMessageBytes ?? 1024 * 1024;
    this.maxPending = options.maxPending ?? 64;
  }

  /**
   * Watch what `session` (a leg on `side`) sends: from now on, whatever chunk handler is installed on it
   * (the relay's) is wrapped so that every chunk it accepts (status 200) is also seen here.
   */
  watch(session: MsrpSession, side: RelaySide): void {
    const install = session.handleChunksWith.bind(session);
    session.handleChunksWith = (handler: MsrpChunkHandler | undefined): void => {
      install(
        handler
          ? (chunk) => {
              const verdict = handler(chunk);
              if (verdict.status === 200) this.onChunk(session, side, chunk);
              return verdict;
            }
          : undefined,
      );
    };
  }

  /** Write what is batched and forget partial messages. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.pending.clear();
  }

  private onChunk(session: MsrpSession, side: RelaySide, chunk: ReceivedMsrpChunk): void {
    if (this.closed) return;
    let messages = this.pending.get(session);
    if (!messages) this.pending.set(session, (messages = new Map()));
    let assembly = messages.get(chunk.messageId);
    if (chunk.continuation === '#') {
      messages.delete(chunk.messageId);
      return;
    }
    if (!assembly) {
      if (chunk.byteRange.start !== 1) return; // we joined mid-message (a leg adopted late): not ours to record
      if (messages.size >= this.maxPending) return this.skip(chunk.messageId, 'too many messages in progress');
      assembly = { parts: [], bytes: 0 };
      messages.set(chunk.messageId, assembly);
    }
    assembly.parts.push({ start: chunk.byteRange.start, body: chunk.body });
    assembly.bytes += chunk.body.length;
    if (assembly.bytes > this.maxBytes) {
      messages.delete(chunk.messageId);
      return this.skip(chunk.messageId, `larger than ${this.maxBytes} bytes`);
    }
    if (chunk.continuation !== '$') return;
    messages.delete(chunk.messageId);
    if (!chunk.contentType.toLowerCase().startsWith('message/cpim')) return;
    this.record(concat(assembly), side, chunk.messageId);
  }

  private record(bytes: Uint8Array, side: RelaySide, msrpMessageId: string): void {
    let cpim;
    try {
      cpim = decodeCpim(bytes);
    } catch (error) {
      return this.skip(msrpMessageId, `not CPIM (${error instanceof Error ? error.message : String(error)})`);
    }
    const contentType = cpim.contentType ?? 'text/plain';
    if (contentType.toLowerCase().startsWith('message/imdn')) {
      // Either way the IMDN names a message of this conversation in our user's history (RFC 5438 §7).
      this.noteDelivery(cpim.body, cpim.dateTime, msrpMessageId);
      return;
    }
    if (cpim.imdnMessageId === undefined) return this.skip(msrpMessageId, 'no imdn.Message-ID');
    this.batch.push({
      conversationId: this.options.conversationId,
      messageId: cpim.imdnMessageId,
      sender: cpim.from?.uri ?? '',
      recipient: cpim.to[0]?.uri ?? '',
      direction: side === this.options.ownerSide ? 'out' : 'in',
      dateTime: cpim.dateTime ?? new Date().toISOString(),
      contentType,
      body: new TextDecoder().decode(cpim.body),
    });
    this.schedule();
  }

  /** An IMDN to our user about one of its messages: the outcome, as a device shows it (RFC 5438 §7.2). */
  private noteDelivery(body: Uint8Array, dateTime: string | undefined, msrpMessageId: string): void {
    if (!this.options.sink.delivery) return;
    let imdn: Imdn;
    try {
      imdn = decodeImdn(body);
    } catch (error) {
      return this.skip(msrpMessageId, `bad IMDN (${error instanceof Error ? error.message : String(error)})`);
    }
    const n = imdn.notification;
    const state: DeliveryUpdateState | undefined =
      n.kind === 'delivery' ? (n.status === 'delivered' ? 'delivered' : 'failed') : n.kind === 'display' && n.status === 'displayed' ? 'displayed' : undefined;
    if (!state) return;
    this.deliveries.push({ conversationId: this.options.conversationId, messageId: imdn.messageId, state, ...(dateTime ? { at: dateTime } : {}) });
    this.schedule();
  }

  private schedule(): void {
    if (this.batch.length >= MAX_BATCH || this.deliveries.length >= MAX_BATCH) this.flush();
    else this.flushing ??= setTimeout(() => this.flush(), this.options.flushMs ?? 100);
  }

  private flush(): void {
    if (this.flushing) clearTimeout(this.flushing);
    this.flushing = undefined;
    const batch = this.batch;
    const deliveries = this.deliveries;
    this.batch = [];
    this.deliveries = [];
    // Messages first: an outcome applies to a stored message.
    if (batch.length > 0) this.options.sink.record(this.options.owner, batch);
    if (deliveries.length > 0) this.options.sink.delivery?.(this.options.owner, deliveries);
  }

  private skip(messageId: string, why: string): void {
    this.options.log?.(`in-path history: message ${messageId} not recorded: ${why}`);
  }
}

/** The message from its chunks, each at its Byte-Range offset. */
function concat(assembly: Assembly): Uint8Array {
  const only = assembly.parts[0];
  if (assembly.parts.length === 1 && only) return only.body;
  const size = Math.max(...assembly.parts.map((p) => p.start - 1 + p.body.length));
  const out = new Uint8Array(size);
  for (const part of assembly.parts) out.set(part.body, part.start - 1);
  return out;
}
