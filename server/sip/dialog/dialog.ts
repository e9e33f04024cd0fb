/**
 * Dialog state of a user agent (RFC 3261 §12): created from the request/response that established it,
 * used to build in-dialog requests (§12.2.1.1) and to accept the peer's (§12.2.2).
 */
import { EventEmitter } from 'node:events';
import { parseNameAddr, parseNameAddrList } from '../message/name-addr';
import { createRequest, type SipRequest, type SipResponse } from '../message/sip-message';
import { getUriParam, parseUri } from '../message/sip-uri';
import { fromTag, toTag } from '../message/header-fields';
import { SipParseError } from '../message/parse-error';
import { cseqOf } from '../transaction/transaction-key';
import { assertTransition, type TransitionTable } from '../transaction/state-machine';

/** Dialog states (§12: early dialogs come from provisional responses with a To tag). */
export enum DialogState {
  Early = 'Early',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

const S = DialogState;
const TRANSITIONS: TransitionTable<DialogState> = {
  [S.Early]: [S.Confirmed, S.Terminated],
  [S.Confirmed]: [S.Terminated],
  [S.Terminated]: [],
};

/** A dialog ID (§12): Call-ID, local tag, remote tag. */
export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

/** The table key of a dialog ID. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

/**
 * The dialog ID a received in-dialog request names, from the receiver's side (§12.2.2): the To tag is ours,
 * the From tag the peer's. Undefined when the request has no To tag (it is outside any dialog), or when its
 * To or From does not parse (it names no dialog either). Never throws.
 */
export function dialogIdOfRequest(request: SipRequest): DialogId | undefined {
  let localTag: string | undefined;
  let remoteTag: string | undefined;
  try {
    localTag = toTag(request);
    remoteTag = fromTag(request);
  } catch {
    return undefined;
  }
  const callId = request.headers.get('Call-ID');
  if (localTag === undefined || remoteTag === undefined || callId === undefined) return undefined;
  return { callId, localTag, remoteTag };
}

/** Methods whose Contact replaces the remote target (target refresh requests, §12.2 and RFC 6665 §4.1.2). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/** What a dialog was built from. */
interface DialogFields {
  id: DialogId;
  state: DialogState;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  localContact: string;
  secure: boolean;
}

/** Events of a dialog. */
export type DialogEvents = {
  stateChange: [from: DialogState, to: DialogState];
};

/**
 * One dialog, UAC or UAS side.
 *
 * ```
 *   101-199 with To tag      +-------+   2xx (confirm)   +-----------+
 *   ------------------------>| Early |------------------>| Confirmed |
 *                            +-------+                   +-----------+
 *   2xx: created Confirmed -------------------------------------^
 *                                |  non-2xx final              |  BYE (terminate)
 *                                v                             v
 *                            +------------------------------------+
 *                            |             Terminated             |
 *                            +------------------------------------+
 * ```
 */
export class Dialog extends EventEmitter<DialogEvents> {
  readonly id: DialogId;
  /** Our URI (From of our requests) and the peer's (To). */
  readonly localUri: string;
  readonly remoteUri: string;
  /** Where in-dialog requests go: the peer's Contact URI, updated by target refresh requests. */
  remoteTarget: string;
  /** Route values in the order our requests carry them (UAC: Record-Route reversed; UAS: as received). */
  routeSet: string[];
  /** The last CSeq number we used, and the last one the peer used (undefined before its first request). */
  localSeq: number;
  remoteSeq: number | undefined;
  /** Our Contact (name-addr), put in target refresh requests. */
  readonly localContact: string;
  /** True when the dialog was established over sips (§12.1.1). */
  readonly secure: boolean;
  private current: DialogState;

  private constructor(fields: DialogFields) {
    super();
    this.id = fields.id;
    this.current = fields.state;
    this.localUri = fields.localUri;
    this.remoteUri = fields.remoteUri;
    this.remoteTarget = fields.remoteTarget;
    this.routeSet = fields.routeSet;
    this.localSeq = fields.localSeq;
    this.remoteSeq = fields.remoteSeq;
    this.localContact = fields.localContact;
    this.secure = fields.secure;
  }

  /**
   * The UAC side, from our request and a 101–299 response with a To tag (§12.1.2). The route set is the
   * response's Record-Route reversed; the remote target its Contact. Throws RangeError for a status that
   * when the response cannot establish a dialog (no To tag, no Contact).
   */
  static fromUac(request: SipRequest, response: SipResponse, localContact: string): Dialog {
    if (response.status <= 100 || response.status >= 300) throw new RangeError(`a ${response.status} response does not establish a dialog`);
    const remoteTag = toTag(response);
    const localTag = fromTag(request);
    if (remoteTag === undefined) throw new SipParseError('response has no To tag: no dialog');
    if (localTag === undefined) throw new SipParseError('request has no From tag');
    return new Dialog({
      id: { callId: required(request, 'Call-ID'), localTag, remoteTag },
      state: response.status >= 200 ? S.Confirmed : S.Early,
      localUri: parseNameAddr(required(request, 'From')).uriText,
      remoteUri: parseNameAddr(required(request, 'To')).uriText,
      remoteTarget: contactUri(response),
      routeSet: recordRoutes(response).reverse(),
      localSeq: cseqOf(request).seq,
      remoteSeq: undefined,
      localContact,
      secure: isSips(request.uri),
    });
  }

