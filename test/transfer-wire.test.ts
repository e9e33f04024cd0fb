/**
 * The move checked on the wire, for each of the four pairs of Conversation Server modes (issue 7's "Done when"):
 *
 * 1. one move under load with the lab trace keeping every message's text: the exact sequence of PROFILE.md's
 *    table (flow 1 when CS A is in-path, flow 2 otherwise, ending at CS B when CS B is in-path), then, step by
 *    step, what each element actually received (the trace's `in` entries): the headers and bodies the table
 *    asks for, Via / Max-Forwards / Record-Route / Route as each receiver sees them, where Desktop's MSRP goes
 *    after the move, and that A-D1's BYE is the only BYE;
 * 2. 100 moves back and forth between Laptop and Desktop at delay 0, bob sending every 2 ms and alice every
 *    25 ms, neither told about the moves: each move overlaps at least 3 of bob's messages, and at the end the
 *    device holding the conversation has every message once, in each sender's order (the 20 ms per hop run
 *    is `transfer-delay.test.ts`).
 *
 * Every check of step 1 is a row of `WIRE` (one place); what the implementation does differently from
 * PROFILE.md is a row with `deviation` set, evaluated and printed but not asserted.
 */
import { describe, expect, it } from 'vitest';
import { useChatLab } from './helpers/chat-lab';
import { SESSION_TRANSFER_CONTENT_TYPE } from '../protocol/cpm/session-transfer';
import type { LabNetwork } from '../server/lab/lab-network';
import { renderLadder, type SipTraceHop } from '../server/lab/sip-trace';
import { parseMessageText } from '../server/sip/message/parse';
import { bodyText, type SipMessage } from '../server/sip/message/sip-message';
import type { Endpoint } from '../server/sip/transport/transport-types';
import { flowOfModes, matchFlow, type ChainSpec, type FlowElements, type FlowMatch, type ServerMode, type StepSpec } from '../electron/device/testing/seed-flows';
import {
  ChatLoad,
  instanceOf,
  moveBackAndForth,
  sentDuringMoves,
  settledReports,
  waitUntil,
  type ChatSetup,
  type Party,
} from '../electron/device/testing/transfer-scenario';

type Role = keyof FlowElements;

const NAMES: FlowElements = { source: 'Laptop', target: 'Desktop', far: 'Bob', coreA: 'core A', csA: 'CS A', coreB: 'core B', csB: 'CS B' };
const ROLE_OF = new Map<string, Role>(Object.entries(NAMES).map(([role, name]) => [name, role as Role]));
const DEVICES: readonly Role[] = ['source', 'target', 'far'];
const CPM_ICSI = '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

const chatLab = useChatLab();

function start(modeA: ServerMode, modeB: ServerMode): Promise<{ lab: LabNetwork; s: ChatSetup }> {
  return chatLab.start({ modeA, modeB });
}

// ---------------------------------------------------------------------------------------------------------
// What the move is about, as known before it starts (from the devices), and read off the wire.

/** The facts the rows of `WIRE` compare against. */
interface MoveFacts {
  /** X: CS A's transfer service URI. */
  x: string;
  /** alice's domain (CS A's). */
  domainA: string;
  aor: string;
  peerAor: string;
  sourceGruu: string;
  targetGruu: string;
  farGruu: string;
  /** T as A-D1 knows it. */
  t: { callId: string; localTag: string; remoteTag: string; remoteTarget: string };
  /** `callid;local-tag=<far side's tag>;remote-tag=<A-D1's tag>`: T as its far side sees it (RFC 4538 §4). */
  targetDialog: string;
  conversationId: string;
  /** T's Contribution-ID. */
  contributionId: string;
  /** The CSeq numbers of the two REFERs (each NOTIFY's `Event: refer;id=`). */
  referCSeq: number;
  joinCSeq: number;
  /** T's far side (PROFILE.md): the element that answers INVITE J and A-D1's BYE. */
  far: Role;
  /** `host:port` of each lab element's listening points (cores, Conversation Servers). */
  addresses: Partial<Record<Role, ReadonlySet<string>>>;
}

/** One message as the element it went to received it. */
interface Received {
  /** The flow's step (label, from, to). */
  spec: StepSpec;
  chain: ChainSpec;
  hop: SipTraceHop;
  message: SipMessage;
  /** Position in its transaction: request hop `k` of `n`, or response hop `j` (0: the answerer's). */
  k: number;
  j: number;
  n: number;
  /** The requests of the same transaction as each receiver got them (index k). */
  requests: readonly (SipMessage | undefined)[];
  /** The final responses of the same transaction as each receiver got them (index j). */
  responses: readonly (SipMessage | undefined)[];
}

