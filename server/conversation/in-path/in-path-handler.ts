/**
 * The in-path Conversation Server (PROFILE.md flow 1): every CPM session becomes two legs of a B2BUA, side
 * `a` towards the sender of the INVITE (we are its UAS) and side `b` towards the callee (we are its UAC,
 * along the Route the core gave us: its `odi` entry), with an {@link MsrpRelay} between the two legs' MSRP
 * sessions. See `in-path-session.ts` for the session's states and README.md for how to use it.
 *
 * - Signalling (RFC 3261): provisional responses are relayed; the callee's 2xx is ACKed and answered on
 *   side a with our SDP; a failure is mapped to side a; CANCEL on side a cancels side b (§9.1); a 2xx from
 *   a second fork, or after a CANCEL, is ACKed and ended with BYE (§13.2.2.4); BYE on either leg ends the
 *   other; MESSAGE and INFO are relayed to the other leg; re-INVITE and UPDATE are answered locally with the
 *   leg's unchanged SDP (a session refresh); our Contact on each leg is `sip:cpm-cs-<leg id>@<domain>`, a
 *   public service identity the core routes to us from any domain.
 * - Media: our own `a=path` on each leg, `a=setup:passive` (devices connect to us); the relay keeps each
 *   chunk's Message-ID and body (CPIM with `imdn.Message-ID` is opaque to it).
 * - Robustness: an MSRP leg lost, no ACK (§13.3.1.4), a 408 or 481 to an in-dialog request (§12.2.1.2), or a
 *   refresher gone silent (RFC 4028 §10) ends the session on both legs; no state outlives a session. What the
 *   relay held and never delivered gets a failure REPORT to its sender (RFC 4975 §7.1.2, status 481).
 * - Transfers (PROFILE.md steps 10–13, 22–25): a Join INVITE to one of our leg URIs, naming that leg's
 *   dialog in Target-Dialog (RFC 4538), gets a new leg on the same side; the relay switches to it as soon as
 *   its MSRP connection is up, replaying what the old leg had not acknowledged, and the old leg is served
 *   until its BYE (or `releaseLeg`'s fallback). While a move is under way (`moveStarted` … `moveEnded`), the
 *   moved leg's MSRP going away does not end the session: the relay holds what the far side sends for the
 *   target (PROFILE.md: "A-D1 keeps the session and nothing is lost"; a crashed source loses nothing either),
 *   and the session ends only if the move fails. The transfer-specific code is in the "transfers" section.
 */
import { checkRequest, type RequestCheckOptions } from '../../sip/message/request-check';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { MsrpSession } from '../../../protocol/msrp/msrp-session';
import { parseTargetDialog } from '../../../protocol/sip/refer-headers';
import { aorOfHeader, displayNameOfHeader } from '../../core/domain-core';
import { Dialog, DialogState, dialogKey } from '../../sip/dialog/dialog';
import { newCallId, newTag } from '../../sip/dialog/identifiers';
import { UserAgent } from '../../sip/dialog/user-agent';
import { parseNameAddr } from '../../sip/message/name-addr';
import { createRequest, type SipRequest, type SipResponse } from '../../sip/message/sip-message';
import { parseUri } from '../../sip/message/sip-uri';
import { ProxyAddresses } from '../../sip/proxy/proxy-addresses';
import { targetFromUri } from '../../sip/proxy/next-hop';
import { processReceivedRoutes } from '../../sip/proxy/route-processing';
import type { Rejection } from '../../sip/proxy/request-validation';
import { cseqOf } from '../../sip/transaction/transaction-key';
import { InviteClientState } from '../../sip/transaction/invite-client-transaction';
import { NonInviteClientState } from '../../sip/transaction/non-invite-client-transaction';
import { InviteServerState, type InviteServerTransaction } from '../../sip/transaction/invite-server-transaction';
import { buildCancel } from '../../sip/transaction/request-builders';
import { buildResponse } from '../../sip/transaction/response-builder';
import type { ClientTransaction, ServerTransaction } from '../../sip/transaction/transaction-layer';
import type { ReceivedMessage, SendTarget } from '../../sip/transport/transport-types';
import { fromTagOrNone, toTagOrNone } from '../dialog-tags';
import { checkCpmInvite, serviceRoleOf, type CpmInviteInfo } from '../proxy-mode/service-control';
import type { CpmSessionHandler, CpmSessionInfo, SessionHandlerEnvironment, SessionParty } from '../session-handler';
import { InPathLeg, InPathSession, InPathSessionState, type InPathEndReason } from './in-path-session';
import { answerSetupFor, legSdp, peerConnectsToOurOffer, readPeerSdp } from './leg-sdp';
import { MsrpConnector } from './msrp-connector';
import { RelayHistory } from './relay-history';
import { MsrpRelay, MsrpRelayState, type MsrpReadControl, type RelaySide } from './msrp/msrp-relay';
import type { MsrpServerEndpoint } from './msrp/msrp-server-endpoint';
import {
  decideAsUas,
  DEFAULT_SESSION_TIMER_POLICY,
  formatSessionExpires,
  parseSessionExpires,
  SessionTimerState,
  type SessionTimerPolicy,
} from './session-timer';

/** The UAS checks on an INVITE we answer (RFC 3261 §8.2.1–8.2.3): the extensions and body we understand. */
const INVITE_UAS_CHECKS: RequestCheckOptions = {
  role: 'uas',
  supportedExtensions: ['timer', 'tdialog'],
  acceptedBodyTypes: ['application/sdp'],
};

/** The methods we accept in a dialog (our Allow). */
const ALLOW = 'INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, INFO, OPTIONS';
/** Headers of the caller's INVITE that the callee's INVITE carries too. */
const CARRIED_HEADERS = [
  'Accept-Contact',
  'Conversation-ID',
  'Contribution-ID',
  'InReplyTo-Contribution-ID',
  'P-Asserted-Identity',
  'Subject',
  'Priority',
  'Referred-By',
  'User-Agent',
] as const;
/** Our leg identities: `cpm-cs-` and 16 hex digits. */
const LEG_USER = /^cpm-cs-([0-9a-f]{16})$/;

/**
 * Decides on an initial INVITE (or a Join INVITE) that passed service control: undefined lets it through,
 * a rejection refuses it (the transfer controller refuses a late Join INVITE with 481, PROFILE.md).
 */
export type InPathInviteScreen = (invite: SipRequest, info: CpmInviteInfo | undefined) => Rejection | undefined;

/** Options of the in-path handler. */
export interface InPathOptions {
  /** The MSRP listener our legs' `a=path` point at (listening). */
  msrp: MsrpServerEndpoint;
  /** Close `msrp` when the handler closes (default true). */
  ownsEndpoint?: boolean;
  /** RFC 4028 policy of our legs. */
  sessionTimers?: Partial<SessionTimerPolicy>;
  /** How long the callee may ring before we CANCEL (Timer C's role, RFC 3261 §16.6 item 11). Default 180 s. */
  noAnswerMs?: number;
  /** How long a device has to bind its MSRP leg once the session is answered. Default 30 s. */
  msrpBindMs?: number;
  /** After a transfer's switch, when the old leg is ended if nobody called `releaseLeg` (PROFILE.md: 32 s). */
  releaseFallbackMs?: number;
  /** `releaseLeg`'s delay before we end the old leg ourselves (PROFILE.md: 5 s). */
  releaseMs?: number;
}

