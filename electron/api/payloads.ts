/**
 * Payload types of the DeviceApi: what commands take and return and what events carry.
 *
 * Everything here is plain data (JSON-safe: strings, numbers, booleans, arrays, objects, null) so that it
 * crosses Electron IPC (structured clone) and the web shell's WebSocket unchanged. Times are milliseconds
 * since the Unix epoch. No Node, DOM or electron types: this file is compiled under both tsconfigs.
 */

/** A `sip:`, `sips:` or `tel:` URI as text (RFC 3261 §19.1, RFC 3966). */
export type UriString = string;

/** Registration of this device's contact with the SIP/IP core (RFC 3261 §10, RFC 5626, RFC 5627). */
export type RegistrationStateName = 'unregistered' | 'registering' | 'registered' | 'refreshing' | 'failed';

/** Every registration state, in the order of the state machine's diagram. */
export const REGISTRATION_STATE_NAMES: readonly RegistrationStateName[] = [
  'unregistered', 'registering', 'registered', 'refreshing', 'failed',
];

/** What the user types to sign in (the `signIn` command's argument). The password never comes back out. */
export interface AccountConfig {
  /** The address of record, e.g. `sip:alice@a.example`. */
  uri: UriString;
  /** Shown to others in From (may be empty). */
  displayName: string;
  /** This device's human name, sent as `+cpm.device-name` ("Laptop", "Desktop"). */
  deviceName: string;
  /** Digest user name; defaults to the AOR's user part when absent. */
  authorizationUser?: string;
  /** Digest password (RFC 3261 §22; MD5 by default). */
  password: string;
  /** The core's SIP-over-WebSocket URL (RFC 7118): `ws://…` or `wss://…`. */
  websocketUrl: string;
  /** The Conversation Server's transfer service URI X (PROFILE.md); the lab default is `sip:cpm-transfer@<domain>`. */
  transferServiceUri?: UriString;
  /** PEM of a CA or self-signed certificate to trust for `wss:` (lab and private deployments). */
  trustedCertificatePem?: string;
  /**
   * Base URL (`http://…` or `https://…`) of the domain's Message Store HTTP API (Digest with the SIP
   * credentials above). With it the device keeps its history in step with the store (the target of a move
   * fetches the conversation from it); without it history stays on this device.
   */
  messageStoreUrl?: string;
  /**
   * Whether this device deposits what it sends and receives in the Message Store: true where the domain's
   * Conversation Server is a proxy (PROFILE.md: each device deposits), false (the default) where it is
   * in-path and deposits itself. Needs `messageStoreUrl`.
   */
  depositHistory?: boolean;
}

/** The signed-in account as the UI sees it. */
export interface AccountInfo {
  uri: UriString;
  displayName: string;
  deviceName: string;
  /** This device's stable `+sip.instance` (RFC 5626 §4.1), `urn:uuid:…`. */
  instanceId: string;
  /** Public GRUU assigned at registration (RFC 5627 §3.2), null until registered. */
  pubGruu: UriString | null;
  websocketUrl: string;
  transferServiceUri: UriString | null;
  registration: RegistrationStateName;
  /**
   * Whether Join requests from the user's other devices are accepted without prompting (`setAutoAccept`).
   * The agent reports its own setting; the shell fills it in from its saved settings. Absent means off.
   */
  autoAccept?: boolean;
  /** The Message Store the history is kept in step with (`AccountConfig.messageStoreUrl`); absent: none. */
  messageStoreUrl?: string;
  /**
   * Where this device keeps its history: `disk` (SQLite in the profile's folder) or `memory` (lost on quit:
   * the SQLite module could not be loaded, see `historyProblem`). Absent: not reported.
   */
  historyStorage?: HistoryStorage;
  /** Why the history is not on disk, in words for the user; absent when all is well. */
  historyProblem?: string;
}

/** Where a device keeps its history (`AccountInfo.historyStorage`). */
export type HistoryStorage = 'disk' | 'memory';

/** Every history storage kind. */
export const HISTORY_STORAGES: readonly HistoryStorage[] = ['disk', 'memory'];

/** A `registrationState` event. */
export interface RegistrationStatus {
  state: RegistrationStateName;
  /** Why the last transition happened: a SIP status line ("403 Forbidden") or a transport cause; null if none. */
  cause: string | null;
  pubGruu: UriString | null;
  /** When the current registration expires, null when not registered. */
  expiresAt: number | null;
}

/** One registered device (contact) of the user's AOR, from the `reg` event (RFC 3680, RFC 5628). */
export interface DeviceInfo {
  /** `+sip.instance` value, `urn:uuid:…`. */
  instanceId: string;
  /** `+cpm.device-name`, or a fallback the agent chose. */
  name: string;
  /** The device's public GRUU, where transfers are addressed. */
  pubGruu: UriString;
  /** True for this very device. */
  self: boolean;
  /** True when the contact carries the CPM session feature tag. */
  cpmCapable: boolean;
}

/** One conversation (OMA CPM Conversation-ID) as listed on the side bar. */
export interface ConversationSummary {
  /** The `Conversation-ID`. */
  id: string;
  peerUri: UriString;
  peerDisplayName: string;
  /** The last message's text (truncated by the agent), or null for an empty conversation. */
  lastMessageText: string | null;
  updatedAt: number;
  unreadCount: number;
  /** The CPM session currently carrying the conversation on this device, if any. */
  activeSessionId: string | null;
}

