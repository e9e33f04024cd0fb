/**
 * The one place that reaches into JsSIP 3.13.8 (pinned) past its public API, with the types its
 * declaration files leave out. Everything here was read from node_modules/jssip/lib; if JsSIP is upgraded,
 * re-check these shapes first.
 *
 * Used: `SIPMessage.OutgoingRequest` + `RequestSender` to send out-of-dialog requests (REFER), `Dialog` for
 * subscription dialogs (RFC 6665), `Transactions` to create the server transaction of a request the UA
 * would otherwise refuse, `Utils.newTag`, and the UA's private fields listed in `UaInternals`.
 */
import { createRequire } from 'node:module';
import type { UA } from 'jssip';

const require = createRequire(import.meta.url);

/**
 * A JsSIP Socket as its Transport really uses it (lib/Socket.js, lib/Transport.js). JsSIP's declaration
 * types `ondata` generically, which no concrete socket satisfies; ours is this interface.
 */
export interface JsSipSocketLike {
  via_transport: string;
  readonly url: string;
  readonly sip_uri: string;
  connect(): void;
  disconnect(): void;
  send(message: string): boolean;
  isConnected(): boolean;
  isConnecting(): boolean;
  onconnect: () => void;
  ondisconnect: (error: boolean, code?: number, reason?: string) => void;
  ondata: (data: string) => void;
}

/** JsSIP's URI object (lib/URI.js). */
export interface JsSipUri {
  scheme: string;
  user: string | null;
  host: string;
  port: number | undefined;
  hasParam(name: string): boolean;
  getParam(name: string): string | null | undefined;
  toString(): string;
}

/** JsSIP's NameAddrHeader (lib/NameAddrHeader.js). */
export interface JsSipNameAddr {
  uri: JsSipUri;
  display_name: string | null;
  hasParam(name: string): boolean;
  getParam(name: string): string | null | undefined;
  toString(): string;
}

/** Fields common to incoming requests and responses (lib/SIPMessage.js IncomingMessage). */
export interface JsSipIncomingMessage {
  method: string;
  call_id: string;
  cseq: number;
  from: JsSipNameAddr;
  to: JsSipNameAddr;
  from_tag: string;
  to_tag: string | undefined;
  body: string | null | undefined;
  /** The raw text of the whole message. */
  data: string;
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
  hasHeader(name: string): boolean;
  parseHeader(name: string, idx?: number): unknown;
}

/** An incoming request. `reply` sends through the server transaction (which must exist). */
export interface JsSipIncomingRequest extends JsSipIncomingMessage {
  ruri: JsSipUri;
  /** The parsed Event header (RFC 6665 §8.2.1), if any. */
  event?: { event: string; params: Record<string, string | null | undefined> };
  /** The parsed Refer-To header (RFC 3515 §2.1), if any. */
  refer_to?: JsSipNameAddr;
  server_transaction: unknown;
  reply(code: number, reason?: string | null, extraHeaders?: string[], body?: string): void;
  reply_sl(code: number, reason?: string | null): void;
}

/** An incoming response. */
export interface JsSipIncomingResponse extends JsSipIncomingMessage {
  status_code: number;
  reason_phrase: string;
}

/** An outgoing request (lib/SIPMessage.js OutgoingRequest). */
export interface JsSipOutgoingRequest {
  method: string;
  cseq: number;
  call_id: string;
  from: JsSipNameAddr;
  to: JsSipNameAddr;
  setHeader(name: string, value: string | string[]): void;
  getHeader(name: string): string | undefined;
  toString(): string;
}

/** Parameters of a new OutgoingRequest (values override the UA's configuration). */
export interface OutgoingRequestParams {
  to_uri?: JsSipUri | string;
  to_tag?: string;
  from_uri?: JsSipUri | string;
  from_tag?: string;
  call_id?: string;
  cseq?: number;
  route_set?: string[];
}

/** Callbacks of RequestSender (lib/RequestSender.js); 401/407 are answered with digest before these run. */
export interface RequestSenderHandlers {
  onRequestTimeout?: () => void;
  onTransportError?: () => void;
  onReceiveResponse?: (response: JsSipIncomingResponse) => void;
  onAuthenticated?: (request: JsSipOutgoingRequest) => void;
}

