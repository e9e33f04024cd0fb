/**
 * The move, wired into one signed-in device (PROFILE.md "The transfer, step by step"): the lead's role state
 * machines (`SourceTransfer`, `TargetJoin`) bound to the device's SIP user agent, chat layer and history.
 *
 * - Source (A-D1), `move()`: out-of-dialog `REFER X` with `Refer-To` the target's pub-gruu, `Target-Dialog` = T
 *   as its far side sees it (RFC 4538 §4: `local-tag` the far side's tag, `remote-tag` ours) and `Referred-By`
 *   our pub-gruu (steps 2–3); on the release NOTIFY the thread becomes read-only here ("moved to Desktop"),
 *   the history outbox is deposited, then BYE on T (steps 18–25 / 28–45). On failure T stays as it was.
 * - Target (A-Dn), the UA's `IncomingReferHandler`: a Join REFER is authorized by `authorizeJoinRefer`
 *   (asserted as X, referred by one of our own devices; else 403), prompted (`joinRequest`) or auto-accepted,
 *   then `INVITE J` with the offer's embedded headers, the same Conversation-ID, a new Contribution-ID and
 *   `Referred-By` (steps 10–13); the Join NOTIFY says 200 once the session is up (steps 14–17). The history is
 *   fetched from the Message Store on accept, once joined, and again after the release (shortly after joining:
 *   the target is not told when the source released, so it looks again when the source's BYE is due). The Join
 *   body's `historyCursor` says how much the store held when the Join went out: if the fetch on accept left
 *   this device behind it (the store could not be read, or the fetch was one already running), the device
 *   fetches again promptly, a few times, without holding up the INVITE.
 * - When the Join did not happen (the move failed, e.g. the source crashed and T ended first) and the far side's
 *   next message opens a new incoming session on the conversation, the device resyncs it the same way: what
 *   the Message Store holds (in-path, everything the server relayed) reaches the thread.
 *
 * Every step is reported as a `transferProgress` event.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceEventMap } from '../../api/device-api';
import { DeviceApiError } from '../../api/device-api';
import type { ChatMessage, DeviceInfo, TransferPhase } from '../../api/payloads';
import { isHistoryBehind } from '../../../protocol/cpm/session-transfer';
import { formatTargetDialog } from '../../../protocol/sip/refer-headers';
import type { ChatService } from '../chat/chat-service';
import { ChatSessionState, EndCause, type ChatSession } from '../chat/chat-session';
import type { IncomingRefer, IncomingReferHandler, ReferVerdict } from '../sip/cpm-user-agent';
import { ReferNotifierState, type ReferNotifier } from '../sip/refer-notifier';
import { ReferSubscriberState, type OutgoingReferOptions, type ReferSubscriber } from '../sip/refer-subscriber';
import { SourceTransfer, SourceTransferState, type SourceTransferPorts, type SourceTransferResult } from './source-transfer';
import { authorizeJoinRefer, TargetJoin, TargetJoinState, type JoinOffer } from './target-join';

/** What the transfers need of the user agent. */
export interface TransferUserAgent {
  readonly pubGruu: string | null;
  sendOutOfDialogRefer(options: OutgoingReferOptions): ReferSubscriber;
}

/** What the transfers need of the history: deposit the outbox, fetch a conversation from the Message Store. */
export interface TransferHistory {
  /** Deposit what the outbox holds now (resolves when acknowledged or failed). */
  deposit(): Promise<void>;
  /** Fetch a conversation's news from the Message Store; the messages new to this device. */
  syncConversation(conversationId: string): Promise<ChatMessage[]>;
  /**
   * This device's store cursor for a conversation (null: nothing fetched yet), to compare with a Join's
   * `historyCursor`. Without it the device does not check that its history caught up.
   */
  storeCursor?(conversationId: string): string | null;
}

/** What the transfers need of the chat layer (ChatService). */
export type TransferChat = Pick<ChatService, 'carrier' | 'markMoved' | 'join' | 'onSessionResumed'>;

