/**
 * The DeviceApi: the one typed surface between the UI (renderer, web shell) and the DeviceAgent.
 *
 * Commands and events are each declared ONCE, as a map from name to signature; the name lists, the IPC
 * channels (channels.ts), the validators (validate.ts) and the client (bridge.ts) are derived from these maps,
 * and the compiler checks that every list covers every name.
 */
import type {
  AccountConfig,
  AccountInfo,
  ChatMessage,
  ConversationSummary,
  DeviceErrorCode,
  DeviceErrorInfo,
  DeviceInfo,
  IncomingSessionInfo,
  JoinRequest,
  MessagePage,
  MessagePageQuery,
  MessageStatusUpdate,
  RegistrationStatus,
  SessionStateUpdate,
  TransferProgress,
  UriString,
} from './payloads';
import { DEVICE_ERROR_CODES } from './payloads';

/** One command: its argument tuple and what its promise resolves to. */
export interface CommandSignature<A extends readonly unknown[], R> {
  args: A;
  result: R;
}

/** Every command the UI can send to the DeviceAgent, by name. */
export interface DeviceCommandMap {
  // Account and registration.
  /** The signed-in account, or null when signed out. */
  getAccount: CommandSignature<[], AccountInfo | null>;
  /** Store the account (replacing any previous one) and start registering; resolves once configured, not registered. */
  signIn: CommandSignature<[config: AccountConfig], AccountInfo>;
  /** Unregister, end every session and forget the credentials. */
  signOut: CommandSignature<[], void>;

  // Device list (RFC 3680 `reg` event served by the Conversation Server).
  /** Every registered device of our AOR, this one included (`self: true`). */
  listDevices: CommandSignature<[], DeviceInfo[]>;

  // Conversations.
  /** Every conversation, most recently updated first. */
  listConversations: CommandSignature<[], ConversationSummary[]>;
  /** A page of a conversation's messages, newest first. */
  getMessages: CommandSignature<[conversationId: string, query: MessagePageQuery], MessagePage>;
  /** Open (or reuse) the conversation with `uri` and start a CPM session; resolves with the conversation. */
  startChat: CommandSignature<[uri: UriString], ConversationSummary>;
  /** Send a text message; resolves with the message as stored (status `pending` or `sent`). */
  sendMessage: CommandSignature<[conversationId: string, text: string], ChatMessage>;
  /** Mark messages up to and including `messageId` as read; sends the `displayed` IMDNs that were requested. */
  markDisplayed: CommandSignature<[conversationId: string, messageId: string], void>;

  // Incoming sessions.
  acceptSession: CommandSignature<[sessionId: string], void>;
  declineSession: CommandSignature<[sessionId: string], void>;
  /** End a CPM session (BYE); the conversation stays. */
  endSession: CommandSignature<[sessionId: string], void>;

  // ─── Transfer (PROFILE.md "The transfer, step by step"); implemented by electron/device/transfer ────────
  /** Move a conversation's live session to another device of ours (by its `+sip.instance`); resolves with the transfer id. */
  moveConversation: CommandSignature<[conversationId: string, targetInstanceId: string], string>;
  /** Accept a Join prompt (this device becomes the target). */
  acceptJoin: CommandSignature<[joinId: string], void>;
  /** Decline a Join prompt (NOTIFY sipfrag 603). */
  declineJoin: CommandSignature<[joinId: string], void>;
  /** Accept Join requests without prompting. */
  setAutoAccept: CommandSignature<[enabled: boolean], void>;
}

/** Every event the DeviceAgent sends to the UI, by name, with its payload. */
export interface DeviceEventMap {
  registrationState: RegistrationStatus;
  /** The whole device list, each time it changes. */
  devices: DeviceInfo[];
  conversationUpdated: ConversationSummary;
  /** A message arrived, or one of ours was stored. */
  message: ChatMessage;
  /** MSRP accepted one of our messages (`sent`), an IMDN arrived (`delivered`/`displayed`), or a send failed. Statuses only move forward. */
  messageStatus: MessageStatusUpdate;
  incomingSession: IncomingSessionInfo;
  sessionState: SessionStateUpdate;
  error: DeviceErrorInfo;

  // ─── Transfer ──────────────────────────────────────────────────────────────────────────────────────────
  transferProgress: TransferProgress;
  joinRequest: JoinRequest;
}

/** A command's name. */
export type DeviceCommandName = keyof DeviceCommandMap;
/** An event's name. */
export type DeviceEventName = keyof DeviceEventMap;
/** A command's argument tuple. */
export type DeviceCommandArgs<K extends DeviceCommandName> = DeviceCommandMap[K]['args'];
/** What a command's promise resolves to. */
export type DeviceCommandResult<K extends DeviceCommandName> = DeviceCommandMap[K]['result'];
/** A listener for one event. */
export type DeviceEventListener<E extends DeviceEventName> = (payload: DeviceEventMap[E]) => void;

/** The command half of the API: every command is a method returning a Promise. */
export type DeviceCommands = {
  [K in DeviceCommandName]: (...args: DeviceCommandArgs<K>) => Promise<DeviceCommandResult<K>>;
};