  /**
   * The UAS side, from the request we answer with a dialog-creating response carrying `localTag` in its To
   * (§12.1.1). The route set is the request's Record-Route in order; the remote target its Contact.
   */
  static fromUas(request: SipRequest, localTag: string, localContact: string, state: DialogState.Early | DialogState.Confirmed = S.Confirmed): Dialog {
    const remoteTag = fromTag(request);
    if (remoteTag === undefined) throw new SipParseError('request has no From tag');
    return new Dialog({
      id: { callId: required(request, 'Call-ID'), localTag, remoteTag },
      state,
      localUri: parseNameAddr(required(request, 'To')).uriText,
      remoteUri: parseNameAddr(required(request, 'From')).uriText,
      remoteTarget: contactUri(request),
      routeSet: recordRoutes(request),
      localSeq: 0,
      remoteSeq: cseqOf(request).seq,
      localContact,
      secure: isSips(request.uri),
    });
  }

  /** Current state. */
  get state(): DialogState {
    return this.current;
  }

  /** Early → Confirmed (the 2xx arrived). */
  confirm(): void {
    if (this.current !== S.Confirmed) this.transition(S.Confirmed);
  }

  /** End the dialog (BYE sent or received, non-2xx final response to an early dialog). */
  terminate(): void {
    if (this.current !== S.Terminated) this.transition(S.Terminated);
  }

  /**
   * A request inside this dialog (§12.2.1.1): To/From with tags, Call-ID, the next local CSeq, the Request-URI
   * and Route from the remote target and route set (loose routing when the first route has `lr`, else the
   * strict-routing form), Max-Forwards 70 and, for target refresh methods, our Contact. The caller adds Via.
   * ACK and CANCEL do not take a new CSeq: use `createAck` (CANCEL is built from the request it cancels).
   */
  createRequest(method: string, body?: { type: string; content: string | Uint8Array }): SipRequest {
    if (this.current === S.Terminated) throw new Error(`dialog ${this.id.callId} is terminated`);
    if (method === 'ACK' || method === 'CANCEL') throw new Error(`use createAck / buildCancel for ${method}`);
    this.localSeq += 1;
    return this.build(method, this.localSeq, body);
  }

  /** The ACK for a 2xx to the INVITE with CSeq number `inviteSeq` (§13.2.2.4): same CSeq number, method ACK. */
  createAck(inviteSeq: number, body?: { type: string; content: string | Uint8Array }): SipRequest {
    if (this.current === S.Terminated) throw new Error(`dialog ${this.id.callId} is terminated`);
    return this.build('ACK', inviteSeq, body);
  }

  /**
   * Accept a request the peer sent in this dialog (§12.2.2). Returns 500 when its CSeq is lower than or equal
   * to the last one (out of order), else undefined after updating the remote CSeq and, for target refresh
   * requests with a Contact, the remote target. ACK and CANCEL are not sequenced.
   */
  receiveRequest(request: SipRequest): { status: 500; reason: string } | undefined {
    if (request.method === 'ACK' || request.method === 'CANCEL') return undefined;
    const seq = cseqOf(request).seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return { status: 500, reason: 'CSeq Out Of Order' };
    this.remoteSeq = seq;
    if (TARGET_REFRESH.has(request.method) && request.headers.has('Contact')) this.remoteTarget = contactUri(request);
    return undefined;
  }

  /** The one transition function: checks the move and emits `stateChange`. */
  private transition(to: DialogState): void {
    const from = this.current;
    assertTransition('Dialog', TRANSITIONS, from, to);
    this.current = to;
    this.emit('stateChange', from, to);
  }

  private build(method: string, seq: number, body?: { type: string; content: string | Uint8Array }): SipRequest {
    const first = this.routeSet[0];
    const strict = first !== undefined && !isLooseRoute(first);
    let uri = this.remoteTarget;
    let routes = [...this.routeSet];
    if (strict) {
      // §12.2.1.1: a strict router wants its URI as Request-URI; the remote target goes last in Route.
      uri = stripForRequestUri(parseNameAddr(first).uriText);
      routes = [...routes.slice(1), `<${this.remoteTarget}>`];
    }
    const request = createRequest(method, uri);
    request.headers.append('Max-Forwards', '70');
    for (const route of routes) request.headers.append('Route', route);
    request.headers.append('From', `<${this.localUri}>;tag=${this.id.localTag}`);
    request.headers.append('To', `<${this.remoteUri}>;tag=${this.id.remoteTag}`);
    request.headers.append('Call-ID', this.id.callId);
    request.headers.append('CSeq', `${seq} ${method}`);
    if (TARGET_REFRESH.has(method)) request.headers.append('Contact', this.localContact);
    if (body) {
      request.headers.append('Content-Type', body.type);
      request.body = typeof body.content === 'string' ? new TextEncoder().encode(body.content) : body.content;
    }
    return request;
  }
}

function required(message: SipRequest | SipResponse, name: string): string {
  const value = message.headers.get(name);
  if (value === undefined) throw new SipParseError(`missing ${name}`);
  return value;
}

function contactUri(message: SipRequest | SipResponse): string {
  const value = message.headers.first('Contact');
  if (value === undefined) throw new SipParseError('missing Contact: no remote target');
  return parseNameAddr(value).uriText;
}

function recordRoutes(message: SipRequest | SipResponse): string[] {
  const out: string[] = [];
  for (const line of message.headers.getAll('Record-Route')) {
    for (const entry of parseNameAddrList(line)) out.push(`<${entry.uriText}>`);
  }
  return out;
}

function isLooseRoute(route: string): boolean {
  const uri = parseNameAddr(route).uri;
  return uri.kind === 'sip' && getUriParam(uri.params, 'lr') !== undefined;
}

/** §12.2.1.1 / §19.1.1: a Request-URI carries no method, maddr, ttl… — we keep it simple and keep params. */
function stripForRequestUri(uri: string): string {
  return uri.replace(/\?.*$/, '');
}

function isSips(uri: string): boolean {
  try {
    const parsed = parseUri(uri);
    return parsed.kind === 'sip' && parsed.scheme === 'sips';
  } catch {
    return false;
  }
}
