/**
 * Branch parameters a proxy puts in its Via (RFC 3261 §16.6 item 8, §16.11; RFC 5393 §4.2.2).
 *
 * A branch is `z9hG4bK` + a hash of the incoming transaction (so that a retransmission, or a stateless ACK,
 * maps to the same branch every time) + `.` + the loop-detection hash + `.` + the fork index. A request that
 * comes back with one of our Vias carrying the same loop hash has looped (§16.3 item 4); one whose
 * loop-relevant fields changed (another Request-URI, say) is a spiral and is allowed.
 */
import { createHash } from 'node:crypto';
import type { SipRequest } from '../message/sip-message';
import { fromTag, toTag } from '../message/header-fields';
import { MAGIC_COOKIE } from '../message/via';
import { cseqOf, serverTransactionKey } from '../transaction/transaction-key';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16).replace(/[-_]/g, 'x');
}

/**
 * The loop-detection hash of a request as received (§16.3 item 4; RFC 5393 §4.2.1): Request-URI, From tag,
 * To tag, Call-ID, CSeq number, and every Route, Proxy-Require and Proxy-Authorization value.
 */
export function loopHash(request: SipRequest): string {
  const parts = [
    request.uri,
    fromTag(request) ?? '',
    toTag(request) ?? '',
    request.headers.get('Call-ID') ?? '',
    String(cseqOf(request).seq),
    ...request.headers.values('Route'),
    ...request.headers.getAll('Proxy-Require'),
    ...request.headers.getAll('Proxy-Authorization'),
  ];
  return digest(parts.join('\u0000'));
}

/**
 * The branch for fork `index` of `request` (as received). Deterministic: the same incoming request (or its
 * retransmission) always gets the same branches. Throws on a request without a usable Via, CSeq, From or To.
 */
export function computeBranch(request: SipRequest, index: number): string {
  const transaction = digest(`${serverTransactionKey(request)}\u0000${request.method}`);
  return `${MAGIC_COOKIE}${transaction}.${loopHash(request)}.${index}`;
}

/** The loop hash a branch of ours carries, or undefined when the branch is not in our format. */
export function loopHashOfBranch(branch: string | undefined): string | undefined {
  if (branch === undefined || !branch.startsWith(MAGIC_COOKIE)) return undefined;
  const parts = branch.slice(MAGIC_COOKIE.length).split('.');
  return parts.length === 3 ? parts[1] : undefined;
}
