/**
 * The Conversation Server's proxy mode (PROFILE.md, flow 2): a stateful proxy (RFC 3261 §16) on the server's
 * own transaction layer that applies service control to CPM-session INVITEs, Record-Routes them (§16.6
 * item 4) and forwards them along the Route the core set, so that every later request of the dialog (ACK,
 * BYE, re-INVITE, UPDATE…) passes through too. It stays out of the media path.
 *
 * It keeps a {@link SessionTable}: a record per dialog, created on the 2xx, ended on BYE (or when the ACK or
 * the BYE's answer never comes), for the transfer controller to look sessions up by Target-Dialog.
 */
import { aorOfHeader, displayNameOfHeader } from '../../core/domain-core';
import { parseNameAddr } from '../../sip/message/name-addr';
import type { SipRequest, SipResponse } from '../../sip/message/sip-message';
import { parseUri } from '../../sip/message/sip-uri';
import { ProxyCore } from '../../sip/proxy/proxy-core';
import type { ProxyContext, ProxyTarget } from '../../sip/proxy/proxy-hooks';
import type { Rejection } from '../../sip/proxy/request-validation';
import type { ServerTransaction } from '../../sip/transaction/transaction-layer';
import type { ReceivedMessage } from '../../sip/transport/transport-types';
import { fromTagOrNone, toTagOrNone } from '../dialog-tags';
import type { CpmSessionHandler, SessionHandlerEnvironment } from '../session-handler';
import { CpmSessionState, type CpmSessionRecord } from './cpm-session-record';
import { checkCpmInvite, serviceRoleOf, type CpmInviteInfo } from './service-control';
import { SessionTable } from './session-table';

/**
 * Decides on an initial CPM-session INVITE that passed service control: undefined lets it through, a rejection
 * refuses it (the transfer controller refuses a late Join INVITE with 481, PROFILE.md).
 */
export type InviteScreen = (invite: SipRequest, info: CpmInviteInfo) => Rejection | undefined;

/** Proxy mode of one Conversation Server. */
export class ProxyModeHandler implements CpmSessionHandler {
  readonly mode = 'proxy' as const;
  /** The sessions Record-Routed and alive. */
  readonly sessions: SessionTable;
  private readonly proxy: ProxyCore;
  /** What service control found in each accepted initial INVITE (read again when its 2xx passes). */
  private readonly invites = new WeakMap<ReceivedMessage, CpmInviteInfo>();
  /** The session each in-dialog request belongs to (read when its response passes). */
  private readonly inDialog = new WeakMap<ReceivedMessage, CpmSessionRecord>();
  private readonly screens: InviteScreen[] = [];

  constructor(private readonly env: SessionHandlerEnvironment) {
    this.sessions = new SessionTable({ guardMs: 64 * (env.timers?.t1 ?? 500) });
    this.proxy = new ProxyCore({
      transport: env.transport,
      layer: env.layer,
      listen: false,
      ...(env.timers ? { timers: env.timers } : {}),
      hooks: {
        authorize: (request, context) => this.authorize(request, context),
        // Only our own address is ours to resolve: everything else follows its Route or Request-URI.
        isResponsibleFor: (uri) => this.isOwnUriText(uri),
        locate: (request) => this.locate(request),
        recordRoute: (request) => request.method === 'INVITE' && toTagOrNone(request) === undefined,
        rewriteResponse: (response, context) => this.onResponse(response, context),
      },
    });
    this.proxy.on('error', (error) => env.log(`proxy mode: ${error.message}`));
  }

  /** Sessions alive. */
  sessionCount(): number {
    return this.sessions.sessionCount();
  }

  /** Add a screen consulted, in order, for each initial INVITE that passed service control. */
  screenInvites(screen: InviteScreen): void {
    this.screens.push(screen);
  }

  /** The session of a dialog (Call-ID and both tags, either order), as a Target-Dialog names it. */
  findByDialog(callId: string, tagA: string, tagB: string): CpmSessionRecord | undefined {
    return this.sessions.findByDialog(callId, tagA, tagB);
  }

  /**
   * Ours: every initial INVITE (the server's only INVITEs are CPM sessions; service control refuses others
   * clearly), and every request routed through us to someone else (a Route beyond our own entries): ACK,
   * BYE and the rest of a dialog we Record-Routed, and the CANCEL of an INVITE we forwarded.
   */
  wants(request: SipRequest): boolean {
    if (request.method === 'INVITE' && toTagOrNone(request) === undefined) return true;
    return this.routesOnward(request);
  }

  handleRequest(transaction: ServerTransaction, received: ReceivedMessage): void {
    const request = received.message;
    if (request.type === 'request' && request.method === 'BYE') {
      const record = this.sessionOf(request);
      if (record) {
        this.inDialog.set(received, record);
        if (record.state === CpmSessionState.Confirmed || record.state === CpmSessionState.Established) {
          record.transition(CpmSessionState.Terminating);
        }
      }
    } else if (request.type === 'request' && toTagOrNone(request) !== undefined) {
      const record = this.sessionOf(request);
      if (record) this.inDialog.set(received, record);
    }
    this.proxy.handleRequest(transaction, received);
  }

  handleAck(received: ReceivedMessage): void {
    const request = received.message;
    if (request.type === 'request') {
      const record = this.sessionOf(request);
      if (record?.state === CpmSessionState.Confirmed) record.transition(CpmSessionState.Established);
    }
    this.proxy.handleAck(received);
  }