/** Events of the handler. */
export type InPathHandlerEvents = {
  /** A session was answered on both legs. */
  sessionStarted: [session: InPathSession];
  /** A session ended; `infos` are its current legs' dialogs, as `findByDialog` gave them. */
  sessionEnded: [session: InPathSession, reason: InPathEndReason, infos: CpmSessionInfo[]];
  /** A leg's dialog ended (BYE either way, failure, transfer release): `byPeer` when its device sent BYE. */
  legEnded: [info: CpmSessionInfo, byPeer: boolean];
  /** A Join INVITE replaced a leg: what the relay switched from and to (PROFILE.md steps 10–13). */
  legReplaced: [session: InPathSession, previous: CpmSessionInfo, next: CpmSessionInfo, replayed: string[]];
};

/** The in-path B2BUA + MSRP relay of one Conversation Server. */
export class InPathHandler extends EventEmitter<InPathHandlerEvents> implements CpmSessionHandler {
  readonly mode = 'in-path' as const;
  private readonly sessions = new Map<string, InPathSession>();
  /** Every leg with a dialog (current and retired), by dialog key as we see it. */
  private readonly legsByDialog = new Map<string, InPathLeg>();
  /** Every leg by its id (the user part of our Contact). */
  private readonly legsById = new Map<string, InPathLeg>();
  /** Sessions whose side-a INVITE is not answered yet, by its server transaction (for CANCEL). */
  private readonly unanswered = new Map<InviteServerTransaction, InPathSession>();
  private readonly screens: InPathInviteScreen[] = [];
  private readonly ua: UserAgent;
  private readonly addresses: ProxyAddresses;
  private readonly connector = new MsrpConnector();
  private readonly readControl: MsrpReadControl;
  private readonly policy: SessionTimerPolicy;
  private readonly t1: number;
  private closed = false;

  constructor(
    private readonly env: SessionHandlerEnvironment,
    private readonly options: InPathOptions,
  ) {
    super();
    this.ua = new UserAgent(env.layer);
    this.addresses = new ProxyAddresses(env.transport);
    this.policy = { ...DEFAULT_SESSION_TIMER_POLICY, ...options.sessionTimers };
    this.t1 = env.timers?.t1 ?? 500;
    const endpoint = options.msrp;
    this.readControl = {
      pauseReading: (session, token) => endpoint.pauseReading(session, token) || this.connector.pauseReading(session, token),
      resumeReading: (session, token) => {
        endpoint.resumeReading(session, token);
        this.connector.resumeReading(session, token);
      },
    };
  }

  /** Where our MSRP listener is (every leg's `a=path` points there). */
  get msrpAddress(): { host: string; port: number } | undefined {
    return this.options.msrp.listenAddress;
  }

  /** MSRP connections now: accepted on our listener (devices, servers that connect to us) and opened by us. */
  msrpConnections(): { accepted: number; opened: number } {
    return { accepted: this.options.msrp.connectionCount, opened: this.connector.connectionCount };
  }

  /** Sessions alive (not yet Terminated). */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** The live sessions. */
  liveSessions(): InPathSession[] {
    return [...this.sessions.values()];
  }

  /** Sizes of every table (tests check they empty once sessions end). */
  tableSizes(): { sessions: number; legsByDialog: number; legsById: number; unanswered: number; msrpConnections: number } {
    return {
      sessions: this.sessions.size,
      legsByDialog: this.legsByDialog.size,
      legsById: this.legsById.size,
      unanswered: this.unanswered.size,
      msrpConnections: this.connector.connectionCount,
    };
  }

  /** Add a screen consulted, in order, for each initial INVITE that passed service control and each Join INVITE. */
  screenInvites(screen: InPathInviteScreen): void {
    this.screens.push(screen);
  }

  /**
   * The session of a dialog (Call-ID and both tags, either order), as a Target-Dialog names it: a dialog of
   * one of our legs, described through that leg (the device on one side, our leg on the other).
   */
  findByDialog(callId: string, tagA: string, tagB: string): CpmSessionInfo | undefined {
    const leg = this.legOfDialog(callId, tagA, tagB);
    if (!leg || leg.retired || leg.session.ending) return undefined;
    return leg.session.infoOf(leg);
  }

  /** T's remote target as the source knows it (J, PROFILE.md): our leg's URI on the dialog `session` names. */
  legTargetFor(session: CpmSessionInfo, party: SessionParty): string | undefined {
    const leg = this.legsByDialog.get(dialogKey({ callId: session.callId, localTag: otherTag(session, party.tag), remoteTag: party.tag }));
    return leg?.contact;
  }

  /**
   * Ours: every initial INVITE (a new session, or a Join to one of our leg URIs), and every request inside
   * one of our legs' dialogs or addressed to a leg URI of ours (a stale one gets 481), and CANCEL.
   */
  wants(request: SipRequest): boolean {
    if (request.method === 'INVITE' && toTagOrNone(request) === undefined) return true;
    if (request.method === 'CANCEL') return true;
    const key = receivedDialogKey(request);
    if (key !== undefined && this.legsByDialog.has(key)) return true;
    return legIdOfUri(request.uri) !== undefined;
  }

  handleRequest(transaction: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message;
    if (request.type !== 'request') return;
    try {
      if (this.closed) return reply(transaction, 503, 'Service Unavailable: shutting down');
      if (request.method === 'CANCEL') return this.onCancel(transaction, request);
      if (request.method === 'INVITE' && toTagOrNone(request) === undefined) {
        if (transaction.kind !== 'invite-server') return;
        // RFC 3261 §8.2: as the UAS of this leg, the checks every UAS makes come before service control.
        const rejection = checkRequest(request, INVITE_UAS_CHECKS);
        if (rejection) return reply(transaction, rejection.status, rejection.reason, rejection.headers);
        const legId = legIdOfUri(request.uri);
        if (legId !== undefined) return this.onJoinInvite(transaction, legId);
        return this.onInitialInvite(transaction, received);
      }
      this.onInDialog(transaction, request);
    } catch (error) {
      this.env.log(`in-path: ${request.method} failed: ${error instanceof Error ? error.message : String(error)}`);
      reply(transaction, 500, 'Server Internal Error');
    }
  }

  handleAck(received: ReceivedMessage, _transaction?: InviteServerTransaction): void {
    const request = received.message;
    if (request.type !== 'request') return;
    const key = receivedDialogKey(request);
    const leg = key === undefined ? undefined : this.legsByDialog.get(key);
    if (!leg) return;
    const session = leg.session;
    if (session.state === InPathSessionState.Answered && leg.side === 'a' && !leg.retired) {
      session.transition(InPathSessionState.Established);
      this.emit('sessionStarted', session);
    }
  }

