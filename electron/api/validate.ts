/**
 * Hand-written runtime validators for every DeviceApi command's arguments and every event's payload.
 *
 * Whatever crosses the IPC or WebSocket boundary is untrusted: the DeviceAgent validates command arguments
 * before acting, the client validates event payloads before handing them to the UI. A validator never
 * throws; it returns `{ ok: true, value }` (a fresh copy holding only the declared fields) or
 * `{ ok: false, error }` where the error names the offending field by path, e.g.
 * `signIn.config.uri: must be a sip:, sips: or tel: URI`.
 */
import type { DeviceCommandArgs, DeviceCommandName, DeviceEventMap, DeviceEventName, ShellCommandArgs, ShellCommandName } from './device-api';
import {
  DEVICE_ERROR_CODES,
  HISTORY_STORAGES,
  MESSAGE_STATUSES,
  REGISTRATION_STATE_NAMES,
  SESSION_STATE_NAMES,
  TRANSFER_OUTCOMES,
  TRANSFER_PHASES,
  TRANSFER_ROLES,
  type AccountConfig,
  type AccountInfo,
  type ChatMessage,
  type ConversationSummary,
  type DeviceErrorInfo,
  type DeviceInfo,
  type IncomingSessionInfo,
  type JoinRequest,
  type MessagePageQuery,
  type MessageStatusUpdate,
  type RegistrationStatus,
  type SessionStateUpdate,
  type TransferProgress,
} from './payloads';

/** The outcome of a validation. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates `input`; `path` names it in error messages. */
export type Validator<T> = (input: unknown, path: string) => ValidationResult<T>;

/** Limits, exported so that the UI can enforce them as the user types. */
export const LIMITS = {
  uriLength: 512,
  idLength: 128,
  displayNameLength: 128,
  deviceNameLength: 64,
  passwordLength: 256,
  /** One chat message, in UTF-16 code units: 1 MiB (large messages travel chunked, RFC 4975 §5.1). */
  messageTextLength: 1_048_576,
  errorMessageLength: 2_048,
  certificatePemLength: 65_536,
  pageLimit: 200,
  listLength: 10_000,
} as const;

const ok = <T>(value: T): ValidationResult<T> => ({ ok: true, value });
const fail = <T>(path: string, problem: string): ValidationResult<T> => ({ ok: false, error: `${path}: ${problem}` });

/** Short, safe rendering of a bad value for an error message. */
function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') {
    const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
    return JSON.stringify(shown);
  }
  if (typeof input === 'object') return 'an object';
  return typeof input === 'number' || typeof input === 'boolean' ? String(input) : typeof input;
}

// ─── Building blocks ───────────────────────────────────────────────────────────────────────────────────

// C0 controls and DEL; `multiline` text may hold TAB, LF and CR.
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

interface TextOptions {
  min?: number;
  max: number;
  multiline?: boolean;
  /** A regular expression the whole value must match, and how to say it does not. */
  pattern?: { regex: RegExp; expected: string };
}

