/**
 * One CPM session anchored by the in-path Conversation Server (PROFILE.md, flow 1): a back-to-back user
 * agent (RFC 3261 §6 "B2BUA", RFC 7092 §3.1 signalling-only + media-relaying) with two legs, side `a` (towards
 * whoever sent the INVITE: our UAS leg) and side `b` (towards the callee: our UAC leg), and the MSRP relay
 * between the two legs' MSRP sessions.
 *
 * ```
 *   INVITE from side a, forwarded on side b
 *          │
 *          ▼            2xx on b: ACK b, 200 on a          ACK on a
 *      Calling ─────────────────────────────► Answered ─────────────────► Established
 *          │                                     │                            │
 *          │ final failure on b, CANCEL on a,    │ BYE, no ACK, leg lost      │ BYE on either leg, a leg's
 *          │ no answer (→ 4xx–6xx on a)          │                            │ MSRP lost (no move of that
 *          │                                     │                            │ leg under way, or it failed),
 *          │                                     │                            │ session timer, 408/481 to an
 *          │                                     ▼                            │ in-dialog request
 *          │                                Terminating ◄─────────────────────┘
 *          │                                     │ every BYE we sent answered (or timed out)
 *          ▼                                     ▼
 *      Terminated ◄──────────────────────────────┘
 * ```
 * A leg moved by a transfer (a Join INVITE, PROFILE.md steps 10–13) stays served as a *retired* leg until
 * its own BYE (or the release fallback) and never ends the session. A leg whose MSRP is lost while a move of
 * it is under way does not end the session either (the Established state stays): the relay holds what the
 * other side sends until the move's target joins, and the session ends (`msrp-lost`) only if the move fails.
 */
import { EventEmitter } from 'node:events';
import type { MsrpSession } from '../../../protocol/msrp/msrp-session';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';
import type { Dialog } from '../../sip/dialog/dialog';
import type { SipRequest } from '../../sip/message/sip-message';
import type { ClientTransaction } from '../../sip/transaction/transaction-layer';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction';
import { assertTransition, type TransitionTable } from '../../sip/transaction/state-machine';
import type { SendTarget } from '../../sip/transport/transport-types';
import type { MsrpRelay, RelaySide } from './msrp/msrp-relay';
import type { CpmSessionInfo, SessionParty } from '../session-handler';
import type { RelayHistory } from './relay-history';
import { SessionTimer } from './session-timer';

/** States of an in-path session (see the diagram above). */
export enum InPathSessionState {
  Calling = 'calling',
  Answered = 'answered',
  Established = 'established',
  Terminating = 'terminating',
  Terminated = 'terminated',
}

const S = InPathSessionState;
const TRANSITIONS: TransitionTable<InPathSessionState> = {
  [S.Calling]: [S.Answered, S.Terminating, S.Terminated],
  [S.Answered]: [S.Established, S.Terminating, S.Terminated],
  [S.Established]: [S.Terminating, S.Terminated],
  [S.Terminating]: [S.Terminated],
  [S.Terminated]: [],
};

/** Why a session ended. */
export type InPathEndReason =
  | 'bye'
  | 'rejected'
  | 'cancelled'
  | 'no-ack'
  | 'msrp-lost'
  | 'session-timer'
  | 'peer-gone'
  | 'bad-answer'
  | 'shutdown';

/** Events of a session. */
export type InPathSessionEvents = {
  stateChange: [from: InPathSessionState, to: InPathSessionState];
};

/** What the handler learnt from the INVITE that created the session. */
export interface InPathSessionInit {
  id: string;
  role: 'orig' | 'term';
  conversationId: string;
  contributionId: string;
  assertedIdentity: string;
  /** Where requests go when a dialog has no route set: the core that routed the INVITE to us. */
  outbound: SendTarget;
}

/** One leg: a dialog of ours with a device (or with another server) and our MSRP session on it. */
export class InPathLeg {
  /** Our dialog on this leg, once it exists (UAS: when we answer; UAC: on the 2xx). */
  dialog: Dialog | undefined;
  /** The MSRP session the relay uses on this leg (bound or still waiting for the peer). */
  msrp: MsrpSession | undefined;
  /** The peer's `a=path`, from its SDP. */
  remotePath: MsrpUri[] = [];
  /** The peer: its AOR, its tag and its remote target (filled in as the dialog forms). */
  readonly party: SessionParty = { aor: '', tag: '', target: '' };
  /** Our own AOR on this leg (the user we stand in for: To on a UAS leg, From on a UAC leg). */
  ourAor = '';
  /** That user's display name, as the caller's INVITE gave it, if it did. */
  ourDisplayName: string | undefined;
  /** Our SDP on this leg: answered again, unchanged, to every session refresh. */
  sdp = '';
  /** Whether the peer accepts UPDATE (its Allow): how we refresh. */
  peerAllowsUpdate = false;
  readonly timer = new SessionTimer();
  /** A leg a transfer replaced: still served until its BYE, never ends the session. */
  retired = false;
  /** A move of this leg's dialog is under way (the transfer controller sent the Join REFER; not yet over). */
  moveUnderWay = false;
  /**
   * Its MSRP session went away while a move of it was under way: the session waits for the move's target
   * instead of ending (what the other side sends is held for it), and ends if the move fails.
   */
  msrpLost = false;
  /** Our tag on a UAS leg, chosen at its first response (before the dialog exists). */
  localTag: string | undefined;