  handleResponse(received: ReceivedMessage): void {
    // A 2xx retransmission after our INVITE transaction ended (RFC 6026 §8.4): ACK it again if it is one of
    // our dialogs; anything else has nobody to go to.
    const response = received.message;
    if (response.type !== 'response' || response.status < 200 || response.status >= 300) return;
    const key = dialogKeyOfResponse(response);
    const leg = key === undefined ? undefined : this.legsByDialog.get(key);
    if (!leg?.dialog || leg.role !== 'uac') return;
    void this.sendAck(leg, cseqOf(response).seq);
  }

  /** End every session (BYE on each leg, best effort), then close MSRP. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions.values()]) this.endSession(session, 'shutdown', undefined);
    for (const session of [...this.sessions.values()]) this.finish(session);
    this.connector.close();
    if (this.options.ownsEndpoint ?? true) void this.options.msrp.close();
  }

  // ---- side a: a new session -------------------------------------------------------------------------------

  private onInitialInvite(tx: InviteServerTransaction, received: ReceivedMessage): void {
    const invite = tx.request;
    const role = serviceRoleOf(invite, (uri) => this.addresses.isOwnUri(uri));
    const forwarded: SipRequest = { ...invite, headers: invite.headers.clone() };
    try {
      processReceivedRoutes(forwarded, this.addresses);
    } catch {
      return reply(tx, 400, 'Bad Request: malformed Route');
    }
    const checked = checkCpmInvite(forwarded, role, this.env.domain);
    if (!checked.ok) return reply(tx, checked.rejection.status, checked.rejection.reason);
    for (const screen of this.screens) {
      const refusal = screen(invite, checked.info);
      if (refusal) return reply(tx, refusal.status, refusal.reason);
    }
    const maxForwards = Number(invite.headers.get('Max-Forwards') ?? '70');
    if (!Number.isInteger(maxForwards) || maxForwards <= 0) return reply(tx, 483, 'Too Many Hops');
    const offer = readPeerSdp(invite);
    if (!offer.ok) return reply(tx, 488, `Not Acceptable Here: ${offer.reason}`);
    const timer = decideAsUas(invite.headers.get('Session-Expires'), invite.headers.values('Supported'), this.policy);
    if (timer.kind === 'too-small') return reply(tx, 422, 'Session Interval Too Small', [{ name: 'Min-SE', value: String(timer.minSe) }]);
    const outbound = this.outboundOf(forwarded, received);
    if (!outbound) return reply(tx, 403, 'Forbidden: no route back to the core');

    const session = new InPathSession({ id: randomBytes(8).toString('hex'), ...checked.info, outbound });
    const legA = this.newLeg(session, 'a', 'uas');
    const legB = this.newLeg(session, 'b', 'uac');
    legA.remotePath = offer.sdp.path;
    legA.sdp = legSdp(legA.msrpUri, answerSetupFor(offer.sdp));
    legA.party.aor = aorOfHeader(invite.headers.get('From')) ?? '';
    legA.party.tag = fromTagOrNone(invite) ?? '';
    legA.party.target = contactOf(invite.headers.get('Contact')) ?? '';
    legA.party.displayName = displayNameOfHeader(invite.headers.get('From'));
    legA.ourAor = aorOfHeader(invite.headers.get('To')) ?? '';
    legA.ourDisplayName = displayNameOfHeader(invite.headers.get('To'));
    legA.peerAllowsUpdate = allows(invite, 'UPDATE');
    legB.ourAor = legA.party.aor;
    legB.ourDisplayName = legA.party.displayName;
    legB.party.aor = legA.ourAor;
    legB.party.displayName = legA.ourDisplayName;
    legB.sdp = legSdp(legB.msrpUri, 'passive');
    session.callerInvite = invite;
    session.callerTransaction = tx;
    this.sessions.set(session.id, session);
    this.unanswered.set(tx, session);
    tx.on('stateChange', () => {
      if (tx.state === InviteServerState.Terminated) this.unanswered.delete(tx);
    });
    // The callee connects to our offer as soon as it answers, possibly before its 2xx reaches us.
    const noAnswerMs = this.options.noAnswerMs ?? 180_000;
    legB.msrp = this.options.msrp.expectLeg({ localUri: legB.msrpUri, waitMs: noAnswerMs + this.bindMs() }).session;

    const out = this.calleeInvite(forwarded, legB, maxForwards - 1);
    session.calleeInvite = out;
    const noAnswer = session.after(noAnswerMs, () => this.cancelCallee(session, 'no answer'));
    session.once('stateChange', () => session.cancelTimer(noAnswer));
    try {
      const target = UserAgent.targetOf(out);
      this.ua.stampVia(out, target.protocol);
      const ctx = this.env.layer.sendRequest(out, target);
      session.calleeTransaction = ctx;
      ctx.on('response', (response: SipResponse) => this.onCalleeResponse(session, response));
      ctx.on('stateChange', () => {
        // Once the transaction is over (Timer M, RFC 6026), 2xx retransmissions reach `handleResponse`:
        // the INVITE is not needed any more.
        if (ctx.state !== InviteClientState.Terminated && ctx.state !== NonInviteClientState.Terminated) return;
        session.calleeInvite = undefined;
        session.calleeTransaction = undefined;
      });
      ctx.on('timeout', () => this.onCalleeFailure(session, 408, 'Request Timeout'));
      ctx.on('transportError', () => this.onCalleeFailure(session, 503, 'Service Unavailable'));
    } catch (error) {
      this.env.log(`in-path: cannot forward INVITE: ${error instanceof Error ? error.message : String(error)}`);
      this.onCalleeFailure(session, 500, 'Server Internal Error');
    }
  }

  /** Side b's INVITE: the caller's Request-URI and Route (past us), our tags, Call-ID, Contact and SDP. */
  private calleeInvite(forwarded: SipRequest, leg: InPathLeg, maxForwards: number): SipRequest {
    const tag = newTag();
    const out = createRequest('INVITE', forwarded.uri);
    out.headers.append('Max-Forwards', String(maxForwards));
    for (const route of forwarded.headers.values('Route')) out.headers.append('Route', route);
    out.headers.append('From', `${withoutTag(forwarded.headers.get('From') ?? '')};tag=${tag}`);
    out.headers.append('To', forwarded.headers.get('To') ?? '');
    out.headers.append('Call-ID', newCallId(this.env.domain));
    out.headers.append('CSeq', '1 INVITE');
    out.headers.append('Contact', `<${leg.contact}>`);
    for (const name of CARRIED_HEADERS) for (const value of forwarded.headers.getAll(name)) out.headers.append(name, value);
    out.headers.append('Allow', ALLOW);
    out.headers.append('Supported', 'timer');
    out.headers.append('Session-Expires', String(this.policy.interval));
    out.headers.append('Min-SE', String(this.policy.minSe));
    out.headers.append('Content-Type', 'application/sdp');
    out.body = new TextEncoder().encode(leg.sdp);
    return out;
  }