/** A string of bounded length without control characters. */
export function text(options: TextOptions): Validator<string> {
  const min = options.min ?? 0;
  return (input, path) => {
    if (typeof input !== 'string') return fail(path, `must be a string (got ${describe(input)})`);
    if (input.length < min) return fail(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
    if (input.length > options.max) return fail(path, `must be at most ${options.max} characters (got ${input.length})`);
    if ((options.multiline ? CONTROL_EXCEPT_NEWLINES : CONTROL).test(input)) return fail(path, 'must not contain control characters');
    if (options.pattern && !options.pattern.regex.test(input)) return fail(path, `must be ${options.pattern.expected} (got ${describe(input)})`);
    return ok(input);
  };
}

// RFC 3261 §25.1, simplified but strict about what may not appear (spaces, quotes, angle brackets).
const USERINFO = "[A-Za-z0-9\\-_.!~*'()&=+$,;?/%:]+@";
const HOST = '(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\\.?|\\[[0-9A-Fa-f:.]+\\])';
const PARAMS = "(?:;[A-Za-z0-9\\-_.!~*'()%\\[\\]/:&+$]+(?:=[A-Za-z0-9\\-_.!~*'()%\\[\\]/:&+$\"<>@]*)?)*";
const HEADERS = "(?:\\?[A-Za-z0-9\\-_.!~*'()%\\[\\]/?:+$=&]*)?";
const SIP_URI = new RegExp(`^sips?:(?:${USERINFO})?${HOST}(?::(\\d{1,5}))?${PARAMS}${HEADERS}$`, 'i');
// RFC 3966 §3: global (+digits) or local number, then parameters.
const TEL_URI = new RegExp(`^tel:(?:\\+[0-9().-]*[0-9][0-9().-]*|[0-9A-Fa-f*#().-]*[0-9A-Fa-f*#][0-9A-Fa-f*#().-]*)${PARAMS}$`, 'i');

/** A `sip:`, `sips:` or `tel:` URI (RFC 3261 §19.1, RFC 3966). */
export const uri: Validator<string> = (input, path) => {
  const base = text({ min: 1, max: LIMITS.uriLength })(input, path);
  if (!base.ok) return base;
  const value = base.value;
  const sip = SIP_URI.exec(value);
  if (sip) {
    const port = sip[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return fail(path, `has an invalid port ${port}`);
    return ok(value);
  }
  if (TEL_URI.test(value)) return ok(value);
  return fail(path, `must be a sip:, sips: or tel: URI (got ${describe(value)})`);
};

/** A SIP or SIPS URI only (addresses of record, GRUUs). */
export const sipUri: Validator<string> = (input, path) => {
  const result = uri(input, path);
  if (!result.ok) return result;
  return /^sips?:/i.test(result.value) ? result : fail(path, `must be a sip: or sips: URI (got ${describe(result.value)})`);
};

const WS_URL = new RegExp(`^wss?://${HOST}(?::(\\d{1,5}))?(?:/[A-Za-z0-9\\-_.~!$&'()*+,;=:@%/]*)?$`, 'i');

/** A `ws:` or `wss:` URL (RFC 7118 §5; RFC 6455 §3). */
export const websocketUrl: Validator<string> = (input, path) => {
  const base = text({ min: 1, max: LIMITS.uriLength })(input, path);
  if (!base.ok) return base;
  const match = WS_URL.exec(base.value);
  if (!match) return fail(path, `must be a ws:// or wss:// URL (got ${describe(base.value)})`);
  const port = match[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return fail(path, `has an invalid port ${port}`);
  return ok(base.value);
};

/** An opaque identifier: Conversation-ID, imdn.Message-ID, session, transfer and join ids. */
export const id: Validator<string> = text({
  min: 1,
  max: LIMITS.idLength,
  pattern: { regex: /^[A-Za-z0-9][A-Za-z0-9._~:@+=-]*$/, expected: 'an id of letters, digits and ._~:@+=-' },
});

/** A `+sip.instance` value: a URN (RFC 5626 §4.1), typically `urn:uuid:…` (RFC 4122). */
export const instanceId: Validator<string> = text({
  min: 1,
  max: LIMITS.idLength,
  pattern: { regex: /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#]+$/i, expected: 'a URN such as urn:uuid:…' },
});

/** A boolean. */
export const boolean: Validator<boolean> = (input, path) =>
  typeof input === 'boolean' ? ok(input) : fail(path, `must be true or false (got ${describe(input)})`);

/** An integer within [min, max]. */
export function integer(min: number, max: number): Validator<number> {
  return (input, path) => {
    if (typeof input !== 'number' || !Number.isInteger(input)) return fail(path, `must be an integer (got ${describe(input)})`);
    if (input < min || input > max) return fail(path, `must be between ${min} and ${max} (got ${input})`);
    return ok(input);
  };
}

/** Milliseconds since the epoch. */
export const timestamp: Validator<number> = integer(0, 8_640_000_000_000_000);

/** One of a fixed list of strings. */
export function oneOf<T extends string>(values: readonly T[]): Validator<T> {
  const allowed: ReadonlySet<string> = new Set(values);
  return (input, path) =>
    typeof input === 'string' && allowed.has(input)
      ? ok(input as T)
      : fail(path, `must be one of ${values.join(', ')} (got ${describe(input)})`);
}

/** The value or null. */
export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (input, path) => (input === null ? ok(null) : inner(input, path));
}

/** The value or undefined (an optional object field: absent is fine). */
export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return (input, path) => (input === undefined ? ok(undefined) : inner(input, path));
}

/** An array of at most `max` items, each checked. */
export function arrayOf<T>(item: Validator<T>, max: number = LIMITS.listLength): Validator<T[]> {
  return (input, path) => {
    if (!Array.isArray(input)) return fail(path, `must be an array (got ${describe(input)})`);
    if (input.length > max) return fail(path, `must hold at most ${max} items (got ${input.length})`);
    const out: T[] = [];
    for (let i = 0; i < input.length; i++) {
      const result = item(input[i], `${path}[${i}]`);
      if (!result.ok) return result;
      out.push(result.value);
    }
    return ok(out);
  };
}

/** The validators of an object's fields; every field of T must have one (optional fields use `optional`). */
export type Shape<T> = { readonly [K in keyof T]-?: Validator<T[K]> };

/** A plain object with exactly the given fields (unknown fields are refused: the contract is closed). */
export function object<T extends object>(shape: Shape<T>): Validator<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  const known: ReadonlySet<string> = new Set(keys);
  return (input, path) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail(path, `must be an object (got ${describe(input)})`);
    const record = input as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.has(key)) return fail(`${path}.${key}`, 'is not a known field');
    }
    const out: Partial<Record<keyof T, unknown>> = {};
    for (const key of keys) {
      const value = Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
      const result = shape[key](value, `${path}.${key}`);
      if (!result.ok) return result;
      if (result.value !== undefined) out[key] = result.value;
    }
    return ok(out as T);
  };
}