/** What a row wants: an exact value, or a test with what it means. */
type Want = string | { says: string; test: (value: string | undefined) => boolean };

/** One check of the wire: for every received message of a step, `read` must give what `want` says. */
interface WireRow {
  /** The chain of the flow, by the start of its name (seed-flows.ts). */
  step: string;
  message: 'request' | 'response';
  /** What is checked, as a failure names it. */
  what: string;
  /** Only where this holds (default: every hop of the message). */
  where?: (r: Received, f: MoveFacts) => boolean;
  read: (m: SipMessage, r: Received, f: MoveFacts) => string | undefined;
  want: (f: MoveFacts, r: Received) => Want;
  /** The implementation deviates from PROFILE.md here: the row is printed, not asserted. */
  deviation?: string;
}

const TRANSFER = 'CPM Session Transfer request';
const ACCEPTED = 'Accepted notification';
const JOIN = 'Join CPM Session Notification';
const JOIN_TRYING = 'Join notification response';
const INVITE_J = 'CPM Session Invitation';
const REPLACED = 'CPM Session Replaced Notification';
const RELEASE = 'Release CPM Session Notification';
const BYE = 'Release CPM Session request';

// -- reading a header ---------------------------------------------------------------------------------------

const header = (name: string) => (m: SipMessage): string | undefined => m.headers.get(name)?.trim();
const uriIn = (value: string | undefined): string | undefined => (value === undefined ? undefined : (/<([^>]*)>/.exec(value)?.[1] ?? value.split(';')[0]?.trim()));
const headerUri = (name: string) => (m: SipMessage): string | undefined => uriIn(m.headers.get(name));
const requestUri = (m: SipMessage): string | undefined => (m.type === 'request' ? m.uri : undefined);
const essence = (m: SipMessage): string | undefined => m.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
const firstBodyLine = (m: SipMessage): string | undefined => bodyText(m).split(/\r?\n/)[0];
const sdpLine = (attribute: string) => (m: SipMessage): string | undefined =>
  bodyText(m).split(/\r?\n/).find((l) => l.startsWith(`a=${attribute}:`))?.slice(attribute.length + 3);
const tagOf = (value: string | undefined): string | undefined => (value ? /;\s*tag=([^;\s]+)/i.exec(value)?.[1] : undefined);
/** `host:port` of a SIP URI or a Via value. */
const hostPort = (text: string): string => {
  const uri = /sips?:([^;>?]+)/i.exec(text)?.[1];
  const sentBy = uri ?? /^SIP\/2\.0\/\S+\s+([^;]+)/i.exec(text.trim())?.[1] ?? text;
  return (sentBy.includes('@') ? sentBy.slice(sentBy.indexOf('@') + 1) : sentBy).trim().toLowerCase();
};

/** A Via's sent-by and branch: what identifies it once the next hop added `received` / `rport` (RFC 3581). */
const viaKey = (via: string | undefined): string | undefined =>
  via === undefined ? undefined : `${hostPort(via)};branch=${/;\s*branch=([^;\s,]+)/i.exec(via)?.[1] ?? '(none)'}`;

/** The Refer-To of the Join REFER, as PROFILE.md reads it: `<J?Name=value&…>`. */
interface ReferToParts {
  uri: string;
  headers: { name: string; raw: string; value: string }[];
}

function referToParts(m: SipMessage): ReferToParts | undefined {
  const inner = /<([^>]*)>/.exec(m.headers.get('Refer-To') ?? '')?.[1];
  if (inner === undefined) return undefined;
  const q = inner.indexOf('?');
  if (q < 0) return { uri: inner, headers: [] };
  const headers = inner
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq < 0 ? '' : pair.slice(eq + 1);
      let value: string;
      try {
        value = decodeURIComponent(raw);
      } catch {
        value = `(bad escape: ${raw})`;
      }
      return { name: eq < 0 ? pair : pair.slice(0, eq), raw, value };
    });
  return { uri: inner.slice(0, q), headers };
}

/** The `method` parameter of the Refer-To URI; absent means INVITE (RFC 3261 §19.1.1, RFC 3515 §2.1). */
const referToMethod = (m: SipMessage): string | undefined => {
  const uri = referToParts(m)?.uri ?? '';
  return /;method=([^;?]+)/i.exec(uri)?.[1];
};
const inviteMethod: Want = { says: 'INVITE (no method parameter, or method=INVITE)', test: (v) => v === undefined || v.toUpperCase() === 'INVITE' };
const embedded = (name: string) => (m: SipMessage): string | undefined =>
  referToParts(m)?.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

/** RFC 3261 §25.1 `hvalue`: hnv-unreserved, unreserved or escaped; so `;`, `=`, `@`, `&` and space arrive escaped (§19.1.1). */
const HVALUE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/?:+$]|%[0-9A-Fa-f]{2})*$/;

