/**
 * The seam between the Conversation Server and whatever serves its CPM sessions: the proxy mode
 * (`proxy-mode/`) or the in-path B2BUA + MSRP relay (`in-path/`, built separately). The server keeps what
 * every mode shares (the device registry, the `reg` event notifier, OPTIONS) and hands the handler the
 * requests that belong to sessions: initial INVITEs, and every request the core routes *through* the server
 * (in-dialog requests along a Record-Route, CANCEL, ACK for 2xx), plus responses no transaction matched.
 */
import type { SipRequest } from '../sip/message/sip-message';
import type { TimerConfig } from '../sip/transaction/timers';
import type { InviteServerTransaction } from '../sip/transaction/invite-server-transaction';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/transaction-layer';
import type { Endpoint, ReceivedMessage, SipTransportLayer } from '../sip/transport/transport-types';
import type { ConversationMode } from './conversation-mode';
import type { MessageSink } from '../store/message-sink';

/** One side of a CPM session. */
export interface SessionParty {
  /** The user's address of record, `sip:alice@a.example`. */
  aor: string;
  /** The tag this side put in From (caller) or To (callee). */
  tag: string;
  /** The device: its Contact, the remote target others reach it at (its pub-gruu, PROFILE.md). */
  target: string;
  /**
   * The user's display name as the session's INVITE gave it (From for the caller, To for the callee), when it
   * gave one: what a transfer target shows for the peer (PROFILE.md steps 6–9, the Join REFER body).
   */
  displayName?: string | undefined;
}

/**
 * What every mode knows of a session, for the transfer controller: found by the dialog a `Target-Dialog`
 * names (RFC 4538 §4), on the caller's leg.
 */
export interface CpmSessionInfo {
  /**
   * The service control this server applied: `orig`, `term`, or both (`['orig', 'term']`) for a session
   * between two of its own users, which the core routes through it once per side.
   */
  readonly roles: readonly ('orig' | 'term')[];
  readonly callId: string;
  readonly conversationId: string;
  readonly contributionId: string;
  /** The originator as the core asserted it. */
  readonly assertedIdentity: string;
  readonly caller: Readonly<SessionParty>;
  readonly callee: Readonly<SessionParty>;
}

/** What a session handler may use of its server. */
export interface SessionHandlerEnvironment {
  /** The domain the server serves. */
  domain: string;
  transport: SipTransportLayer;
  /** The server's transaction layer, shared: the handler never listens to it, the server dispatches. */
  layer: TransactionLayer;
  /** The server's own (internal TLS) address. */
  address: Endpoint;
  timers?: Partial<TimerConfig>;
  /** Diagnostics for operators (one line each). */
  log: (line: string) => void;
  /**
   * Where an in-path handler records every message it relays for the users of its own domain (PROFILE.md
   * "History continuity"); absent when the domain has no Message Store.
   */
  messageSink?: MessageSink;
}

/** Serves the CPM sessions of one Conversation Server. */
export interface CpmSessionHandler {
  /** The mode this handler implements. */
  readonly mode: ConversationMode;
  /**
   * Whether a request belongs to sessions (rather than to the server's own services, such as REGISTER or a
   * `reg` SUBSCRIBE addressed to it). Must not throw.
   */
  wants(request: SipRequest): boolean;
  /** Serve a request `wants` accepted; its server transaction must be answered. Never throws. */
  handleRequest(transaction: ServerTransaction, received: ReceivedMessage): void;
  /** An ACK no transaction absorbed (ACK for a 2xx) that `wants` accepted. Never throws. */
  handleAck(received: ReceivedMessage, transaction: InviteServerTransaction | undefined): void;
  /** A response that matched no client transaction (a 2xx retransmission). Never throws. */
  handleResponse(received: ReceivedMessage): void;
  /** Sessions alive now. */
  sessionCount(): number;
  /** The live session of a dialog: its Call-ID and both tags, in either order. */
  findByDialog(callId: string, tagA: string, tagB: string): CpmSessionInfo | undefined;
  /** End every session's state and timer (the transport is the server's to close). */
  close(): void;
}

/** Builds a handler for a server (how the in-path B2BUA plugs in). */
export type CpmSessionHandlerFactory = (environment: SessionHandlerEnvironment) => CpmSessionHandler;
