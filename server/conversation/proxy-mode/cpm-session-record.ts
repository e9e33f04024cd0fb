/**
 * What the Conversation Server in proxy mode knows about one CPM session it Record-Routed: the dialog
 * (Call-ID, both tags, route set, RFC 3261 §12), the CPM identifiers, the two users and their devices, and
 * the roles it served (originating and/or terminating service control). The transfer controller finds a session
 * by the dialog a `Target-Dialog` names (RFC 4538 §4: Call-ID plus both tags, in whichever order).
 *
 * A proxy sees the dialog from outside, so the record follows what passes through:
 *
 * ```
 *   2xx to the INVITE        ACK for the 2xx                    BYE
 *  ──────────────────► Confirmed ───────────► Established ─────────────► Terminating
 *                         │  │                     ▲                      │    │
 *                         │  └──── BYE ────────────┼─────────────────────►│    │ 2xx, 481 or 408 to the BYE,
 *                         │                        └── other final to BYE ┘    │ or no answer (RFC 3261 §15.1.1)
 *                         │  no ACK within 64·T1 (§13.3.1.4), shutdown         ▼
 *                         └────────────────────────────────────────────► Terminated
 * ```
 * Established and Terminating also end in Terminated on shutdown.
 *
 * A record lives as long as its session, so it keeps copies of its strings: a header value cut from a received
 * message would keep that whole message's text alive (the INVITE's and the 2xx's, some 2 KB per session).
 */
import { EventEmitter } from 'node:events';
import { ownString } from '../../core/compact-text';
import { assertTransition, type TransitionTable } from '../../sip/transaction/state-machine';
import type { CpmSessionInfo, SessionParty } from '../session-handler';
import type { ServiceRole } from './service-control';

/** States of a session record (see the diagram above). */
export enum CpmSessionState {
  /** A 2xx to the INVITE went through; its ACK has not. */
  Confirmed = 'confirmed',
  /** The ACK went through. */
  Established = 'established',
  /** A BYE went through; its final response has not. */
  Terminating = 'terminating',
  /** Over; the record has left the table. */
  Terminated = 'terminated',
}

const S = CpmSessionState;
const TRANSITIONS: TransitionTable<CpmSessionState> = {
  [S.Confirmed]: [S.Established, S.Terminating, S.Terminated],
  [S.Established]: [S.Terminating, S.Terminated],
  [S.Terminating]: [S.Established, S.Terminated],
  [S.Terminated]: [],
};

/** Why a session ended. */
export type SessionEndReason = 'bye' | 'bye-failed' | 'ack-timeout' | 'shutdown';

/** What a record is created from (the INVITE and its 2xx). */
export interface CpmSessionInit {
  /** The role in which this 2xx passed (a second one may follow: see `addRole`). */
  role: ServiceRole;
  callId: string;
  conversationId: string;
  contributionId: string;
  /** The originator as the core asserted it. */
  assertedIdentity: string;
  caller: SessionParty;
  callee: SessionParty;
  /** The 2xx's Record-Route values, top first (the callee's route set; the caller's is its reverse). */
  recordRoute: readonly string[];
}

/** Events of a record. */
export type CpmSessionEvents = {
  stateChange: [from: CpmSessionState, to: CpmSessionState];
};

/** One session's record. */
export class CpmSessionRecord extends EventEmitter<CpmSessionEvents> implements CpmSessionInfo {
  private readonly served: ServiceRole[];
  readonly callId: string;
  readonly conversationId: string;
  readonly contributionId: string;
  readonly assertedIdentity: string;
  readonly caller: SessionParty;
  readonly callee: SessionParty;
  readonly recordRoute: readonly string[];
  /** `Date.now()` when the 2xx passed. */
  readonly createdAt = Date.now();
  private current = CpmSessionState.Confirmed;
  private ended: SessionEndReason | undefined;

  constructor(init: CpmSessionInit) {
    super();
    this.served = [init.role];
    this.callId = ownString(init.callId);
    this.conversationId = ownString(init.conversationId);
    this.contributionId = ownString(init.contributionId);
    this.assertedIdentity = ownString(init.assertedIdentity);
    this.caller = ownParty(init.caller);
    this.callee = ownParty(init.callee);
    this.recordRoute = init.recordRoute.map(ownString);
  }

  /** The service control applied, originating first. */
  get roles(): readonly ServiceRole[] {
    return this.served;
  }

  /** The same dialog passed in another role too (a session between two users of our domain). */
  addRole(role: ServiceRole): void {
    if (this.served.includes(role)) return;
    this.served.push(role);
    this.served.sort((a, b) => (a === 'orig' ? -1 : b === 'orig' ? 1 : 0));
  }

  get state(): CpmSessionState {
    return this.current;
  }

  /** Why it ended, once Terminated. */
  get endReason(): SessionEndReason | undefined {
    return this.ended;
  }

  /** True when the dialog is this session's: same Call-ID, and the two tags in either order (RFC 4538 §4). */
  isDialog(callId: string, tagA: string, tagB: string): boolean {
    if (callId !== this.callId) return false;
    const { tag: x } = this.caller;
    const { tag: y } = this.callee;
    return (tagA === x && tagB === y) || (tagA === y && tagB === x);
  }

  /** The party whose tag is `fromTag` (who sent an in-dialog request), or undefined. */
  partyByTag(tag: string): SessionParty | undefined {
    if (tag === this.caller.tag) return this.caller;
    if (tag === this.callee.tag) return this.callee;
    return undefined;
  }

  /** A target refresh (re-INVITE / UPDATE 2xx, RFC 3261 §12.2) moved one side's device address. */
  refreshTarget(tag: string, target: string): void {
    const party = this.partyByTag(tag);
    if (party) party.target = ownString(target);
  }

  /** The one transition function: throws IllegalTransitionError on a move the diagram does not have. */
  transition(to: CpmSessionState, reason?: SessionEndReason): void {
    const from = this.current;
    assertTransition('CpmSessionRecord', TRANSITIONS, from, to);
    this.current = to;
    if (to === S.Terminated) this.ended = reason ?? 'shutdown';
    this.emit('stateChange', from, to);
  }
}

/** A party with strings of its own (see the module comment). */
function ownParty(party: SessionParty): SessionParty {
  const own: SessionParty = { aor: ownString(party.aor), tag: ownString(party.tag), target: ownString(party.target) };
  if (party.displayName !== undefined) own.displayName = ownString(party.displayName);
  return own;
}