function transferBody(m: SipMessage): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(bodyText(m));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const exactly = (values: readonly string[]): Want => ({ says: `exactly ${values.join(', ')}`, test: (v) => v === [...values].sort().join(',') });
const isNot = (value: string): Want => ({ says: `anything but ${value}`, test: (v) => v !== undefined && v !== '' && v !== value });
const lacks = (token: string): Want => ({ says: `no ${token}`, test: (v) => !(v ?? '').split(',').some((x) => x.trim().toLowerCase() === token) });
const notFromDevice = (r: Received): boolean => !DEVICES.includes(r.spec.from);
/** The elements a transaction's request goes through, its sender first and its answerer last. */
const pathOf = (r: Received): Role[] => [r.chain.steps[0]!.from, ...r.chain.steps.slice(0, r.n).map((s) => s.to)];
/** The proxies on a transaction's path (neither its sender nor its answerer). */
const proxiesOf = (r: Received): Role[] => pathOf(r).slice(1, -1);
const includesAddressesOf = (roles: readonly Role[], f: MoveFacts): Want => ({
  says: `the addresses of ${roles.map((x) => NAMES[x]).join(', ') || 'nobody'}`,
  test: (v) => {
    const seen = new Set((v ?? '').split(',').filter(Boolean));
    return roles.every((role) => [...(f.addresses[role] ?? [])].some((a) => seen.has(a)));
  },
});
/** A URI of CS A's: in its domain (the core routes it there) or at one of its addresses. */
const ofCsA = (f: MoveFacts): Want => ({
  says: `a URI of CS A (@${f.domainA} or one of its addresses)`,
  test: (v) => v !== undefined && /^sips?:/i.test(v) && (hostPort(v) === f.domainA || (f.addresses.csA?.has(hostPort(v)) ?? false)),
});
const addressList = (name: string) => (m: SipMessage): string => m.headers.values(name).map(hostPort).join(',');

// -- the table --------------------------------------------------------------------------------------------------

/**
 * PROFILE.md "The transfer, step by step", message by message, as each receiver must see it; then what RFC 3261
 * asks of every hop (Via, Max-Forwards, Record-Route and Route). A row applies to every hop of its message
 * unless `where` narrows it.
 */