/** The validators of an argument tuple, one per position. */
export type TupleShape<A extends readonly unknown[]> = { readonly [I in keyof A]: Validator<A[I]> };

/** An argument list of exactly the given arity (`names` label the positions in messages). */
export function args<A extends readonly unknown[]>(names: { readonly [I in keyof A]: string }, checks: TupleShape<A>): Validator<A> {
  const arity = (checks as readonly Validator<unknown>[]).length;
  const labels = names as readonly string[];
  return (input, path) => {
    if (!Array.isArray(input)) return fail(path, 'arguments must be an array');
    if (input.length !== arity) {
      return fail(path, `takes ${arity} argument${arity === 1 ? '' : 's'}${arity ? ` (${labels.join(', ')})` : ''}, got ${input.length}`);
    }
    const out: unknown[] = [];
    for (let i = 0; i < arity; i++) {
      const check = (checks as readonly Validator<unknown>[])[i]!;
      const result = check(input[i], `${path}.${labels[i] ?? String(i)}`);
      if (!result.ok) return result;
      out.push(result.value);
    }
    return ok(out as unknown as A);
  };
}

// ─── Payloads ──────────────────────────────────────────────────────────────────────────────────────────

const displayName = text({ max: LIMITS.displayNameLength });
const deviceName = text({ min: 1, max: LIMITS.deviceNameLength });
const registrationState = oneOf(REGISTRATION_STATE_NAMES);
const cause = nullable(text({ max: 256 }));

/** PEM text holding at least one certificate. */
const certificatePem: Validator<string> = (input, path) => {
  const base = text({ min: 1, max: LIMITS.certificatePemLength, multiline: true })(input, path);
  if (!base.ok) return base;
  return /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(base.value)
    ? base
    : fail(path, 'must be a PEM certificate (-----BEGIN CERTIFICATE----- …)');
};

const HTTP_URL = new RegExp(`^https?://${HOST}(?::(\\d{1,5}))?(?:/[A-Za-z0-9\\-_.~!$&'()*+,;=:@%/]*)?$`, 'i');

