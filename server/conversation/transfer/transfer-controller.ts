/**
 * The transfer controller of Conversation Server A: CPM-MLD-009, "switch a CPM Session from one device to
 * another device", exactly as PROFILE.md maps the seed's steps, in both modes.
 *
 * - Steps 2–5: the source's out-of-dialog `REFER X` (Refer-To: the target's GRUU, Target-Dialog: T,
 *   Referred-By: the source's GRUU) is authorized with PROFILE.md's statuses, answered 202, and followed by
 *   `NOTIFY` sipfrag `100 Trying` (RFC 3515 §2.4.4, RFC 6665).
 * - Steps 6–9: the Join REFER to the target's GRUU, with Refer-To J carrying the embedded Target-Dialog,
 *   `Require: tdialog`, Conversation-ID and InReplyTo-Contribution-ID (RFC 3261 §19.1.1 escaping), the
 *   `application/vnd.cpm.session-transfer+json` body (with the Message Store's history cursor of the
 *   conversation, when the domain has a store that holds it), and our identity X asserted.
 * - Steps 14–21: the target's NOTIFY sipfrag `200 OK` (Session Replaced) → the release NOTIFY to the source.
 * - Failures: the target declines (603), does not answer in 60 s (we end the Join subscription, tell the
 *   source 408, and refuse a late INVITE J with 481), its REFER fails, or the session ends: the source is told,
 *   keeps its session, and nothing else changes.
 * - The session table hears when a move starts and ends (`moveStarted` / `moveEnded`): in-path, a source whose
 *   MSRP leg vanishes mid-move (it crashed right after its REFER) does not take T down with it while the target
 *   may still join; T ends if the move then fails.
 */
import { randomBytes } from 'node:crypto';
import { encodeSessionTransfer, SESSION_TRANSFER_CONTENT_TYPE, SessionTransferError, type SessionTransfer } from '../../../protocol/cpm/session-transfer';
import { CpmHeader } from '../../../protocol/cpm/cpm-headers';
import { formatReferTo } from '../../../protocol/sip/refer-to';
import { formatSipfrag, formatTargetDialog, parseSipfragStatus, parseSubscriptionState, parseTargetDialog, type TargetDialog } from '../../../protocol/sip/refer-headers';
import { parseNameAddr } from '../../sip/message/name-addr';
import { createRequest, reasonPhrase, type SipRequest, type SipResponse } from '../../sip/message/sip-message';
import { getUriParam, parseUri } from '../../sip/message/sip-uri';
import { Dialog, dialogIdOfRequest, dialogKey } from '../../sip/dialog/dialog';
import { targetFromUri } from '../../sip/proxy/next-hop';
import { buildResponse } from '../../sip/transaction/response-builder';
import type { ServerTransaction, TransactionLayer } from '../../sip/transaction/transaction-layer';
import type { Endpoint, ReceivedMessage, SendTarget } from '../../sip/transport/transport-types';
import type { MessageSink } from '../../store/message-sink';
import type { DeviceRegistry } from '../registry/device-registry';
import type { CpmSessionInfo, SessionParty } from '../session-handler';
import { TransferState, TransferStateMachine } from './transfer-state';

/** Where the controller finds the session a Target-Dialog names (the mode's session table). */
export interface TransferSessionDirectory {
  findByDialog(callId: string, tagA: string, tagB: string): CpmSessionInfo | undefined;
  /**
   * T's remote target as the source knows it, when it is not the far party's own target: in-path, the URI of
   * this server's leg towards the source. Undefined in proxy mode (the far party's target is J).
   */
  legTargetFor?(session: CpmSessionInfo, source: SessionParty): string | undefined;
  /**
   * In-path: the release NOTIFY went to the source (steps 18–21); start the time-out after which the server ends
   * the source's leg itself if no BYE comes (PROFILE.md: 5 s). Absent in proxy mode (the far side has 32 s).
   */
  releaseLeg?(callId: string, tagA: string, tagB: string): boolean;
  /**
   * In-path: a move of T is under way (authorized, the Join REFER going out). Until `moveEnded`, the source's
   * MSRP leg going away (the source crashed right after its REFER) does not end T: the far side's messages are
   * held for the target. Absent in proxy mode (T's far side is not this server).
   */
  moveStarted?(callId: string, tagA: string, tagB: string): boolean;
  /** In-path: the move of T is over, the target's session `replaced` T or the move `failed` (T goes on or ends). */
  moveEnded?(callId: string, tagA: string, tagB: string, outcome: 'replaced' | 'failed'): void;
}

