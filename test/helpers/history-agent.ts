/**
 * DeviceAgents with a real device history, for system tests of "History continuity" (PROFILE.md): the SQLite
 * history in the agent's data folder (electron/device/history), synced with the domain's Message Store and
 * depositing into it when the domain's Conversation Server is a proxy, wired as the browser shell wires it
 * (`electron/web/shell-devices.ts`). Plus readers of what a device shows (`getMessages`, page by page) and of
 * what a user's Message Store holds (its HTTP API, as the user).
 */
import type { ChatMessage, MessagePage } from '../../electron/api/payloads';
import { DeviceAgent } from '../../electron/device/device-agent';
import { DeviceHistory, type DeviceHistoryOptions } from '../../electron/device/history/device-history';
import { StoreClient } from '../../electron/device/history/store-client';
import { startRecordedAgent } from '../../electron/device/testing/event-recorder';
import type { StoredMessage } from '../../protocol/store/store-types';
import type { ConversationListResponse } from '../../protocol/store/store-wire';
import type { LabDescription } from '../../server/lab/lab-network';
import type { LabAgent } from './lab-agent';
import type { LabView } from './use-lab';

/** A running agent with its history. */
export interface HistoryAgent extends LabAgent {
  /** The agent's history: local SQLite, store sync, depositor. The agent closes it when it closes. */
  history: DeviceHistory;
  /** Whether this device deposits (its domain's Conversation Server is a proxy). */
  deposits: boolean;
  /**
   * What the agent's own start-up sync fetched from the Message Store (the agent calls `DeviceHistory.start`
   * when it signs in): the messages that were new to this device.
   */
  startupSync: Promise<ChatMessage[]>;
}

/** Options of `startHistoryAgent`. */
export interface HistoryAgentOptions {
  /** The device's data folder; the caller owns it (a restart reuses it). */
  dataDir: string;
  /** The store client's `fetch` (tests inject failures). */
  fetch?: typeof fetch;
  /** Retry settings and clock of the depositor. */
  depositor?: DeviceHistoryOptions['depositor'];
  /** The agent's liveness probe interval, ms. */
  sessionKeepAliveMs?: number;
}

type LabDomainDescription = LabDescription['domains'][number];

/** The lab domain of `user` (`sip:alice@a.example` → a.example); throws when the lab has none. */
export function labDomainOf(lab: LabView<'description'>, user: string): LabDomainDescription {
  const domain = user.slice(user.lastIndexOf('@') + 1).toLowerCase();
  const d = lab.description.domains.find((x) => x.domain === domain);
  if (!d) throw new Error(`the lab has no domain for ${user}`);
  return d;
}

/** The lab password of `user`; throws when the lab has no such user. */
export function labPasswordOf(lab: LabView<'description'>, user: string): string {
  const password = lab.description.users.find((u) => u.uri === user)?.password;
  if (password === undefined) throw new Error(`the lab has no user ${user}`);
  return password;
}

/** A client of `user`'s Message Store, signed in as `user` (Digest with the SIP credentials). */
export function storeClientOf(lab: LabView<'description'>, user: string, fetchImpl?: typeof fetch): StoreClient {
  return new StoreClient({
    baseUrl: labDomainOf(lab, user).store,
    username: user.replace(/^sips?:/i, ''),
    password: labPasswordOf(lab, user),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/**
 * Start a DeviceAgent for `user` whose history lives in `options.dataDir`, depositing when the user's
 * Conversation Server is a proxy, and wait until it is registered.
 */
export async function startHistoryAgent(lab: LabView<'description'>, user: string, name: string, options: HistoryAgentOptions): Promise<HistoryAgent> {
  const d = labDomainOf(lab, user);
  const password = labPasswordOf(lab, user);
  const deposits = d.mode === 'proxy';
  const history = DeviceHistory.open({
    dataDir: options.dataDir,
    self: user,
    deposit: deposits,
    store: { baseUrl: d.store, username: user.replace(/^sips?:/i, ''), password, ...(options.fetch ? { fetch: options.fetch } : {}) },
    ...(options.depositor ? { depositor: options.depositor } : {}),
  });
  // Keep the promise of the agent's own start-up sync (the agent starts the history when it signs in).
  let startupSync: Promise<ChatMessage[]> | undefined;
  const start = history.start.bind(history);
  history.start = () => (startupSync ??= start());

  const agent = new DeviceAgent({
    dataDir: options.dataDir,
    deviceName: name,
    history: () => history,
    ...(options.sessionKeepAliveMs !== undefined ? { sessionKeepAliveMs: options.sessionKeepAliveMs } : {}),
    account: { uri: user, password, wsUrl: d.ws, transferServiceUri: d.transferService },
  });
  // history.close() is idempotent; it is here for an agent that never signed in
  const started = await startRecordedAgent(agent, { user, name, dataDir: options.dataDir }, () => history.close());
  if (startupSync === undefined) {
    await started.close();
    throw new Error(`${name}: the agent signed in without starting its history`);
  }
  return { ...started, history, deposits, startupSync };
}

/** Every page `getMessages` serves for a conversation, newest first, walking `before` from the newest. */
export async function readPages(agent: DeviceAgent, conversationId: string, limit: number): Promise<MessagePage[]> {
  const pages: MessagePage[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await agent.getMessages(conversationId, { limit, ...(before !== undefined ? { before } : {}) });
    pages.push(page);
    const last = page.messages[page.messages.length - 1];
    if (!page.hasMore || last === undefined) return pages;
    if (pages.length > 10_000) throw new Error(`getMessages(${conversationId}) does not end`);
    before = last.id;
  }
}

/** Everything `user`'s Message Store holds of a conversation, in store order, read over HTTP as the user. */
export async function storedConversation(lab: LabView<'description'>, user: string, conversationId: string): Promise<StoredMessage[]> {
  const client = storeClientOf(lab, user);
  const all: StoredMessage[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.fetchAfter(conversationId, after !== undefined ? { after } : {});
    all.push(...page.messages);
    if (!page.hasMore || page.cursor === null) return all;
    after = page.cursor;
  }
}

/** Every conversation `user`'s Message Store holds, most recently active first, read over HTTP as the user. */
export async function storedConversations(lab: LabView<'description'>, user: string): Promise<ConversationListResponse['conversations']> {
  const client = storeClientOf(lab, user);
  const all: ConversationListResponse['conversations'] = [];
  let before: string | undefined;
  for (;;) {
    const list = await client.listConversations(before !== undefined ? { before } : {});
    all.push(...list.conversations);
    if (list.cursor === null) return all;
    before = list.cursor;
  }
}

/**
 * Poll an asynchronous check every 20 ms until it yields a value, or `timeoutMs` passed (then reject). A
 * check that throws counts as "not yet".
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false | null>, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
