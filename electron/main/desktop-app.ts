/**
 * The desktop app's main process, put together: profile and single-instance lock, CSP header, settings,
 * the DeviceAgent (from a factory; its history on disk, or in memory with the reason in the tray and in
 * every AccountInfo when SQLite cannot load), the window, IPC, tray, join notifications, the unread badge, and the
 * local lab behind "Try it locally" (stopped on quit by the profile that started it).
 * `index.ts` calls `startDesktopApp` with the real agent factory; tests call it with a fake one and the
 * `electron` module mocked.
 */
import { join } from 'node:path';
import { BrowserWindow, app, dialog, safeStorage, session } from 'electron';
import { eventChannel } from '../api/channels';
import type { AccountInfo, DeviceErrorInfo, RegistrationStatus } from '../api/payloads';
import { AppLifecycle, AppState } from './app-lifecycle';
import { withContentSecurityPolicy } from './content-security-policy';
import type { DeviceAgentFactory, DeviceAgentHandle, HistoryStatus } from './device-agent-factory';
import { forwardAgentEvents, registerCommandHandlers } from './ipc-bridge';
import { JoinNotifier } from './join-notifier';
import { createMainWindow, isAppUrl, type RendererSource } from './main-window';
import { DEFAULT_PROFILE, parseProfileArgument, profileDataPath } from './profile';
import { SettingsStore } from './settings-store';
import { withPersistedSettings, type LocalLabPort, type WindowCommands } from './shell-commands';
import { TrayController } from './tray-controller';
import { UnreadBadge } from './unread-badge';

/** The product's name as users see it. */
export const PRODUCT_NAME = 'CPM Handoff';

/** The appId of electron-builder.yml, used as the Windows AppUserModelID. */
export const APP_USER_MODEL_ID = 'org.cpmhandoff.desktop';

/** Everything the main process needs from outside. */
export interface DesktopAppOptions {
  argv: readonly string[];
  platform: NodeJS.Platform;
  agentFactory: DeviceAgentFactory;
  /** Bundled preload script. */
  preloadPath: string;
  renderer: RendererSource;
  /** Folder of the tray images. */
  trayImageDir: string;
  /** App icon (PNG) for the window and notifications. */
  iconPath?: string;
  /** This device's name before the user chooses one (defaults to the platform's kind of computer). */
  defaultDeviceName?: string;
  /** Where problems are reported (defaults to console.error). */
  log?: (message: string, error?: unknown) => void;
  /**
   * "Try it locally": the lab on this machine, given the app's userData root (shared by every profile; see
   * local-lab.ts and `loadLocalLab`). Without it `tryLocally` is refused.
   */
  localLab?: (appDataRoot: string) => LocalLabPort;
}

/** The running app, as tests and index.ts hold it. */
export interface DesktopApp {
  readonly lifecycle: AppLifecycle;
  readonly profile: string;
  /** Present once running. */
  readonly agent: DeviceAgentHandle | null;
  readonly window: BrowserWindow | null;
  readonly tray: TrayController | null;
  readonly notifier: JoinNotifier | null;
  readonly badge: UnreadBadge | null;
  readonly settings: SettingsStore | null;
  /** Where the history is kept (null until the agent factory said): `memory`, with the problem, when SQLite failed. */
  readonly history: HistoryStatus | null;
  /** Resolves when start-up is over (running, or stopped because another instance holds the profile). */
  readonly started: Promise<void>;
}