/** Direction of a message relative to this device's user. */
export type MessageDirection = 'incoming' | 'outgoing';

/**
 * Delivery status of a message. `delivered` and `displayed` come only from an IMDN sent by the recipient's
 * device (RFC 5438; PROFILE.md: MSRP 200s are hop by hop).
 */
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'displayed' | 'failed';

/** Every message status, in progress order (`failed` last). */
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'displayed', 'failed'];

/** One chat message. */
export interface ChatMessage {
  /** The `imdn.Message-ID` (RFC 5438 §6.3): unique, receivers drop duplicates by it. */
  id: string;
  conversationId: string;
  direction: MessageDirection;
  senderUri: UriString;
  text: string;
  /** The CPIM `DateTime` (RFC 3862), as epoch milliseconds. */
  timestamp: number;
  status: MessageStatus;
}

/** `getMessages` paging options: messages strictly older than `before` (a message id), newest first. */
export interface MessagePageQuery {
  before?: string;
  limit: number;
}

/** One page of history, newest first. */
export interface MessagePage {
  messages: ChatMessage[];
  /** True when older messages exist before the last one of this page. */
  hasMore: boolean;
}

/** A `messageStatus` event: one of our messages moved forward (MSRP accepted it, or an IMDN arrived), or failed. */
export interface MessageStatusUpdate {
  conversationId: string;
  messageId: string;
  status: MessageStatus;
  at: number;
}

/** An `incomingSession` event: someone invites this device to a CPM session. */
export interface IncomingSessionInfo {
  sessionId: string;
  conversationId: string;
  peerUri: UriString;
  peerDisplayName: string;
}

/** Life of a CPM session as the UI shows it. */
export type SessionStateName = 'connecting' | 'ringing' | 'active' | 'ended' | 'failed';

/** Every session state. */
export const SESSION_STATE_NAMES: readonly SessionStateName[] = ['connecting', 'ringing', 'active', 'ended', 'failed'];

/** A `sessionState` event. */
export interface SessionStateUpdate {
  sessionId: string;
  conversationId: string;
  state: SessionStateName;
  /** A SIP status line or a cause for `ended`/`failed`, else null. */
  cause: string | null;
}

/** Machine-readable error codes, shared by command rejections and `error` events. */
export type DeviceErrorCode =
  | 'invalid-argument'
  | 'not-signed-in'
  | 'not-found'
  | 'invalid-state'
  | 'network'
  | 'forbidden'
  | 'internal';

/** Every error code. */
export const DEVICE_ERROR_CODES: readonly DeviceErrorCode[] = [
  'invalid-argument', 'not-signed-in', 'not-found', 'invalid-state', 'network', 'forbidden', 'internal',
];

/** An `error` event: something went wrong outside any command (e.g. the connection dropped). */
export interface DeviceErrorInfo {
  code: DeviceErrorCode;
  message: string;
  /** The conversation it concerns, if any. */
  conversationId: string | null;
}

// ─── Session transfer (PROFILE.md "The transfer, step by step") ────────────────────────────────────────────

/** Which side of a transfer this device plays. */
export type TransferRole = 'source' | 'target';

/** Every transfer role. */
export const TRANSFER_ROLES: readonly TransferRole[] = ['source', 'target'];

/**
 * Phases a transfer goes through, as the UI shows them: `requested` (REFER sent / Join received),
 * `accepted` (202 + NOTIFY 100), `joining` (target sends INVITE J), `replaced` (target's session is up),
 * `completed` (source released T), `declined`, `timed-out`, `failed`.
 */
export type TransferPhase = 'requested' | 'accepted' | 'joining' | 'replaced' | 'completed' | 'declined' | 'timed-out' | 'failed';

/** Every transfer phase. */
export const TRANSFER_PHASES: readonly TransferPhase[] = [
  'requested', 'accepted', 'joining', 'replaced', 'completed', 'declined', 'timed-out', 'failed',
];

/** A `transferProgress` event. */
export interface TransferProgress {
  transferId: string;
  conversationId: string;
  role: TransferRole;
  phase: TransferPhase;
  /** The SIP status the phase came from (a NOTIFY sipfrag or a REFER response), or null. */
  statusCode: number | null;
  /** On the source's last event: how the move ended. */
  outcome?: TransferOutcome;
  /** On the source's last event: what the UI says ("Moved to Desktop", "Desktop declined", "The move was refused (491 …)"). */
  description?: string;
}

/** How a move ended, from the source's side. */
export type TransferOutcome = 'moved' | 'declined' | 'no-answer' | 'device-gone' | 'refused' | 'failed';

/** Every transfer outcome. */
export const TRANSFER_OUTCOMES: readonly TransferOutcome[] = ['moved', 'declined', 'no-answer', 'device-gone', 'refused', 'failed'];

/** A `joinRequest` event: another device of ours asks this one to take the conversation over. */
export interface JoinRequest {
  joinId: string;
  conversationId: string;
  peerUri: UriString;
  peerDisplayName: string;
  /** The source device's `+cpm.device-name` ("moved from Laptop"). */
  sourceDeviceName: string;
  /** When the prompt expires (60 s after it arrived, PROFILE.md). */
  expiresAt: number;
}
