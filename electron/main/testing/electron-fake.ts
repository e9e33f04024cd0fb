/**
 * A test double of the `electron` module for the main-process and preload tests (the Electron binary
 * cannot run here). Each fake implements, checked by the compiler against electron.d.ts, the members the
 * shell uses (`implements Pick<Electron.X, …>` / `satisfies Pick<…>`); the module record is typed as
 * `Partial<typeof import('electron')>`. Everything the code under test does is recorded on `electronFake`
 * so that tests can look at it and drive events.
 *
 * Use: `vi.mock('electron', async () => (await import('./testing/electron-fake')).electronFake.module);`
 */
import type * as ElectronModule from 'electron';

type Listener = (...args: never[]) => unknown;

/** Minimal event emitter shared by the fakes: records listeners, `emit` calls them. */
export class FakeEmitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapper = ((...args: never[]) => {
      this.off(event, wrapper);
      return listener(...args);
    }) as Listener;
    return this.on(event, wrapper);
  }

  off(event: string, listener: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }

  /** Call every listener of `event` (test side). */
  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => unknown)(...args);
  }

  /** Drop every listener (between tests). */
  removeAllListeners(): void {
    this.listeners.clear();
  }

  /** Number of listeners of `event`. */
  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }
}

/** An Electron-like event object whose preventDefault is observable. */
export function fakeEvent<T extends object>(fields: T): T & { defaultPrevented: boolean; preventDefault(): void } {
  const event = {
    ...fields,
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

/** The fake webContents of a FakeBrowserWindow. */
export class FakeWebContents extends FakeEmitter implements Pick<Electron.WebContents, 'send' | 'setWindowOpenHandler'> {
  readonly sent: Array<{ channel: string; payload: unknown }> = [];
  windowOpenHandler: Parameters<Electron.WebContents['setWindowOpenHandler']>[0] | null = null;

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, payload: args[0] });
  }

  setWindowOpenHandler(handler: Parameters<Electron.WebContents['setWindowOpenHandler']>[0]): void {
    this.windowOpenHandler = handler;
  }
}

