/**
 * The SIP half of one CPM session (PROFILE.md "A CPM session"), as the chat layer sees it: a thin, typed face
 * over JsSIP's RTCSession so that nothing outside this folder touches JsSIP.
 *
 * - outgoing: `startCpmInvite(ua, …)` sends an INVITE with the CPM `Accept-Contact`, `Conversation-ID`,
 *   `Contribution-ID` and an MSRP offer built by an `MsrpPeerConnection` (RFC 4975 §8, RFC 6135);
 * - incoming: `CpmInviteSession.fromIncoming` wraps what JsSIP's `newRTCSession` hands over; `answer` sends
 *   the 200 with an MSRP answer, `reject` a final failure response;
 * - both end with exactly one `terminated` event that says who ended it and why.
 *
 * The peer connection of each session is passed to JsSIP inside `pcConfig` (field `cpmMsrp`), and the UA's
 * `peerConnectionFactory` must be {@link msrpPeerConnectionFactory}, which builds it from there.
 */
import { EventEmitter } from 'node:events';
import type { UA } from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { CPM_ACCEPT_CONTACT, CpmHeader } from '../../../protocol/cpm/cpm-headers';
import type { JsSipDialog, JsSipIncomingRequest } from './jssip-internals';
import { MsrpPeerConnection, type MsrpPeerConnectionOptions } from './msrp-peer-connection';

/** The `pcConfig` JsSIP passes to the peer connection factory, carrying our MSRP options. */
interface CpmPcConfig {
  cpmMsrp?: MsrpPeerConnectionOptions;
}

/** The UA's `peerConnectionFactory` for CPM sessions: builds the MsrpPeerConnection given in `pcConfig`. */
export function msrpPeerConnectionFactory(configuration: unknown): MsrpPeerConnection {
  const options = (configuration as CpmPcConfig | null | undefined)?.cpmMsrp;
  if (!options) throw new Error('msrpPeerConnectionFactory: this session was not started through cpm-invite-session');
  return new MsrpPeerConnection(options);
}

const NO_MEDIA = { audio: false, video: false };

/** JsSIP's declared type of `pcConfig` (an RTCConfiguration; ours carries `cpmMsrp` instead). */
type CallPcConfig = NonNullable<NonNullable<Parameters<UA['call']>[1]>['pcConfig']>;

/** How a CPM session ended. */
export interface CpmInviteTermination {
  /** `failed`: never established (rejected, cancelled, timed out); `ended`: established, then ended. */
  phase: 'failed' | 'ended';
  /** Who ended it: us, the peer, or the stack (time-outs, transport errors). */
  originator: 'local' | 'remote' | 'system';
  /** JsSIP's cause text (`Terminated`, `Canceled`, `Busy`, `Request Timeout`…). */
  cause: string;
  /** The final response status, when a response ended it. */
  statusCode: number | null;
  /** Status line of that response (`486 Busy Here`), or null. */
  statusLine: string | null;
  /** The `Reason` header (RFC 3326) of a CANCEL or BYE that ended it, or null. */
  reason: string | null;
}

/** Events of a CPM INVITE session. */
export interface CpmInviteSessionEvents {
  /** A provisional response arrived (outgoing) or was sent (incoming, 180). */
  progress: (statusCode: number) => void;
  /** The dialog is confirmed (ACK sent or received). */
  established: () => void;
  /** The session is over (exactly once). */
  terminated: (termination: CpmInviteTermination) => void;
}

/** Identity of the peer: URI and display name. */
export interface PeerIdentity {
  uri: string;
  displayName: string;
}

/**
 * The first SIP, SIPS or TEL identity of a P-Asserted-Identity value (RFC 3325 §9.1), without URI parameters,
 * with its display name (quoted or not); null when there is none.
 */
export function parseAssertedIdentity(value: string): PeerIdentity | null {
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]+)>/.exec(value);
  const uri = (m ? m[3]! : (value.trim().split(/[;,\s]/)[0] ?? '')).trim();
  if (!/^(sips?|tel):[^\s]+$/i.test(uri)) return null;
  const displayName = m ? (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '').trim()) : '';
  return { uri: uri.replace(/[;?].*$/, ''), displayName };
}

/** Options of an outgoing CPM INVITE. */
export interface CpmInviteOptions {
  target: string;
  conversationId: string;
  contributionId: string;
  /** More headers (e.g. `InReplyTo-Contribution-ID`), full lines. */
  extraHeaders?: string[];
  peerConnection: MsrpPeerConnectionOptions;
}