/** Options of the controller. */
export interface TransferControllerOptions {
  domain: string;
  layer: TransactionLayer;
  /** This server's TLS address (Via). */
  self: Endpoint;
  /** This server's Contact URI (routable: a `cpm-cs-` identity of its domain). */
  contact: string;
  /** The domain core's internal address: out-of-dialog requests go there. */
  core: Endpoint;
  /** When the core's address is known only later (the lab starts the server first): read at each send. */
  coreAddress?: () => Endpoint;
  /** The transfer service URI X (PROFILE.md), also the identity asserted on the Join REFER. */
  serviceUri: string;
  registry: DeviceRegistry;
  sessions: TransferSessionDirectory;
  /** How long the target may take to answer (PROFILE.md: 60 s). */
  targetAnswerMs?: number;
  /**
   * The domain's Message Store, read for the Join REFER body's `historyCursor` (PROFILE.md steps 6–9); absent
   * when the domain has none (the body then has no cursor).
   */
  history?: Pick<MessageSink, 'cursor'>;
  /** How long a finished transfer's dialog stays known, so a late INVITE J gets 481 (default 64 s). */
  tombstoneMs?: number;
  log?: (line: string) => void;
}

/** A transfer under way (or just ended). */
export interface TransferRecord {
  readonly id: string;
  readonly machine: TransferStateMachine;
  readonly session: CpmSessionInfo;
  readonly source: SessionParty;
  readonly far: SessionParty;
  /** T as the far side sees it (RFC 4538 §4). */
  readonly targetDialog: TargetDialog;
  readonly targetGruu: string;
  readonly targetDeviceName: string | undefined;
  readonly sourceDeviceName: string | undefined;
  /** J, without embedded headers. */
  readonly joinUri: string;
  /** The source's subscription (we notify): created by its REFER. */
  readonly sourceSubscription: Dialog;
  readonly sourceEventId: number;
  /** The Join subscription (we subscribe): created by the target's 2xx to our REFER. */
  joinSubscription?: Dialog;
  joinCallId: string;
  joinLocalTag: string;
  joinEventId: number;
  timer?: NodeJS.Timeout;
}

const ROUTABLE_SERVICE_PREFIX = 'cpm-cs-';

/** CS A's transfer controller (see the module comment). */
export class TransferController {
  private readonly byT = new Map<string, TransferRecord>();
  private readonly byJoin = new Map<string, TransferRecord>();
  /** Dialog keys of transfers that ended by time-out: a late INVITE J is refused with 481. */
  private readonly expired = new Map<string, number>();
  /** Transfers whose end the session table was told of (`moveEnded`). */
  private readonly movesOver = new WeakSet<TransferRecord>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: TransferControllerOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** Transfers not yet final (tests check it returns to 0). */
  activeCount(): number {
    let n = 0;
    for (const r of this.byT.values()) if (!r.machine.final) n++;
    return n;
  }

  /** The transfer of T, if one is under way. */
  transferOf(callId: string, tagA: string, tagB: string): TransferRecord | undefined {
    return this.byT.get(tKey(callId, tagA, tagB));
  }

  /** Whether a request is for the controller: a REFER to X, or a NOTIFY on a Join subscription. */
  wants(request: SipRequest): boolean {
    if (request.method === 'REFER' && !hasToTag(request)) return this.isServiceUri(request.uri);
    if (request.method === 'NOTIFY') return this.joinFor(request) !== undefined;
    return false;
  }

  /** Serve a request `wants` accepted. Never throws. */
  handleRequest(tx: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message as SipRequest;
    try {
      if (request.method === 'REFER') this.onTransferRefer(tx, request);
      else this.onJoinNotify(tx, request);
    } catch (error) {
      this.log(`transfer: ${request.method} failed: ${error instanceof Error ? error.message : String(error)}`);
      try {
        tx.respond(buildResponse(request, 500, { toTag: newTag() }));
      } catch {
        // already answered
      }
    }
  }

