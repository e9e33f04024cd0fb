/**
 * The checks a receiver runs on a message before processing it, by role:
 *
 * - `uas` (RFC 3261 §8.2): well-formedness (400), method (405 with Allow / 501 for unknown methods),
 *   Request-URI scheme (416), Require (420 with Unsupported), Content-Type / Content-Encoding (415 with
 *   Accept), Accept against what we would answer with (406).
 * - `registrar` (§10.3): a UAS for REGISTER (and OPTIONS), plus the REGISTER rules: To must be a SIP or
 *   SIPS URI (RFC 4475 §3.3.4), `Contact: *` only alone and with `Expires: 0`.
 * - `proxy` (§16.3): "reasonable syntax" of what a proxy uses (400), Request-URI scheme (416),
 *   Max-Forwards (483), a loop-detection hook (482), Proxy-Require (420 with Unsupported).
 *
 * `checkRequest` returns undefined when the request may be processed, or the response to send.
 * `rejectionForParseError` does the same for a message the parser refused; `checkResponse` tells whether
 * a received response must be dropped.
 */
import { isToken } from './abnf';
import { parseCSeq } from './cseq';
import {
  acceptRanges, deltaSeconds, isCallId, maxForwards, mediaTypeMatches, mediaTypeName, optionTags, parseMediaType,
} from './header-fields';
import { getParam } from './header-params';
import { type NameAddr, parseNameAddr, parseNameAddrList, sharedContactList, sharedNameAddr } from './name-addr';
import { type ParseOptions, parseMessage } from './parse';
import { SipParseError } from './parse-error';
import { type SipHeader, type SipHeaders, type SipRequest, type SipResponse, reasonPhrase } from './sip-message';
import { bareHost, clip, parseUri } from './sip-uri';
import { MAGIC_COOKIE, type Via, parseVias } from './via';

/** The role in which an element receives a request. */
export type ReceiverRole = 'proxy' | 'registrar' | 'uas';

/** Methods of RFC 3261 and the extensions this project knows (a method outside this set is "unknown": 501). */
export const KNOWN_METHODS: readonly string[] = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO',
  'REFER', 'MESSAGE', 'UPDATE',
];

/** Options of {@link checkRequest}. */
export interface RequestCheckOptions {
  role: ReceiverRole;
  /**
   * Option tags we support: checked against Require (uas, registrar) or Proxy-Require (proxy).
   * Default: none.
   */
  supportedExtensions?: readonly string[];
  /** Methods a uas/registrar handles (405 for other known methods). Default: uas INVITE ACK BYE CANCEL OPTIONS; registrar REGISTER OPTIONS. */
  allowedMethods?: readonly string[];
  /** Body types a uas/registrar understands (415 otherwise). Default: `application/sdp` (uas), none (registrar). */
  acceptedBodyTypes?: readonly string[];
  /** Content codings understood (415 otherwise, §8.2.3). Default: `identity` only. */
  acceptedEncodings?: readonly string[];
  /**
   * The body type our answer to a method would carry; a request whose Accept excludes it gets 406
   * (RFC 3261 §21.4.7, RFC 4475 §3.3.15). Default: INVITE → `application/sdp` (uas only).
   */
  answerBodyTypes?: Readonly<Record<string, string>>;
  /** Request-URI schemes we handle (416 otherwise). Default: `sip`, `sips`. */
  uriSchemes?: readonly string[];
  /**
   * A proxy receiving OPTIONS with Max-Forwards 0 "MAY act as the final recipient" (§16.3 step 3):
   * `'answer'` lets it through (the proxy core must then answer it itself, §11); the default `'reject'`
   * answers 483 like any other method (RFC 4475 §3.3.11).
   */
  optionsAtZeroMaxForwards?: 'reject' | 'answer';
  /** Proxy loop detection (§16.3 step 4, §16.6 step 8): return true to answer 482. */
  detectLoop?: (request: SipRequest) => boolean;
  /** Reject requests whose top Via branch is the bare magic cookie (RFC 4475 §3.2.1). Default true. */
  rejectEmptyBranch?: boolean;
}

/** The response a receiver sends instead of processing a request. */
export interface RequestRejection {
  status: number;
  reason: string;
  /** Headers the response must carry (Allow, Unsupported, Accept…). */
  headers?: SipHeader[];
  /** Why, for logs and tests. */
  detail: string;
}

const UAS_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'];
const UAS_BODY_TYPES: readonly string[] = ['application/sdp'];
const NO_TYPES: readonly string[] = [];
const UAS_ANSWER_TYPES: Readonly<Record<string, string>> = { INVITE: 'application/sdp' };
const NO_ANSWER_TYPES: Readonly<Record<string, string>> = {};
const REGISTRAR_METHODS = ['REGISTER', 'OPTIONS'];