const WIRE: readonly WireRow[] = [
  // Steps 2–3: REFER X, out of dialog, naming T as its far side sees it.
  { step: TRANSFER, message: 'request', what: 'Request-URI', read: requestUri, want: (f) => f.x },
  { step: TRANSFER, message: 'request', what: 'Refer-To', read: header('Refer-To'), want: (f) => `<${f.targetGruu}>` },
  { step: TRANSFER, message: 'request', what: 'Refer-To method', read: referToMethod, want: () => inviteMethod },
  { step: TRANSFER, message: 'request', what: 'Target-Dialog', read: header('Target-Dialog'), want: (f) => f.targetDialog },
  { step: TRANSFER, message: 'request', what: 'Referred-By', read: header('Referred-By'), want: (f) => `<${f.sourceGruu}>` },
  { step: TRANSFER, message: 'request', what: 'Require', read: header('Require'), want: () => lacks('tdialog') },
  { step: TRANSFER, message: 'request', what: 'To tag (out of dialog)', read: (m) => tagOf(m.headers.get('To')) ?? '', want: () => '' },
  { step: TRANSFER, message: 'request', what: 'Contact', read: headerUri('Contact'), want: (f) => f.sourceGruu },
  { step: TRANSFER, message: 'request', what: 'P-Asserted-Identity', where: (r) => r.spec.to === 'csA', read: headerUri('P-Asserted-Identity'), want: (f) => f.aor },
  // Steps 4–5: 202, then NOTIFY 100 Trying on the transfer subscription.
  { step: TRANSFER, message: 'response', what: 'status', read: (m) => (m.type === 'response' ? String(m.status) : undefined), want: () => '202' },
  { step: TRANSFER, message: 'response', what: 'Contact (CS A’s own)', read: headerUri('Contact'), want: (f) => ofCsA(f) },
  { step: ACCEPTED, message: 'request', what: 'Contact (CS A’s own)', read: headerUri('Contact'), want: (f) => ofCsA(f) },
  { step: ACCEPTED, message: 'request', what: 'Event', read: header('Event'), want: (f) => `refer;id=${f.referCSeq}` },
  { step: ACCEPTED, message: 'request', what: 'Subscription-State', read: header('Subscription-State'), want: () => 'active;expires=120' },
  { step: ACCEPTED, message: 'request', what: 'Content-Type', read: essence, want: () => 'message/sipfrag' },
  { step: ACCEPTED, message: 'request', what: 'sipfrag', read: firstBodyLine, want: () => 'SIP/2.0 100 Trying' },
  // Steps 6–7: the Join REFER, asserted as X, Refer-To J with its embedded headers.
  { step: JOIN, message: 'request', what: 'Request-URI', where: (r) => r.k === 0, read: requestUri, want: (f) => f.targetGruu },
  { step: JOIN, message: 'request', what: 'Refer-To URI (J, T’s remote target as A-D1 knows it)', read: (m) => referToParts(m)?.uri, want: (f) => f.t.remoteTarget },
  {
    step: JOIN,
    message: 'request',
    what: 'Refer-To embedded headers',
    read: (m) => referToParts(m)?.headers.map((h) => h.name).sort().join(','),
    want: () => exactly(['Conversation-ID', 'InReplyTo-Contribution-ID', 'Require', 'Target-Dialog']),
  },
  {
    step: JOIN,
    message: 'request',
    what: 'Refer-To embedded values escaped (RFC 3261 §19.1.1)',
    read: (m) => referToParts(m)?.headers.filter((h) => !HVALUE.test(h.raw)).map((h) => h.name).join(',') ?? '(no Refer-To)',
    want: () => '',
  },
  { step: JOIN, message: 'request', what: 'Refer-To method', read: referToMethod, want: () => inviteMethod },
  { step: JOIN, message: 'request', what: 'embedded Target-Dialog', read: embedded('Target-Dialog'), want: (f) => f.targetDialog },
  { step: JOIN, message: 'request', what: 'embedded Require', read: embedded('Require'), want: () => 'tdialog' },
  { step: JOIN, message: 'request', what: 'embedded Conversation-ID', read: embedded('Conversation-ID'), want: (f) => f.conversationId },
  { step: JOIN, message: 'request', what: 'embedded InReplyTo-Contribution-ID', read: embedded('InReplyTo-Contribution-ID'), want: (f) => f.contributionId },
  { step: JOIN, message: 'request', what: 'Referred-By', read: header('Referred-By'), want: (f) => `<${f.sourceGruu}>` },
  { step: JOIN, message: 'request', what: 'Contact (CS A’s own)', read: headerUri('Contact'), want: (f) => ofCsA(f) },
  { step: JOIN, message: 'request', what: 'P-Asserted-Identity', read: headerUri('P-Asserted-Identity'), want: (f) => f.x },
  { step: JOIN, message: 'request', what: 'Content-Type', read: essence, want: () => SESSION_TRANSFER_CONTENT_TYPE },
  {
    step: JOIN,
    message: 'request',
    what: 'body: conversation, peer, source device',
    read: (m) => {
      const b = transferBody(m);
      const peer = b?.['peer'] as { uri?: unknown } | undefined;
      return b ? `${String(b['conversationId'])} ${String(peer?.uri)} ${String(b['sourceDeviceName'])}` : undefined;
    },
    want: (f) => `${f.conversationId} ${f.peerAor} ${NAMES.source}`,
  },
  {
    // The lab gives CS A a Message Store in every mode (in-path it records the chat; in proxy mode the devices
    // deposit it): by the Join, under load, it holds some of the conversation.
    step: JOIN,
    message: 'request',
    what: 'body: history cursor (the Message Store’s, opaque)',
    where: (r) => r.spec.to === 'target',
    read: (m) => {
      const cursor = transferBody(m)?.['historyCursor'];
      return typeof cursor === 'string' ? cursor : `(${typeof cursor})`;
    },
    want: () => ({ says: 'a non-empty history cursor', test: (v) => v !== undefined && !v.startsWith('(') && v.trim() !== '' }),
  },
  // Steps 8–9: 202 from A-Dn (Contact: its pub-gruu), NOTIFY 100 Trying on the Join subscription.
  { step: JOIN, message: 'response', what: 'status', read: (m) => (m.type === 'response' ? String(m.status) : undefined), want: () => '202' },
  { step: JOIN, message: 'response', what: 'Contact', read: headerUri('Contact'), want: (f) => f.targetGruu },
  { step: JOIN_TRYING, message: 'request', what: 'Event', read: header('Event'), want: (f) => `refer;id=${f.joinCSeq}` },
  { step: JOIN_TRYING, message: 'request', what: 'Subscription-State', read: header('Subscription-State'), want: () => 'active;expires=120' },
  { step: JOIN_TRYING, message: 'request', what: 'Content-Type', read: essence, want: () => 'message/sipfrag' },
  { step: JOIN_TRYING, message: 'request', what: 'sipfrag', read: firstBodyLine, want: () => 'SIP/2.0 100 Trying' },
  { step: JOIN_TRYING, message: 'request', what: 'Contact', read: headerUri('Contact'), want: (f) => f.targetGruu },
  // Steps 10–23: INVITE J, the Refer-To URI without its headers (gr kept), with what was embedded.
  { step: INVITE_J, message: 'request', what: 'Request-URI (J)', where: (r) => r.spec.to !== 'far', read: requestUri, want: (f) => f.t.remoteTarget },
  { step: INVITE_J, message: 'request', what: 'Target-Dialog', read: header('Target-Dialog'), want: (f) => f.targetDialog },
  { step: INVITE_J, message: 'request', what: 'Require', read: header('Require'), want: () => 'tdialog' },
  { step: INVITE_J, message: 'request', what: 'Referred-By', read: header('Referred-By'), want: (f) => `<${f.sourceGruu}>` },
  { step: INVITE_J, message: 'request', what: 'Conversation-ID', read: header('Conversation-ID'), want: (f) => f.conversationId },
  { step: INVITE_J, message: 'request', what: 'Contribution-ID (new)', read: header('Contribution-ID'), want: (f) => isNot(f.contributionId) },
  { step: INVITE_J, message: 'request', what: 'InReplyTo-Contribution-ID', read: header('InReplyTo-Contribution-ID'), want: (f) => f.contributionId },
  { step: INVITE_J, message: 'request', what: 'Accept-Contact', read: header('Accept-Contact'), want: () => CPM_ICSI },
  { step: INVITE_J, message: 'request', what: 'Contact', read: headerUri('Contact'), want: (f) => f.targetGruu },
  { step: INVITE_J, message: 'request', what: 'P-Asserted-Identity (the same asserted user)', where: notFromDevice, read: headerUri('P-Asserted-Identity'), want: (f) => f.aor },
  {
    step: INVITE_J,
    message: 'request',
    what: 'Record-Route (every proxy it passed so far stays on the path)',
    read: addressList('Record-Route'),
    want: (f, r) => includesAddressesOf(pathOf(r).slice(1, r.k + 1), f),
  },
  { step: INVITE_J, message: 'response', what: 'status', read: (m) => (m.type === 'response' ? String(m.status) : undefined), want: () => '200' },
  {
    step: INVITE_J,
    message: 'response',
    what: 'Record-Route (as the answerer got it, RFC 3261 §12.1.1)',
    read: (m) => m.headers.values('Record-Route').join(','),
    want: (_f, r) => r.requests[r.n - 1]?.headers.values('Record-Route').join(',') ?? '(no INVITE at the answerer)',
  },
  // MSRP after the move: Desktop connects (active) to the path the far side answered with, unchanged on the way.
  { step: INVITE_J, message: 'response', what: 'SDP a=setup', read: sdpLine('setup'), want: () => 'passive' },
  {
    step: INVITE_J,
    message: 'response',
    what: 'SDP a=path (the far side’s own, end to end)',
    read: sdpLine('path'),
    want: (_f, r) => (r.responses[0] ? (sdpLine('path')(r.responses[0]) ?? '(none)') : '(no answer)'),
  },
  { step: INVITE_J, message: 'response', what: 'Contact (B-D1’s pub-gruu)', where: (_r, f) => f.far === 'far', read: headerUri('Contact'), want: (f) => f.farGruu },
  // Steps 14–17 / 24–27: A-Dn's Session Replaced NOTIFY ends the Join subscription.
  { step: REPLACED, message: 'request', what: 'Event', read: header('Event'), want: (f) => `refer;id=${f.joinCSeq}` },
  { step: REPLACED, message: 'request', what: 'Subscription-State', read: header('Subscription-State'), want: () => 'terminated;reason=noresource' },
  { step: REPLACED, message: 'request', what: 'Content-Type', read: essence, want: () => 'message/sipfrag' },
  { step: REPLACED, message: 'request', what: 'sipfrag', read: firstBodyLine, want: () => 'SIP/2.0 200 OK' },
  { step: REPLACED, message: 'request', what: 'Contact', read: headerUri('Contact'), want: (f) => f.targetGruu },
  // Steps 18–21 / 28–31: CS A's Release NOTIFY ends the transfer subscription.
  { step: RELEASE, message: 'request', what: 'Event', read: header('Event'), want: (f) => `refer;id=${f.referCSeq}` },
  { step: RELEASE, message: 'request', what: 'Subscription-State', read: header('Subscription-State'), want: () => 'terminated;reason=noresource' },
  { step: RELEASE, message: 'request', what: 'Content-Type', read: essence, want: () => 'message/sipfrag' },
  { step: RELEASE, message: 'request', what: 'sipfrag', read: firstBodyLine, want: () => 'SIP/2.0 200 OK' },
  { step: RELEASE, message: 'request', what: 'Contact (CS A’s own)', read: headerUri('Contact'), want: (f) => ofCsA(f) },
  // Steps 22–25 / 32–45: A-D1's BYE on T, along T's route set.
  { step: BYE, message: 'request', what: 'Call-ID (T)', read: header('Call-ID'), want: (f) => f.t.callId },
  { step: BYE, message: 'request', what: 'From tag (A-D1’s)', read: (m) => tagOf(m.headers.get('From')), want: (f) => f.t.localTag },
  { step: BYE, message: 'request', what: 'To tag (the far side’s)', read: (m) => tagOf(m.headers.get('To')), want: (f) => f.t.remoteTag },
  { step: BYE, message: 'request', what: 'Request-URI (T’s remote target)', where: (r) => r.spec.to !== 'far', read: requestUri, want: (f) => f.t.remoteTarget },
  { step: BYE, message: 'request', what: 'Route (T’s route set: every proxy on the path)', where: (r) => r.k === 0, read: addressList('Route'), want: (f, r) => includesAddressesOf(proxiesOf(r), f) },
  { step: BYE, message: 'response', what: 'status', read: (m) => (m.type === 'response' ? String(m.status) : undefined), want: () => '200' },
  // Every hop (RFC 3261 §16.6 steps 3 and 8, §16.7 step 3): one Via per element passed, Max-Forwards down by one.
  ...[TRANSFER, ACCEPTED, JOIN, JOIN_TRYING, INVITE_J, REPLACED, RELEASE, BYE].flatMap((step): WireRow[] => [
    { step, message: 'request', what: 'Via count', read: (m) => String(m.headers.values('Via').length), want: (_f, r) => String(r.k + 1) },
    {
      step,
      message: 'request',
      what: 'Max-Forwards',
      read: header('Max-Forwards'),
      want: (_f, r) => String(Number(r.requests[0]?.headers.get('Max-Forwards') ?? NaN) - r.k),
    },
    {
      step,
      message: 'request',
      what: 'top Via sent-by (the sender’s own address)',
      where: notFromDevice,
      read: (m) => hostPort(m.headers.first('Via') ?? ''),
      want: (f, r) => ({ says: `an address of ${NAMES[r.spec.from]}`, test: (v) => v !== undefined && (f.addresses[r.spec.from]?.has(v) ?? false) }),
    },
    { step, message: 'response', what: 'Via count', read: (m) => String(m.headers.values('Via').length), want: (_f, r) => String(r.n - r.j) },
    {
      step,
      message: 'response',
      what: 'top Via sent-by and branch (the receiver’s, from its request)',
      read: (m) => viaKey(m.headers.first('Via')),
      want: (_f, r) => viaKey(r.requests[r.n - 1 - r.j]?.headers.first('Via')) ?? '(no request)',
    },
  ]),
];

