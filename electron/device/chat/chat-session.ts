/**
 * One CPM session on a device (PROFILE.md "A CPM session"): the SIP INVITE dialog (`CpmInviteSession`)
 * plus its MSRP session (RFC 4975) on the chat media transport, and the CPIM payloads it carries.
 *
 * ```
 *   outgoing: startChat                           incoming INVITE
 *        │                                               │
 *        ▼        accept()                               ▼
 *   ┌────────────┐ ◄───────────────────────────── ┌─────────┐ decline() / CANCEL ┌───────┐
 *   │ connecting │                                │ ringing │ ──────────────────►│       │
 *   └────────────┘                                └─────────┘                    │       │
 *     │       │  dialog confirmed and MSRP bound                                 │ ended │
 *     │       ▼                                                                  │       │
 *     │   ┌────────┐  BYE (either side), MSRP connection lost, in-dialog timeout │       │
 *     │   │ active │ ───────────────────────────────────────────────────────────►│       │
 *     │   └────────┘                                                             └───────┘
 *     │  final failure response, MSRP failure, timeout (local cancel: ended)
 *     ▼
 *   ┌────────┐
 *   │ failed │
 *   └────────┘
 * ```
 * (`ringing → failed` when the answer cannot be built; `ringing → connecting` on accept().)
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Imdn } from '../../../protocol/imdn/imdn';
import { mediaTypeEssence } from '../../../protocol/msrp/msrp-headers';
import { MsrpSession, MsrpSessionState, type MsrpReport, type MsrpSendOutcome, type ReceivedMsrpMessage } from '../../../protocol/msrp/msrp-session';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';
import { CPM_ACCEPT_TYPES, CPM_ACCEPT_WRAPPED_TYPES } from '../../../protocol/sdp/msrp-sdp';
import type { CpmInviteDialog, CpmInviteTermination, PeerIdentity } from '../sip/cpm-invite-session';
import type { MsrpNegotiation, MsrpPeerConnectionOptions } from '../sip/msrp-peer-connection';
import { ChatPayloadError, CPIM_CONTENT_TYPE, decodeChatPayload, type IncomingText } from './chat-payload';
import type { ChatMediaTransport } from './msrp-transport';

/** States of a chat session (the values are the DeviceApi's `SessionStateName`s). */
export enum ChatSessionState {
  Connecting = 'connecting',
  Ringing = 'ringing',
  Active = 'active',
  Ended = 'ended',
  Failed = 'failed',
}

const TRANSITIONS: Readonly<Record<ChatSessionState, readonly ChatSessionState[]>> = {
  [ChatSessionState.Connecting]: [ChatSessionState.Active, ChatSessionState.Failed, ChatSessionState.Ended],
  [ChatSessionState.Ringing]: [ChatSessionState.Connecting, ChatSessionState.Ended, ChatSessionState.Failed],
  [ChatSessionState.Active]: [ChatSessionState.Ended],
  [ChatSessionState.Ended]: [],
  [ChatSessionState.Failed]: [],
};

/** Why a session ended, as the UI shows it. */
export const EndCause = {
  LocalBye: 'ended on this device',
  RemoteBye: 'ended by the peer',
  MsrpLost: 'MSRP connection lost',
  MsrpFailed: 'MSRP connection could not be set up',
  /** The peer refused our binding SEND, or answered 481 (RFC 4975 §5.4, §10): it has no such session (any more). */
  MsrpRefused: 'MSRP session refused by the peer',
  Declined: 'declined',
  Cancelled: 'cancelled by the caller',
  AnsweredElsewhere: 'answered on another device',
  Timeout: 'no answer from the peer',
} as const;

/** Events of a chat session. */
export interface ChatSessionEvents {
  stateChange: (to: ChatSessionState, from: ChatSessionState, cause: string | null) => void;
  /** A chat message arrived. */
  text: (message: IncomingText) => void;
  /** A delivery or display notification arrived. */
  notification: (imdn: Imdn) => void;
  /** Something the peer sent could not be used (the session goes on). */
  payloadError: (error: Error) => void;
  /**
   * A failure REPORT (RFC 4975 §7.1.2) came back for a message sent with a `ref` (see `send`): a hop past
   * the first accepted it (its 200 is hop by hop) and then could not deliver it.
   */
  deliveryFailed: (ref: string, status: number, comment: string) => void;
}