/** Check a parsed request. Returns undefined when it may be processed. Never throws. */
export function checkRequest(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  // ---- well-formedness of what this role uses (§8.2, §16.3 step 1)
  const syntax = checkSyntax(request, options);
  if (syntax) return syntax;
  try {
    return options.role === 'proxy' ? checkProxy(request, options) : checkUas(request, options);
  } catch (e) {
    // checkSyntax has parsed everything the later steps read; this is a safety net, never a crash
    return reject(400, e instanceof SipParseError ? e.reason : 'malformed request');
  }
}

function checkUas(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  const role = options.role;

  // ---- §8.2.1 method inspection
  const allowed = options.allowedMethods ?? (role === 'registrar' ? REGISTRAR_METHODS : UAS_METHODS);
  if (!allowed.includes(request.method)) {
    const allow: SipHeader[] = [{ name: 'Allow', value: allowed.join(', ') }];
    if (!KNOWN_METHODS.includes(request.method)) return reject(501, `method ${clip(request.method)} is not implemented`, allow);
    return reject(405, `${clip(request.method)} is not supported here`, allow);
  }
  // ---- §8.2.2.1 Request-URI scheme
  const scheme = uriScheme(request.uri);
  if (!(options.uriSchemes ?? ['sip', 'sips']).includes(scheme)) return reject(416, `Request-URI scheme ${clip(scheme)}: is not supported`);
  // ---- §8.2.2.3 Require (never for CANCEL, nor ACK)
  if (request.method !== 'CANCEL' && request.method !== 'ACK' && request.headers.has('Require')) {
    const unsupported = unsupportedTags(optionTags(request, 'Require'), options.supportedExtensions);
    if (unsupported.length > 0) {
      return reject(420, `unsupported extension(s) required: ${unsupported.join(', ')}`, [{ name: 'Unsupported', value: unsupported.join(', ') }]);
    }
  }
  // ---- §8.2.3 content processing
  // (The Accept lines of a 415 are built only for a 415: this runs for every request.)
  const accepted = options.acceptedBodyTypes ?? (role === 'uas' ? UAS_BODY_TYPES : NO_TYPES);
  const type = request.headers.get('Content-Type');
  if (type === undefined && request.body.length > 0) return reject(400, 'a body needs a Content-Type (RFC 3261 §20.15)');
  if (type !== undefined && request.body.length > 0) {
    const name = mediaTypeName(parseMediaType(type));
    if (!accepted.includes(name)) return reject(415, `body type ${clip(name)} is not understood`, acceptHeaders(accepted));
  }
  if (request.headers.has('Content-Encoding')) {
    const encodings = request.headers.values('Content-Encoding').map((e) => e.toLowerCase());
    const knownEncodings = options.acceptedEncodings ?? ['identity'];
    const badEncoding = encodings.find((e) => !knownEncodings.includes(e));
    if (badEncoding !== undefined) {
      return reject(415, `content coding ${clip(badEncoding)} is not understood`, [...acceptHeaders(accepted), { name: 'Accept-Encoding', value: knownEncodings.join(', ') }]);
    }
  }
  // ---- §21.4.7: the answer's body type must be acceptable to the requester
  const answerTypes = options.answerBodyTypes ?? (role === 'uas' ? UAS_ANSWER_TYPES : NO_ANSWER_TYPES);
  const answerType = Object.hasOwn(answerTypes, request.method) ? answerTypes[request.method] : undefined; // a method named "toString" is not a key
  // (checkSyntax has already checked that Accept parses.)
  const ranges = answerType === undefined ? undefined : acceptRanges(request);
  if (answerType !== undefined && ranges !== undefined && ranges.length > 0 && !mediaTypeMatches(ranges, answerType)) {
    return reject(406, `Accept excludes ${answerType}, the type of our answer`, [{ name: 'Accept', value: answerType }]);
  }
  // ---- §10.3 registrar rules
  if (role === 'registrar' && request.method === 'REGISTER') return checkRegister(request);
  return undefined;
}

/** The Accept lines of a 415 (§21.4.16), built only when one is sent. */
function acceptHeaders(accepted: readonly string[]): SipHeader[] {
  return [{ name: 'Accept', value: accepted.join(', ') }];
}

/**
 * The response to a request the parser refused (RFC 4475 §3.1.2: 400 where a response can be sent,
 * 505 for an unsupported version), or undefined when it must be dropped: a response, or something not
 * even recognisable as a request, or a request without a Via to answer to.
 */