/** What the chat layer uses of a CPM INVITE session (implemented by {@link CpmInviteSession}; tests fake it). */
export interface CpmInviteDialog {
  /** `outgoing` when we sent the INVITE. */
  readonly direction: 'outgoing' | 'incoming';
  /** Who the peer is. */
  readonly peer: PeerIdentity;
  /** True once the dialog is confirmed and not yet ended. */
  readonly established: boolean;
  /** Call-ID, tags (ours first) and the peer's remote target, once the dialog exists. */
  readonly dialog: { callId: string; localTag: string; remoteTag: string; remoteTarget: string } | null;
  /** A header of the initial INVITE (incoming sessions), or undefined. */
  inviteHeader(name: string): string | undefined;
  /** The SDP offer of an incoming INVITE, or undefined (outgoing sessions, or an INVITE without a body). */
  readonly offer: string | undefined;
  /** Accept an incoming session with an MSRP answer. */
  answer(peerConnection: MsrpPeerConnectionOptions, extraHeaders?: string[]): void;
  /** Refuse an incoming session, or cancel an outgoing one. */
  reject(statusCode?: number, reasonPhrase?: string): void;
  /** BYE (or CANCEL while pending). */
  terminate(reason?: string): void;
  /** Ask the peer whether the dialog still lives (in-dialog OPTIONS); false on no answer, 408 or 481. */
  probe(): Promise<boolean>;
  on<E extends keyof CpmInviteSessionEvents>(event: E, listener: CpmInviteSessionEvents[E]): this;
}

/** One CPM INVITE session. */
export class CpmInviteSession extends EventEmitter implements CpmInviteDialog {
  private terminatedWith: CpmInviteTermination | null = null;

  private constructor(
    private readonly rtc: RTCSession,
    /** `outgoing` when we sent the INVITE. */
    readonly direction: 'outgoing' | 'incoming',
    private readonly invite: JsSipIncomingRequest | null,
  ) {
    super();
    rtc.on('progress', (e: unknown) => {
      const status = (e as { response?: { status_code?: number } }).response?.status_code ?? 180;
      this.emit('progress', status);
    });
    rtc.on('confirmed', () => this.emit('established'));
    rtc.on('failed', (e) => this.finish('failed', e));
    rtc.on('ended', (e) => this.finish('ended', e));
  }