// -- applying the table -------------------------------------------------------------------------------------------

/** Every step of the flow as its receiver got it (the `in` entry's text); problems for a step that has none. */
function receivedSteps(match: FlowMatch<SipTraceHop>, chains: readonly ChainSpec[]): { received: Received[]; problems: string[] } {
  const problems: string[] = [];
  const received: Received[] = [];
  for (const chain of chains) {
    const matched = match.steps.filter((m) => m.chain === chain.name);
    const n = chain.steps.filter((s) => s.status === undefined).length;
    const messages = matched.map((m) => {
      const raw = m.hop.entries.find((e) => e.direction === 'in')?.raw;
      if (raw === undefined) {
        problems.push(`step ${m.label} (${m.hop.from} → ${m.hop.to} ${m.hop.summary}): its receiver recorded no text`);
        return undefined;
      }
      try {
        return parseMessageText(raw);
      } catch (error) {
        problems.push(`step ${m.label}: unparsable as received: ${(error as Error).message}`);
        return undefined;
      }
    });
    const requests = messages.slice(0, n);
    const responses = messages.slice(n);
    matched.forEach((m, i) => {
      const message = messages[i];
      if (!message) return;
      const spec = chain.steps[i]!;
      received.push({ spec, chain, hop: m.hop, message, k: i < n ? i : -1, j: i < n ? -1 : i - n, n, requests, responses });
    });
  }
  return { received, problems };
}

