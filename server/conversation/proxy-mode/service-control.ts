/**
 * Originating and terminating service control of CPM sessions in proxy mode (PROFILE.md, "A CPM session").
 *
 * The core routes a local user's CPM-session INVITE to its Conversation Server with two Route entries: ours,
 * marked `orig` or `term`, then the core's own with an `odi` token that brings the request back (like an IMS
 * initial filter criterion with an original dialog identifier, 3GPP TS 24.229 §5.4.3.2–3). Before the proxy
 * forwards such an INVITE it must:
 * - carry the CPM session feature tag in Accept-Contact (RFC 3841 §9, OMA CPM ICSI), else 400;
 * - carry `Conversation-ID` and `Contribution-ID` (OMA CPM), else 400;
 * - have come back through the core: our Route with its role, and a Route beyond ours, else 403;
 * - carry a `P-Asserted-Identity` (RFC 3325 §9.1, added by the core after authentication), else 403;
 * - when originating, be sent by the asserted user: P-Asserted-Identity's AOR is the From AOR and a user of
 *   this domain, else 403.
 * Each refusal says why in its reason phrase.
 */
import { hasCpmFeatureTag, isValidCpmId } from '../../../protocol/cpm/cpm-headers';
import { aorOfHeader } from '../../core/domain-core';
import { parseNameAddr } from '../../sip/message/name-addr';
import type { SipRequest } from '../../sip/message/sip-message';
import { getUriParam, type SipUri } from '../../sip/message/sip-uri';
import type { Rejection } from '../../sip/proxy/request-validation';

/** The half of service control the core asked for. */
export type ServiceRole = 'orig' | 'term';

/** What an accepted CPM-session INVITE tells the session table. */
export interface CpmInviteInfo {
  role: ServiceRole;
  conversationId: string;
  contributionId: string;
  /** The asserted originator, `sip:alice@a.example`. */
  assertedIdentity: string;
}

/** The outcome of the checks: the facts of the INVITE, or the response to refuse it with. */
export type ServiceControlResult = { ok: true; info: CpmInviteInfo } | { ok: false; rejection: Rejection };

/**
 * The role the core gave a request: the `orig` or `term` parameter of our Route entry (the leading Route
 * values that address us, as received). Undefined when none of them carries one.
 */
export function serviceRoleOf(received: SipRequest, isOwn: (uri: SipUri) => boolean): ServiceRole | undefined {
  for (const value of received.headers.values('Route')) {
    let uri;
    try {
      uri = parseNameAddr(value).uri;
    } catch {
      return undefined;
    }
    if (uri.kind !== 'sip' || !isOwn(uri)) return undefined;
    if (getUriParam(uri.params, 'orig') !== undefined) return 'orig';
    if (getUriParam(uri.params, 'term') !== undefined) return 'term';
  }
  return undefined;
}

/** True when Accept-Contact asks for the CPM session service (the ICSI inside `+g.3gpp.icsi-ref`, RFC 3841 §9). */
export function asksForCpmSession(request: SipRequest): boolean {
  return request.headers.values('Accept-Contact').some((value) => hasCpmFeatureTag(value));
}

/**
 * Check an initial CPM-session INVITE for proxying.
 *
 * @param request the INVITE after our own Route entries were removed (§16.4)
 * @param role the role of our Route entry as received (see {@link serviceRoleOf})
 * @param domain the domain whose users we serve
 */
export function checkCpmInvite(request: SipRequest, role: ServiceRole | undefined, domain: string): ServiceControlResult {
  const refuse = (status: number, reason: string): ServiceControlResult => ({ ok: false, rejection: { status, reason } });
  if (!asksForCpmSession(request)) return refuse(400, 'Bad Request: Accept-Contact lacks the CPM session feature tag');
  const conversationId = identifier(request, 'Conversation-ID');
  if (conversationId === undefined) return refuse(400, 'Bad Request: missing Conversation-ID');
  if (conversationId === null) return refuse(400, 'Bad Request: malformed Conversation-ID');
  const contributionId = identifier(request, 'Contribution-ID');
  if (contributionId === undefined) return refuse(400, 'Bad Request: missing Contribution-ID');
  if (contributionId === null) return refuse(400, 'Bad Request: malformed Contribution-ID');
  if (role === undefined) return refuse(403, 'Forbidden: not routed by the core for service control');
  if (!request.headers.has('Route')) return refuse(403, 'Forbidden: no route back to the core');
  const asserted = request.headers.values('P-Asserted-Identity').map((v) => aorOfHeader(v)).find((a) => a !== undefined);
  if (asserted === undefined) return refuse(403, 'Forbidden: no P-Asserted-Identity');
  if (role === 'orig') {
    const from = aorOfHeader(request.headers.get('From'));
    if (from !== asserted) return refuse(403, 'Forbidden: P-Asserted-Identity is not the From user');
    if (!asserted.endsWith(`@${domain.toLowerCase()}`)) return refuse(403, `Forbidden: originator is not a user of ${domain}`);
  }
  return { ok: true, info: { role, conversationId, contributionId, assertedIdentity: asserted } };
}

/** The header's single value; undefined when absent, null when repeated or not a CPM id (a token, ≤ 128). */
function identifier(request: SipRequest, name: string): string | null | undefined {
  const lines = request.headers.getAll(name);
  if (lines.length === 0) return undefined;
  const value = lines[0]!.trim();
  if (lines.length > 1 || !isValidCpmId(value)) return null;
  return value;
}