  /** Send a CPM INVITE (PROFILE.md "A CPM session"). Throws a TypeError for a bad target. */
  static start(ua: UA, options: CpmInviteOptions): CpmInviteSession {
    const pcConfig: CpmPcConfig & { iceServers: [] } = { iceServers: [], cpmMsrp: options.peerConnection };
    let rtc: RTCSession;
    try {
      rtc = ua.call(options.target, {
        mediaConstraints: NO_MEDIA,
        pcConfig: pcConfig as unknown as CallPcConfig,
        extraHeaders: [
          `Accept-Contact: ${CPM_ACCEPT_CONTACT}`,
          `${CpmHeader.ConversationId}: ${options.conversationId}`,
          `${CpmHeader.ContributionId}: ${options.contributionId}`,
          ...(options.extraHeaders ?? []),
        ],
      });
    } catch (error) {
      throw new TypeError(`CPM INVITE to ${JSON.stringify(options.target)}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return new CpmInviteSession(rtc, 'outgoing', null);
  }

  /** Wrap a session JsSIP announced in `newRTCSession` with `originator: 'remote'`. */
  static fromIncoming(session: unknown, request: unknown): CpmInviteSession {
    return new CpmInviteSession(session as RTCSession, 'incoming', request as JsSipIncomingRequest);
  }

  /** JsSIP's session id (Call-ID + tag), stable for the session's life. */
  get id(): string {
    return this.rtc.id;
  }

  /** A header of the initial INVITE (incoming sessions), or undefined. */
  inviteHeader(name: string): string | undefined {
    const value = this.invite?.getHeader(name);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  }

  /** The SDP offer of an incoming INVITE, or undefined. */
  get offer(): string | undefined {
    const body = this.invite?.body;
    return typeof body === 'string' && body !== '' ? body : undefined;
  }

  /** Who the peer is: its P-Asserted-Identity when the core added one (incoming), else the From/To identity. */
  get peer(): PeerIdentity {
    const remote = this.rtc.remote_identity;
    const fallback: PeerIdentity = { uri: remote.uri.toAor(), displayName: remote.display_name ?? '' };
    const asserted = this.inviteHeader('P-Asserted-Identity');
    const identity = asserted === undefined ? null : parseAssertedIdentity(asserted);
    return identity ? { uri: identity.uri, displayName: identity.displayName || fallback.displayName } : fallback;
  }

  /**
   * The dialog's identifiers as this side sees them (RFC 3261 §12: Call-ID, our tag, the peer's tag) and the
   * peer's remote target (its Contact URI), once the dialog exists; what a transfer's Target-Dialog is built
   * from (RFC 4538). Null before.
   */
  get dialog(): { callId: string; localTag: string; remoteTag: string; remoteTarget: string } | null {
    const dialog = (this.rtc as unknown as { _dialog?: (JsSipDialog & { _remote_target?: { toString(): string } }) | null })._dialog;
    if (!dialog) return null;
    const { call_id, local_tag, remote_tag } = dialog.id;
    return { callId: call_id, localTag: local_tag, remoteTag: remote_tag, remoteTarget: dialog._remote_target?.toString() ?? '' };
  }

  /** True once the dialog is confirmed and not yet ended. */
  get established(): boolean {
    return this.rtc.isEstablished();
  }

  /** The termination, once terminated. */
  get termination(): CpmInviteTermination | null {
    return this.terminatedWith;
  }

  /** Accept an incoming session: 200 OK with an MSRP answer. Throws when not an incoming session awaiting an answer. */
  answer(peerConnection: MsrpPeerConnectionOptions, extraHeaders: string[] = []): void {
    if (this.direction !== 'incoming') throw new TypeError('answer() on an outgoing session');
    const pcConfig: CpmPcConfig & { iceServers: [] } = { iceServers: [], cpmMsrp: peerConnection };
    this.rtc.answer({ mediaConstraints: NO_MEDIA, pcConfig: pcConfig as unknown as CallPcConfig, extraHeaders });
  }

  /** Refuse an incoming session (default 603 Decline) or cancel an outgoing one. No-op once terminated. */
  reject(statusCode = 603, reasonPhrase = 'Decline'): void {
    if (this.terminatedWith || this.rtc.isEnded()) return;
    if (this.direction === 'incoming') this.rtc.terminate({ status_code: statusCode, reason_phrase: reasonPhrase });
    else this.rtc.terminate();
  }

  /** End the session: BYE when established, CANCEL while an outgoing INVITE is pending. No-op once terminated. */
  terminate(reason?: string): void {
    if (this.terminatedWith || this.rtc.isEnded()) return;
    this.rtc.terminate(reason ? { extraHeaders: [`Reason: ${reason}`] } : {});
  }

  /**
   * An in-dialog OPTIONS (RFC 3261 §11, §12.2.1.1): any response but 408 or 481 means the peer still holds
   * the dialog (RFC 3261 §12.2.1.2); no answer within Timer F, 408 or 481 means it is gone. A failure of our
   * own connection proves nothing about the peer and counts as alive. False once the dialog has ended.
   */
  probe(): Promise<boolean> {
    if (this.terminatedWith || !this.rtc.isEstablished()) return Promise.resolve(false);
    const rtc = this.rtc as unknown as { sendRequest(method: string, options: { extraHeaders: string[]; eventHandlers: Record<string, () => void> }): unknown };
    return new Promise<boolean>((resolve) => {
      const alive = (): void => resolve(true);
      const gone = (): void => resolve(false);
      try {
        rtc.sendRequest('OPTIONS', {
          extraHeaders: ['Accept: application/sdp'],
          eventHandlers: { onSuccessResponse: alive, onErrorResponse: alive, onTransportError: alive, onRequestTimeout: gone, onDialogError: gone },
        });
      } catch {
        resolve(false);
      }
    });
  }

  override on<E extends keyof CpmInviteSessionEvents>(event: E, listener: CpmInviteSessionEvents[E]): this {
    return super.on(event, listener);
  }

  override once<E extends keyof CpmInviteSessionEvents>(event: E, listener: CpmInviteSessionEvents[E]): this {
    return super.once(event, listener);
  }

  override emit<E extends keyof CpmInviteSessionEvents>(event: E, ...args: Parameters<CpmInviteSessionEvents[E]>): boolean {
    return super.emit(event, ...args);
  }

  private finish(phase: 'failed' | 'ended', event: { originator: string; cause: string; message?: unknown }): void {
    if (this.terminatedWith) return;
    const message = event.message as { status_code?: number; reason_phrase?: string; getHeader?(name: string): string | undefined } | null | undefined;
    const statusCode = typeof message?.status_code === 'number' ? message.status_code : null;
    const reason = typeof message?.getHeader === 'function' ? (message.getHeader('Reason') ?? null) : null;
    const originator = event.originator === 'local' || event.originator === 'remote' ? event.originator : 'system';
    this.terminatedWith = {
      phase,
      originator,
      cause: String(event.cause ?? 'unknown'),
      statusCode,
      statusLine: statusCode !== null ? `${statusCode} ${message?.reason_phrase ?? ''}`.trim() : null,
      reason: reason === '' ? null : reason,
    };
    this.emit('terminated', this.terminatedWith);
  }
}