/** An `http:` or `https:` URL without query or fragment (a Message Store's base URL; RFC 9110 §4.2). */
export const httpUrl: Validator<string> = (input, path) => {
  const base = text({ min: 1, max: LIMITS.uriLength })(input, path);
  if (!base.ok) return base;
  const match = HTTP_URL.exec(base.value);
  if (!match) return fail(path, `must be an http:// or https:// URL (got ${describe(base.value)})`);
  const port = match[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return fail(path, `has an invalid port ${port}`);
  return ok(base.value);
};

const accountConfigFields = object<AccountConfig>({
  uri: sipUri,
  displayName,
  deviceName,
  authorizationUser: optional(text({ min: 1, max: LIMITS.displayNameLength, pattern: { regex: /^\S+$/, expected: 'a user name without spaces' } })),
  password: text({ min: 1, max: LIMITS.passwordLength }),
  websocketUrl,
  transferServiceUri: optional(sipUri),
  trustedCertificatePem: optional(certificatePem),
  messageStoreUrl: optional(httpUrl),
  depositHistory: optional(boolean),
});

/**
 * The `signIn` argument: each field, then what only makes sense together (a certificate to trust needs a
 * `wss:` URL; depositing needs a Message Store).
 */
export const accountConfig: Validator<AccountConfig> = (input, path) => {
  const result = accountConfigFields(input, path);
  if (!result.ok) return result;
  const config = result.value;
  if (config.trustedCertificatePem !== undefined && !/^wss:/i.test(config.websocketUrl)) {
    return fail(`${path}.trustedCertificatePem`, 'only applies to a wss:// WebSocket URL');
  }
  if (config.depositHistory === true && config.messageStoreUrl === undefined) {
    return fail(`${path}.depositHistory`, 'needs messageStoreUrl (where to deposit)');
  }
  return result;
};

/** The `getAccount` / `signIn` result. */
export const accountInfo: Validator<AccountInfo> = object<AccountInfo>({
  uri: sipUri,
  displayName,
  deviceName,
  instanceId,
  pubGruu: nullable(sipUri),
  websocketUrl,
  transferServiceUri: nullable(sipUri),
  registration: registrationState,
  autoAccept: optional(boolean),
  messageStoreUrl: optional(httpUrl),
  historyStorage: optional(oneOf(HISTORY_STORAGES)),
  historyProblem: optional(text({ min: 1, max: LIMITS.errorMessageLength })),
});

/** The `getMessages` paging argument. */
export const messagePageQuery: Validator<MessagePageQuery> = object<MessagePageQuery>({
  before: optional(id),
  limit: integer(1, LIMITS.pageLimit),
});

/** The text of a message the user sends: not blank, bounded, newlines allowed. */
export const messageText: Validator<string> = (input, path) => {
  const base = text({ min: 1, max: LIMITS.messageTextLength, multiline: true })(input, path);
  if (!base.ok) return base;
  return base.value.trim() === '' ? fail(path, 'must not be blank') : base;
};

const registrationStatus = object<RegistrationStatus>({
  state: registrationState,
  cause,
  pubGruu: nullable(sipUri),
  expiresAt: nullable(timestamp),
});

const deviceInfo = object<DeviceInfo>({
  instanceId,
  name: deviceName,
  pubGruu: sipUri,
  self: boolean,
  cpmCapable: boolean,
});

const conversationSummary = object<ConversationSummary>({
  id,
  peerUri: uri,
  peerDisplayName: displayName,
  lastMessageText: nullable(text({ max: LIMITS.messageTextLength, multiline: true })),
  updatedAt: timestamp,
  unreadCount: integer(0, 1_000_000_000),
  activeSessionId: nullable(id),
});

const chatMessage = object<ChatMessage>({
  id,
  conversationId: id,
  direction: oneOf(['incoming', 'outgoing'] as const),
  senderUri: uri,
  text: text({ max: LIMITS.messageTextLength, multiline: true }),
  timestamp,
  status: oneOf(MESSAGE_STATUSES),
});

const messageStatusUpdate = object<MessageStatusUpdate>({
  conversationId: id,
  messageId: id,
  status: oneOf(MESSAGE_STATUSES),
  at: timestamp,
});

const incomingSessionInfo = object<IncomingSessionInfo>({
  sessionId: id,
  conversationId: id,
  peerUri: uri,
  peerDisplayName: displayName,
});

const sessionStateUpdate = object<SessionStateUpdate>({
  sessionId: id,
  conversationId: id,
  state: oneOf(SESSION_STATE_NAMES),
  cause,
});

const deviceErrorInfo = object<DeviceErrorInfo>({
  code: oneOf(DEVICE_ERROR_CODES),
  message: text({ min: 1, max: LIMITS.errorMessageLength, multiline: true }),
  conversationId: nullable(id),
});

const transferProgress = object<TransferProgress>({
  transferId: id,
  conversationId: id,
  role: oneOf(TRANSFER_ROLES),
  phase: oneOf(TRANSFER_PHASES),
  statusCode: nullable(integer(100, 699)),
  outcome: optional(oneOf(TRANSFER_OUTCOMES)),
  description: optional(text({ min: 1, max: LIMITS.errorMessageLength })),
});

const joinRequest = object<JoinRequest>({
  joinId: id,
  conversationId: id,
  peerUri: uri,
  peerDisplayName: displayName,
  sourceDeviceName: deviceName,
  expiresAt: timestamp,
});

// ─── Per command and per event ─────────────────────────────────────────────────────────────────────────

/** The argument validator of every command. */
export const COMMAND_ARG_VALIDATORS: { readonly [K in DeviceCommandName]: Validator<DeviceCommandArgs<K>> } = {
  getAccount: args<[]>([], []),
  signIn: args<[AccountConfig]>(['config'], [accountConfig]),
  signOut: args<[]>([], []),
  listDevices: args<[]>([], []),
  listConversations: args<[]>([], []),
  getMessages: args<[string, MessagePageQuery]>(['conversationId', 'query'], [id, messagePageQuery]),
  startChat: args<[string]>(['uri'], [uri]),
  sendMessage: args<[string, string]>(['conversationId', 'text'], [id, messageText]),
  markDisplayed: args<[string, string]>(['conversationId', 'messageId'], [id, id]),
  acceptSession: args<[string]>(['sessionId'], [id]),
  declineSession: args<[string]>(['sessionId'], [id]),
  endSession: args<[string]>(['sessionId'], [id]),
  moveConversation: args<[string, string]>(['conversationId', 'targetInstanceId'], [id, instanceId]),
  acceptJoin: args<[string]>(['joinId'], [id]),
  declineJoin: args<[string]>(['joinId'], [id]),
  setAutoAccept: args<[boolean]>(['enabled'], [boolean]),
};

/** The payload validator of every event. */
export const EVENT_VALIDATORS: { readonly [E in DeviceEventName]: Validator<DeviceEventMap[E]> } = {
  registrationState: registrationStatus,
  devices: arrayOf(deviceInfo, 1_000),
  conversationUpdated: conversationSummary,
  message: chatMessage,
  messageStatus: messageStatusUpdate,
  incomingSession: incomingSessionInfo,
  sessionState: sessionStateUpdate,
  error: deviceErrorInfo,
  transferProgress,
  joinRequest,
};

/** Validate a command's argument list; the error starts with the command's name. */
export function validateCommandArgs<K extends DeviceCommandName>(name: K, input: unknown): ValidationResult<DeviceCommandArgs<K>> {
  const validator = COMMAND_ARG_VALIDATORS[name] as Validator<DeviceCommandArgs<K>> | undefined;
  if (!validator) return { ok: false, error: `${String(name)}: not a DeviceApi command` };
  return validator(input, name);
}

/** Validate an event's payload; the error starts with the event's name. */
export function validateEventPayload<E extends DeviceEventName>(name: E, input: unknown): ValidationResult<DeviceEventMap[E]> {
  const validator = EVENT_VALIDATORS[name] as Validator<DeviceEventMap[E]> | undefined;
  if (!validator) return { ok: false, error: `${String(name)}: not a DeviceApi event` };
  return validator(input, name);
}


// ─── Shell commands ────────────────────────────────────────────────────────────────────────────────────

/** The argument validator of every shell command. */
export const SHELL_COMMAND_ARG_VALIDATORS: { readonly [K in ShellCommandName]: Validator<ShellCommandArgs<K>> } = {
  tryLocally: args<[string]>(['deviceName'], [deviceName]),
};

/** Validate a shell command's argument list; the error starts with the command's name. */
export function validateShellCommandArgs<K extends ShellCommandName>(name: K, input: unknown): ValidationResult<ShellCommandArgs<K>> {
  const validator = SHELL_COMMAND_ARG_VALIDATORS[name] as Validator<ShellCommandArgs<K>> | undefined;
  if (!validator) return { ok: false, error: `${String(name)}: not a shell command` };
  return validator(input, name);
}