/** Options of the device's transfers. */
export interface DeviceTransfersOptions {
  ua: TransferUserAgent;
  chat: TransferChat;
  /** The account's transfer service URI X (PROFILE.md); without it nothing can be moved or joined. */
  transferServiceUri: string | undefined;
  /** The user's devices (the `reg` event list). */
  devices: () => readonly DeviceInfo[];
  history?: TransferHistory;
  /** Raise a DeviceApi event. */
  emit: <E extends 'transferProgress' | 'joinRequest' | 'message'>(event: E, payload: DeviceEventMap[E]) => void;
  /** Accept Join requests without prompting (default false). */
  autoAccept?: boolean;
  /** How long a Join prompt stays up (PROFILE.md: 60 s). */
  joinPromptMs?: number;
  /** Longest wait for the deposit before the BYE (default 3 000 ms; the outbox retries on its own after). */
  depositTimeoutMs?: number;
  /**
   * When the device looks in the Message Store again after joining, or after a new incoming session started on
   * a conversation it already had (default 1 500 and 5 000 ms; it also looks at once).
   */
  resyncAfterJoinMs?: readonly number[];
  /**
   * When the fetch on accepting a Join left this device behind the Join's `historyCursor`, the waits before
   * each further fetch, stopping once caught up (default 50, 250 and 750 ms: before the first resync).
   */
  catchUpRetryMs?: readonly number[];
}

/** A move's target as the source names it. */
export interface MoveTarget {
  /** The target's pub-gruu (Refer-To). */
  gruu: string;
  /** Its `+cpm.device-name`, for messages. */
  name: string;
}

// RFC 3261 §19.1.5: never taken from Refer-To's embedded headers into the INVITE.
const NEVER_EMBEDDED = new Set(['from', 'to', 'call-id', 'cseq', 'via', 'route', 'record-route', 'contact', 'conversation-id', 'contribution-id', 'referred-by']);

/** The transfers of one signed-in account. */
export class DeviceTransfers implements IncomingReferHandler {
  private readonly sources = new Map<string, SourceTransfer>();
  private readonly joins = new Map<string, TargetJoin>();
  private readonly offers = new WeakMap<IncomingRefer, JoinOffer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private auto: boolean;
  private closed = false;
  private readonly stopResumed: () => void;

  constructor(private readonly options: DeviceTransfersOptions) {
    this.auto = options.autoAccept ?? false;
    // The "Join refused, the far side's next message opens a new session" branch: resync like after a join.
    this.stopResumed = options.chat.onSessionResumed((conversationId) => this.resyncSoon(conversationId));
  }

  /** Whether Join requests are accepted without prompting. */
  get autoAccept(): boolean {
    return this.auto;
  }

  set autoAccept(on: boolean) {
    this.auto = on;
  }

  /** Moves under way from this device. */
  get activeMoves(): number {
    return [...this.sources.values()].filter((s) => !s.final).length;
  }

  // ─── Source ───────────────────────────────────────────────────────────────────────────────────────────

  /** Move a conversation by the target's `+sip.instance` (from the device list). Resolves with the transfer id. */
  moveToInstance(conversationId: string, targetInstanceId: string): string {
    this.activeCarrier(conversationId); // the conversation first: nothing to move is the first thing to say
    const device = this.options.devices().find((d) => d.instanceId.toLowerCase() === targetInstanceId.toLowerCase());
    if (!device) throw new DeviceApiError('not-found', `no device ${targetInstanceId} in your device list`);
    if (device.self) throw new DeviceApiError('invalid-argument', 'the conversation is already on this device');
    if (!device.cpmCapable) throw new DeviceApiError('invalid-argument', `${device.name} cannot take CPM sessions`);
    return this.move(conversationId, { gruu: device.pubGruu, name: device.name });
  }