/** Starts the app; start-up errors are shown in a dialog and end the process. */
export function startDesktopApp(options: DesktopAppOptions): DesktopApp {
  const log = options.log ?? ((message: string, error?: unknown) => console.error(`[main] ${message}`, error ?? ''));
  const lifecycle = new AppLifecycle();
  const state: {
    agent: DeviceAgentHandle | null;
    window: BrowserWindow | null;
    tray: TrayController | null;
    notifier: JoinNotifier | null;
    badge: UnreadBadge | null;
    settings: SettingsStore | null;
    history: HistoryStatus | null;
  } = { agent: null, window: null, tray: null, notifier: null, badge: null, settings: null, history: null };

  /** The factory tells where history goes; a fallback to memory is logged once per problem and shown in the tray. */
  const onHistoryStatus = (status: HistoryStatus): void => {
    const before = state.history;
    state.history = status;
    state.tray?.setHistoryProblem(status.problem);
    if (status.problem === null || status.problem === before?.problem) return;
    log(status.problem);
    const window = state.window;
    if (window !== null && !window.isDestroyed()) noticeHistoryProblem(window);
  };

  /** Puts the history problem in the window's notice bar (an `error` event, as the agent's own problems come). */
  const noticeHistoryProblem = (window: BrowserWindow): void => {
    const problem = state.history?.problem;
    if (problem === null || problem === undefined) return;
    const info: DeviceErrorInfo = { code: 'internal', message: problem, conversationId: null };
    window.webContents.send(eventChannel('error'), info);
  };

  let profile = DEFAULT_PROFILE;
  const fail = (message: string, error?: unknown): void => {
    log(message, error);
    dialog.showErrorBox(PRODUCT_NAME, error instanceof Error ? `${message}\n\n${error.message}` : message);
    if (lifecycle.state === AppState.Starting) lifecycle.transition(AppState.Stopped, message);
    app.exit(1);
  };

  const showWindow = (): void => {
    let window = state.window;
    if (window === null || window.isDestroyed()) window = openWindow();
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  const openWindow = (): BrowserWindow => {
    const window = createMainWindow({
      preloadPath: options.preloadPath,
      renderer: options.renderer,
      title: profile === DEFAULT_PROFILE ? PRODUCT_NAME : `${PRODUCT_NAME} (${profile})`,
      ...(options.iconPath === undefined ? {} : { iconPath: options.iconPath }),
      onError: (error) => log('window', error),
    });
    state.window = window;
    // The page starts empty (and again on a reload): tell it now if history is in memory only.
    window.webContents.on('did-finish-load', () => noticeHistoryProblem(window));
    window.on('closed', () => {
      if (state.window === window) state.window = null;
    });
    return window;
  };

  const quit = (): void => {
    app.quit();
  };

  const start = async (): Promise<void> => {
    try {
      profile = parseProfileArgument(options.argv);
    } catch (error) {
      fail('Cannot start', error);
      return;
    }
    const appDataRoot = app.getPath('userData');
    const userData = profileDataPath(appDataRoot, profile, options.platform === 'win32' ? '\\' : '/');
    // The single-instance lock is keyed on userData: set it first, so that each profile has its own lock.
    app.setPath('userData', userData);
    // Windows shows notifications only for an app with an AppUserModelID (the installer's appId).
    if (options.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
    if (!app.requestSingleInstanceLock({ profile })) {
      lifecycle.transition(AppState.Stopped, `profile ${profile} is already open in another instance`);
      app.quit();
      return;
    }
    app.on('second-instance', () => showWindow());

    await app.whenReady();

    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
    });

    const settings = new SettingsStore(join(userData, 'settings.json'), safeStorage);
    state.settings = settings;
    if (settings.loadProblem !== null) log(settings.loadProblem);

    let agent: DeviceAgentHandle;
    try {
      const deviceName = settings.account()?.deviceName ?? options.defaultDeviceName ?? defaultDeviceName(options.platform);
      agent = await options.agentFactory({ dataDir: userData, profile, deviceName, onHistoryStatus });
    } catch (error) {
      fail('The device agent could not start', error);
      return;
    }
    state.agent = agent;

    const localLab = options.localLab?.(appDataRoot) ?? null;
    const commands = withPersistedSettings(agent, settings, localLab, () => state.history);
    openWindow();
    registerCommandHandlers(commands, (event) => {
      const url = event.senderFrame?.url;
      return url !== undefined && isAppUrl(url, options.renderer);
    });
    forwardAgentEvents(agent, (channel, payload) => {
      const target = state.window;
      if (target !== null && !target.isDestroyed()) target.webContents.send(channel, payload);
    });

    const badge = new UnreadBadge();
    state.badge = badge;
    agent.on('conversationUpdated', (conversation) => badge.update(conversation));

    const tray = new TrayController({
      imageDir: options.trayImageDir,
      platform: options.platform,
      productName: PRODUCT_NAME,
      onOpen: showWindow,
      onQuit: quit,
    });
    state.tray = tray;
    tray.setHistoryProblem(state.history?.problem ?? null);
    agent.on('registrationState', (status: RegistrationStatus) => {
      tray.update(status);
      if (status.state !== 'registered') return;
      // Newly registered (perhaps with an account the window just signed in with): name it, recount unread.
      Promise.all([agent.getAccount(), agent.listConversations()])
        .then(([account, conversations]) => {
          tray.update(status, account?.uri ?? null);
          badge.reset(conversations);
        })
        .catch((error: unknown) => log('reading the account after registration failed', error));
    });

    const notifier = new JoinNotifier({
      platform: options.platform,
      agent,
      showPrompt: showWindow,
      ...(options.iconPath === undefined ? {} : { iconPath: options.iconPath }),
      onError: (error) => log('answering a join request failed', error),
    });
    state.notifier = notifier;
    agent.on('joinRequest', (request) => {
      const current = state.window;
      if (current !== null && !current.isDestroyed() && current.isFocused()) return; // the in-app prompt is in front of the user
      notifier.notify(request);
    });
    agent.on('transferProgress', (progress) => {
      // Any phase after `requested` means the prompt was answered (here, in the app, or automatically) or is over.
      if (progress.role === 'target' && progress.phase !== 'requested') notifier.dismissConversation(progress.conversationId);
    });


    app.on('window-all-closed', () => {
      // macOS apps stay in the dock; elsewhere closing the window leaves the tray icon, which can quit.
    });
    app.on('activate', () => showWindow());
    app.on('before-quit', (event) => {
      if (lifecycle.state === AppState.Stopped) return;
      if (lifecycle.state === AppState.Quitting) {
        event.preventDefault();
        return;
      }
      event.preventDefault();
      lifecycle.transition(AppState.Quitting, 'quit requested');
      tray.destroy();
      agent
        .close()
        .catch((error: unknown) => log('the device agent did not stop cleanly', error))
        // After the agent (it un-registers through the lab); a guest profile leaves the lab running.
        .then(() => localLab?.release())
        .catch((error: unknown) => log('the local lab did not stop cleanly', error))
        .finally(() => {
          lifecycle.transition(AppState.Stopped, 'agent closed');
          app.quit();
        });
    });

    lifecycle.transition(AppState.Running, `profile ${profile}`);
    await restoreSession(agent, commands, settings, tray, badge, log);
  };

  const started = start().catch((error: unknown) => fail('Start-up failed', error));

  return {
    lifecycle,
    get profile() {
      return profile;
    },
    get agent() {
      return state.agent;
    },
    get window() {
      return state.window;
    },
    get tray() {
      return state.tray;
    },
    get notifier() {
      return state.notifier;
    },
    get badge() {
      return state.badge;
    },
    get settings() {
      return state.settings;
    },
    get history() {
      return state.history;
    },
    started,
  };
}

/** A name for this device until the user gives one. */
export function defaultDeviceName(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? 'Mac' : platform === 'win32' ? 'Windows PC' : 'Linux PC';
}

/**
 * Applies the stored settings to a fresh agent: auto-accept, then the account (which starts registering).
 * An account made by "Try it locally" starts or joins the local lab again, under the same device name.
 */
async function restoreSession(
  agent: DeviceAgentHandle,
  commands: WindowCommands,
  settings: SettingsStore,
  tray: TrayController,
  badge: UnreadBadge,
  log: (message: string, error?: unknown) => void,
): Promise<void> {
  try {
    if (settings.autoAccept) await agent.setAutoAccept(true);
    const account = settings.account();
    const labDevice = settings.accountSource === 'local-lab' ? settings.deviceName : null;
    let info: AccountInfo | null = null;
    if (labDevice !== null) info = await commands.tryLocally(labDevice);
    else if (account !== null) info = await agent.signIn(account);
    if (info !== null) tray.update({ state: info.registration, cause: null, pubGruu: info.pubGruu, expiresAt: null }, info.uri);
    badge.reset(await agent.listConversations());
  } catch (error) {
    log('restoring the saved account failed', error);
  }
}
