import { describe, expect, it } from 'vitest';
import { DEVICE_COMMAND_NAMES, DEVICE_EVENT_NAMES, SHELL_COMMAND_NAMES, type DeviceCommandName, type DeviceEventName } from './device-api';
import {
  LIMITS,
  SHELL_COMMAND_ARG_VALIDATORS,
  accountInfo,
  instanceId,
  uri,
  validateCommandArgs,
  validateEventPayload,
  validateShellCommandArgs,
  websocketUrl,
} from './validate';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
const INSTANCE = 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66';

const goodConfig = {
  uri: 'sip:alice@a.example',
  displayName: 'Alice',
  deviceName: 'Laptop',
  password: 's3cret',
  websocketUrl: 'wss://core.a.example:7443/sip',
};

const goodMessage = {
  id: 'msg-1',
  conversationId: 'conv-1',
  direction: 'incoming',
  senderUri: 'sip:bob@b.example',
  text: 'hello\nworld',
  timestamp: 1_764_000_000_000,
  status: 'delivered',
};

/** One good argument list per command. */
const GOOD_ARGS: { [K in DeviceCommandName]: unknown[] } = {
  getAccount: [],
  signIn: [{ ...goodConfig, authorizationUser: 'alice', transferServiceUri: 'sip:cpm-transfer@a.example', trustedCertificatePem: PEM }],
  signOut: [],
  listDevices: [],
  listConversations: [],
  getMessages: ['conv-1', { before: 'msg-9', limit: 50 }],
  startChat: ['sip:bob@b.example'],
  sendMessage: ['conv-1', 'Hi Bob 👋'],
  markDisplayed: ['conv-1', 'msg-1'],
  acceptSession: ['sess-1'],
  declineSession: ['sess-1'],
  endSession: ['sess-1'],
  moveConversation: ['conv-1', INSTANCE],
  acceptJoin: ['join-1'],
  declineJoin: ['join-1'],
  setAutoAccept: [true],
};