export function rejectionForParseError(error: SipParseError): RequestRejection | undefined {
  if (error.isRequest !== true || error.method === undefined) return undefined;
  if (!error.headers?.has('Via')) return undefined;
  return reject(error.status, error.reason);
}

/** Why a received response must be dropped, or undefined when it may be processed. Never throws. */
export function checkResponse(response: SipResponse, role: ReceiverRole): { drop: true; because: string } | undefined {
  let vias: Via[];
  try {
    vias = parseVias(response.headers.getAll('Via'));
    const missing = ['From', 'To', 'Call-ID', 'CSeq'].filter((h) => response.headers.getAll(h).length !== 1);
    if (missing.length > 0) return { drop: true, because: `missing or repeated ${missing.join(', ')}` };
    parseNameAddr(response.headers.get('From')!);
    parseNameAddr(response.headers.get('To')!);
    if (!isCallId(response.headers.get('Call-ID')!)) return { drop: true, because: 'invalid Call-ID' };
    parseCSeq(response.headers.get('CSeq')!);
  } catch (e) {
    return { drop: true, because: e instanceof SipParseError ? e.reason : 'malformed response' };
  }
  if (vias.length === 0) return { drop: true, because: 'no Via' };
  if (role !== 'proxy') {
    // §8.1.3.3: a UAC discards a response with more than one Via
    if (vias.length > 1) return { drop: true, because: 'a response to a UAC carries exactly one Via (RFC 3261 §8.1.3.3)' };
  } else if (vias.length > 1) {
    const next = vias[1]!;
    const target = next.received ?? next.maddr ?? bareHost(next.host);
    if (target === '255.255.255.255') return { drop: true, because: 'next Via points at the broadcast address (RFC 4475 §3.3.10)' };
  }
  return undefined;
}

/** Headers every request carries exactly once (RFC 3261 §8.1.1). */
const MANDATORY_ONCE: readonly string[] = ['To', 'From', 'Call-ID', 'CSeq'];

function checkSyntax(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  const h = request.headers;
  const role = options.role;
  try {
    // Request-URI: the parser checked its syntax; a SIP Request-URI carries no headers (§19.1.1 table)
    const uri = parseUri(request.uri);
    if (uri.kind === 'sip' && uri.headers.length > 0) return reject(400, 'escaped headers are not allowed in a Request-URI (RFC 3261 §19.1.1)');
    // mandatory headers, each exactly once except Via (§8.1.1; Max-Forwards may be absent, RFC 4475 §3.4)
    for (const name of MANDATORY_ONCE) {
      const n = h.count(name);
      if (n === 0) return reject(400, `missing ${name} header`);
      if (n > 1) return reject(400, `more than one ${name} header`);
    }
    if (h.count('Max-Forwards') > 1) return reject(400, 'more than one Max-Forwards header');
    // The transport has parsed the topmost Via already (RFC 3261 §18.2.1): with one Via in all, that is every Via.
    const viaLines = h.getAll('Via');
    const memo = h.topViaMemo;
    const vias = viaLines.length === 1 && memo !== undefined && memo.line === viaLines[0] && memo.text === memo.line ? [memo.via] : parseVias(viaLines);
    if (vias.length === 0) return reject(400, 'missing Via header');
    if ((options.rejectEmptyBranch ?? true) && vias[0]!.branch === MAGIC_COOKIE) {
      return reject(400, 'Via branch is the magic cookie alone (RFC 4475 §3.2.1)');
    }
    sharedNameAddr(h.get('From')!);
    sharedNameAddr(h.get('To')!);
    if (!isCallId(h.get('Call-ID')!)) return reject(400, 'invalid Call-ID');
    const cseq = parseCSeq(h.get('CSeq')!);
    if (cseq.method !== request.method) {
      // RFC 4475 §3.1.2.18: an unknown method with a mismatching CSeq is better answered 501
      if (!KNOWN_METHODS.includes(request.method)) return reject(501, `method ${clip(request.method)} is not implemented (and CSeq says ${clip(cseq.method)})`);
      return reject(400, `CSeq method ${clip(cseq.method)} does not match ${clip(request.method)}`);
    }
    maxForwards(request);
    for (const line of h.getAll('Route')) parseNameAddrList(line);
    optionTags(request, 'Proxy-Require');
    optionTags(request, 'Require');
    if (role !== 'proxy') {
      for (const line of h.getAll('Contact')) {
        const contacts = sharedContactList(line);
        if (contacts !== '*') for (const c of contacts) checkContactParams(c);
      }
      const expires = h.get('Expires');
      if (expires !== undefined) deltaSeconds(expires, 'Expires');
      const type = h.get('Content-Type');
      if (type !== undefined) parseMediaType(type);
      acceptRanges(request);
    }
  } catch (e) {
    if (e instanceof SipParseError) return reject(400, e.reason);
    return reject(400, 'malformed request');
  }
  return undefined;
}