/** How many sent messages' MSRP Message-IDs a session remembers for failure REPORTs (the most recent). */
const TRACKED_SENDS = 4096;

/** Options of a chat session. */
export interface ChatSessionOptions {
  sip: CpmInviteDialog;
  conversationId: string;
  contributionId: string;
  transport: ChatMediaTransport;
  /**
   * While active, ask the peer every this many ms whether it still holds the dialog (in-dialog OPTIONS); no
   * answer ends the session. Default 30 000; 0 turns it off. (A dead peer's MSRP connection usually breaks
   * first; this catches the silent ones.)
   */
  keepAliveMs?: number;
}

/** One CPM session. */
export class ChatSession extends EventEmitter {
  /** Our id for the session (the DeviceApi's `sessionId`). */
  readonly id = randomUUID();
  readonly conversationId: string;
  readonly contributionId: string;
  readonly direction: 'outgoing' | 'incoming';
  private current: ChatSessionState;
  private endCause: string | null = null;
  private localUri: MsrpUri | null = null;
  private media: MsrpSession | null = null;
  private backlog: Array<{ bytes: Uint8Array; ref: string | undefined; resolve: (outcome: MsrpSendOutcome) => void }> = [];
  /** MSRP Message-ID → the `ref` its sender gave, for failure REPORTs (most recent `TRACKED_SENDS`). */
  private readonly sentRefs = new Map<string, string>();
  /** The SIP side (dialog identifiers for a transfer's Target-Dialog, INVITE headers). */
  readonly sip: CpmInviteDialog;
  private readonly transport: ChatMediaTransport;
  private readonly keepAliveMs: number;
  private keepAlive: NodeJS.Timeout | null = null;

  constructor(options: ChatSessionOptions) {
    super();
    this.sip = options.sip;
    this.conversationId = options.conversationId;
    this.contributionId = options.contributionId;
    this.transport = options.transport;
    this.keepAliveMs = options.keepAliveMs ?? 30_000;
    this.direction = options.sip.direction;
    this.current = this.direction === 'outgoing' ? ChatSessionState.Connecting : ChatSessionState.Ringing;
    this.sip.on('established', () => this.maybeActive());
    this.sip.on('terminated', (t) => this.sipTerminated(t));
  }

  /** The peer's identity. */
  get peer(): PeerIdentity {
    return this.sip.peer;
  }

  /** Current state. */
  get state(): ChatSessionState {
    return this.current;
  }

  /** Why the session ended or failed, else null. */
  get cause(): string | null {
    return this.endCause;
  }

  /** True in `connecting` and `active`: messages can be queued on it. */
  get usable(): boolean {
    return this.current === ChatSessionState.Connecting || this.current === ChatSessionState.Active;
  }

  /** Options for the MsrpPeerConnection of this session (offer or answer). */
  peerConnectionOptions(): MsrpPeerConnectionOptions {
    return {
      localEndpoint: () => {
        this.localUri ??= this.transport.newLocalUri();
        return { path: [this.localUri], acceptTypes: [...CPM_ACCEPT_TYPES], acceptWrappedTypes: [...CPM_ACCEPT_WRAPPED_TYPES] };
      },
      onNegotiated: (negotiation) => this.negotiated(negotiation),
    };
  }

  /** Accept an incoming session (200 OK with our MSRP answer). Throws unless ringing. */
  accept(): void {
    if (this.current !== ChatSessionState.Ringing) throw new Error(`accept: the session is ${this.current}, not ringing`);
    this.transition(ChatSessionState.Connecting, null);
    try {
      this.sip.answer(this.peerConnectionOptions());
    } catch (error) {
      this.fail(`answer failed: ${error instanceof Error ? error.message : String(error)}`);
      this.sip.reject(500, 'Server Internal Error');
    }
  }