/** One good payload per event. */
const GOOD_EVENTS: { [E in DeviceEventName]: unknown } = {
  registrationState: { state: 'registered', cause: null, pubGruu: `sip:alice@a.example;gr=${INSTANCE}`, expiresAt: 1_764_000_600_000 },
  devices: [
    { instanceId: INSTANCE, name: 'Laptop', pubGruu: `sip:alice@a.example;gr=${INSTANCE}`, self: true, cpmCapable: true },
    { instanceId: 'urn:uuid:00000000-0000-4000-8000-000000000002', name: 'Desktop', pubGruu: 'sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000002', self: false, cpmCapable: false },
  ],
  conversationUpdated: { id: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: null, updatedAt: 0, unreadCount: 2, activeSessionId: 'sess-1' },
  message: goodMessage,
  messageStatus: { conversationId: 'conv-1', messageId: 'msg-1', status: 'displayed', at: 5 },
  incomingSession: { sessionId: 'sess-1', conversationId: 'conv-1', peerUri: 'tel:+15551234567', peerDisplayName: '' },
  sessionState: { sessionId: 'sess-1', conversationId: 'conv-1', state: 'ended', cause: '408 Request Timeout' },
  error: { code: 'network', message: 'WebSocket closed', conversationId: null },
  transferProgress: { transferId: 'tr-1', conversationId: 'conv-1', role: 'source', phase: 'accepted', statusCode: 202 },
  joinRequest: { joinId: 'join-1', conversationId: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', sourceDeviceName: 'Laptop', expiresAt: 60_000 },
};

function refusal(result: { ok: true } | { ok: false; error: string }): string {
  if (result.ok) throw new Error('expected the validator to refuse the input');
  return result.error;
}

describe('command argument validators', () => {
  it.each(DEVICE_COMMAND_NAMES.map((n) => [n]))('accepts a well-formed %s call', (name) => {
    const result = validateCommandArgs(name, GOOD_ARGS[name]);
    expect(result).toEqual({ ok: true, value: GOOD_ARGS[name] });
  });

  it.each(DEVICE_COMMAND_NAMES.map((n) => [n]))('refuses %s with one argument too many, naming the command', (name) => {
    expect(refusal(validateCommandArgs(name, [...GOOD_ARGS[name], 'extra']))).toMatch(new RegExp(`^${name}: takes \\d argument`));
  });

  it('refuses arguments that are not an array', () => {
    expect(refusal(validateCommandArgs('startChat', 'sip:bob@b.example'))).toBe('startChat: arguments must be an array');
  });

  it('lists the expected argument names when the count is wrong', () => {
    expect(refusal(validateCommandArgs('getMessages', ['conv-1']))).toBe('getMessages: takes 2 arguments (conversationId, query), got 1');
  });

  it('drops optional fields that were absent instead of inventing them', () => {
    const result = validateCommandArgs('signIn', [goodConfig]);
    expect(result.ok && Object.keys(result.value[0])).toEqual(Object.keys(goodConfig));
  });

  const badSignIns: [string, Record<string, unknown>, string][] = [
    ['a missing password', { password: undefined }, 'signIn.config.password: must be a string (got undefined)'],
    ['an empty device name', { deviceName: '' }, 'signIn.config.deviceName: must not be empty'],
    ['an over-long device name', { deviceName: 'x'.repeat(LIMITS.deviceNameLength + 1) }, `signIn.config.deviceName: must be at most ${LIMITS.deviceNameLength} characters (got 65)`],
    ['a control character in the display name', { displayName: 'Al\u0007ice' }, 'signIn.config.displayName: must not contain control characters'],
    ['an http URL as AOR', { uri: 'http://a.example' }, 'signIn.config.uri: must be a sip:, sips: or tel: URI (got "http://a.example")'],
    ['a tel: URI as AOR', { uri: 'tel:+15551234567' }, 'signIn.config.uri: must be a sip: or sips: URI (got "tel:+15551234567")'],
    ['an http websocket URL', { websocketUrl: 'https://core.a.example/' }, 'signIn.config.websocketUrl: must be a ws:// or wss:// URL (got "https://core.a.example/")'],
    ['a websocket URL with port 0', { websocketUrl: 'ws://127.0.0.1:0' }, 'signIn.config.websocketUrl: has an invalid port 0'],
    ['a user name with a space', { authorizationUser: 'al ice' }, 'signIn.config.authorizationUser: must be a user name without spaces (got "al ice")'],
    ['a transfer URI that is not SIP', { transferServiceUri: 'mailto:x@y' }, 'signIn.config.transferServiceUri: must be a sip:, sips: or tel: URI (got "mailto:x@y")'],
    ['a certificate that is not PEM', { trustedCertificatePem: 'hello' }, 'signIn.config.trustedCertificatePem: must be a PEM certificate (-----BEGIN CERTIFICATE----- …)'],
    ['an unknown field', { admin: true }, 'signIn.config.admin: is not a known field'],
    ['a Message Store URL that is not http(s)', { messageStoreUrl: 'ftp://store.a.example/' }, 'signIn.config.messageStoreUrl: must be an http:// or https:// URL (got "ftp://store.a.example/")'],
    ['a Message Store URL with a query', { messageStoreUrl: 'https://store.a.example/?u=alice' }, 'signIn.config.messageStoreUrl: must be an http:// or https:// URL (got "https://store.a.example/?u=alice")'],
    ['a Message Store URL with port 0', { messageStoreUrl: 'http://127.0.0.1:0/' }, 'signIn.config.messageStoreUrl: has an invalid port 0'],
    ['a deposit flag that is not a boolean', { messageStoreUrl: 'https://store.a.example', depositHistory: 'yes' }, 'signIn.config.depositHistory: must be true or false (got "yes")'],
    ['depositing without a Message Store', { depositHistory: true }, 'signIn.config.depositHistory: needs messageStoreUrl (where to deposit)'],
    ['a certificate to trust with a ws: URL', { websocketUrl: 'ws://127.0.0.1:5066', trustedCertificatePem: PEM }, 'signIn.config.trustedCertificatePem: only applies to a wss:// WebSocket URL'],
  ];

  it('accepts a Message Store URL (http or https, with a path) and the deposit flag with it', () => {
    const config = { ...goodConfig, messageStoreUrl: 'http://127.0.0.1:8443/store/v1', depositHistory: true };
    expect(validateCommandArgs('signIn', [config])).toEqual({ ok: true, value: [config] });
    const secure = { ...goodConfig, messageStoreUrl: 'https://store.a.example', depositHistory: false };
    expect(validateCommandArgs('signIn', [secure])).toEqual({ ok: true, value: [secure] });
  });
  it.each(badSignIns)('refuses signIn with %s', (_label, change, message) => {
    expect(refusal(validateCommandArgs('signIn', [{ ...goodConfig, ...change }]))).toBe(message);
  });

  it('refuses a signIn config that is not an object', () => {
    expect(refusal(validateCommandArgs('signIn', [null]))).toBe('signIn.config: must be an object (got null)');
    expect(refusal(validateCommandArgs('signIn', [[goodConfig]]))).toBe('signIn.config: must be an object (got an array)');
  });

  const badCalls: [DeviceCommandName, unknown[], string][] = [
    ['getMessages', ['conv 1', { limit: 10 }], 'getMessages.conversationId: must be an id of letters, digits and ._~:@+=- (got "conv 1")'],
    ['getMessages', ['conv-1', { limit: 0 }], `getMessages.query.limit: must be between 1 and ${LIMITS.pageLimit} (got 0)`],
    ['getMessages', ['conv-1', { limit: 2.5 }], 'getMessages.query.limit: must be an integer (got 2.5)'],
    ['getMessages', ['conv-1', { limit: 10, before: '' }], 'getMessages.query.before: must not be empty'],
    ['getMessages', ['x'.repeat(LIMITS.idLength + 1), { limit: 10 }], `getMessages.conversationId: must be at most ${LIMITS.idLength} characters (got 129)`],
    ['startChat', ['bob@b.example'], 'startChat.uri: must be a sip:, sips: or tel: URI (got "bob@b.example")'],
    ['startChat', ['sip:bob@b.example:70000'], 'startChat.uri: has an invalid port 70000'],
    ['startChat', ['sip:bob @b.example'], 'startChat.uri: must be a sip:, sips: or tel: URI (got "sip:bob @b.example")'],
    ['startChat', [42], 'startChat.uri: must be a string (got 42)'],
    ['sendMessage', ['conv-1', '   \n '], 'sendMessage.text: must not be blank'],
    ['sendMessage', ['conv-1', ''], 'sendMessage.text: must not be empty'],
    ['sendMessage', ['conv-1', 'a\u0000b'], 'sendMessage.text: must not contain control characters'],
    ['sendMessage', ['conv-1', 'x'.repeat(LIMITS.messageTextLength + 1)], `sendMessage.text: must be at most ${LIMITS.messageTextLength} characters (got ${LIMITS.messageTextLength + 1})`],
    ['markDisplayed', ['conv-1', null], 'markDisplayed.messageId: must be a string (got null)'],
    ['acceptSession', [{}], 'acceptSession.sessionId: must be a string (got an object)'],
    ['endSession', ['-leading-dash'], 'endSession.sessionId: must be an id of letters, digits and ._~:@+=- (got "-leading-dash")'],
    ['moveConversation', ['conv-1', 'laptop'], 'moveConversation.targetInstanceId: must be a URN such as urn:uuid:… (got "laptop")'],
    ['setAutoAccept', ['yes'], 'setAutoAccept.enabled: must be true or false (got "yes")'],
  ];
  it.each(badCalls)('refuses %s(%j)', (name, input, message) => {
    expect(refusal(validateCommandArgs(name, input))).toBe(message);
  });
});

describe('event payload validators', () => {
  it.each(DEVICE_EVENT_NAMES.map((n) => [n]))('accepts a well-formed %s event', (name) => {
    expect(validateEventPayload(name, GOOD_EVENTS[name])).toEqual({ ok: true, value: GOOD_EVENTS[name] });
  });

  it.each(DEVICE_EVENT_NAMES.map((n) => [n]))('refuses a %s event that is not even an object', (name) => {
    expect(refusal(validateEventPayload(name, 'oops'))).toMatch(new RegExp(`^${name}: must be an (object|array)`));
  });

  const badEvents: [DeviceEventName, unknown, string][] = [
    ['registrationState', { state: 'maybe', cause: null, pubGruu: null, expiresAt: null }, 'registrationState.state: must be one of unregistered, registering, registered, refreshing, failed (got "maybe")'],
    ['registrationState', { state: 'registered', cause: null, pubGruu: 'alice', expiresAt: null }, 'registrationState.pubGruu: must be a sip:, sips: or tel: URI (got "alice")'],
    ['registrationState', { state: 'registered', cause: null, pubGruu: null, expiresAt: -1 }, 'registrationState.expiresAt: must be between 0 and 8640000000000000 (got -1)'],
    ['devices', [{ ...(GOOD_EVENTS.devices as object[])[0], self: 'yes' }], 'devices[0].self: must be true or false (got "yes")'],
    ['devices', new Array(1001).fill((GOOD_EVENTS.devices as object[])[0]), 'devices: must hold at most 1000 items (got 1001)'],
    ['conversationUpdated', { ...(GOOD_EVENTS.conversationUpdated as object), unreadCount: -1 }, 'conversationUpdated.unreadCount: must be between 0 and 1000000000 (got -1)'],
    ['message', { ...goodMessage, direction: 'sideways' }, 'message.direction: must be one of incoming, outgoing (got "sideways")'],
    ['message', { ...goodMessage, timestamp: '2026-11-24' }, 'message.timestamp: must be an integer (got "2026-11-24")'],
    ['message', { ...goodMessage, id: undefined }, 'message.id: must be a string (got undefined)'],
    ['messageStatus', { conversationId: 'conv-1', messageId: 'msg-1', status: 'read', at: 1 }, 'messageStatus.status: must be one of pending, sent, delivered, displayed, failed (got "read")'],
    ['incomingSession', { sessionId: 's', conversationId: 'c', peerUri: 'sip:bob@b.example', peerDisplayName: 'x'.repeat(200) }, `incomingSession.peerDisplayName: must be at most ${LIMITS.displayNameLength} characters (got 200)`],
    ['sessionState', { sessionId: 's', conversationId: 'c', state: 'active', cause: 7 }, 'sessionState.cause: must be a string (got 7)'],
    ['error', { code: 'oops', message: 'x', conversationId: null }, 'error.code: must be one of invalid-argument, not-signed-in, not-found, invalid-state, network, forbidden, internal (got "oops")'],
    ['error', { code: 'internal', message: '', conversationId: null }, 'error.message: must not be empty'],
    ['transferProgress', { ...(GOOD_EVENTS.transferProgress as object), statusCode: 99 }, 'transferProgress.statusCode: must be between 100 and 699 (got 99)'],
    ['transferProgress', { ...(GOOD_EVENTS.transferProgress as object), role: 'remote' }, 'transferProgress.role: must be one of source, target (got "remote")'],
    ['joinRequest', { ...(GOOD_EVENTS.joinRequest as object), sourceDeviceName: '' }, 'joinRequest.sourceDeviceName: must not be empty'],
    ['joinRequest', { ...(GOOD_EVENTS.joinRequest as object), extra: 1 }, 'joinRequest.extra: is not a known field'],
  ];
  it.each(badEvents)('refuses a malformed %s event', (name, input, message) => {
    expect(refusal(validateEventPayload(name, input))).toBe(message);
  });
});

describe('URI and identifier checks', () => {
  it.each([
    'sip:alice@a.example',
    'sips:alice@a.example:5061;transport=tls',
    'sip:alice@a.example;gr=urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
    'sip:127.0.0.1:5060',
    'sip:alice@[::1]:5060',
    'sip:cs@a.example?Target-Dialog=abc%3Blocal-tag%3D1',
    'tel:+1-555-123-4567',
    'tel:7042;phone-context=example.com',
  ])('accepts %s', (value) => {
    expect(uri(value, 'u')).toEqual({ ok: true, value });
  });

  it.each([
    ['sip:', 'u: must be a sip:, sips: or tel: URI (got "sip:")'],
    ['sip:alice@', 'u: must be a sip:, sips: or tel: URI (got "sip:alice@")'],
    ['sip:alice@a.example>', 'u: must be a sip:, sips: or tel: URI (got "sip:alice@a.example>")'],
    ['tel:', 'u: must be a sip:, sips: or tel: URI (got "tel:")'],
    ['<sip:alice@a.example>', 'u: must be a sip:, sips: or tel: URI (got "<sip:alice@a.example>")'],
    [`sip:${'a'.repeat(LIMITS.uriLength)}@x`, `u: must be at most ${LIMITS.uriLength} characters (got ${LIMITS.uriLength + 6})`],
  ])('refuses %s', (value, message) => {
    expect(refusal(uri(value, 'u'))).toBe(message);
  });

  it('accepts ws and wss URLs with a path and refuses other schemes', () => {
    expect(websocketUrl('ws://127.0.0.1:8080', 'w').ok).toBe(true);
    expect(websocketUrl('wss://core.a.example/sip', 'w').ok).toBe(true);
    expect(refusal(websocketUrl('ws://', 'w'))).toBe('w: must be a ws:// or wss:// URL (got "ws://")');
  });

  it('accepts any URN as instance id but not a bare UUID', () => {
    expect(instanceId('urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'i').ok).toBe(true);
    expect(instanceId('urn:gsma:imei:90420156-025763-0', 'i').ok).toBe(true);
    expect(refusal(instanceId('6e8bc430-9c3a-11d9-9669-0800200c9a66', 'i'))).toBe('i: must be a URN such as urn:uuid:… (got "6e8bc430-9c3a-11d9-9669-0800200c9a66")');
  });
});

describe('shell commands and the account the UI reads back', () => {
  it('accepts tryLocally with a device name and refuses an empty one or a missing one', () => {
    expect(validateShellCommandArgs('tryLocally', ['Laptop'])).toEqual({ ok: true, value: ['Laptop'] });
    expect(refusal(validateShellCommandArgs('tryLocally', ['']))).toBe('tryLocally.deviceName: must not be empty');
    expect(refusal(validateShellCommandArgs('tryLocally', []))).toBe('tryLocally: takes 1 argument (deviceName), got 0');
    expect(refusal(validateShellCommandArgs('tryLocally', [`Lap${'\u0000'}top`]))).toBe('tryLocally.deviceName: must not contain control characters');
  });

  it('has a validator for every shell command and none for an unknown name', () => {
    expect(Object.keys(SHELL_COMMAND_ARG_VALIDATORS)).toEqual([...SHELL_COMMAND_NAMES]);
    expect(refusal(validateShellCommandArgs('signIn' as 'tryLocally', []))).toBe('signIn: not a shell command');
  });

  const info = {
    uri: 'sip:alice@a.example', displayName: '', deviceName: 'Laptop', instanceId: INSTANCE, pubGruu: null,
    websocketUrl: 'ws://127.0.0.1:5080', transferServiceUri: 'sip:cpm-transfer@a.example', registration: 'registering',
  };

  it('reads an AccountInfo with or without the auto-accept setting, but only as a boolean', () => {
    expect(accountInfo(info, 'account')).toEqual({ ok: true, value: info });
    expect(accountInfo({ ...info, autoAccept: true }, 'account')).toEqual({ ok: true, value: { ...info, autoAccept: true } });
    expect(refusal(accountInfo({ ...info, autoAccept: 'on' }, 'account'))).toBe('account.autoAccept: must be true or false (got "on")');
  });

  it('reads where the history is kept, the problem in words, and the Message Store, each checked', () => {
    const memory = { ...info, messageStoreUrl: 'http://127.0.0.1:8080', historyStorage: 'memory', historyProblem: 'History is kept in memory only.' };
    expect(accountInfo(memory, 'account')).toEqual({ ok: true, value: memory });
    expect(refusal(accountInfo({ ...info, historyStorage: 'cloud' }, 'account'))).toBe('account.historyStorage: must be one of disk, memory (got "cloud")');
    expect(refusal(accountInfo({ ...info, historyProblem: '' }, 'account'))).toBe('account.historyProblem: must not be empty');
    expect(refusal(accountInfo({ ...info, messageStoreUrl: 'ws://x' }, 'account'))).toBe('account.messageStoreUrl: must be an http:// or https:// URL (got "ws://x")');
  });
});
