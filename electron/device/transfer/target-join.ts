/**
 * The target role of a move (PROFILE.md "The transfer", A-Dn): the Join Session Notification arrives, the
 * user accepts (or auto-accept does), the device invites J with `Target-Dialog`, then tells Conversation Server
 * A that the session was replaced.
 *
 * ```
 *   (Join REFER authorized: 202 + NOTIFY 100 sent)
 *        │
 *        ▼
 *   prompting ──accept──► inviting ──2xx──► joined      (NOTIFY sipfrag 200, terminated)
 *        │                    │
 *        │ decline / expiry   │ non-2xx, no answer
 *        ▼                    ▼
 *    declined              failed                      (NOTIFY sipfrag 603 / the INVITE's status, terminated)
 * ```
 */
import { EventEmitter } from 'node:events';
import { isValidCpmId } from '../../../protocol/cpm/cpm-headers';
import { parseSessionTransfer, type SessionTransfer } from '../../../protocol/cpm/session-transfer';
import { parseTargetDialog, type TargetDialog } from '../../../protocol/sip/refer-headers';
import { embeddedHeader, parseReferTo, type ReferTarget } from '../../../protocol/sip/refer-to';

/** States of the target role. */
export enum TargetJoinState {
  Prompting = 'prompting',
  Inviting = 'inviting',
  Joined = 'joined',
  Declined = 'declined',
  Failed = 'failed',
}

const S = TargetJoinState;
const TRANSITIONS: Readonly<Record<TargetJoinState, readonly TargetJoinState[]>> = {
  [S.Prompting]: [S.Inviting, S.Declined],
  [S.Inviting]: [S.Joined, S.Failed],
  [S.Joined]: [],
  [S.Declined]: [],
  [S.Failed]: [],
};

/** What a Join REFER says, once checked. */
export interface JoinOffer {
  /** The INVITE's Request-URI: J without its headers, every URI parameter kept. */
  joinUri: string;
  /** The headers the INVITE must carry (Target-Dialog, Require, Conversation-ID, InReplyTo-Contribution-ID). */
  inviteHeaders: { name: string; value: string }[];
  targetDialog: TargetDialog;
  conversationId: string;
  inReplyToContributionId: string | undefined;
  /** The source device's GRUU (Referred-By). */
  referredBy: string;
  /** What the UI shows. */
  details: SessionTransfer;
}

/** What the device knows to authorize a Join REFER (PROFILE.md steps 6–9). */
export interface JoinAuthorizationContext {
  /** The account's transfer service URI X: the only identity allowed to send a Join REFER. */
  transferServiceUri: string;
  /** The GRUUs of this user's other devices (the device list), and this device's own. */
  ownDeviceGruus: readonly string[];
}

/** The REFER as the UA hands it over. */
export interface IncomingJoinRefer {
  assertedIdentity: string | undefined;
  referTo: string | undefined;
  referredBy: string | undefined;
  contentType: string | undefined;
  body: string | undefined;
}

/** A refusal: the REFER's status. */
export interface JoinRefusal {
  status: number;
  reason: string;
}

/**
 * Check a Join REFER: 403 unless it is asserted as X and referred by one of our own devices, 400 when it is
 * malformed. Returns the offer or the refusal; never throws.
 */
export function authorizeJoinRefer(refer: IncomingJoinRefer, context: JoinAuthorizationContext): JoinOffer | JoinRefusal {
  const asserted = bareUri(refer.assertedIdentity ?? '');
  if (!asserted || !sameUri(asserted, context.transferServiceUri)) return { status: 403, reason: 'Forbidden: not from your Conversation Server' };
  const referredBy = bareUri(refer.referredBy ?? '');
  if (!referredBy || !context.ownDeviceGruus.some((g) => sameUri(g, referredBy))) return { status: 403, reason: 'Forbidden: not referred by one of your devices' };
  let target: ReferTarget;
  let targetDialog: TargetDialog;
  let details: SessionTransfer;
  try {
    target = parseReferTo(refer.referTo ?? '');
    const td = embeddedHeader(target, 'Target-Dialog');
    if (!td) throw new Error('Refer-To has no embedded Target-Dialog');
    targetDialog = parseTargetDialog(td);
    details = parseSessionTransfer(refer.body ?? '');
  } catch (error) {
    return { status: 400, reason: `Bad Request: ${error instanceof Error ? error.message : 'malformed Join REFER'}`.slice(0, 120) };
  }
  const conversationId = embeddedHeader(target, 'Conversation-ID') ?? details.conversationId;
  if (!isValidCpmId(conversationId) || conversationId !== details.conversationId) return { status: 400, reason: 'Bad Request: Conversation-ID' };
  const inReplyTo = embeddedHeader(target, 'InReplyTo-Contribution-ID');
  return {
    joinUri: target.uri,
    inviteHeaders: target.headers,
    targetDialog,
    conversationId,
    inReplyToContributionId: inReplyTo,
    referredBy,
    details,
  };
}