/** Fake BrowserWindow: records its construction options and what it loaded. */
export class FakeBrowserWindow
  extends FakeEmitter
  implements Pick<Electron.BrowserWindow, 'loadFile' | 'loadURL' | 'show' | 'focus' | 'restore' | 'isMinimized' | 'isDestroyed' | 'isFocused'>
{
  static readonly instances: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  loaded: string | null = null;
  shown = false;
  focused = false;
  destroyed = false;

  constructor(readonly options: Electron.BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.instances.push(this);
  }

  async loadFile(filePath: string): Promise<void> {
    this.loaded = `file:${filePath}`;
  }

  async loadURL(url: string): Promise<void> {
    this.loaded = url;
  }

  show(): void {
    this.shown = true;
  }

  focus(): void {
    this.focused = true;
  }

  restore(): void {}

  isMinimized(): boolean {
    return false;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  isFocused(): boolean {
    return this.focused;
  }
}

/** Fake Tray: keeps its tooltip and the template of its context menu. */
export class FakeTray extends FakeEmitter implements Pick<Electron.Tray, 'setToolTip' | 'setContextMenu' | 'setImage' | 'destroy'> {
  static readonly instances: FakeTray[] = [];
  tooltip = '';
  menu: FakeMenu | null = null;
  destroyed = false;

  constructor(readonly image: Electron.NativeImage | string) {
    super();
    FakeTray.instances.push(this);
  }

  setToolTip(toolTip: string): void {
    this.tooltip = toolTip;
  }

  setContextMenu(menu: Electron.Menu | null): void {
    this.menu = menu as unknown as FakeMenu | null;
  }

  setImage(): void {}

  destroy(): void {
    this.destroyed = true;
  }
}

/** What Menu.buildFromTemplate returns here: the template itself. */
export class FakeMenu {
  constructor(readonly template: Electron.MenuItemConstructorOptions[]) {}

  static buildFromTemplate(template: Array<Electron.MenuItemConstructorOptions | Electron.MenuItem>): Electron.Menu {
    return new FakeMenu(template as Electron.MenuItemConstructorOptions[]) as unknown as Electron.Menu;
  }
}

/** Fake Notification: records its options and whether it is shown or closed. */
export class FakeNotification extends FakeEmitter implements Pick<Electron.Notification, 'show' | 'close'> {
  static readonly instances: FakeNotification[] = [];
  static supported = true;
  shown = false;
  closed = false;

  constructor(readonly options: Electron.NotificationConstructorOptions) {
    super();
    FakeNotification.instances.push(this);
  }

  static isSupported(): boolean {
    return FakeNotification.supported;
  }

  show(): void {
    this.shown = true;
  }

  close(): void {
    this.closed = true;
    this.emit('close', fakeEvent({ reason: 'unknown' }));
  }
}

type InvokeHandler = (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => unknown;

/** The shared record of everything the code under test did, and the module to hand to vi.mock. */
export function createElectronFake() {
  const handlers = new Map<string, InvokeHandler>();
  const exposed = new Map<string, unknown>();
  const rendererListeners = new Map<string, Array<(event: Electron.IpcRendererEvent, ...args: unknown[]) => void>>();
  const invocations: Array<{ channel: string; args: unknown[] }> = [];
  const state = {
    userData: '/tmp/cpm-fake-user-data',
    singleInstanceLock: true,
    lockedWith: null as unknown,
    badgeCount: null as number | null,
    appUserModelId: null as string | null,
    quitCalls: 0,
    exitCode: null as number | null,
    errorBoxes: [] as Array<{ title: string; content: string }>,
    openedExternally: [] as string[],
    headersListener: null as ((details: { responseHeaders?: Record<string, string[]> }, callback: (response: Electron.HeadersReceivedResponse) => void) => void) | null,
    encryptionAvailable: true,
    invokeResult: (channel: string, args: unknown[]): Promise<unknown> => Promise.resolve({ channel, args }),
  };

  const appEmitter = new FakeEmitter();
  const app = Object.assign(appEmitter, {
    isPackaged: false,
    getPath: (name: string): string => (name === 'userData' ? state.userData : `/tmp/cpm-fake-${name}`),
    setPath: (name: string, value: string): void => {
      if (name === 'userData') state.userData = value;
    },
    requestSingleInstanceLock: (additionalData?: Record<string, unknown>): boolean => {
      state.lockedWith = additionalData;
      return state.singleInstanceLock;
    },
    whenReady: (): Promise<void> => Promise.resolve(),
    quit: (): void => {
      state.quitCalls++;
    },
    exit: (code?: number): void => {
      state.exitCode = code ?? 0;
    },
    setBadgeCount: (count?: number): boolean => {
      state.badgeCount = count ?? 0;
      return true;
    },
    setAppUserModelId: (id: string): void => {
      state.appUserModelId = id;
    },
  } satisfies Pick<Electron.App, 'isPackaged' | 'getPath' | 'setPath' | 'requestSingleInstanceLock' | 'whenReady' | 'quit' | 'exit' | 'setBadgeCount' | 'setAppUserModelId'>);

  const ipcMain = {
    handle: (channel: string, listener: InvokeHandler): void => {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel: string): void => {
      handlers.delete(channel);
    },
  } satisfies Pick<Electron.IpcMain, 'handle' | 'removeHandler'>;

  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]): Promise<unknown> => {
      invocations.push({ channel, args });
      return state.invokeResult(channel, args);
    },
    on(channel: string, listener: (event: Electron.IpcRendererEvent, ...args: unknown[]) => void) {
      rendererListeners.set(channel, [...(rendererListeners.get(channel) ?? []), listener]);
      return this as unknown as Electron.IpcRenderer;
    },
    off(channel: string, listener: (event: Electron.IpcRendererEvent, ...args: unknown[]) => void) {
      rendererListeners.set(channel, (rendererListeners.get(channel) ?? []).filter((l) => l !== listener));
      return this as unknown as Electron.IpcRenderer;
    },
  } satisfies Pick<Electron.IpcRenderer, 'invoke' | 'on' | 'off'>;

  const contextBridge = {
    exposeInMainWorld: (apiKey: string, api: unknown): void => {
      if (exposed.has(apiKey)) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${apiKey}`);
      exposed.set(apiKey, api);
    },
  } satisfies Pick<Electron.ContextBridge, 'exposeInMainWorld'>;

  const shell = {
    openExternal: async (url: string): Promise<void> => {
      state.openedExternally.push(url);
    },
  } satisfies Pick<Electron.Shell, 'openExternal'>;

  const dialog = {
    showErrorBox: (title: string, content: string): void => {
      state.errorBoxes.push({ title, content });
    },
  } satisfies Pick<Electron.Dialog, 'showErrorBox'>;

  const safeStorage = {
    isEncryptionAvailable: (): boolean => state.encryptionAvailable,
    encryptString: (plainText: string): Buffer => Buffer.from(`enc:${[...plainText].reverse().join('')}`, 'utf8'),
    decryptString: (encrypted: Buffer): string => {
      const text = encrypted.toString('utf8');
      if (!text.startsWith('enc:')) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return [...text.slice(4)].reverse().join('');
    },
  } satisfies Pick<Electron.SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>;

  const session = {
    defaultSession: {
      webRequest: {
        onHeadersReceived: (listener: NonNullable<typeof state.headersListener>): void => {
          state.headersListener = listener;
        },
      },
    },
  };

  const nativeImage = {
    createFromPath: (path: string) => ({ path, template: false, setTemplateImage(option: boolean) { this.template = option; } }),
  };

  const nativeTheme = Object.assign(new FakeEmitter(), { shouldUseDarkColors: false });

  const module = {
    app: app as unknown as Electron.App,
    BrowserWindow: FakeBrowserWindow as unknown as typeof Electron.BrowserWindow,
    Tray: FakeTray as unknown as typeof Electron.Tray,
    Menu: FakeMenu as unknown as typeof Electron.Menu,
    Notification: FakeNotification as unknown as typeof Electron.Notification,
    ipcMain: ipcMain as unknown as Electron.IpcMain,
    ipcRenderer: ipcRenderer as unknown as Electron.IpcRenderer,
    contextBridge: contextBridge as unknown as Electron.ContextBridge,
    shell: shell as unknown as Electron.Shell,
    dialog: dialog as unknown as Electron.Dialog,
    safeStorage: safeStorage as unknown as Electron.SafeStorage,
    session: session as unknown as typeof Electron.session,
    nativeImage: nativeImage as unknown as typeof Electron.nativeImage,
    nativeTheme: nativeTheme as unknown as Electron.NativeTheme,
  } satisfies Partial<typeof ElectronModule>;

  return {
    module,
    state,
    app: appEmitter,
    handlers,
    exposed,
    invocations,
    /** Deliver an event from main to the preload's listeners. */
    sendToRenderer(channel: string, payload: unknown): void {
      for (const listener of rendererListeners.get(channel) ?? []) listener({} as Electron.IpcRendererEvent, payload);
    },
    rendererListenerCount(channel: string): number {
      return rendererListeners.get(channel)?.length ?? 0;
    },
    /** Forget everything recorded (between tests). */
    reset(): void {
      handlers.clear();
      exposed.clear();
      appEmitter.removeAllListeners();
      nativeTheme.removeAllListeners();
      rendererListeners.clear();
      invocations.length = 0;
      FakeBrowserWindow.instances.length = 0;
      FakeTray.instances.length = 0;
      FakeNotification.instances.length = 0;
      FakeNotification.supported = true;
      Object.assign(state, {
        userData: '/tmp/cpm-fake-user-data', singleInstanceLock: true, lockedWith: null, badgeCount: null, appUserModelId: null, quitCalls: 0,
        exitCode: null, errorBoxes: [], openedExternally: [], headersListener: null, encryptionAvailable: true,
      });
    },
  };
}

/** The one fake shared by a test file and its `vi.mock('electron')` factory. */
export const electronFake = createElectronFake();