  private onCalleeResponse(session: InPathSession, response: SipResponse): void {
    try {
      if (response.status < 200) return this.onCalleeProvisional(session, response);
      if (response.status < 300) return this.onCalleeAccepted(session, response);
      this.onCalleeFailure(session, response.status, response.reason);
    } catch (error) {
      this.env.log(`in-path: response ${response.status} failed: ${error instanceof Error ? error.message : String(error)}`);
      this.endSession(session, 'bad-answer', undefined);
    }
  }

  private onCalleeProvisional(session: InPathSession, response: SipResponse): void {
    if (session.cancelRequested && !session.cancelSent) this.sendCancel(session);
    const tx = session.callerTransaction;
    const legA = session.legs.a;
    if (response.status === 100 || session.state !== InPathSessionState.Calling || !tx || !legA) return;
    // Relayed without SDP: no early media in CPM sessions (RFC 3261 §13.3.1.1, the status and reason kept).
    tx.respond(
      buildResponse(tx.request, response.status, {
        reason: response.reason,
        toTag: this.localTagOf(legA),
        headers: [{ name: 'Contact', value: `<${legA.contact}>` }, { name: 'Allow', value: ALLOW }],
      }),
    );
  }

  private onCalleeAccepted(session: InPathSession, response: SipResponse): void {
    const legB = session.legs.b;
    const invite = session.calleeInvite;
    if (!legB || !invite) return;
    const remoteTag = toTagOrNone(response);
    if (legB.dialog) {
      // The same 2xx again: our ACK was lost (RFC 3261 §13.2.2.4). Another fork's 2xx: ACK and BYE it.
      if (legB.dialog.id.remoteTag === remoteTag) void this.sendAck(legB, 1);
      else this.refuseExtraDialog(invite, response, legB.contact, session.outbound);
      return;
    }
    if (session.state !== InPathSessionState.Calling || session.cancelRequested) {
      this.refuseExtraDialog(invite, response, legB.contact, session.outbound);
      return;
    }
    const dialog = Dialog.fromUac(invite, response, `<${legB.contact}>`);
    this.attachDialog(legB, dialog);
    legB.party.tag = dialog.id.remoteTag;
    legB.party.target = dialog.remoteTarget;
    legB.peerAllowsUpdate = allows(response, 'UPDATE');
    void this.sendAck(legB, 1);
    const answer = readPeerSdp(response);
    if (!answer.ok || !peerConnectsToOurOffer(answer.sdp)) {
      const reason = answer.ok ? 'both ends passive' : answer.reason;
      this.env.log(`in-path: the callee's answer is unusable (${reason}); ending the session`);
      this.rejectCaller(session, 488, `Not Acceptable Here: callee SDP: ${reason}`);
      this.endSession(session, 'bad-answer', undefined);
      return;
    }
    legB.remotePath = answer.sdp.path;
    const se = parseSessionExpires(response.headers.get('Session-Expires'));
    if (se) legB.timer.refreshed(se.deltaSeconds, se.refresher === 'uac');
    this.answerCaller(session);
  }

  /** 200 on side a with our SDP, the relay between the legs, and the wait for the ACK (§13.3.1.4). */
  private answerCaller(session: InPathSession): void {
    const tx = session.callerTransaction;
    const invite = session.callerInvite;
    const legA = session.legs.a;
    const legB = session.legs.b;
    if (!tx || !invite || !legA || !legB?.msrp) return;
    const localTag = this.localTagOf(legA);
    const headers = [
      { name: 'Contact', value: `<${legA.contact}>` },
      { name: 'Allow', value: ALLOW },
      { name: 'Supported', value: 'timer' },
      { name: 'Content-Type', value: 'application/sdp' },
    ];
    const timer = decideAsUas(invite.headers.get('Session-Expires'), invite.headers.values('Supported'), this.policy);
    if (timer.kind === 'timer') {
      headers.push({ name: 'Session-Expires', value: formatSessionExpires({ deltaSeconds: timer.deltaSeconds, refresher: timer.refresher }) });
      if (timer.refresher === 'uac') headers.push({ name: 'Require', value: 'timer' });
    }
    legA.msrp = this.openMedia(session, legA);
    session.history = this.newHistory(session);
    session.history?.watch(legA.msrp, 'a');
    session.history?.watch(legB.msrp, 'b');
    session.relay = this.newRelay(session, legA.msrp, legB.msrp);
    const dialog = Dialog.fromUas(invite, localTag, `<${legA.contact}>`);
    this.attachDialog(legA, dialog);
    session.transition(InPathSessionState.Answered);
    this.unanswered.delete(tx);
    tx.respond(buildResponse(invite, 200, { toTag: localTag, headers, body: legA.sdp }));
    session.callerTransaction = undefined;
    session.callerInvite = undefined;
    if (timer.kind === 'timer') legA.timer.refreshed(timer.deltaSeconds, timer.refresher === 'uas');
    session.after(64 * this.t1, () => {
      if (session.state === InPathSessionState.Answered) this.endSession(session, 'no-ack', undefined);
    });
  }

  private onCalleeFailure(session: InPathSession, status: number, reason: string): void {
    if (session.state !== InPathSessionState.Calling) return;
    // A redirect is not ours to follow for the caller (we are its UAS): the callee is unavailable.
    const mapped = status >= 300 && status < 400 ? { status: 480, reason: 'Temporarily Unavailable' } : { status, reason };
    this.rejectCaller(session, session.cancelRequested ? 487 : mapped.status, session.cancelRequested ? 'Request Terminated' : mapped.reason);
    this.endSession(session, session.cancelRequested ? 'cancelled' : 'rejected', undefined);
  }

  private rejectCaller(session: InPathSession, status: number, reason: string): void {
    const tx = session.callerTransaction;
    if (!tx || !session.legs.a) return;
    session.callerTransaction = undefined;
    this.unanswered.delete(tx);
    tx.respond(buildResponse(tx.request, status, { reason, toTag: this.localTagOf(session.legs.a) }));
  }

  // ---- CANCEL -----------------------------------------------------------------------------------------------

  private onCancel(tx: ServerTransaction, cancel: SipRequest): void {
    let invite: InviteServerTransaction | undefined;
    try {
      invite = this.env.layer.findInviteServerTransaction(cancel);
    } catch {
      return reply(tx, 400, 'Bad Request: malformed Via or CSeq');
    }
    const session = invite ? this.unanswered.get(invite) : undefined;
    if (!session) return reply(tx, 481, 'Call/Transaction Does Not Exist');
    reply(tx, 200);
    this.cancelCallee(session, 'cancelled by the caller');
  }

  /** Cancel side b (RFC 3261 §9.1: once a provisional arrived), answer side a 487, end the session. */
  private cancelCallee(session: InPathSession, why: string): void {
    if (session.state !== InPathSessionState.Calling || session.cancelRequested) return;
    session.cancelRequested = true;
    this.env.log(`in-path: session ${session.id}: ${why}`);
    const ctx = session.calleeTransaction;
    if (ctx?.state === InviteClientState.Proceeding) this.sendCancel(session);
    this.rejectCaller(session, why === 'no answer' ? 480 : 487, why === 'no answer' ? 'Temporarily Unavailable: no answer' : 'Request Terminated');
    this.endSession(session, 'cancelled', undefined);
  }