  /** Decline an incoming session (603). Throws unless ringing. */
  decline(): void {
    if (this.current !== ChatSessionState.Ringing) throw new Error(`decline: the session is ${this.current}, not ringing`);
    this.transition(ChatSessionState.Ended, EndCause.Declined);
    this.sip.reject(603, 'Decline');
  }

  /** End the session from this side (BYE, or CANCEL while connecting). No-op once ended. */
  end(cause: string = EndCause.LocalBye): void {
    if (this.current === ChatSessionState.Ended || this.current === ChatSessionState.Failed) return;
    if (this.current === ChatSessionState.Ringing) {
      this.decline();
      return;
    }
    this.transition(ChatSessionState.Ended, cause);
    this.sip.terminate();
  }

  /**
   * Queue a CPIM payload on the session's MSRP session (held until the SDP exchange has made one).
   * Resolves (never rejects) when MSRP acknowledged every chunk or one failed; the session ending first is a
   * failure (status 0). With a `ref` (the chat message's id), a failure REPORT for it later raises
   * `deliveryFailed(ref, …)`.
   */
  send(bytes: Uint8Array, ref?: string): Promise<MsrpSendOutcome> {
    if (!this.usable) return Promise.resolve({ ok: false, messageId: '', status: 0, comment: `session ${this.current}` });
    if (this.media && this.media.state !== MsrpSessionState.Closed) return this.sendNow(this.media, bytes, ref);
    return new Promise((resolve) => this.backlog.push({ bytes, ref, resolve }));
  }

  override on<E extends keyof ChatSessionEvents>(event: E, listener: ChatSessionEvents[E]): this {
    return super.on(event, listener);
  }

  override emit<E extends keyof ChatSessionEvents>(event: E, ...args: Parameters<ChatSessionEvents[E]>): boolean {
    return super.emit(event, ...args);
  }

  // ─── internals ─────────────────────────────────────────────────────────────────────────────────────────

  private negotiated(negotiation: MsrpNegotiation): void {
    if (this.media || !this.localUri) return; // a re-INVITE: the MSRP session stays as it is
    const media = new MsrpSession({ localUri: this.localUri, remotePath: negotiation.remotePath });
    this.media = media;
    media.on('stateChange', (state) => {
      if (state === MsrpSessionState.Active) this.maybeActive();
      else if (state === MsrpSessionState.Closed) this.mediaClosed();
    });
    media.on('message', (message) => this.mediaMessage(message));
    media.on('report', (report) => this.mediaReport(report));
    // Queued now, sent once bound (the active side's binding SEND may carry the first chunk).
    for (const { bytes, ref, resolve } of this.backlog.splice(0)) void this.sendNow(media, bytes, ref).then(resolve);
    this.transport.bind(media, negotiation.setup).catch(() => undefined); // a failure closes the session: mediaClosed
  }

  private sendNow(media: MsrpSession, bytes: Uint8Array, ref: string | undefined): Promise<MsrpSendOutcome> {
    const out = media.send(bytes, CPIM_CONTENT_TYPE);
    if (ref !== undefined) {
      this.sentRefs.set(out.messageId, ref);
      if (this.sentRefs.size > TRACKED_SENDS) this.sentRefs.delete(this.sentRefs.keys().next().value!);
    }
    return out.done;
  }

  /** A REPORT for one of our messages: a failure (any status but 2xx, RFC 4975 §7.1.2) is told to the owner. */
  private mediaReport(report: MsrpReport): void {
    const code = report.status.code;
    if (code >= 200 && code < 300) return;
    const ref = this.sentRefs.get(report.messageId);
    if (ref === undefined) return;
    this.sentRefs.delete(report.messageId);
    this.emit('deliveryFailed', ref, code, report.status.comment);
  }