function checkContactParams(contact: Readonly<NameAddr>): void {
  const expires = getParam(contact.params, 'expires');
  if (expires !== undefined) {
    if (expires === null) throw new SipParseError('Contact expires parameter without a value');
    deltaSeconds(expires, 'Contact expires');
  }
  const q = getParam(contact.params, 'q');
  if (q !== undefined && (q === null || !/^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/.test(q))) throw new SipParseError(`invalid Contact q value "${q}"`);
}

function checkProxy(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  // §16.3 step 2: URI scheme
  const scheme = uriScheme(request.uri);
  if (!(options.uriSchemes ?? ['sip', 'sips']).includes(scheme)) return reject(416, `Request-URI scheme ${clip(scheme)}: is not supported`);
  // step 3: Max-Forwards
  if (maxForwards(request) === 0) {
    if (!(request.method === 'OPTIONS' && options.optionsAtZeroMaxForwards === 'answer')) {
      return reject(483, 'Max-Forwards is 0');
    }
  }
  // step 4: loop detection
  if (options.detectLoop?.(request)) return reject(482, 'loop detected');
  // step 5: Proxy-Require
  const unsupported = unsupportedTags(optionTags(request, 'Proxy-Require'), options.supportedExtensions);
  if (unsupported.length > 0) {
    return reject(420, `unsupported proxy extension(s): ${unsupported.join(', ')}`, [{ name: 'Unsupported', value: unsupported.join(', ') }]);
  }
  return undefined;
}

function checkRegister(request: SipRequest): RequestRejection | undefined {
  const to = sharedNameAddr(request.headers.get('To')!);
  if (to.uri.kind !== 'sip') return reject(400, 'the To of a REGISTER must be a SIP or SIPS URI (RFC 3261 §10.2, RFC 4475 §3.3.4)');
  const contacts = request.headers.getAll('Contact').map(sharedContactList);
  if (contacts.includes('*')) {
    const expires = request.headers.get('Expires');
    if (contacts.length > 1 || expires === undefined || deltaSeconds(expires, 'Expires') !== 0) {
      return reject(400, 'Contact: * must stand alone with Expires: 0 (RFC 3261 §10.3 step 6)');
    }
  }
  return undefined;
}

function unsupportedTags(tags: readonly string[], supported: readonly string[] | undefined): string[] {
  const known = new Set((supported ?? []).map((t) => t.toLowerCase()));
  return [...new Set(tags.filter((t) => isToken(t) && !known.has(t.toLowerCase())))];
}

function uriScheme(uri: string): string {
  return uri.slice(0, uri.indexOf(':')).toLowerCase();
}

function reject(status: number, detail: string, headers?: SipHeader[]): RequestRejection {
  const out: RequestRejection = { status, reason: reasonPhrase(status), detail };
  if (headers) out.headers = headers;
  return out;
}

/** What a receiver does with the bytes of one message. */
export type Screening =
  | { action: 'process'; message: SipRequest | SipResponse }
  | {
    action: 'reject';
    rejection: RequestRejection;
    /** The request (when it parsed) or the headers the parser understood: what the response is built from. */
    request: SipRequest | undefined;
    headers: SipHeaders;
  }
  | { action: 'drop'; because: string };

/**
 * Parse one datagram/WebSocket message or one framed stream message and run the checks of its role:
 * the whole receive-side decision in one call. Never throws.
 */
export function screenMessage(bytes: Uint8Array, options: RequestCheckOptions & ParseOptions): Screening {
  let message: SipRequest | SipResponse;
  try {
    message = parseMessage(bytes, options);
  } catch (e) {
    if (!(e instanceof SipParseError)) return { action: 'drop', because: 'unparseable message' };
    const rejection = rejectionForParseError(e);
    if (rejection && e.headers) return { action: 'reject', rejection, request: undefined, headers: e.headers };
    return { action: 'drop', because: e.reason };
  }
  if (message.type === 'response') {
    const verdict = checkResponse(message, options.role);
    return verdict ? { action: 'drop', because: verdict.because } : { action: 'process', message };
  }
  const rejection = checkRequest(message, options);
  if (rejection) return { action: 'reject', rejection, request: message, headers: message.headers };
  return { action: 'process', message };
}