  /**
   * For the session handler, when an INVITE with Target-Dialog arrives (in-path as its recipient, in proxy
   * mode as the originating proxy): undefined to go on, or the status to refuse it with (481 for a transfer
   * that timed out or does not exist, 403 for a device other than the transfer's target).
   */
  checkJoinInvite(request: SipRequest): { status: number; reason: string } | undefined {
    const header = request.headers.get('Target-Dialog');
    if (header === undefined) return undefined;
    let td: TargetDialog;
    try {
      td = parseTargetDialog(header);
    } catch {
      return { status: 400, reason: 'Bad Target-Dialog' };
    }
    const key = tKey(td.callId, td.localTag, td.remoteTag);
    this.pruneExpired();
    const record = this.byT.get(key);
    if (!record || record.machine.final) {
      if (this.expired.has(key)) return { status: 481, reason: 'Transfer Timed Out' };
      return this.options.sessions.findByDialog(td.callId, td.localTag, td.remoteTag)
        ? undefined // a continuation the far side will judge (RFC 4538 §4)
        : { status: 481, reason: 'Call/Transaction Does Not Exist' };
    }
    const asserted = aorOf(request.headers.first('P-Asserted-Identity'));
    if (asserted !== record.source.aor) return { status: 403, reason: 'Forbidden: not the transferring user' };
    return undefined;
  }

  /** The session ended (BYE on T, or it failed): a transfer under way fails; one releasing completes. */
  sessionEnded(callId: string, tagA: string, tagB: string, byeFromSource: boolean): void {
    const record = this.byT.get(tKey(callId, tagA, tagB));
    if (!record || record.machine.final) return;
    if (record.machine.state === TransferState.Releasing) {
      this.finish(record, TransferState.Completed, byeFromSource ? 'source released T' : 'T ended');
      return;
    }
    this.fail(record, 487, 'Session Ended', 'the session ended during the move');
  }

  /** End every transfer's timers (server shutdown). */
  close(): void {
    for (const r of this.byT.values()) if (r.timer) clearTimeout(r.timer);
    this.byT.clear();
    this.byJoin.clear();
    this.expired.clear();
  }

  // -- steps 2–9 ------------------------------------------------------------------------------------------