  private mediaMessage(message: ReceivedMsrpMessage): void {
    if (mediaTypeEssence(message.contentType) !== CPIM_CONTENT_TYPE) {
      this.emit('payloadError', new ChatPayloadError(`unexpected content type ${message.contentType}`));
      return;
    }
    let payload;
    try {
      payload = decodeChatPayload(message.body);
    } catch (error) {
      this.emit('payloadError', error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (payload.kind === 'text') this.emit('text', payload);
    else this.emit('notification', payload.imdn);
  }

  private maybeActive(): void {
    if (this.current !== ChatSessionState.Connecting) return;
    if (this.sip.established && this.media?.state === MsrpSessionState.Active) this.transition(ChatSessionState.Active, null);
  }

  private mediaClosed(): void {
    if (this.current === ChatSessionState.Active) {
      this.transition(ChatSessionState.Ended, EndCause.MsrpLost);
      this.sip.terminate();
    } else if (this.current === ChatSessionState.Connecting) {
      this.fail(this.media?.closeInfo?.cause === 'refused' ? EndCause.MsrpRefused : EndCause.MsrpFailed);
      this.sip.terminate();
    }
  }

  private sipTerminated(t: CpmInviteTermination): void {
    this.settleBacklog();
    if (this.current === ChatSessionState.Ended || this.current === ChatSessionState.Failed) return;
    if (this.current === ChatSessionState.Ringing) {
      this.transition(ChatSessionState.Ended, isAnsweredElsewhere(t.reason) ? EndCause.AnsweredElsewhere : t.originator === 'remote' ? EndCause.Cancelled : describe(t));
      return;
    }
    if (this.current === ChatSessionState.Active) {
      const cause = t.originator === 'remote' ? EndCause.RemoteBye : t.originator === 'local' ? EndCause.LocalBye : describe(t);
      this.transition(ChatSessionState.Ended, cause);
      return;
    }
    // connecting
    if (t.phase === 'ended' && t.originator === 'remote') this.transition(ChatSessionState.Ended, EndCause.RemoteBye);
    else this.fail(describe(t));
  }

  private fail(cause: string): void {
    this.media?.close();
    this.settleBacklog();
    if (this.current !== ChatSessionState.Failed && this.current !== ChatSessionState.Ended) this.transition(ChatSessionState.Failed, cause);
  }

  private scheduleProbe(): void {
    if (this.keepAliveMs <= 0) return;
    this.keepAlive = setTimeout(() => {
      this.keepAlive = null;
      void this.sip.probe().then((alive) => {
        if (this.current !== ChatSessionState.Active) return;
        if (alive) {
          this.scheduleProbe();
          return;
        }
        this.transition(ChatSessionState.Ended, EndCause.Timeout);
        this.sip.terminate();
      });
    }, this.keepAliveMs);
    this.keepAlive.unref();
  }

  private settleBacklog(): void {
    for (const { resolve } of this.backlog.splice(0)) resolve({ ok: false, messageId: '', status: 0, comment: 'session ended' });
  }

  /** The one transition function; throws on a move the diagram does not have. */
  private transition(to: ChatSessionState, cause: string | null): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`ChatSession: illegal transition ${from} → ${to}`);
    this.current = to;
    if (to === ChatSessionState.Active) this.scheduleProbe();
    if (to === ChatSessionState.Ended || to === ChatSessionState.Failed) {
      if (this.keepAlive) clearTimeout(this.keepAlive);
      this.keepAlive = null;
      this.endCause = cause;
      if (this.media && this.media.state !== MsrpSessionState.Closed) queueMicrotask(() => this.media?.close());
    }
    this.emit('stateChange', to, from, cause);
  }
}

/** A CANCEL's `Reason: SIP;cause=200` says the call was answered elsewhere (RFC 3326 §2, RFC 3261 §9.1). */
function isAnsweredElsewhere(reason: string | null): boolean {
  return reason !== null && /^\s*SIP\s*;.*\bcause\s*=\s*200\b/i.test(reason);
}

function describe(t: CpmInviteTermination): string {
  if (t.statusLine) return t.statusLine;
  if (/timeout/i.test(t.cause)) return EndCause.Timeout;
  return t.cause;
}