/** Apply `WIRE` to what was received: the failures of asserted rows, and of deviation rows, as text. */
function checkWire(received: readonly Received[], facts: MoveFacts): { failures: string[]; deviations: string[] } {
  const failures: string[] = [];
  const deviations: string[] = [];
  const deviationsSeen = new Set<string>();
  for (const row of WIRE) {
    const ofStep = received.filter((r) => r.chain.name.startsWith(row.step) && (row.message === 'request') === (r.spec.status === undefined));
    if (ofStep.length === 0) failures.push(`${row.step} ${row.message}: no hop to check "${row.what}" on`);
    const hits = ofStep.filter((r) => row.where?.(r, facts) ?? true);
    for (const r of hits) {
      const got = row.read(r.message, r, facts);
      const want = row.want(facts, r);
      const ok = typeof want === 'string' ? got === want : want.test(got);
      if (ok) continue;
      const text = `step ${r.spec.label} (${r.hop.from} → ${r.hop.to} ${r.hop.summary}) ${row.what}: expected ${typeof want === 'string' ? JSON.stringify(want) : want.says}, got ${JSON.stringify(got)}`;
      if (row.deviation) {
        if (!deviationsSeen.has(row.deviation)) deviations.push(`${row.deviation}; first seen at ${text}`);
        deviationsSeen.add(row.deviation);
      } else failures.push(text);
    }
  }
  return { failures, deviations };
}