  private onTransferRefer(tx: ServerTransaction, request: SipRequest): void {
    const refuse = (status: number, reason: string): void => tx.respond(buildResponse(request, status, { toTag: newTag(), reason }));
    const referToValue = request.headers.get('Refer-To');
    const tdValue = request.headers.get('Target-Dialog');
    const referredByValue = request.headers.get('Referred-By');
    if (referToValue === undefined || tdValue === undefined || referredByValue === undefined) {
      return refuse(400, 'Bad Request: Refer-To, Target-Dialog and Referred-By are required');
    }
    if (request.headers.getAll('Refer-To').length !== 1) return refuse(400, 'Bad Request: exactly one Refer-To');
    let td: TargetDialog;
    let referTo: string;
    let referredBy: string;
    try {
      td = parseTargetDialog(tdValue);
      referTo = bareUri(parseNameAddr(referToValue).uriText);
      referredBy = bareUri(parseNameAddr(referredByValue).uriText);
    } catch (error) {
      return refuse(400, `Bad Request: ${error instanceof Error ? error.message : 'malformed header'}`.slice(0, 120));
    }

    // 481: no such session.
    const session = this.options.sessions.findByDialog(td.callId, td.localTag, td.remoteTag);
    if (!session) return refuse(481, 'Call/Transaction Does Not Exist');
    const source = session.caller.tag === td.remoteTag ? session.caller : session.callee.tag === td.remoteTag ? session.callee : undefined;
    const far = source === session.caller ? session.callee : session.caller;
    if (!source) return refuse(481, 'Call/Transaction Does Not Exist');

    // 403: the asserted identity must own T; Referred-By must be T's local target (the device that holds T).
    const asserted = aorOf(request.headers.first('P-Asserted-Identity'));
    if (!asserted || asserted !== source.aor) return refuse(403, 'Forbidden: you do not own this session');
    if (!sameTarget(referredBy, source.target)) return refuse(403, 'Forbidden: Referred-By is not the device holding the session');

    // 404 / 403 / 480: the target GRUU.
    const target = this.options.registry.deviceByGruu(referTo);
    if (!target) return refuse(404, 'Not Found: unknown GRUU');
    if (target.aor !== source.aor) return refuse(403, "Forbidden: the target is another user's device");
    if (!target.cpmCapable) return refuse(480, 'Temporarily Unavailable: target is not CPM-capable');
    if (sameTarget(referTo, source.target)) return refuse(403, 'Forbidden: the session is already on that device');

    // 491: one move of T at a time.
    const key = tKey(td.callId, td.localTag, td.remoteTag);
    const existing = this.byT.get(key);
    if (existing && !existing.machine.final) return refuse(491, 'Request Pending: a transfer of this session is under way');

    // 488: T's remote target must be routable for the target device (a GRUU or a Conversation Server identity).
    const joinUri = this.options.sessions.legTargetFor?.(session, source) ?? far.target;
    if (!isRoutableTarget(joinUri)) return refuse(488, 'Not Acceptable Here: the session peer has no GRUU');

    // Accepted (steps 4–5): 202, then NOTIFY 100 Trying.
    const localTag = newTag();
    const sourceSubscription = Dialog.fromUas(request, localTag, `<${this.options.contact}>`);
    tx.respond(
      buildResponse(request, 202, {
        toTag: localTag,
        headers: [{ name: 'Contact', value: `<${this.options.contact}>` }],
      }),
    );
    const record: TransferRecord = {
      id: randomBytes(6).toString('hex'),
      machine: new TransferStateMachine(),
      session,
      source,
      far,
      targetDialog: { callId: td.callId, localTag: td.localTag, remoteTag: td.remoteTag },
      targetGruu: target.pubGruu ?? referTo,
      targetDeviceName: target.name,
      sourceDeviceName: this.options.registry.deviceByGruu(source.target)?.name,
      joinUri,
      sourceSubscription,
      sourceEventId: cseqNumber(request),
      joinCallId: `join-${randomBytes(10).toString('hex')}@${this.options.domain}`,
      joinLocalTag: newTag(),
      joinEventId: 1,
    };
    this.byT.set(key, record);
    this.byJoin.set(joinKey(record.joinCallId, record.joinLocalTag), record);
    record.machine.on('stateChange', (from, to, why) => this.log(`transfer ${record.id}: ${from} → ${to} (${why})`));
    this.options.sessions.moveStarted?.(td.callId, td.localTag, td.remoteTag);
    this.notifySource(record, 100, 'Trying', false);
    this.sendJoinRefer(record);
    record.timer = setTimeout(() => this.onTargetTimeout(record), this.options.targetAnswerMs ?? 60_000);
    record.timer.unref();
  }