  private sendCancel(session: InPathSession): void {
    const invite = session.calleeInvite;
    const ctx = session.calleeTransaction;
    if (!invite || !ctx || session.cancelSent) return;
    session.cancelSent = true;
    try {
      const cancel = buildCancel(invite);
      const t = this.env.layer.sendRequest(cancel, ctx.target);
      t.on('timeout', () => undefined);
      t.on('transportError', () => undefined);
    } catch (error) {
      this.env.log(`in-path: CANCEL failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---- in-dialog requests -----------------------------------------------------------------------------------

  private onInDialog(tx: ServerTransaction, request: SipRequest): void {
    const key = receivedDialogKey(request);
    const leg = key === undefined ? undefined : this.legsByDialog.get(key);
    const dialog = leg?.dialog;
    if (!leg || !dialog) return reply(tx, 481, 'Call/Transaction Does Not Exist');
    const refusal = dialog.receiveRequest(request);
    if (refusal) return reply(tx, refusal.status, refusal.reason);
    const session = leg.session;
    if (request.headers.has('Contact')) leg.party.target = dialog.remoteTarget;
    switch (request.method) {
      case 'BYE':
        reply(tx, 200);
        if (leg.retired) return this.endRetiredLeg(leg, true);
        return this.endSession(session, 'bye', leg);
      case 'INVITE':
      case 'UPDATE':
        return this.onRefresh(tx, request, leg);
      case 'MESSAGE':
      case 'INFO':
        return this.relayInDialog(tx, request, leg);
      case 'OPTIONS':
        return reply(tx, 200, undefined, [{ name: 'Allow', value: ALLOW }]);
      default:
        return reply(tx, 405, 'Method Not Allowed', [{ name: 'Allow', value: ALLOW }]);
    }
  }

  /** A re-INVITE or UPDATE: a session refresh (RFC 4028 §9), answered with the leg's unchanged SDP. */
  private onRefresh(tx: ServerTransaction, request: SipRequest, leg: InPathLeg): void {
    if (leg.session.ending) return reply(tx, 481, 'Call/Transaction Does Not Exist');
    const decision = decideAsUas(request.headers.get('Session-Expires'), request.headers.values('Supported'), this.policy);
    if (decision.kind === 'too-small') return reply(tx, 422, 'Session Interval Too Small', [{ name: 'Min-SE', value: String(decision.minSe) }]);
    const headers = [
      { name: 'Contact', value: `<${leg.contact}>` },
      { name: 'Allow', value: ALLOW },
      { name: 'Supported', value: 'timer' },
    ];
    if (decision.kind === 'timer') {
      headers.push({ name: 'Session-Expires', value: formatSessionExpires({ deltaSeconds: decision.deltaSeconds, refresher: decision.refresher }) });
      if (decision.refresher === 'uac') headers.push({ name: 'Require', value: 'timer' });
      leg.timer.refreshed(decision.deltaSeconds, decision.refresher === 'uas');
    } else if (leg.timer.state === SessionTimerState.Watching) {
      leg.timer.refreshed(leg.timer.interval, false); // a refresh without the header still shows the peer alive
    }
    // An offer gets our unchanged answer; an UPDATE without SDP gets none (RFC 3311 §5.2).
    const withSdp = request.method === 'INVITE' || request.body.length > 0;
    if (withSdp) headers.push({ name: 'Content-Type', value: 'application/sdp' });
    tx.respond(buildResponse(request, 200, { headers, ...(withSdp ? { body: leg.sdp } : {}) }));
  }

  /** MESSAGE / INFO inside a session: sent on the other leg, its final answer mapped back. */
  private relayInDialog(tx: ServerTransaction, request: SipRequest, from: InPathLeg): void {
    const session = from.session;
    const to = session.legs[from.side === 'a' ? 'b' : 'a'];
    if (session.ending || !to?.dialog || to.dialog.state !== DialogState.Confirmed) return reply(tx, 481, 'Call/Transaction Does Not Exist');
    const type = request.headers.get('Content-Type');
    const out = to.dialog.createRequest(request.method, type ? { type, content: request.body } : undefined);
    this.sendInDialog(to, out, (response) => {
      reply(tx, response.status, response.reason);
    });
  }

  // ---- session timers (RFC 4028 §10) --------------------------------------------------------------------------

  /** We are the refresher on `leg`: UPDATE when the peer allows it, else a re-INVITE with the same SDP. */
  private refresh(leg: InPathLeg): void {
    const dialog = leg.dialog;
    if (!dialog || dialog.state !== DialogState.Confirmed || leg.session.ending || leg.msrpLost) return;
    const method = leg.peerAllowsUpdate ? 'UPDATE' : 'INVITE';
    const request = dialog.createRequest(method, method === 'INVITE' ? { type: 'application/sdp', content: leg.sdp } : undefined);
    request.headers.append('Supported', 'timer');
    request.headers.append('Session-Expires', formatSessionExpires({ deltaSeconds: leg.timer.interval, refresher: 'uac' }));
    request.headers.append('Min-SE', String(this.policy.minSe));
    const seq = dialog.localSeq;
    this.sendInDialog(leg, request, (response) => {
      if (response.status >= 200 && response.status < 300) {
        if (method === 'INVITE') void this.sendAck(leg, seq);
        const se = parseSessionExpires(response.headers.get('Session-Expires'));
        leg.timer.refreshed(se?.deltaSeconds ?? leg.timer.interval, (se?.refresher ?? 'uac') === 'uac');
      } else if (response.status !== 408 && response.status !== 481) {
        leg.timer.refreshed(leg.timer.interval, true); // refused (e.g. 491): try again at the next half interval
      }
    });
  }

  // ---- ending -------------------------------------------------------------------------------------------------

  /**
   * End a session: BYE on every leg with a confirmed dialog except `byeFrom` (it sent BYE), close the relay,
   * then Terminated once the BYEs are answered.
   */
  private endSession(session: InPathSession, reason: InPathEndReason, byeFrom: InPathLeg | undefined): void {
    if (session.ending) {
      if (byeFrom) this.forgetLeg(byeFrom, true);
      return;
    }
    if (session.state === InPathSessionState.Calling) {
      this.rejectCaller(session, 500, 'Server Internal Error');
      if (session.calleeTransaction?.state === InviteClientState.Proceeding && !session.cancelSent) this.sendCancel(session);
      session.cancelRequested = true;
    }
    const infos = (['a', 'b'] as const).map((side) => session.legs[side]).flatMap((leg) => (leg ? [session.infoOf(leg)] : [])).filter(isDefined);
    session.transition(InPathSessionState.Terminating, reason);
    session.relay?.close();
    for (const leg of [session.legs.a, session.legs.b, ...session.retired, ...session.joining]) {
      if (!leg) continue;
      leg.msrp?.close();
      leg.timer.stop();
      if (leg === byeFrom) this.forgetLeg(leg, true);
      else if (leg.dialog?.state === DialogState.Confirmed) this.sendBye(leg);
      else this.forgetLeg(leg, false);
    }
    this.emit('sessionEnded', session, reason, infos);
    if (session.pendingByes === 0) this.finish(session);
  }

  private sendBye(leg: InPathLeg): void {
    const session = leg.session;
    const dialog = leg.dialog;
    if (!dialog) return;
    session.pendingByes++;
    let done = false;
    const settle = (): void => {
      if (done) return;
      done = true;
      this.forgetLeg(leg, false);
      session.pendingByes--;
      if (session.pendingByes === 0 && session.state === InPathSessionState.Terminating) this.finish(session);
    };
    try {
      this.sendInDialog(leg, dialog.createRequest('BYE'), settle, false);
    } catch {
      settle();
    }
  }

  /** Terminated: out of every table. */
  private finish(session: InPathSession): void {
    if (session.state !== InPathSessionState.Terminating) {
      if (session.state === InPathSessionState.Terminated) return;
      session.transition(InPathSessionState.Terminating);
    }
    for (const leg of [session.legs.a, session.legs.b, ...session.retired, ...session.joining]) if (leg) this.forgetLeg(leg, false);
    session.transition(InPathSessionState.Terminated);
    this.sessions.delete(session.id);
    if (session.callerTransaction) this.unanswered.delete(session.callerTransaction);
  }

  /** A leg's dialog is over: out of the tables, its timer and MSRP stopped, `legEnded` told once. */
  private forgetLeg(leg: InPathLeg, byPeer: boolean): void {
    leg.timer.stop();
    const dialog = leg.dialog;
    const known = this.legsById.get(leg.id) === leg;
    this.legsById.delete(leg.id);
    if (dialog) {
      const info = leg.session.infoOf(leg);
      if (this.legsByDialog.get(dialogKey(dialog.id)) === leg) this.legsByDialog.delete(dialogKey(dialog.id));
      dialog.terminate();
      if (known && info) this.emit('legEnded', info, byPeer);
    }
  }

  // ---- sending ------------------------------------------------------------------------------------------------

  /**
   * Send an in-dialog request on `leg` and give its final response to `onFinal`; a 408 or 481 (or no answer)
   * ends the session (RFC 3261 §12.2.1.2) unless `endOnLoss` is false.
   */
  private sendInDialog(leg: InPathLeg, request: SipRequest, onFinal: (response: SipResponse) => void, endOnLoss = true): void {
    const target = leg.dialog && leg.dialog.routeSet.length > 0 ? UserAgent.targetOf(request) : this.targetOfRequestUri(request, leg.session.outbound);
    void this.ua.sendRequest(request, { target }).then(
      (response) => {
        onFinal(response);
        if (endOnLoss && (response.status === 408 || response.status === 481)) this.endSession(leg.session, 'peer-gone', undefined);
      },
      (error: unknown) => {
        this.env.log(`in-path: ${request.method} not sent: ${error instanceof Error ? error.message : String(error)}`);
        onFinal(buildResponse(request, 503));
        if (endOnLoss) this.endSession(leg.session, 'peer-gone', undefined);
      },
    );
  }

  private async sendAck(leg: InPathLeg, seq: number): Promise<void> {
    const dialog = leg.dialog;
    if (!dialog || dialog.state === DialogState.Terminated) return;
    const ack = dialog.createAck(seq);
    const target = dialog.routeSet.length > 0 ? UserAgent.targetOf(ack) : this.targetOfRequestUri(ack, leg.session.outbound);
    await this.ua.sendAck(ack, target);
  }

  /** ACK and BYE a dialog we do not want (a second fork's 2xx, or a 2xx after CANCEL; RFC 3261 §13.2.2.4). */
  private refuseExtraDialog(invite: SipRequest, response: SipResponse, contact: string, outbound: SendTarget): void {
    try {
      const dialog = Dialog.fromUac(invite, response, `<${contact}>`);
      const route = (request: SipRequest): SendTarget => (dialog.routeSet.length > 0 ? UserAgent.targetOf(request) : this.targetOfRequestUri(request, outbound));
      const ack = dialog.createAck(cseqOf(response).seq);
      void this.ua.sendAck(ack, route(ack));
      const bye = dialog.createRequest('BYE');
      void this.ua.sendRequest(bye, { target: route(bye) }).catch(() => undefined);
      dialog.terminate();
    } catch (error) {
      this.env.log(`in-path: cannot end an unwanted dialog: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A dialog without route set: a URI the core must resolve (a GRUU, our `cpm-cs-` peer) goes to the core. */
  private targetOfRequestUri(request: SipRequest, outbound: SendTarget): SendTarget {
    try {
      const uri = parseUri(request.uri);
      if (uri.kind === 'sip' && /^\d{1,3}(\.\d{1,3}){3}$|^\[/.test(uri.host)) return targetFromUri(uri);
    } catch {
      // fall through to the core
    }
    return outbound;
  }

  // ---- legs, media, relay -------------------------------------------------------------------------------------

  private newLeg(session: InPathSession, side: RelaySide, role: 'uas' | 'uac'): InPathLeg {
    let id = randomBytes(8).toString('hex');
    while (this.legsById.has(id)) id = randomBytes(8).toString('hex');
    const leg = new InPathLeg(id, side, role, `sip:cpm-cs-${id}@${this.env.domain}`, this.options.msrp.newLocalUri(), session);
    this.legsById.set(id, leg);
    if (!session.legs[side]) session.legs[side] = leg;
    leg.timer.on('refreshDue', () => this.refresh(leg));
    leg.timer.on('expired', () => {
      this.env.log(`in-path: session ${session.id}: the refresher of leg ${leg.id} went silent (RFC 4028 §10)`);
      if (leg.retired) this.endRetiredLeg(leg, false);
      else this.endSession(session, 'session-timer', undefined);
    });
    return leg;
  }

  /** Our tag on a UAS leg, fixed at its first response. */
  private localTagOf(leg: InPathLeg): string {
    leg.localTag ??= newTag();
    return leg.dialog?.id.localTag ?? leg.localTag;
  }

  private attachDialog(leg: InPathLeg, dialog: Dialog): void {
    leg.dialog = dialog;
    this.legsByDialog.set(dialogKey(dialog.id), leg);
  }

  /**
   * The MSRP session of a leg we answer: waiting for the peer to connect (our answer is passive), or, when
   * the peer is a passive server, a stand-in the relay queues on until our own connection binds, which then
   * replaces it (queued messages replayed).
   */
  private openMedia(session: InPathSession, leg: InPathLeg): MsrpSession {
    if (!leg.sdp.includes('a=setup:active')) {
      return this.options.msrp.expectLeg({ localUri: leg.msrpUri, remotePath: leg.remotePath, waitMs: this.bindMs() }).session;
    }
    const standIn = new MsrpSession({ localUri: leg.msrpUri, remotePath: leg.remotePath });
    this.connector.open(leg.msrpUri, leg.remotePath).then(
      (bound) => {
        const relay = session.relay;
        if (session.ending || !relay || relay.state === MsrpRelayState.Closed || session.legs[leg.side] !== leg) return bound.close();
        session.history?.watch(bound, leg.side);
        relay.replaceLeg(leg.side, bound, { replayUnacknowledged: true });
        leg.msrp = bound;
        standIn.close();
      },
      (error: unknown) => {
        this.env.log(`in-path: session ${session.id}: MSRP connection to the peer server failed: ${error instanceof Error ? error.message : String(error)}`);
        standIn.close();
        this.endSession(session, 'msrp-lost', undefined);
      },
    );
    return standIn;
  }

  private newRelay(session: InPathSession, a: MsrpSession, b: MsrpSession): MsrpRelay {
    const relay = new MsrpRelay({ legA: a, legB: b, readControl: this.readControl });
    // Only a current leg's closing is reported (a replaced stand-in or a retired leg is not).
    relay.on('legClosed', (side, _closed, reason) => this.onMsrpLost(session, side, reason));
    return relay;
  }

  /**
   * The current leg of `side` lost its MSRP session (its device crashed, its connection broke). With no move
   * of that leg under way the session ends (the relay's close sends a failure REPORT for every message it held).
   * During a move (the Join REFER is out, the target not joined yet) only that leg is given up: the relay
   * keeps what the other side sends for this side as unacknowledged (it cannot be delivered: the side's leg is
   * closed), and the switch to the target's leg replays it; the lost leg's dialog ends with the release
   * time-out once the target joined (its device will never send BYE), or with the session if the move fails.
   */
  private onMsrpLost(session: InPathSession, side: RelaySide, reason: string): void {
    const leg = session.legs[side];
    if (session.ending) return;
    if (leg?.moveUnderWay) {
      leg.msrpLost = true; // we stop refreshing its dialog (`refresh`); the move decides its fate
      this.env.log(`in-path: session ${session.id}: MSRP on side ${side} lost (${reason}) during a move: holding what the far side sends for the target`);
      return;
    }
    this.env.log(`in-path: session ${session.id}: MSRP on side ${side} lost (${reason})`);
    this.endSession(session, 'msrp-lost', undefined);
  }

  /** The session's history, for this server's own user: the caller when originating, the callee when terminating. */
  private newHistory(session: InPathSession): RelayHistory | undefined {
    const sink = this.env.messageSink;
    const ownerSide: RelaySide = session.role === 'orig' ? 'a' : 'b';
    const owner = session.legs[ownerSide]?.party.aor;
    if (!sink || !owner) return undefined;
    return new RelayHistory({ sink, conversationId: session.conversationId, owner, ownerSide, log: this.env.log });
  }

  private bindMs(): number {
    return this.options.msrpBindMs ?? 30_000;
  }

  /** Where requests go when a dialog has no route set: the core's Route entry past ours, else the sender. */
  private outboundOf(forwarded: SipRequest, received: ReceivedMessage): SendTarget | undefined {
    const route = forwarded.headers.first('Route');
    if (route !== undefined) {
      try {
        const uri = parseNameAddr(route).uri;
        if (uri.kind === 'sip') return targetFromUri(uri);
      } catch {
        return undefined;
      }
    }
    return { ...received.source, ...(received.flowId ? { flowId: received.flowId } : {}) };
  }

  // ---- transfers (PROFILE.md steps 10–13 and 22–25) -----------------------------------------------------------

  /**
   * A Join INVITE to the leg URI J: Target-Dialog must name that leg's dialog as we see it (RFC 4538 §4:
   * local-tag ours, remote-tag the device's), from the same user. We answer it with a new leg on the same
   * side; once the new device's MSRP connection is up, the relay switches to it and replays what the old
   * leg had not acknowledged. The old leg keeps relaying what it sends until its BYE.
   */
  private onJoinInvite(tx: InviteServerTransaction, legId: string): void {
    const invite = tx.request;
    const old = this.legsById.get(legId);
    if (!old?.dialog || old.retired || old.session.state !== InPathSessionState.Established) return reply(tx, 481, 'Call/Transaction Does Not Exist');
    const header = invite.headers.get('Target-Dialog');
    if (header === undefined) return reply(tx, 403, 'Forbidden: a leg URI is reached only with Target-Dialog');
    let td;
    try {
      td = parseTargetDialog(header);
    } catch {
      return reply(tx, 400, 'Bad Request: malformed Target-Dialog');
    }
    const id = old.dialog.id;
    if (td.callId !== id.callId || td.localTag !== id.localTag || td.remoteTag !== id.remoteTag) return reply(tx, 481, 'Call/Transaction Does Not Exist: Target-Dialog is not this leg');
    const asserted = invite.headers.values('P-Asserted-Identity').map((v) => aorOfHeader(v)).find(isDefined);
    if (asserted !== old.party.aor) return reply(tx, 403, 'Forbidden: not the user of this leg');
    for (const screen of this.screens) {
      const refusal = screen(invite, undefined);
      if (refusal) return reply(tx, refusal.status, refusal.reason);
    }
    const offer = readPeerSdp(invite);
    if (!offer.ok) return reply(tx, 488, `Not Acceptable Here: ${offer.reason}`);
    const timer = decideAsUas(invite.headers.get('Session-Expires'), invite.headers.values('Supported'), this.policy);
    if (timer.kind === 'too-small') return reply(tx, 422, 'Session Interval Too Small', [{ name: 'Min-SE', value: String(timer.minSe) }]);

    const session = old.session;
    const leg = this.newLeg(session, old.side, 'uas');
    leg.remotePath = offer.sdp.path;
    leg.sdp = legSdp(leg.msrpUri, answerSetupFor(offer.sdp));
    leg.party.aor = asserted;
    leg.party.tag = fromTagOrNone(invite) ?? '';
    leg.party.target = contactOf(invite.headers.get('Contact')) ?? '';
    leg.party.displayName = displayNameOfHeader(invite.headers.get('From')) ?? old.party.displayName;
    leg.ourAor = old.ourAor;
    leg.ourDisplayName = old.ourDisplayName;
    leg.peerAllowsUpdate = allows(invite, 'UPDATE');
    const localTag = newTag();
    this.attachDialog(leg, Dialog.fromUas(invite, localTag, `<${leg.contact}>`));
    const headers = [
      { name: 'Contact', value: `<${leg.contact}>` },
      { name: 'Allow', value: ALLOW },
      { name: 'Supported', value: 'timer' },
      { name: 'Content-Type', value: 'application/sdp' },
    ];
    if (timer.kind === 'timer') {
      headers.push({ name: 'Session-Expires', value: formatSessionExpires({ deltaSeconds: timer.deltaSeconds, refresher: timer.refresher }) });
      if (timer.refresher === 'uac') headers.push({ name: 'Require', value: 'timer' });
      leg.timer.refreshed(timer.deltaSeconds, timer.refresher === 'uas');
    }
    const media = this.options.msrp.expectLeg({ localUri: leg.msrpUri, remotePath: leg.remotePath, waitMs: this.bindMs() });
    leg.msrp = media.session;
    session.joining.add(leg);
    session.history?.watch(leg.msrp, leg.side);
    // The relay serves the new leg at once (its binding SEND may carry a message already) and switches the
    // side to it as soon as the new device's MSRP connection is up.
    const relay = session.relay;
    const switched = relay && relay.state !== MsrpRelayState.Closed ? relay.replaceLeg(old.side, leg.msrp, { replayUnacknowledged: true }).switched : Promise.reject(new Error('no relay'));
    tx.respond(buildResponse(invite, 200, { toTag: localTag, headers, body: leg.sdp }));
    switched.then(
      (replayed) => this.legSwitched(old, leg, replayed),
      () => {
        session.joining.delete(leg);
        if (session.ending) return this.forgetLeg(leg, false);
        // With the old leg's MSRP lost too (its device crashed during the move) nobody is left on this side.
        const nobodyLeft = old.msrpLost && session.legs[old.side] === old;
        this.env.log(`in-path: session ${session.id}: the Join leg's device never connected; ${nobodyLeft ? "the old leg's MSRP is lost: ending the session" : 'the old leg stays'}`);
        if (leg.dialog?.state === DialogState.Confirmed) this.sendBye(leg);
        else this.forgetLeg(leg, false);
        if (nobodyLeft) this.endSession(session, 'msrp-lost', undefined);
      },
    );
  }

  /** The relay switched side `old.side` to `next`: `next` is current, `old` retired until its BYE. */
  private legSwitched(old: InPathLeg, next: InPathLeg, replayed: string[]): void {
    const session = old.session;
    session.joining.delete(next);
    if (session.ending) return;
    const previous = session.infoOf(old);
    session.legs[old.side] = next;
    old.retired = true;
    session.retired.add(old);
    const fallback = this.options.releaseFallbackMs ?? 32_000;
    session.after(fallback, () => {
      if (session.retired.has(old)) this.endRetiredLeg(old, false);
    });
    const current = session.infoOf(next);
    if (previous && current) this.emit('legReplaced', session, previous, current, replayed);
  }

  /**
   * The transfer controller sent the Join REFER for the leg whose dialog is (Call-ID, tags in either order):
   * until `moveEnded`, that leg losing its MSRP does not end the session (see `onMsrpLost`). Returns false for
   * a dialog that is not a live leg of ours.
   */
  moveStarted(callId: string, tagA: string, tagB: string): boolean {
    const leg = this.legOfDialog(callId, tagA, tagB);
    if (!leg || leg.retired || leg.session.ending) return false;
    leg.moveUnderWay = true;
    return true;
  }

  /**
   * The move of that leg is over: `replaced` (the target's session is up: the relay switched to it) or
   * `failed` (declined, no answer in 60 s, the target's INVITE failed, …). A failed move of a leg whose MSRP
   * was lost meanwhile ends the session: nobody holds it any more, and the relay's close sends a failure
   * REPORT (481, RFC 4975 §7.1.2) for every message it held and did not deliver.
   */
  moveEnded(callId: string, tagA: string, tagB: string, outcome: 'replaced' | 'failed'): void {
    const leg = this.legOfDialog(callId, tagA, tagB);
    if (!leg) return;
    leg.moveUnderWay = false;
    const session = leg.session;
    if (outcome === 'failed' && leg.msrpLost && !leg.retired && !session.ending && session.legs[leg.side] === leg) {
      this.env.log(`in-path: session ${session.id}: the move failed and side ${leg.side}'s MSRP is lost: ending the session`);
      this.endSession(session, 'msrp-lost', undefined);
    }
  }

  /** The leg whose dialog is (Call-ID, tags in either order), current or retired. */
  private legOfDialog(callId: string, tagA: string, tagB: string): InPathLeg | undefined {
    return this.legsByDialog.get(dialogKey({ callId, localTag: tagA, remoteTag: tagB })) ?? this.legsByDialog.get(dialogKey({ callId, localTag: tagB, remoteTag: tagA }));
  }

  /**
   * The transfer controller released the source (its release NOTIFY, PROFILE.md steps 18–21): unless its BYE
   * comes first, we end the old leg ourselves after `releaseMs` (5 s). Returns false for an unknown dialog.
   */
  releaseLeg(callId: string, tagA: string, tagB: string): boolean {
    const leg = this.legOfDialog(callId, tagA, tagB);
    if (!leg?.retired) return false;
    leg.session.after(this.options.releaseMs ?? 5_000, () => {
      if (leg.session.retired.has(leg)) this.endRetiredLeg(leg, false);
    });
    return true;
  }

  /** A retired leg ends (its BYE, or ours): its MSRP closed, the session goes on with the new leg. */
  private endRetiredLeg(leg: InPathLeg, byPeer: boolean): void {
    const session = leg.session;
    if (!session.retired.delete(leg)) return;
    leg.msrp?.close();
    if (byPeer) this.forgetLeg(leg, true);
    else if (leg.dialog?.state === DialogState.Confirmed) {
      const dialog = leg.dialog;
      this.sendInDialog(leg, dialog.createRequest('BYE'), () => this.forgetLeg(leg, false), false);
    } else this.forgetLeg(leg, false);
  }
}

// ---- helpers --------------------------------------------------------------------------------------------------

function reply(tx: ServerTransaction, status: number, reason?: string, headers?: { name: string; value: string }[]): void {
  try {
    tx.respond(buildResponse(tx.request, status, { toTag: newTag(), ...(reason ? { reason } : {}), ...(headers ? { headers } : {}) }));
  } catch {
    // already answered with a final response
  }
}

/** The leg id of a `sip:cpm-cs-<id>@…` Request-URI, or undefined. */
function legIdOfUri(text: string): string | undefined {
  try {
    const uri = parseUri(text);
    if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
    return LEG_USER.exec(uri.user)?.[1];
  } catch {
    return undefined;
  }
}

/** The key of the dialog a received request names, from our side (To tag ours). */
function receivedDialogKey(request: SipRequest): string | undefined {
  const localTag = toTagOrNone(request);
  const remoteTag = fromTagOrNone(request);
  const callId = request.headers.get('Call-ID');
  if (localTag === undefined || remoteTag === undefined || callId === undefined) return undefined;
  return dialogKey({ callId, localTag, remoteTag });
}

/** The key of the dialog a response to our request belongs to (From tag ours). */
function dialogKeyOfResponse(response: SipResponse): string | undefined {
  const localTag = fromTagOrNone(response);
  const remoteTag = toTagOrNone(response);
  const callId = response.headers.get('Call-ID');
  if (localTag === undefined || remoteTag === undefined || callId === undefined) return undefined;
  return dialogKey({ callId, localTag, remoteTag });
}

function contactOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseNameAddr(value).uriText;
  } catch {
    return undefined;
  }
}

function withoutTag(value: string): string {
  return value.replace(/;\s*tag\s*=\s*[^;,\s]*/i, '');
}

function allows(message: SipRequest | SipResponse, method: string): boolean {
  return message.headers.values('Allow').some((m) => m.trim().toUpperCase() === method);
}

function otherTag(session: CpmSessionInfo, tag: string): string {
  return session.caller.tag === tag ? session.callee.tag : session.caller.tag;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
