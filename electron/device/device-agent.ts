/**
 * The DeviceAgent: everything a CPM device does, behind the DeviceApi (electron/api/device-api.ts). The
 * Electron main process owns one; tests, the CLI (`cli.ts`) and the browser shell run it under plain Node.
 *
 * It owns the SIP user agent (registration with instance id, device name and the CPM feature tag; PROFILE.md
 * "Registration and the device list"), the `reg` subscription that yields the device list, the MSRP
 * endpoint, and the chat service (PROFILE.md "A CPM session"). Every command checks its arguments with the
 * API's validators and rejects with a `DeviceApiError`; every event goes to the listeners registered with `on`.
 *
 * ```ts
 * const agent = new DeviceAgent({ dataDir, deviceName: 'Laptop', account: { uri, password, wsUrl } });
 * await agent.start();                       // listens for MSRP, registers
 * agent.on('devices', (list) => …);
 * const chat = await agent.startChat('sip:bob@b.example');
 * await agent.sendMessage(chat.id, 'hello');
 * await agent.close();
 * ```
 */
import {
  DeviceApiError,
  type DeviceApi,
  type DeviceCommandArgs,
  type DeviceCommandName,
  type DeviceEventListener,
  type DeviceEventMap,
  type DeviceEventName,
} from '../api/device-api';
import type {
  AccountConfig,
  AccountInfo,
  ChatMessage,
  ConversationSummary,
  DeviceInfo,
  MessagePage,
  MessagePageQuery,
  RegistrationStatus,
} from '../api/payloads';
import { validateCommandArgs } from '../api/validate';
import { ChatService } from './chat/chat-service';
import { MemoryMessageHistory, type MessageHistory } from './chat/message-history';
import { MsrpSocketTransport } from './chat/msrp-socket-transport';
import { DeviceListWatcher } from './device-list-watcher';
import { FileInstanceIdStore } from './instance-id-file';
import { CpmInviteSession, msrpPeerConnectionFactory } from './sip/cpm-invite-session';
import { CpmUserAgent, loadOrCreateInstanceId } from './sip/cpm-user-agent';
import type { RegistrationSnapshot } from './sip/registration-state';
import { WsSocket, type WsSocketTrace } from './sip/ws-socket';
import { DeviceHistory } from './history/device-history';
import { DeviceTransfers } from './transfer/device-transfers';

/** The account a DeviceAgent signs in with. */
export interface DeviceAccount {
  /** The AOR, `sip:alice@a.example`. */
  uri: string;
  password: string;
  /** The core's SIP-over-WebSocket URL (RFC 7118). */
  wsUrl: string;
  displayName?: string;
  authorizationUser?: string;
  /** PEM to trust for `wss:` (the lab's self-signed certificate). */
  trustedCertificatePem?: string;
  /** The Conversation Server's transfer service URI X (PROFILE.md). */
  transferServiceUri?: string;
  /** Base URL of the domain's Message Store HTTP API (Digest with these SIP credentials), for `sqliteHistory`. */
  messageStoreUrl?: string;
  /** Deposit what is sent and received in the Message Store (the domain's Conversation Server is a proxy). */
  depositHistory?: boolean;
}

/** Options of a DeviceAgent. */
export interface DeviceAgentOptions {
  /** Where the agent keeps its instance id (and, later, its history). */
  dataDir: string;
  /** This device's human name (`+cpm.device-name`). */
  deviceName: string;
  /** Sign in at `start()`; without it the agent waits for `signIn`. */
  account?: DeviceAccount;
  /**
   * History store: one for every account, or a function that opens the account's own when it signs in (the
   * SQLite history is per AOR; called once per AOR). A `DeviceHistory` (see {@link sqliteHistory}) also
   * deposits into and fetches from the Message Store, which the move needs. Default: in memory.
   */
  history?: MessageHistory | ((account: DeviceAccount) => MessageHistory | DeviceHistory);
  /** Accept Join requests without prompting (default false; `setAutoAccept` changes it). */
  autoAccept?: boolean;
  /** How long a Join prompt stays up, ms (PROFILE.md: 60 000). */
  joinPromptMs?: number;
  /** A tap on every SIP message sent and received (the lab's `trace.device(name)`). */
  sipTrace?: WsSocketTrace;
  /** MSRP listening address (default 127.0.0.1, ephemeral port). */
  msrpHost?: string;
  /** Registration lifetime asked for, seconds (default 600). */
  registerExpires?: number;
  /** Liveness probe interval of active chat sessions, ms (default 30 000; 0: off). */
  sessionKeepAliveMs?: number;
  /** JsSIP's reconnection back-off bounds, seconds (default 1 and 10). */
  reconnect?: { minIntervalSeconds: number; maxIntervalSeconds: number };
}

