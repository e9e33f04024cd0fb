/**
 * A TEST DOUBLE of the DeviceAgent that runs inside the page, for the renderer's component tests in
 * Chromium: it keeps a small scripted world (account, devices, conversations, history), records every
 * command, and lets the test play any event. It sits behind the real contract machinery
 * (createCommandDispatcher ↔ createDeviceApiClient), so arguments and events are validated as in the app.
 */
import { createCommandDispatcher, createDeviceApiClient, createEventSender, type DeviceEventSender } from '../../electron/api/bridge';
import { createInProcessTransport, type InProcessTransport } from '../../electron/api/in-process-transport';
import type { DeviceApi, DeviceCommands, ShellCommands } from '../../electron/api/device-api';
import type { AccountInfo, ChatMessage, ConversationSummary, DeviceInfo, MessagePage } from '../../electron/api/payloads';

/** One recorded command. */
export interface RecordedCall {
  name: string;
  args: unknown[];
}

/** What a test can set up before the app starts. */
export interface HarnessSeed {
  account?: AccountInfo | null;
  devices?: DeviceInfo[];
  conversations?: ConversationSummary[];
  /** conversation id → messages, oldest first. */
  messages?: Record<string, ChatMessage[]>;
  /** Generate this many messages for `bulkConversationId` (for the windowing test). */
  bulkCount?: number;
  bulkConversationId?: string;
  /** Put the whole bulk history in the store at start (as if every page had been read). */
  preloadBulk?: boolean;
  /** Offer the shell's `tryLocally` command (without it the page gets what a preload from before it exposed). */
  withTryLocally?: boolean;
}

/** The scripted world and the DeviceApi over it. */
export interface ScriptedDevice {
  api: DeviceApi & Partial<ShellCommands>;
  calls: RecordedCall[];
  emit: DeviceEventSender;
  /** The bulk history generated for the seed (oldest first), if any. */
  bulk: ChatMessage[] | null;
  /** Replies the next call of `name` with a rejection carrying `message` ("[code] detail"). */
  failNext(name: string, message: string): void;
}

/** Deterministic bulk history: `count` messages one minute apart, alternating directions. */
export function bulkMessages(conversationId: string, count: number, start = Date.UTC(2026, 0, 1, 8)): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let i = 0; i < count; i++) {
    const incoming = i % 3 !== 0;
    out.push({
      id: `m${i}`,
      conversationId,
      direction: incoming ? 'incoming' : 'outgoing',
      senderUri: incoming ? 'sip:bob@b.example' : 'sip:alice@a.example',
      text: i % 7 === 0 ? `Message ${i}: a longer line that wraps onto a second line in the bubble so that heights vary between rows` : `Message ${i}`,
      timestamp: start + i * 60_000,
      status: incoming ? 'displayed' : 'delivered',
    });
  }
  return out;
}