function pubGruuOf(party: Party): string {
  const gruu = party.agent.sipUserAgent?.pubGruu;
  if (!gruu) throw new Error(`${party.name} has no GRUU`);
  return gruu;
}

function addressesOf(running: LabNetwork): Partial<Record<Role, ReadonlySet<string>>> {
  const text = (points: readonly Endpoint[]): ReadonlySet<string> => new Set(points.map((p) => `${p.host}:${p.port}`.toLowerCase()));
  const [a, b] = running.domains;
  if (!a || !b) throw new Error('the lab has fewer than two domains');
  return {
    coreA: text(a.core.listeningPoints()),
    csA: text(a.conversation.transport.listeningPoints()),
    coreB: text(b.core.listeningPoints()),
    csB: text(b.conversation.transport.listeningPoints()),
  };
}

/** The CSeq number of the first request of `method` sent by `from` in `hops`. */
function cseqOf(hops: readonly SipTraceHop[], from: string, method: string): number {
  const hop = hops.find((h) => h.from === from && h.method === method && h.status === undefined);
  return Number(hop?.cseq?.trim().split(/\s+/)[0] ?? NaN);
}

const PAIRS = (
  [
    ['proxy', 'proxy'],
    ['proxy', 'in-path'],
    ['in-path', 'proxy'],
    ['in-path', 'in-path'],
  ] as const
).map(([modeA, modeB]) => ({ modeA, modeB, flow: flowOfModes(modeA, modeB).name }));