  /**
   * Send the move request for the session carrying `conversationId` (PROFILE.md steps 2–3). Conversation
   * Server A decides (403/404/480/481/488/491 come back as a failed `transferProgress`).
   */
  move(conversationId: string, target: MoveTarget): string {
    const session = this.activeCarrier(conversationId);
    const dialog = session.sip.dialog;
    if (!dialog) throw new DeviceApiError('invalid-state', 'the session has no dialog yet');
    const x = this.options.transferServiceUri;
    if (!x) throw new DeviceApiError('invalid-state', 'the account has no transfer service URI');
    const ours = this.options.ua.pubGruu;
    if (!ours) throw new DeviceApiError('invalid-state', 'no GRUU: not registered with a GRUU-capable registrar');
    // RFC 4538 §4: the tags as the far side (the REFER's eventual recipient of INVITE J) sees them.
    const targetDialog = formatTargetDialog({ callId: dialog.callId, localTag: dialog.remoteTag, remoteTag: dialog.localTag });
    const transferId = randomUUID();
    const transfer = new SourceTransfer(
      {
        sendRefer: (handlers) => this.sendRefer({ target: x, referTo: target.gruu, referredBy: ours, targetDialog }, handlers),
        depositHistory: () => this.deposit(),
        release: () => session.end(`moved to ${target.name}`),
      },
      target.name,
    );
    this.sources.set(transferId, transfer);
    const progress = (phase: TransferPhase, statusCode: number | null, result?: SourceTransferResult): void =>
      this.options.emit('transferProgress', {
        transferId,
        conversationId,
        role: 'source',
        phase,
        statusCode,
        ...(result ? { outcome: result.outcome, description: result.description } : {}),
      });
    let lastStatus: number | null = null;
    transfer.on('progress', (status) => {
      lastStatus = status;
    });
    transfer.on('stateChange', (_from, to) => {
      if (to === SourceTransferState.Accepted) progress('accepted', 202);
      else if (to === SourceTransferState.Moving) progress('accepted', lastStatus ?? 100);
      else if (to === SourceTransferState.Releasing) {
        // The release NOTIFY: from now on the thread here is read-only and says where it went.
        this.options.chat.markMoved(conversationId, target.name);
        progress('replaced', 200);
      }
    });
    transfer.on('done', (result) => {
      this.sources.delete(transferId);
      progress(phaseOfResult(result), result.status === 0 ? null : clampStatus(result.status), result);
    });
    const ended = (to: ChatSessionState): void => {
      if (to === ChatSessionState.Ended || to === ChatSessionState.Failed) transfer.sessionEnded();
    };
    session.on('stateChange', ended);
    transfer.once('done', () => session.off('stateChange', ended));
    progress('requested', null);
    try {
      transfer.start();
    } catch (error) {
      this.sources.delete(transferId);
      throw new DeviceApiError('invalid-argument', `cannot send the move request: ${error instanceof Error ? error.message : String(error)}`);
    }
    return transferId;
  }

  private activeCarrier(conversationId: string): ChatSession {
    const session = this.options.chat.carrier(conversationId);
    if (!session || session.state !== ChatSessionState.Active) throw new DeviceApiError('invalid-state', 'no active session carries this conversation');
    return session;
  }

  /** The source's `sendRefer` port: the REFER's final response and each NOTIFY's sipfrag go to the role. */
  private sendRefer(options: OutgoingReferOptions, handlers: Parameters<SourceTransferPorts['sendRefer']>[0]): void {
    const subscriber = this.options.ua.sendOutOfDialogRefer(options);
    subscriber.on('response', (status, reason) => handlers.response(status, reason));
    subscriber.on('notify', (n) => handlers.notify(n.sipfrag.status, n.sipfrag.reason, n.subscriptionState.state === 'terminated'));
    subscriber.on('stateChange', (to) => {
      if (to !== ReferSubscriberState.Terminated) return;
      const t = subscriber.termination;
      if (!t) return;
      if (t.kind === 'timeout') handlers.failed(408, 'Request Timeout');
      else if (t.kind === 'transport-error') handlers.failed(503, 'Service Unavailable');
      else if (t.kind === 'expired') handlers.failed(408, 'Subscription Expired');
      else if (t.kind === 'cancelled') handlers.failed(487, 'Request Terminated');
      // rejected / notified: the response or the NOTIFY already reported it
    });
  }