interface SignedIn {
  account: DeviceAccount;
  ua: CpmUserAgent;
  socket: WsSocket;
  watcher: DeviceListWatcher;
  chat: ChatService;
  transfers: DeviceTransfers;
}

/**
 * The `history` option for a real device: each account's SQLite history in `dataDir`, synchronised with the
 * account's Message Store (`messageStoreUrl`) and depositing into it when `depositHistory` is set.
 */
export function sqliteHistory(dataDir: string): (account: DeviceAccount) => DeviceHistory {
  return (account) =>
    DeviceHistory.open({
      dataDir,
      self: account.uri,
      deposit: account.depositHistory ?? false,
      ...(account.messageStoreUrl
        ? { store: { baseUrl: account.messageStoreUrl, username: account.authorizationUser ?? account.uri.replace(/^sips?:/i, ''), password: account.password } }
        : {}),
    });
}

/** The device agent. */
export class DeviceAgent implements DeviceApi {
  private readonly listeners = new Map<DeviceEventName, Set<(payload: never) => void>>();
  private readonly histories = new Map<string, MessageHistory>();
  private readonly deviceHistories = new Map<string, DeviceHistory>();
  private autoAccept: boolean;
  private endpoint: MsrpSocketTransport | null = null;
  private instanceId: string | null = null;
  private deviceName: string;
  private current: SignedIn | null = null;
  private started: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: DeviceAgentOptions) {
    this.deviceName = options.deviceName;
    this.autoAccept = options.autoAccept ?? false;
  }

  /** Load the instance id, listen for MSRP and, with an account, sign in (registration proceeds in the background). */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.instanceId = await loadOrCreateInstanceId(new FileInstanceIdStore(this.options.dataDir));
      this.endpoint = await MsrpSocketTransport.listen({ host: this.options.msrpHost ?? '127.0.0.1' });
      if (this.options.account) this.connect(this.options.account, this.deviceName);
    })();
    return this.started;
  }

  /** This device's `+sip.instance`, once started. */
  get instance(): string | null {
    return this.instanceId;
  }

  /** The SIP user agent of the signed-in account (white-box tests: hand-made REFERs), or null. */
  get sipUserAgent(): CpmUserAgent | null {
    return this.current?.ua ?? null;
  }

  /** The chat service of the signed-in account (for the transfer roles and white-box tests), or null. */
  get chatService(): ChatService | null {
    return this.current?.chat ?? null;
  }

  /** Sign out (un-REGISTER, BYE every session) and release the MSRP endpoint. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.started?.catch(() => undefined);
    await this.disconnect();
    await this.endpoint?.close();
    await Promise.allSettled([...this.deviceHistories.values()].map((h) => h.close()));
    this.deviceHistories.clear();
  }

  /** The Message Store side of the signed-in account's history, when it is a DeviceHistory (tests, CLI). */
  get deviceHistory(): DeviceHistory | null {
    return this.current ? (this.deviceHistories.get(this.current.account.uri.toLowerCase()) ?? null) : null;
  }

  /**
   * Move a conversation to a device named by its GRUU, whether or not the device list has it (the CLI and
   * tests; Conversation Server A judges it: 404 unknown, 480 not registered or not CPM, 403 another user's).
   * Resolves with the transfer id; the outcome comes as `transferProgress`.
   */
  async moveConversationToGruu(conversationId: string, gruu: string, name: string): Promise<string> {
    return this.requireRegistered().transfers.move(conversationId, { gruu, name });
  }

  on<E extends DeviceEventName>(event: E, listener: DeviceEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  // ─── Account and registration ──────────────────────────────────────────────────────────────────────────

  async getAccount(): Promise<AccountInfo | null> {
    return this.current ? this.accountInfo(this.current) : null;
  }

  async signIn(...args: DeviceCommandArgs<'signIn'>): Promise<AccountInfo> {
    const [config] = this.check('signIn', args);
    await this.ready();
    await this.disconnect();
    this.deviceName = config.deviceName;
    const signedIn = this.connect(accountFromConfig(config), config.deviceName);
    return this.accountInfo(signedIn);
  }

  async signOut(): Promise<void> {
    await this.disconnect();
  }

  async listDevices(): Promise<DeviceInfo[]> {
    return this.requireSignedIn().watcher.devices;
  }

  // ─── Conversations ─────────────────────────────────────────────────────────────────────────────────────

  async listConversations(): Promise<ConversationSummary[]> {
    return this.current ? this.current.chat.listConversations() : [];
  }

  async getMessages(...args: DeviceCommandArgs<'getMessages'>): Promise<MessagePage> {
    const [conversationId, query] = this.check('getMessages', args);
    return this.requireSignedIn().chat.getMessages(conversationId, query as MessagePageQuery);
  }

  async startChat(...args: DeviceCommandArgs<'startChat'>): Promise<ConversationSummary> {
    const [uri] = this.check('startChat', args);
    return this.requireRegistered().chat.startChat(uri);
  }

  async sendMessage(...args: DeviceCommandArgs<'sendMessage'>): Promise<ChatMessage> {
    const [conversationId, text] = this.check('sendMessage', args);
    return this.requireRegistered().chat.sendMessage(conversationId, text);
  }

  async markDisplayed(...args: DeviceCommandArgs<'markDisplayed'>): Promise<void> {
    const [conversationId, messageId] = this.check('markDisplayed', args);
    this.requireSignedIn().chat.markDisplayed(conversationId, messageId);
  }

  async acceptSession(...args: DeviceCommandArgs<'acceptSession'>): Promise<void> {
    const [sessionId] = this.check('acceptSession', args);
    this.requireSignedIn().chat.acceptSession(sessionId);
  }

  async declineSession(...args: DeviceCommandArgs<'declineSession'>): Promise<void> {
    const [sessionId] = this.check('declineSession', args);
    this.requireSignedIn().chat.declineSession(sessionId);
  }

  async endSession(...args: DeviceCommandArgs<'endSession'>): Promise<void> {
    const [sessionId] = this.check('endSession', args);
    this.requireSignedIn().chat.endSession(sessionId);
  }

  // ─── Transfer: electron/device/transfer (another issue) ────────────────────────────────────────────────

  async moveConversation(...args: DeviceCommandArgs<'moveConversation'>): Promise<string> {
    const [conversationId, targetInstanceId] = this.check('moveConversation', args);
    return this.requireRegistered().transfers.moveToInstance(conversationId, targetInstanceId);
  }

  async acceptJoin(...args: DeviceCommandArgs<'acceptJoin'>): Promise<void> {
    const [joinId] = this.check('acceptJoin', args);
    this.requireSignedIn().transfers.acceptJoin(joinId);
  }

  async declineJoin(...args: DeviceCommandArgs<'declineJoin'>): Promise<void> {
    const [joinId] = this.check('declineJoin', args);
    this.requireSignedIn().transfers.declineJoin(joinId);
  }

  async setAutoAccept(...args: DeviceCommandArgs<'setAutoAccept'>): Promise<void> {
    const [enabled] = this.check('setAutoAccept', args);
    this.autoAccept = enabled;
    if (this.current) this.current.transfers.autoAccept = enabled;
  }

  // ─── internals ─────────────────────────────────────────────────────────────────────────────────────────

  private emit<E extends DeviceEventName>(event: E, payload: DeviceEventMap[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as DeviceEventListener<E>)(payload);
      } catch {
        // A listener's bug must not break the agent.
      }
    }
  }

  private check<K extends DeviceCommandName>(name: K, args: unknown[]): DeviceCommandArgs<K> {
    const result = validateCommandArgs(name, args);
    if (!result.ok) throw new DeviceApiError('invalid-argument', result.error);
    return result.value;
  }

  private async ready(): Promise<void> {
    if (this.closed) throw new DeviceApiError('invalid-state', 'the device agent is closed');
    await this.start();
  }

  private requireSignedIn(): SignedIn {
    if (!this.current) throw new DeviceApiError('not-signed-in', 'sign in first');
    return this.current;
  }

  private requireRegistered(): SignedIn {
    const signedIn = this.requireSignedIn();
    const state = signedIn.ua.registration.state;
    if (state !== 'registered' && state !== 'refreshing') throw new DeviceApiError('invalid-state', `not registered (${state})`);
    return signedIn;
  }

  private connect(account: DeviceAccount, deviceName: string): SignedIn {
    const instanceId = this.instanceId;
    const endpoint = this.endpoint;
    if (!instanceId || !endpoint) throw new DeviceApiError('internal', 'start() first');
    // The UA needs the REFER handler at construction; the transfers need the UA: bind late.
    let transfers: DeviceTransfers | undefined;
    // A bad account (a URL JsSIP or WsSocket refuses, a certificate with a ws: URL) throws a TypeError from
    // these constructors: the caller's mistake, reported as invalid-argument rather than an internal error.
    let socket: WsSocket;
    let ua: CpmUserAgent;
    try {
      socket = new WsSocket({
        url: account.wsUrl,
        ...(account.trustedCertificatePem ? { trustedCertificatePem: account.trustedCertificatePem } : {}),
        ...(this.options.sipTrace ? { trace: this.options.sipTrace } : {}),
      });
      ua = new CpmUserAgent({
        uri: account.uri,
        password: account.password,
        deviceName,
        instanceId,
        socket,
        peerConnectionFactory: msrpPeerConnectionFactory,
        ...(account.displayName ? { displayName: account.displayName } : {}),
        ...(account.authorizationUser ? { authorizationUser: account.authorizationUser } : {}),
        ...(this.options.registerExpires ? { registerExpires: this.options.registerExpires } : {}),
        connectionRecovery: this.options.reconnect ?? { minIntervalSeconds: 1, maxIntervalSeconds: 10 },
        referHandler: {
          authorize: async (refer) => (transfers ? transfers.authorize(refer) : { accept: false, status: 480, reason: 'Temporarily Unavailable' }),
          accepted: (refer, subscription) => {
            if (transfers) transfers.accepted(refer, subscription);
            else void subscription.finish(480, 'Temporarily Unavailable');
          },
        },
      });
    } catch (error) {
      throw new DeviceApiError('invalid-argument', `account: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Opened once the account proved usable (per AOR, kept for the next sign-in).
    const history = this.historyFor(account);
    const deviceHistory = this.deviceHistories.get(account.uri.toLowerCase());
    const self = { uri: account.uri, ...(account.displayName ? { displayName: account.displayName } : {}) };
    const chat = new ChatService({
      self,
      transport: endpoint,
      history,
      startInvite: (options) => CpmInviteSession.start(ua, options),
      ...(this.options.sessionKeepAliveMs !== undefined ? { keepAliveMs: this.options.sessionKeepAliveMs } : {}),
    });
    for (const event of ['conversationUpdated', 'message', 'messageStatus', 'incomingSession', 'sessionState', 'error'] as const) {
      chat.on(event, (payload: DeviceEventMap[typeof event]) => this.emit(event, payload));
    }
    const watcher = new DeviceListWatcher({ ua, aor: account.uri });
    watcher.on('devices', (devices) => this.emit('devices', devices));
    watcher.on('problem', (message) => this.emit('error', { code: 'network', message, conversationId: null }));
    ua.registration.on('stateChange', (snapshot) => this.emit('registrationState', toStatus(snapshot)));
    ua.on('newRTCSession', (event: { originator: string; session: unknown; request: unknown }) => {
      if (event.originator !== 'remote') return;
      chat.handleIncoming(CpmInviteSession.fromIncoming(event.session, event.request));
    });
    transfers = new DeviceTransfers({
      ua,
      chat,
      transferServiceUri: account.transferServiceUri,
      devices: () => watcher.devices,
      ...(deviceHistory
        ? {
            history: {
              deposit: async () => {
                deviceHistory.history.flush();
                await deviceHistory.depositor?.drain();
              },
              syncConversation: (id: string) => deviceHistory.syncConversation(id),
              storeCursor: (id: string) => deviceHistory.history.storeCursor(id),
            },
          }
        : {}),
      emit: (event, payload) => this.emit(event, payload),
      autoAccept: this.autoAccept,
      ...(this.options.joinPromptMs !== undefined ? { joinPromptMs: this.options.joinPromptMs } : {}),
    });
    const signedIn: SignedIn = { account, ua, socket, watcher, chat, transfers };
    ua.on('disconnected', () => {
      if (this.current === signedIn) this.emit('error', { code: 'network', message: `lost the connection to ${account.wsUrl}`, conversationId: null });
    });
    this.current = signedIn;
    ua.start();
    return signedIn;
  }

  private historyFor(account: DeviceAccount): MessageHistory {
    const option = this.options.history;
    if (option !== undefined && typeof option !== 'function') return option;
    const key = account.uri.toLowerCase();
    let history = this.histories.get(key);
    if (!history) {
      const opened = option ? option(account) : new MemoryMessageHistory();
      if (opened instanceof DeviceHistory) {
        this.deviceHistories.set(key, opened);
        // Deposit what a previous run left, fetch what the store has (the store may be unreachable: retried later).
        void opened.start().catch(() => undefined);
        history = opened.history;
      } else history = opened;
      this.histories.set(key, history);
    }
    return history;
  }

  private async disconnect(): Promise<void> {
    const signedIn = this.current;
    if (!signedIn) return;
    this.current = null;
    signedIn.transfers.close();
    signedIn.watcher.stop();
    signedIn.chat.endAll();
    // Give the BYEs and the un-REGISTER a moment on the wire before the socket goes.
    const unregistered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      signedIn.ua.once('unregistered', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    signedIn.ua.stop();
    await unregistered;
  }

  private accountInfo(signedIn: SignedIn): AccountInfo {
    const snapshot = signedIn.ua.registration.snapshot;
    return {
      uri: signedIn.account.uri,
      displayName: signedIn.account.displayName ?? '',
      deviceName: this.deviceName,
      instanceId: this.instanceId ?? '',
      pubGruu: snapshot.pubGruu,
      websocketUrl: signedIn.account.wsUrl,
      transferServiceUri: signedIn.account.transferServiceUri ?? null,
      registration: snapshot.state,
      autoAccept: this.autoAccept,
      ...(signedIn.account.messageStoreUrl ? { messageStoreUrl: signedIn.account.messageStoreUrl } : {}),
    };
  }
}

function toStatus(snapshot: RegistrationSnapshot): RegistrationStatus {
  return { state: snapshot.state, cause: snapshot.cause, pubGruu: snapshot.pubGruu, expiresAt: snapshot.expiresAt };
}

function accountFromConfig(config: AccountConfig): DeviceAccount {
  return {
    uri: config.uri,
    password: config.password,
    wsUrl: config.websocketUrl,
    ...(config.displayName ? { displayName: config.displayName } : {}),
    ...(config.authorizationUser ? { authorizationUser: config.authorizationUser } : {}),
    ...(config.trustedCertificatePem ? { trustedCertificatePem: config.trustedCertificatePem } : {}),
    ...(config.transferServiceUri ? { transferServiceUri: config.transferServiceUri } : {}),
    ...(config.messageStoreUrl ? { messageStoreUrl: config.messageStoreUrl } : {}),
    ...(config.depositHistory ? { depositHistory: true } : {}),
  };
}