describe.each(PAIRS)('Alice moves the chat with Bob from Laptop to Desktop, CS A $modeA, CS B $modeB ($flow)', ({ modeA, modeB }) => {
  it('takes every step of PROFILE.md’s table on the wire, each message carrying what the table says as its receiver got it, and only Laptop’s BYE ends T', async () => {
    const { lab: running, s } = await start(modeA, modeB);
    const { laptop, desktop, bob, conversationId } = s;
    const flow = flowOfModes(modeA, modeB);
    const carrier = laptop.agent.chatService?.carrier(conversationId);
    const dialog = carrier?.sip.dialog;
    if (!carrier || !dialog) throw new Error('Laptop has no session T');
    const t = { ...dialog, remoteTarget: dialog.remoteTarget.replace(/^<|>$/g, '') };

    const load = new ChatLoad(s);
    load.start();
    await new Promise((r) => setTimeout(r, 200));
    running.trace.clear();
    running.trace.enable({ raw: true });
    const transferId = await laptop.agent.moveConversation(conversationId, instanceOf(desktop));
    const outcome = await laptop.until('transferProgress', (p) => p.transferId === transferId && ['completed', 'declined', 'timed-out', 'failed'].includes(p.phase), 15_000);
    expect(outcome).toMatchObject({ phase: 'completed', outcome: 'moved' });
    await desktop.until('transferProgress', (p) => p.role === 'target' && p.phase === 'replaced');
    await new Promise((r) => setTimeout(r, 300));
    load.stop();
    running.trace.disable();

    // The exact sequence: every step of the flow, in order, and no request or final response it does not have.
    const hops = running.trace.hops();
    const match = matchFlow(hops, NAMES, flow.chains);
    const ours = new Set(Object.values(match.callIds));
    const ladder = renderLadder(hops.filter((h) => h.callId !== undefined && ours.has(h.callId)), { times: false });
    expect(match.problems, ladder).toEqual([]);
    expect(match.extra.map((h) => `${h.from} → ${h.to} ${h.summary}`), ladder).toEqual([]);
    expect(new Set(match.steps.map((m) => m.index)).size).toBe(match.steps.length);
    expect(match.callIds.t).toBe(t.callId);

    // Each message as its receiver got it.
    const facts: MoveFacts = {
      x: running.description.domains[0]!.transferService,
      domainA: running.description.domains[0]!.domain,
      aor: laptop.user,
      peerAor: bob.user,
      sourceGruu: pubGruuOf(laptop),
      targetGruu: pubGruuOf(desktop),
      farGruu: pubGruuOf(bob),
      t,
      targetDialog: `${t.callId};local-tag=${t.remoteTag};remote-tag=${t.localTag}`,
      conversationId,
      contributionId: carrier.contributionId,
      referCSeq: cseqOf(hops, NAMES.source, 'REFER'),
      joinCSeq: cseqOf(hops, NAMES.csA, 'REFER'),
      far: flow.far,
      addresses: addressesOf(running),
    };
    const { received, problems } = receivedSteps(match, flow.chains);
    expect(problems).toEqual([]);
    expect(received).toHaveLength(match.steps.length);
    const { failures, deviations } = checkWire(received, facts);
    expect(failures).toEqual([]);
    if (deviations.length > 0) console.info(`transfer-wire (CS A ${modeA}, CS B ${modeB}): deviations from PROFILE.md, reported, not asserted:\n  ${deviations.join('\n  ')}`);

    // The answer Desktop's MSRP follows comes from T's far side: B-D1 (device to device), else the in-path server.
    const answer = match.steps.find((m) => m.chain.startsWith(INVITE_J) && m.hop.status === 200);
    expect(answer?.hop.from).toBe(NAMES[flow.far]);

    // A-D1's BYE is what ends T: every BYE in the trace is a hop of that one request, and nobody else sends one.
    const byes = hops.filter((h) => h.method === 'BYE' && h.status === undefined);
    const byeCSeq = byes[0]?.cseq;
    expect(byes[0]?.from).toBe(NAMES.source);
    expect(byes.filter((h) => h.callId !== t.callId || h.cseq !== byeCSeq).map((h) => `${h.from} → ${h.to} ${h.callId ?? ''} ${h.cseq ?? ''}`)).toEqual([]);
    const byeSteps = new Set(match.steps.filter((m) => m.chain.startsWith(BYE) && m.hop.status === undefined).map((m) => m.index));
    expect(byes.every((h) => byeSteps.has(hops.indexOf(h)))).toBe(true);

    // And the chat went on: Desktop has everything, bob everything alice sent, nothing twice or out of order.
    const reports = await settledReports(s, load, desktop);
    expect(reports.atBob).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(reports.atHolder).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(bob.of('incomingSession')).toHaveLength(1);
  });

  it('100 moves back and forth at delay 0 under uncoordinated load: each overlaps ≥ 3 of bob’s messages, and nothing is lost, duplicated or reordered', async () => {
    const { lab: running, s } = await start(modeA, modeB);
    running.trace.enable();
    // bob every 2 ms: a move at delay 0 takes as little as ~10 ms (in-path A), and must overlap at least 3 of his messages.
    const load = new ChatLoad(s, { bobEveryMs: 2, aliceEveryMs: 25 });
    load.start();
    let run;
    try {
      await new Promise((r) => setTimeout(r, 100));
      run = await moveBackAndForth(s, { maxMoves: 100 });
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      load.stop();
    }
    running.trace.disable();
    const excerpt = (): string => renderLadder(running.trace.hops().slice(-60), { times: false });
    expect(run.failure, run.failure ? `${JSON.stringify(run.failure)}\nlast hops:\n${excerpt()}` : '').toBeUndefined();
    expect(run.windows).toHaveLength(100);

    const overlap = sentDuringMoves(run.windows, load.sent);
    expect(overlap.filter((w) => w.count < 3)).toEqual([]);

    const reports = await settledReports(s, load, run.holder);
    const context = `bob sent ${load.sent.filter((m) => m.sender === 'bob').length}, alice ${load.sent.filter((m) => m.sender === 'alice').length}; holder ${run.holder.name}`;
    expect(reports.atBob, context).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(reports.atHolder, context).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // No transfer left behind; bob was never prompted again and ends with one live session.
    await waitUntil('no transfer left at CS A', () => running.domain('a.example').conversation.transfers.activeCount() === 0);
    expect(s.bob.of('incomingSession')).toHaveLength(1);
    await waitUntil('bob has one live session', () => s.bob.agent.chatService!.liveSessions().length === 1);
    const took = run.windows.map((w) => w.releasedAt - w.referAt).sort((a, b) => a - b);
    console.info(
      `transfer-wire (CS A ${modeA}, CS B ${modeB}): 100 moves at delay 0, REFER to release median ${Math.round(took[50] ?? 0)} ms (fastest ${Math.round(took[0] ?? 0)}); ` +
        `${context}; fewest of bob's messages in a move's window: ${Math.min(...overlap.map((w) => w.count))}`,
    );
  }, 180_000);
});