  /** Steps 6–7: the Join Session Notification. */
  private sendJoinRefer(record: TransferRecord): void {
    const { session, source } = record;
    const referTo = formatReferTo({
      uri: record.joinUri,
      headers: [
        { name: 'Target-Dialog', value: formatTargetDialog(record.targetDialog) },
        { name: 'Require', value: 'tdialog' },
        { name: CpmHeader.ConversationId, value: session.conversationId },
        { name: CpmHeader.InReplyToContributionId, value: session.contributionId },
      ],
    });
    const peer = record.far === session.caller ? session.caller : session.callee;
    const body = this.transferBody(record, {
      version: 1,
      conversationId: session.conversationId,
      peer: { uri: peer.aor, ...(peer.displayName ? { displayName: peer.displayName } : {}) },
      sourceDeviceName: record.sourceDeviceName ?? 'another device',
    });
    const request = createRequest(
      'REFER',
      record.targetGruu,
      [
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: `<${this.options.serviceUri}>;tag=${record.joinLocalTag}` },
        { name: 'To', value: `<${record.targetGruu}>` },
        { name: 'Call-ID', value: record.joinCallId },
        { name: 'CSeq', value: `${record.joinEventId} REFER` },
        { name: 'Contact', value: `<${this.options.contact}>` },
        { name: 'Refer-To', value: referTo },
        { name: 'Referred-By', value: `<${source.target}>` },
        { name: 'P-Asserted-Identity', value: `<${this.options.serviceUri}>` },
        { name: 'Event', value: 'refer' },
        { name: 'Content-Type', value: SESSION_TRANSFER_CONTENT_TYPE },
      ],
      body,
    );
    this.send(request, undefined, (response) => {
      if (record.machine.final) return;
      if (response.status >= 200 && response.status < 300) {
        try {
          record.joinSubscription ??= Dialog.fromUac(request, response, `<${this.options.contact}>`);
        } catch {
          // a 2xx without Contact: NOTIFYs still match by Call-ID and tags
        }
        if (record.machine.state === TransferState.Joining) record.machine.transition(TransferState.AwaitingTarget, `Join REFER ${response.status}`);
      } else if (response.status >= 300) {
        // The target refused or could not be reached: tell the source why (PROFILE.md: declined, device gone…).
        this.fail(record, response.status, response.reason, `Join REFER answered ${response.status}`);
      }
    });
  }

  /**
   * The Join REFER body: `details`, and `historyCursor`, the Message Store's position in the conversation of
   * our user (the source's AOR) as the Join goes out, for the target to know when its history has caught up.
   * It means "the store held at least this much": in-path, this server records what it relays in batches
   * (RelayHistory, ~100 ms), so messages relayed just before the Join may be written just after it, beyond
   * this cursor; in proxy mode the store holds what the devices deposited. Left out without a store, when the
   * store does not have the conversation, or when the store's cursor is not fit for the body (the move goes
   * on without it).
   */
  private transferBody(record: TransferRecord, details: SessionTransfer): string {
    let historyCursor: string | undefined;
    try {
      historyCursor = this.options.history?.cursor?.(record.source.aor, record.session.conversationId);
    } catch (error) {
      // `cursor` never throws by contract; a sink that does must not stop the move.
      this.log(`transfer ${record.id}: no history cursor: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (historyCursor === undefined) return encodeSessionTransfer(details);
    try {
      return encodeSessionTransfer({ ...details, historyCursor });
    } catch (error) {
      if (!(error instanceof SessionTransferError) || error.field !== 'historyCursor') throw error;
      this.log(`transfer ${record.id}: the store's history cursor is unfit for the Join body (${error.message}); left out`);
      return encodeSessionTransfer(details);
    }
  }

  // -- the Join subscription (steps 8–9, 14–17) ------------------------------------------------------------

  private joinFor(request: SipRequest): TransferRecord | undefined {
    const id = dialogIdOfRequest(request);
    if (!id) return undefined;
    return this.byJoin.get(joinKey(id.callId, id.localTag));
  }

  private onJoinNotify(tx: ServerTransaction, request: SipRequest): void {
    const record = this.joinFor(request);
    const reply = (status: number, reason?: string): void => tx.respond(buildResponse(request, status, reason ? { reason } : {}));
    if (!record) return reply(481);
    const event = request.headers.get('Event') ?? '';
    const id = /;\s*id\s*=\s*(\d+)/i.exec(event)?.[1];
    if (!/^\s*refer\b/i.test(event) || (id !== undefined && Number(id) !== record.joinEventId)) return reply(489, 'Bad Event');
    if (record.joinSubscription) {
      const refused = record.joinSubscription.receiveRequest(request);
      if (refused) return reply(refused.status, refused.reason);
    }
    let status: number;
    let state: string;
    try {
      status = parseSipfragStatus(new TextDecoder().decode(request.body)).status;
      state = parseSubscriptionState(request.headers.get('Subscription-State') ?? '').state;
    } catch (error) {
      return reply(400, `Bad Request: ${error instanceof Error ? error.message : 'bad NOTIFY'}`.slice(0, 100));
    }
    reply(200);
    if (record.machine.final) return;
    if (status < 200) {
      if (record.machine.state === TransferState.Joining) record.machine.transition(TransferState.AwaitingTarget, `target NOTIFY ${status}`);
      return;
    }
    if (status >= 200 && status < 300) {
      this.onSessionReplaced(record);
      return;
    }
    // 603 Decline, or any failure the target reports (its INVITE failed): the source keeps T.
    this.fail(record, status, reasonPhrase(status), `target reported ${status} (${state})`);
  }

  /** Steps 14–21: the target's session is up; release the source. */
  private onSessionReplaced(record: TransferRecord): void {
    if (record.machine.state === TransferState.Replaced || record.machine.state === TransferState.Releasing) return;
    record.machine.transition(TransferState.Replaced, 'target NOTIFY 200 (Session Replaced)');
    if (record.timer) clearTimeout(record.timer);
    this.moveEnded(record, 'replaced');
    this.notifySource(record, 200, 'OK', true);
    record.machine.transition(TransferState.Releasing, 'release NOTIFY sent');
    const td = record.targetDialog;
    this.options.sessions.releaseLeg?.(td.callId, td.localTag, td.remoteTag);
    // Completed when T ends (sessionEnded); whoever terminates T enforces the BYE time-out (PROFILE.md).
    record.timer = setTimeout(() => this.finish(record, TransferState.Completed, 'released (T left to its far side)'), 64_000);
    record.timer.unref();
  }

  private onTargetTimeout(record: TransferRecord): void {
    if (record.machine.final || record.machine.state === TransferState.Replaced || record.machine.state === TransferState.Releasing) return;
    // PROFILE.md: end the Join subscription, tell the source 408, refuse a late INVITE J with 481.
    if (record.joinSubscription) {
      try {
        const unsubscribe = record.joinSubscription.createRequest('SUBSCRIBE');
        unsubscribe.headers.append('Event', `refer;id=${record.joinEventId}`);
        unsubscribe.headers.append('Expires', '0');
        this.send(unsubscribe, record.joinSubscription, () => undefined);
      } catch {
        // the subscription is gone already
      }
    }
    this.expired.set(tKey(record.targetDialog.callId, record.targetDialog.localTag, record.targetDialog.remoteTag), Date.now() + (this.options.tombstoneMs ?? 64_000));
    this.fail(record, 408, 'Request Timeout', 'the target did not answer in time');
  }

  private fail(record: TransferRecord, status: number, reason: string, why: string): void {
    if (record.machine.final) return;
    this.notifySource(record, status, reason, true);
    this.finish(record, TransferState.Failed, why);
  }

  private finish(record: TransferRecord, state: TransferState.Completed | TransferState.Failed, why: string): void {
    if (record.machine.final) return;
    record.machine.transition(state, why);
    if (record.timer) clearTimeout(record.timer);
    const key = tKey(record.targetDialog.callId, record.targetDialog.localTag, record.targetDialog.remoteTag);
    if (this.byT.get(key) === record) this.byT.delete(key);
    this.byJoin.delete(joinKey(record.joinCallId, record.joinLocalTag));
    // Last: a failed move of a source whose MSRP is gone ends T, and that comes back here as `sessionEnded`.
    this.moveEnded(record, 'failed');
  }

  /**
   * Tell the session table, once per transfer, that the move of T is over (in-path: a source leg whose MSRP was
   * lost meanwhile then ends T if the move failed). A move that reached Replaced was told so already.
   */
  private moveEnded(record: TransferRecord, outcome: 'replaced' | 'failed'): void {
    if (this.movesOver.has(record)) return;
    this.movesOver.add(record);
    const td = record.targetDialog;
    try {
      this.options.sessions.moveEnded?.(td.callId, td.localTag, td.remoteTag, outcome);
    } catch (error) {
      this.log(`transfer ${record.id}: ending the move in the session table failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A NOTIFY on the source's subscription (RFC 3515 §2.4.5, PROFILE.md "Subscriptions"). */
  private notifySource(record: TransferRecord, status: number, reason: string, last: boolean): void {
    try {
      const notify = record.sourceSubscription.createRequest('NOTIFY', { type: 'message/sipfrag;version=2.0', content: formatSipfrag(status, reason) });
      notify.headers.append('Event', `refer;id=${record.sourceEventId}`);
      notify.headers.append('Subscription-State', last ? 'terminated;reason=noresource' : 'active;expires=120');
      this.send(notify, record.sourceSubscription, () => undefined);
    } catch (error) {
      this.log(`transfer ${record.id}: cannot notify the source: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // -- sending --------------------------------------------------------------------------------------------

  /** Send a request with our Via: in a dialog along its route set, else to the core. */
  private send(request: SipRequest, dialog: Dialog | undefined, onFinal: (response: SipResponse) => void): void {
    request.headers.prepend('Via', `SIP/2.0/TLS ${hostPort(this.options.self)};branch=z9hG4bK${randomBytes(10).toString('hex')};rport`);
    const core = this.options.coreAddress?.() ?? this.options.core;
    let target: SendTarget = { protocol: 'tls', host: core.host, port: core.port };
    const route = request.headers.first('Route');
    if (route && dialog) {
      try {
        const uri = parseUri(parseNameAddr(route).uriText);
        if (uri.kind === 'sip') target = targetFromUri(uri);
      } catch {
        // fall back to the core
      }
    }
    let settled = false;
    const finalOnce = (response: SipResponse): void => {
      if (settled) return;
      settled = true;
      onFinal(response);
    };
    try {
      const ctx = this.options.layer.sendRequest(request, target);
      ctx.on('response', (response) => {
        if (response.status >= 200) finalOnce(response);
      });
      ctx.on('timeout', () => finalOnce(syntheticResponse(request, 408)));
      ctx.on('transportError', () => finalOnce(syntheticResponse(request, 503)));
    } catch (error) {
      this.log(`transfer: cannot send ${request.method}: ${error instanceof Error ? error.message : String(error)}`);
      queueMicrotask(() => finalOnce(syntheticResponse(request, 503)));
    }
  }

  private isServiceUri(uriText: string): boolean {
    return sameTarget(uriText, this.options.serviceUri);
  }

  private pruneExpired(): void {
    const now = Date.now();
    for (const [k, until] of this.expired) if (until < now) this.expired.delete(k);
  }
}

function tKey(callId: string, tagA: string, tagB: string): string {
  return [callId, ...[tagA, tagB].sort()].join('\n');
}

function joinKey(callId: string, localTag: string): string {
  return `${callId}\n${localTag}`;
}

function newTag(): string {
  return randomBytes(6).toString('hex');
}

function hostPort(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

function hasToTag(request: SipRequest): boolean {
  return /;\s*tag\s*=/i.test(request.headers.get('To') ?? '');
}

function cseqNumber(request: SipRequest): number {
  return Number.parseInt(request.headers.get('CSeq') ?? '0', 10) || 0;
}

function bareUri(text: string): string {
  return text.replace(/^<|>$/g, '').trim();
}

/** `sip:user@host` of a name-addr header value. */
function aorOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const uri = parseUri(parseNameAddr(value).uriText);
    if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
    return `sip:${decodeURIComponent(uri.user)}@${uri.host.toLowerCase()}`;
  } catch {
    return undefined;
  }
}

/** Two targets (GRUUs, Contacts) are the same device: same user, host, port and `gr`. */
function sameTarget(a: string, b: string): boolean {
  try {
    const x = parseUri(bareUri(a));
    const y = parseUri(bareUri(b));
    if (x.kind !== 'sip' || y.kind !== 'sip') return bareUri(a) === bareUri(b);
    return (
      (x.user ?? '') === (y.user ?? '') &&
      x.host.toLowerCase() === y.host.toLowerCase() &&
      (x.port ?? 0) === (y.port ?? 0) &&
      String(getUriParam(x.params, 'gr') ?? '') === String(getUriParam(y.params, 'gr') ?? '')
    );
  } catch {
    return bareUri(a) === bareUri(b);
  }
}

/** A GRUU (RFC 5627) or a Conversation Server identity: something every core can route. */
function isRoutableTarget(uriText: string): boolean {
  try {
    const uri = parseUri(bareUri(uriText));
    if (uri.kind !== 'sip') return false;
    if (getUriParam(uri.params, 'gr') !== undefined) return true;
    return (uri.user ?? '').startsWith(ROUTABLE_SERVICE_PREFIX);
  } catch {
    return false;
  }
}

function syntheticResponse(request: SipRequest, status: number): SipResponse {
  return buildResponse(request, status);
}