  constructor(
    /** 64 random bits, hex: our Contact is `sip:cpm-cs-<id>@<domain>`. */
    readonly id: string,
    readonly side: RelaySide,
    readonly role: 'uas' | 'uac',
    /** Our Contact URI on this leg (routable: the core sends `cpm-cs-*` users to us). */
    readonly contact: string,
    /** Our MSRP URI on this leg (`a=path`). */
    readonly msrpUri: MsrpUri,
    readonly session: InPathSession,
  ) {}
}

/** One in-path session. */
export class InPathSession extends EventEmitter<InPathSessionEvents> {
  readonly id: string;
  readonly role: 'orig' | 'term';
  readonly conversationId: string;
  readonly contributionId: string;
  readonly assertedIdentity: string;
  readonly outbound: SendTarget;
  /** The current leg of each side. */
  readonly legs: Record<RelaySide, InPathLeg | undefined> = { a: undefined, b: undefined };
  /** Legs a transfer replaced, still waiting for their BYE. */
  readonly retired = new Set<InPathLeg>();
  /** Legs of Join INVITEs answered whose device has not bound its MSRP yet (the relay has not switched). */
  readonly joining = new Set<InPathLeg>();
  relay: MsrpRelay | undefined;
  /** Records what the relay carries for this server's user (when the domain has a Message Store). */
  history: RelayHistory | undefined;
  /** Side a's INVITE and its transaction (until answered). */
  callerInvite: SipRequest | undefined;
  callerTransaction: InviteServerTransaction | undefined;
  /** Side b's INVITE and its transaction (until final). */
  calleeInvite: SipRequest | undefined;
  calleeTransaction: ClientTransaction | undefined;
  /** Side a cancelled; a CANCEL goes out on side b once it is allowed (after a provisional, RFC 3261 §9.1). */
  cancelRequested = false;
  cancelSent = false;
  /** BYEs we sent and await. */
  pendingByes = 0;
  /** Timers of the session (ACK wait, no answer, release fallback). */
  readonly timers = new Set<NodeJS.Timeout>();
  private current = S.Calling;
  private ended: InPathEndReason | undefined;

  constructor(init: InPathSessionInit) {
    super();
    this.id = init.id;
    this.role = init.role;
    this.conversationId = init.conversationId;
    this.contributionId = init.contributionId;
    this.assertedIdentity = init.assertedIdentity;
    this.outbound = init.outbound;
  }

  get state(): InPathSessionState {
    return this.current;
  }

  /** Why it ended (once Terminating or Terminated). */
  get endReason(): InPathEndReason | undefined {
    return this.ended;
  }

  /** Whether the session is over or on its way out. */
  get ending(): boolean {
    return this.current === S.Terminating || this.current === S.Terminated;
  }

  /** Run `fn` after `ms` unless the session ends first. */
  after(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  /** Cancel one timer set with `after`. */
  cancelTimer(timer: NodeJS.Timeout | undefined): void {
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** The one transition function: throws IllegalTransitionError on a move the diagram does not have. */
  transition(to: InPathSessionState, reason?: InPathEndReason): void {
    const from = this.current;
    assertTransition('InPathSession', TRANSITIONS, from, to);
    this.current = to;
    if ((to === S.Terminating || to === S.Terminated) && this.ended === undefined) this.ended = reason ?? 'shutdown';
    if (to === S.Terminated) {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.history?.close();
    }
    this.emit('stateChange', from, to);
  }

  /**
   * The session as the transfer controller sees it through one leg's dialog (RFC 4538 §4): that dialog's
   * Call-ID and tags, the peer device on one side and this server's leg on the other. Undefined until the
   * leg has a dialog.
   */
  infoOf(leg: InPathLeg): CpmSessionInfo | undefined {
    const dialog = leg.dialog;
    if (!dialog) return undefined;
    const peer: SessionParty = { ...leg.party };
    const us: SessionParty = { aor: leg.ourAor, tag: dialog.id.localTag, target: leg.contact, displayName: leg.ourDisplayName };
    return {
      roles: [this.role],
      callId: dialog.id.callId,
      conversationId: this.conversationId,
      contributionId: this.contributionId,
      assertedIdentity: this.assertedIdentity,
      caller: leg.role === 'uas' ? peer : us,
      callee: leg.role === 'uas' ? us : peer,
    };
  }
}