/** The whole DeviceApi as the UI holds it: the commands plus typed event subscription. */
export interface DeviceApi extends DeviceCommands {
  /** Listen to an event; returns the function that stops listening. */
  on<E extends DeviceEventName>(event: E, listener: DeviceEventListener<E>): () => void;
}

// The name lists are written as records so that the compiler rejects a missing or an unknown name.
const COMMAND_SET: { readonly [K in DeviceCommandName]: true } = {
  getAccount: true,
  signIn: true,
  signOut: true,
  listDevices: true,
  listConversations: true,
  getMessages: true,
  startChat: true,
  sendMessage: true,
  markDisplayed: true,
  acceptSession: true,
  declineSession: true,
  endSession: true,
  moveConversation: true,
  acceptJoin: true,
  declineJoin: true,
  setAutoAccept: true,
};

const EVENT_SET: { readonly [E in DeviceEventName]: true } = {
  registrationState: true,
  devices: true,
  conversationUpdated: true,
  message: true,
  messageStatus: true,
  incomingSession: true,
  sessionState: true,
  error: true,
  transferProgress: true,
  joinRequest: true,
};

/** Every command name, in declaration order. */
export const DEVICE_COMMAND_NAMES: readonly DeviceCommandName[] = Object.freeze(Object.keys(COMMAND_SET) as DeviceCommandName[]);

/** Every event name, in declaration order. */
export const DEVICE_EVENT_NAMES: readonly DeviceEventName[] = Object.freeze(Object.keys(EVENT_SET) as DeviceEventName[]);

/** True when `name` is a command name (for dispatchers receiving untrusted names). */
export function isDeviceCommandName(name: unknown): name is DeviceCommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(COMMAND_SET, name);
}

/** True when `name` is an event name. */
export function isDeviceEventName(name: unknown): name is DeviceEventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(EVENT_SET, name);
}

/**
 * The error a command rejects with. Over IPC only `message` survives reliably, so the code is also put at
 * the start of the message (`[not-found] …`); `DeviceApiError.fromUnknown` recovers it on the other side.
 */
export class DeviceApiError extends Error {
  override readonly name = 'DeviceApiError';

  constructor(
    readonly code: DeviceErrorCode,
    detail: string,
  ) {
    super(`[${code}] ${detail}`);
  }

  /** The detail without the `[code]` prefix. */
  get detail(): string {
    return this.message.slice(this.code.length + 3);
  }

  /** Rebuild a DeviceApiError from whatever crossed the boundary (an Error, a string, anything). */
  static fromUnknown(error: unknown): DeviceApiError {
    if (error instanceof DeviceApiError) return error;
    const text = error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
    const match = /\[([a-z-]+)\] ([\s\S]*)$/.exec(text);
    if (match && isErrorCode(match[1])) return new DeviceApiError(match[1], match[2] ?? '');
    return new DeviceApiError('internal', text);
  }
}

const ERROR_CODES: ReadonlySet<string> = new Set<string>(DEVICE_ERROR_CODES);

function isErrorCode(code: string | undefined): code is DeviceErrorCode {
  return code !== undefined && ERROR_CODES.has(code);
}

// ─── Shell commands: answered by the app shell (Electron main, browser shell), not by the DeviceAgent ─────

/**
 * Commands the shell around the agent answers itself, because they need the machine (start processes, read
 * files) rather than the SIP stack. They travel like the agent's commands (`cpm:command:<name>`); a shell that
 * does not offer one rejects it with `invalid-state`.
 */
export interface ShellCommandMap {
  /**
   * "Try it locally": start the embedded lab network, or join the one another profile of this app already runs
   * on this machine, then sign this device in as the lab's first user under `deviceName`.
   */
  tryLocally: CommandSignature<[deviceName: string], AccountInfo>;
}

/** A shell command's name. */
export type ShellCommandName = keyof ShellCommandMap;
/** A shell command's argument tuple. */
export type ShellCommandArgs<K extends ShellCommandName> = ShellCommandMap[K]['args'];
/** What a shell command's promise resolves to. */
export type ShellCommandResult<K extends ShellCommandName> = ShellCommandMap[K]['result'];

/** The shell's commands, as methods returning Promises. */
export type ShellCommands = {
  [K in ShellCommandName]: (...args: ShellCommandArgs<K>) => Promise<ShellCommandResult<K>>;
};

/** What the UI holds (`window.cpm`, the browser shell's client): the agent's DeviceApi plus the shell's commands. */
export interface AppApi extends DeviceApi, ShellCommands {}

const SHELL_COMMAND_SET: { readonly [K in ShellCommandName]: true } = {
  tryLocally: true,
};

/** Every shell command name, in declaration order. */
export const SHELL_COMMAND_NAMES: readonly ShellCommandName[] = Object.freeze(Object.keys(SHELL_COMMAND_SET) as ShellCommandName[]);

/** True when `name` is a shell command name. */
export function isShellCommandName(name: unknown): name is ShellCommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(SHELL_COMMAND_SET, name);
}