  handleResponse(received: ReceivedMessage): void {
    this.proxy.handleResponse(received);
  }

  close(): void {
    this.proxy.close();
    this.sessions.close();
  }

  // ---------------------------------------------------------------------------------------------------------

  private authorize(request: SipRequest, context: ProxyContext): Rejection | undefined {
    if (request.method !== 'INVITE' || toTagOrNone(request) !== undefined) return undefined;
    const received = context.received.message;
    if (received.type !== 'request') return { status: 400 };
    const role = serviceRoleOf(received, (uri) => this.proxy.addresses.isOwnUri(uri));
    const result = checkCpmInvite(request, role, this.env.domain);
    if (!result.ok) return result.rejection;
    for (const screen of this.screens) {
      const refusal = screen(request, result.info);
      if (refusal) return refusal;
    }
    this.invites.set(context.received, result.info);
    return undefined;
  }

  /** Reached only for a request addressed to us with no Route left: nothing to proxy it to. */
  private locate(request: SipRequest): Rejection | readonly ProxyTarget[] {
    return { status: 404, reason: `Not Found: the Conversation Server does not serve ${request.method} here` };
  }

  /** Every response on its way upstream: 2xx to an INVITE creates a session, the final answer to BYE ends one. */
  private onResponse(response: SipResponse, context: ProxyContext): void {
    const request = context.received.message;
    if (request.type !== 'request') return;
    const ok = response.status >= 200 && response.status < 300;
    const info = this.invites.get(context.received);
    if (info && ok) {
      this.addSession(request, response, info);
      return;
    }
    const record = this.inDialog.get(context.received);
    if (!record || response.status < 200) return;
    if (request.method === 'BYE') {
      if (record.state !== CpmSessionState.Terminating) return;
      // §15.1.1: a 481 or 408 (or no answer, our synthesized 408) ends the dialog as surely as a 2xx.
      if (ok || response.status === 481 || response.status === 408) record.transition(CpmSessionState.Terminated, 'bye');
      else record.transition(CpmSessionState.Established);
      return;
    }
    if (ok && (request.method === 'INVITE' || request.method === 'UPDATE')) {
      // A target refresh (§12.2): each side's Contact, if it sent one, is its new remote target.
      const requester = fromTagOrNone(request);
      const responder = toTagOrNone(response);
      const requestContact = contactUri(request.headers.get('Contact'));
      const responseContact = contactUri(response.headers.get('Contact'));
      if (requester !== undefined && requestContact !== undefined) record.refreshTarget(requester, requestContact);
      if (responder !== undefined && responseContact !== undefined) record.refreshTarget(responder, responseContact);
    }
  }

  private addSession(invite: SipRequest, response: SipResponse, info: CpmInviteInfo): void {
    const callId = invite.headers.get('Call-ID');
    const callerTag = fromTagOrNone(invite);
    const calleeTag = toTagOrNone(response);
    const callerAor = aorOfHeader(invite.headers.get('From'));
    const calleeAor = aorOfHeader(response.headers.get('To'));
    const callerTarget = contactUri(invite.headers.get('Contact'));
    const calleeTarget = contactUri(response.headers.get('Contact'));
    if (!callId || !callerTag || !calleeTag || !callerAor || !calleeAor || !callerTarget || !calleeTarget) {
      // The UAs will fail this dialog themselves (§12.1: a 2xx without Contact or tags creates none).
      this.env.log(`proxy mode: a 2xx to INVITE ${callId ?? '(no Call-ID)'} lacks tags or Contact; no session recorded`);
      return;
    }
    this.sessions.add({
      role: info.role,
      callId,
      conversationId: info.conversationId,
      contributionId: info.contributionId,
      assertedIdentity: info.assertedIdentity,
      caller: { aor: callerAor, tag: callerTag, target: callerTarget, displayName: displayNameOfHeader(invite.headers.get('From')) },
      callee: { aor: calleeAor, tag: calleeTag, target: calleeTarget, displayName: displayNameOfHeader(response.headers.get('To')) },
      recordRoute: response.headers.values('Record-Route'),
    });
  }

  private sessionOf(request: SipRequest): CpmSessionRecord | undefined {
    const callId = request.headers.get('Call-ID');
    const from = fromTagOrNone(request);
    const to = toTagOrNone(request);
    if (callId === undefined || from === undefined || to === undefined) return undefined;
    return this.sessions.findByDialog(callId, from, to);
  }

  /** True when Route values remain after the leading ones that address us (§16.4). Malformed: let the proxy answer 400. */
  private routesOnward(request: SipRequest): boolean {
    const routes = request.headers.values('Route');
    for (const value of routes) {
      let uri;
      try {
        uri = parseNameAddr(value).uri;
      } catch {
        return true;
      }
      if (uri.kind !== 'sip' || !this.proxy.addresses.isOwnUri(uri)) return true;
    }
    return false;
  }

  private isOwnUriText(text: string): boolean {
    try {
      const uri = parseUri(text);
      return uri.kind === 'sip' && this.proxy.addresses.isOwnUri(uri);
    } catch {
      return false;
    }
  }
}

/** The URI of a Contact (or To/From) value, undefined when absent or malformed. */
function contactUri(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseNameAddr(value).uriText;
  } catch {
    return undefined;
  }
}