  private async deposit(): Promise<void> {
    const history = this.options.history;
    if (!history) return;
    const limit = this.options.depositTimeoutMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      history.deposit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limit);
        timer.unref();
      }),
    ]);
    if (timer) clearTimeout(timer);
  }

  // ─── Target ───────────────────────────────────────────────────────────────────────────────────────────

  /** IncomingReferHandler: PROFILE.md steps 6–9, 403 unless asserted as X and referred by one of our devices. */
  async authorize(refer: IncomingRefer): Promise<ReferVerdict> {
    const x = this.options.transferServiceUri;
    if (!x || this.closed) return { accept: false, status: 403, reason: 'Forbidden: no transfer service here' };
    const own = this.options.devices().map((d) => d.pubGruu);
    if (this.options.ua.pubGruu) own.push(this.options.ua.pubGruu);
    const body = refer.request.body;
    const verdict = authorizeJoinRefer(
      {
        assertedIdentity: refer.request.getHeader('P-Asserted-Identity'),
        referTo: refer.referTo,
        referredBy: refer.referredBy ?? undefined,
        contentType: refer.request.getHeader('Content-Type'),
        body: typeof body === 'string' ? body : undefined,
      },
      { transferServiceUri: x, ownDeviceGruus: own },
    );
    if ('status' in verdict) return { accept: false, status: verdict.status, reason: verdict.reason };
    this.offers.set(refer, verdict);
    return { accept: true };
  }

  /** IncomingReferHandler: the 202 and NOTIFY 100 went out; prompt, or accept at once with auto-accept. */
  accepted(refer: IncomingRefer, subscription: ReferNotifier): void {
    const offer = this.offers.get(refer);
    if (!offer) {
      void subscription.finish(500, 'Server Internal Error');
      return;
    }
    const joinId = randomUUID();
    const promptMs = this.options.joinPromptMs ?? 60_000;
    let lastInviteStatus: number | null = null;
    const join = new TargetJoin(
      offer,
      {
        notify: (status, reason, final) => void (final ? subscription.finish(status, reason) : subscription.progress(status, reason)),
        invite: async (o) => {
          const result = await this.inviteJoin(o);
          lastInviteStatus = result.status >= 100 && result.status <= 699 ? result.status : null;
          return result;
        },
      },
      promptMs,
    );
    this.joins.set(joinId, join);
    const conversationId = offer.conversationId;
    const progress = (phase: TransferPhase, statusCode: number | null): void =>
      this.options.emit('transferProgress', { transferId: joinId, conversationId, role: 'target', phase, statusCode });
    // Conversation Server A ends the Join subscription when nobody answered in time (PROFILE.md: 60 s): the
    // prompt is withdrawn.
    let withdrawn = false;
    subscription.on('stateChange', (to) => {
      if (to !== ReferNotifierState.Terminated || join.state !== TargetJoinState.Prompting) return;
      withdrawn = true;
      join.decline('Request Terminated');
    });
    join.on('stateChange', (_from, to) => {
      if (to === TargetJoinState.Inviting) progress('joining', null);
      else if (to === TargetJoinState.Joined) {
        progress('replaced', 200);
        this.resyncSoon(conversationId);
      } else if (to === TargetJoinState.Declined) progress(withdrawn ? 'timed-out' : 'declined', withdrawn ? 408 : 603);
      else if (to === TargetJoinState.Failed) progress('failed', lastInviteStatus);
      if (to !== TargetJoinState.Inviting) this.joins.delete(joinId);
    });
    progress('requested', null);
    if (this.auto) {
      void join.accept();
      return;
    }
    this.options.emit('joinRequest', {
      joinId,
      conversationId,
      peerUri: offer.details.peer.uri,
      peerDisplayName: offer.details.peer.displayName ?? '',
      sourceDeviceName: offer.details.sourceDeviceName,
      expiresAt: Date.now() + promptMs,
    });
  }

  /** The user accepted a Join prompt. */
  acceptJoin(joinId: string): void {
    const join = this.joins.get(joinId);
    if (!join || join.state !== TargetJoinState.Prompting) throw new DeviceApiError('not-found', `no Join request ${joinId} waiting for an answer`);
    void join.accept();
  }

  /** The user declined a Join prompt (NOTIFY sipfrag 603). */
  declineJoin(joinId: string): void {
    const join = this.joins.get(joinId);
    if (!join || join.state !== TargetJoinState.Prompting) throw new DeviceApiError('not-found', `no Join request ${joinId} waiting for an answer`);
    join.decline();
  }

  /** Steps 10–13: fetch the history, then INVITE J; resolves with the INVITE's final status. */
  private async inviteJoin(offer: JoinOffer): Promise<{ status: number; reason: string }> {
    await this.sync(offer.conversationId);
    const historyCursor = offer.details.historyCursor;
    if (historyCursor !== undefined) void this.catchUp(offer.conversationId, historyCursor);
    const headers = offer.inviteHeaders.filter((h) => !NEVER_EMBEDDED.has(h.name.toLowerCase())).map((h) => `${h.name}: ${h.value}`);
    headers.push(`Referred-By: <${offer.referredBy}>`);
    let session: ChatSession;
    try {
      session = this.options.chat.join({
        target: offer.joinUri,
        conversationId: offer.conversationId,
        peerUri: offer.details.peer.uri,
        peerDisplayName: offer.details.peer.displayName ?? '',
        extraHeaders: headers,
      });
    } catch (error) {
      return { status: 500, reason: error instanceof Error ? error.message.slice(0, 60) : 'INVITE failed' };
    }
    return new Promise((resolve) => {
      const settle = (to: ChatSessionState): void => {
        if (to === ChatSessionState.Active) resolve({ status: 200, reason: 'OK' });
        else if (to === ChatSessionState.Ended || to === ChatSessionState.Failed) resolve(statusOfCause(session.cause));
        else return;
        session.off('stateChange', settle);
      };
      session.on('stateChange', settle);
    });
  }

  /**
   * Joined, or a new session resumed a conversation we had: look in the Message Store now, and again when the
   * source's deposit and BYE are due (a source that is alive deposits before its BYE).
   */
  private resyncSoon(conversationId: string): void {
    if (this.closed) return;
    void this.sync(conversationId);
    for (const ms of this.options.resyncAfterJoinMs ?? [1_500, 5_000]) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.sync(conversationId);
      }, ms);
      timer.unref();
      this.timers.add(timer);
    }
  }

  /**
   * The store held at least `historyCursor` of the conversation when the Join went out (PROFILE.md steps 6–9):
   * while this device's store cursor is behind it, fetch again after each of `catchUpRetryMs`. Never rejects.
   */
  private async catchUp(conversationId: string, historyCursor: string): Promise<void> {
    const ledger = this.options.history;
    if (!ledger?.storeCursor) return;
    const behind = (): boolean => {
      if (this.closed) return false;
      try {
        return isHistoryBehind(ledger.storeCursor?.(conversationId) ?? null, historyCursor);
      } catch {
        return false; // the history is closing
      }
    };
    for (const ms of this.options.catchUpRetryMs ?? [50, 250, 750]) {
      if (!behind()) return;
      await this.wait(ms);
      if (!behind()) return;
      await this.sync(conversationId);
    }
  }

  /** Resolves after `ms`, unless the device signs out first (then never). */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.timers.add(timer);
    });
  }

  /** Fetch a conversation from the Message Store; raise `message` for what is new here. Never rejects. */
  async sync(conversationId: string): Promise<void> {
    if (!this.options.history || this.closed) return;
    try {
      const added = await this.options.history.syncConversation(conversationId);
      for (const m of added) this.options.emit('message', m);
    } catch {
      // the store is unreachable: the history stays as it is; the next sync catches up
    }
  }

  /** Sign-out: decline open prompts, stop timers. */
  close(): void {
    this.closed = true;
    this.stopResumed();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const join of this.joins.values()) join.decline('Decline');
    this.joins.clear();
  }
}

function phaseOfResult(result: SourceTransferResult): TransferPhase {
  switch (result.outcome) {
    case 'moved':
      return 'completed';
    case 'declined':
      return 'declined';
    case 'no-answer':
      return 'timed-out';
    default:
      return 'failed';
  }
}

function clampStatus(status: number): number | null {
  return Number.isInteger(status) && status >= 100 && status <= 699 ? status : null;
}

/**
 * The INVITE J's outcome for Conversation Server A's NOTIFY: `486 Busy Here` → 486; the far side ending the new
 * session before it was up (its BYE, or a 481 to our MSRP binding: T had ended, e.g. its source crashed) →
 * 481, as a Join INVITE arriving after T ended gets (PROFILE.md); anything else (a local failure) → 500.
 */
function statusOfCause(cause: string | null): { status: number; reason: string } {
  const m = /^([3-6]\d\d)\s*(.*)$/.exec(cause ?? '');
  if (m) return { status: Number(m[1]), reason: m[2] || 'Failed' };
  if (cause === EndCause.RemoteBye || cause === EndCause.MsrpRefused) return { status: 481, reason: 'Call/Transaction Does Not Exist' };
  return { status: 500, reason: (cause ?? 'INVITE failed').slice(0, 60) };
}