/** Callbacks of an in-dialog request (lib/Dialog/RequestSender.js). */
export interface DialogRequestHandlers {
  onRequestTimeout?: () => void;
  onTransportError?: () => void;
  onSuccessResponse?: (response: JsSipIncomingResponse) => void;
  onErrorResponse?: (response: JsSipIncomingResponse) => void;
  /** 408 or 481 to an in-dialog request: the dialog is gone (RFC 3261 §12.2.1.2). */
  onDialogError?: (response: JsSipIncomingResponse) => void;
}

/** A dialog (lib/Dialog.js). */
export interface JsSipDialog {
  readonly id: { call_id: string; local_tag: string; remote_tag: string; toString(): string };
  local_seqnum: number;
  sendRequest(method: string, options?: { extraHeaders?: string[]; body?: string; eventHandlers?: DialogRequestHandlers }): JsSipOutgoingRequest;
  terminate(): void;
  /** Check an in-dialog request (CSeq, RFC 3261 §12.2.2) and hand it to the dialog's owner. */
  receiveRequest(request: JsSipIncomingRequest): void;
  /** Set instead of a dialog when the message had no Contact (the constructor returns `{ error }`). */
  error?: string;
}

/** What a Dialog needs of its owner: the UA, and somewhere to deliver in-dialog requests. */
export interface JsSipDialogOwner {
  _ua: UA;
  receiveRequest(request: JsSipIncomingRequest): void;
}

/** The UA's private fields and methods the subclass relies on (lib/UA.js). */
export interface UaInternals {
  _configuration: { uri: JsSipUri; instance_id: string; [key: string]: unknown };
  _contact: { uri: JsSipUri; pub_gruu: string | null; temp_gruu: string | null };
  _transport: unknown;
  _status: number;
  _registrator: RegistratorInternals;
  _findDialog(callId: string, fromTag: string, toTag: string): JsSipDialog | null;
}

/** The Registrator's private fields used here (lib/Registrator.js). */
export interface RegistratorInternals {
  /** The Contact value it registers, built once in its constructor. */
  _contact: string;
  _sipInstance: string;
  _reg_id: number;
  setExtraContactParams(params: Record<string, string | null>): void;
}

/** A client transaction as announced by the UA's `newTransaction` event (lib/Transactions.js). */
export interface JsSipClientTransaction {
  type: string;
  request: JsSipOutgoingRequest;
  receiveResponse(response: JsSipIncomingResponse): void;
}

interface SipMessageModule {
  OutgoingRequest: new (method: string, ruri: JsSipUri | string, ua: UA, params?: OutgoingRequestParams, extraHeaders?: string[], body?: string) => JsSipOutgoingRequest;
}
interface TransactionsModule {
  checkTransaction(ua: UA, request: JsSipIncomingRequest): boolean;
  NonInviteServerTransaction: new (ua: UA, transport: unknown, request: JsSipIncomingRequest) => unknown;
  C: { NON_INVITE_CLIENT: string };
}
interface UtilsModule {
  newTag(): string;
}
interface GrammarModule {
  parse(input: string, rule: string): unknown;
}

/** lib/SIPMessage.js OutgoingRequest. */
export const OutgoingRequest = (require('jssip/lib/SIPMessage') as SipMessageModule).OutgoingRequest;

/** lib/RequestSender.js: sends a request in a new client transaction, answering digest challenges once. */
export const RequestSender = require('jssip/lib/RequestSender') as new (ua: UA, request: JsSipOutgoingRequest, handlers: RequestSenderHandlers) => { send(): void };

/** lib/Dialog.js. `type` is the role in the transaction that created the dialog. */
export const Dialog = require('jssip/lib/Dialog') as new (
  owner: JsSipDialogOwner,
  message: JsSipIncomingRequest | JsSipIncomingResponse,
  type: 'UAC' | 'UAS',
) => JsSipDialog;

/** lib/Transactions.js. */
export const Transactions = require('jssip/lib/Transactions') as TransactionsModule;

/** lib/Utils.js. */
export const Utils = require('jssip/lib/Utils') as UtilsModule;

/** lib/Grammar.js: returns -1 when `input` does not match `rule`. */
export const Grammar = require('jssip/lib/Grammar') as GrammarModule;

/** The UA's internals, typed. */
export function internalsOf(ua: UA): UaInternals {
  return ua as unknown as UaInternals;
}