/** Creates the scripted device. */
export function createScriptedDevice(seed: HarnessSeed): ScriptedDevice {
  const calls: RecordedCall[] = [];
  const failures = new Map<string, string>();
  let account: AccountInfo | null = seed.account ?? null;
  const devices = seed.devices ?? [];
  const conversations = new Map((seed.conversations ?? []).map((c) => [c.id, c]));
  const messages = new Map(Object.entries(seed.messages ?? {}));
  const bulk = seed.bulkCount && seed.bulkConversationId ? bulkMessages(seed.bulkConversationId, seed.bulkCount) : null;
  if (bulk && seed.bulkConversationId) messages.set(seed.bulkConversationId, bulk);
  let nextId = 1;

  // created below, once the agent it dispatches to exists; events are only emitted after that
  let transport: InProcessTransport | undefined;
  const emit = createEventSender((channel, payload) => transport?.publish(channel, payload));

  const record = (name: string, args: unknown[]): void => {
    calls.push({ name, args });
    const failure = failures.get(name);
    if (failure !== undefined) {
      failures.delete(name);
      throw new Error(failure);
    }
  };

  const accountFrom = (uri: string, deviceName: string, displayName: string, websocketUrl: string, transfer: string | null): AccountInfo => ({
    uri, displayName, deviceName, instanceId: 'urn:uuid:00000000-0000-4000-8000-0000000000a1', pubGruu: null,
    websocketUrl, transferServiceUri: transfer, registration: 'registering',
  });
  const registerSoon = (): void => {
    setTimeout(() => emit('registrationState', { state: 'registered', cause: null, pubGruu: `${account?.uri ?? 'sip:x@x'};gr=urn:uuid:00000000-0000-4000-8000-0000000000a1`, expiresAt: Date.now() + 600_000 }), 10);
  };

  const agent: DeviceCommands = {
    async getAccount() { record('getAccount', []); return account; },
    async signIn(config) {
      record('signIn', [config]);
      account = accountFrom(config.uri, config.deviceName, config.displayName, config.websocketUrl, config.transferServiceUri ?? null);
      registerSoon();
      return account;
    },
    async signOut() { record('signOut', []); account = null; },
    async listDevices() { record('listDevices', []); return devices; },
    async listConversations() { record('listConversations', []); return [...conversations.values()]; },
    async getMessages(conversationId, query): Promise<MessagePage> {
      record('getMessages', [conversationId, query]);
      const all = messages.get(conversationId) ?? [];
      let end = all.length;
      if (query.before !== undefined) {
        end = all.findIndex((m) => m.id === query.before);
        if (end < 0) end = 0;
      }
      const start = Math.max(0, end - query.limit);
      return { messages: all.slice(start, end).reverse(), hasMore: start > 0 };
    },
    async startChat(uri) {
      record('startChat', [uri]);
      const existing = [...conversations.values()].find((c) => c.peerUri === uri);
      const summary: ConversationSummary = existing ?? {
        id: `conv-${nextId++}`, peerUri: uri, peerDisplayName: '', lastMessageText: null, updatedAt: Date.now(), unreadCount: 0, activeSessionId: null,
      };
      const live = { ...summary, activeSessionId: `sess-${nextId++}` };
      conversations.set(live.id, live);
      return live;
    },
    async sendMessage(conversationId, text) {
      record('sendMessage', [conversationId, text]);
      const message: ChatMessage = {
        id: `sent-${nextId++}`, conversationId, direction: 'outgoing', senderUri: account?.uri ?? 'sip:alice@a.example', text, timestamp: Date.now(), status: 'sent',
      };
      messages.set(conversationId, [...(messages.get(conversationId) ?? []), message]);
      return message;
    },
    async markDisplayed(conversationId, messageId) { record('markDisplayed', [conversationId, messageId]); },
    async acceptSession(sessionId) { record('acceptSession', [sessionId]); },
    async declineSession(sessionId) { record('declineSession', [sessionId]); },
    async endSession(sessionId) { record('endSession', [sessionId]); },
    async moveConversation(conversationId, targetInstanceId) { record('moveConversation', [conversationId, targetInstanceId]); return 'transfer-1'; },
    async acceptJoin(joinId) { record('acceptJoin', [joinId]); },
    async declineJoin(joinId) { record('declineJoin', [joinId]); },
    async setAutoAccept(enabled) { record('setAutoAccept', [enabled]); },
  };

  const shell: ShellCommands = {
    async tryLocally(deviceName) {
      record('tryLocally', [deviceName]);
      account = accountFrom('sip:alice@a.example', deviceName, 'Alice', 'wss://127.0.0.1:5067', 'sip:cpm-transfer@a.example');
      registerSoon();
      return account;
    },
  };

  transport = createInProcessTransport(createCommandDispatcher(agent, shell));
  const client = createDeviceApiClient(transport);
  const { tryLocally: _shellCommand, ...olderPreload } = client;
  const api: ScriptedDevice['api'] = seed.withTryLocally ? client : olderPreload;

  return {
    api,
    calls,
    emit,
    bulk,
    failNext(name, message) {
      failures.set(name, message);
    },
  };
}