/** What the role needs from the device. */
export interface TargetJoinPorts {
  /** NOTIFY progress/final on the Join subscription (the UA's ReferNotifier). */
  notify(status: number, reason: string, final: boolean): void;
  /** Send the INVITE J (with the offer's headers, a new Contribution-ID); resolves to its final status. */
  invite(offer: JoinOffer): Promise<{ status: number; reason: string }>;
}

/** Events of the target role. */
export type TargetJoinEvents = {
  stateChange: [from: TargetJoinState, to: TargetJoinState];
};

/** Thrown on an illegal state move. */
export class IllegalTargetTransition extends Error {
  override readonly name = 'IllegalTargetTransition';
}

/** One Join, from the target's side. */
export class TargetJoin extends EventEmitter<TargetJoinEvents> {
  private current: TargetJoinState = S.Prompting;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly offer: JoinOffer,
    private readonly ports: TargetJoinPorts,
    /** How long the prompt stays up (PROFILE.md: the server gives up after 60 s). */
    promptMs = 60_000,
  ) {
    super();
    this.timer = setTimeout(() => {
      if (this.current === S.Prompting) this.decline('No Answer');
    }, promptMs);
    this.timer.unref();
  }

  get state(): TargetJoinState {
    return this.current;
  }

  /** The user (or auto-accept) accepted: invite J. Resolves when the Join ended either way. */
  async accept(): Promise<TargetJoinState> {
    if (this.current !== S.Prompting) return this.current;
    this.clearTimer();
    this.transition(S.Inviting);
    let result: { status: number; reason: string };
    try {
      result = await this.ports.invite(this.offer);
    } catch (error) {
      result = { status: 500, reason: error instanceof Error ? error.message.slice(0, 60) : 'INVITE failed' };
    }
    if (result.status >= 200 && result.status < 300) {
      this.transition(S.Joined);
      this.ports.notify(200, 'OK', true); // Session Replaced Notification (steps 14–17)
    } else {
      this.transition(S.Failed);
      this.ports.notify(result.status, result.reason, true);
    }
    return this.current;
  }

  /** The user declined (or the prompt expired): NOTIFY 603, terminated. */
  decline(reason = 'Decline'): void {
    if (this.current !== S.Prompting) return;
    this.clearTimer();
    this.transition(S.Declined);
    this.ports.notify(603, reason === 'No Answer' ? 'Decline' : reason, true);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The one transition function. */
  private transition(to: TargetJoinState): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new IllegalTargetTransition(`target join: ${from} → ${to}`);
    this.current = to;
    this.emit('stateChange', from, to);
  }
}

function bareUri(value: string): string {
  const t = value.trim();
  const lt = t.indexOf('<');
  if (lt >= 0) {
    const gt = t.indexOf('>', lt);
    return gt > lt ? t.slice(lt + 1, gt).trim() : '';
  }
  // addr-spec form: what follows `;` are header parameters (RFC 3261 §20.10)
  return (t.split(';')[0] ?? '').trim();
}

/** Case-insensitive on scheme and host, exact on user and parameters (good enough for GRUUs and X). */
function sameUri(a: string, b: string): boolean {
  const norm = (u: string): string => {
    const m = /^(sips?):([^@]+)@([^;?>]+)(.*)$/i.exec(u.trim());
    if (!m) return u.trim();
    return `${m[1]!.toLowerCase()}:${m[2]}@${m[3]!.toLowerCase()}${m[4]}`;
  };
  return norm(a) === norm(b);
}
