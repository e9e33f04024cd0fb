/**
 * The app's one window, locked down per Electron's security checklist: context isolation, the sandbox, no
 * Node in the page, a preload that exposes only the DeviceApi, no navigation away from the app, no new
 * windows, no <webview>. Links the user clicks open in the system browser only when they are allow-listed.
 */
import { BrowserWindow, nativeTheme, shell, type WebPreferences } from 'electron';

/** The only webPreferences the window is ever created with (besides the preload path). */
export const SECURE_WEB_PREFERENCES = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: true,
} satisfies WebPreferences);

/** Where the window's page comes from. */
export type RendererSource = { kind: 'file'; path: string } | { kind: 'url'; url: string };

/** Options of the main window. */
export interface MainWindowOptions {
  /** Absolute path of the bundled preload script. */
  preloadPath: string;
  renderer: RendererSource;
  /** Title bar text (the profile is shown when it is not the default one). */
  title: string;
  /** Window icon (Linux, Windows), absolute path of a PNG. */
  iconPath?: string;
  /** Decides which external URLs may be opened in the system browser. */
  isAllowedExternalUrl?: (url: string) => boolean;
  /** Told when the page or an external URL fails to open (defaults to console.error). */
  onError?: (error: unknown) => void;
}

/** Hosts whose https pages the app may open in the browser (documentation, the project page). */
export const EXTERNAL_URL_ALLOW_LIST: readonly string[] = ['github.com', 'www.openmobilealliance.org', 'www.rfc-editor.org'];

/** True for an `https:` URL on an allow-listed host, with no credentials in it. */
export function isAllowListedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && EXTERNAL_URL_ALLOW_LIST.includes(parsed.hostname);
}

/** True when `url` is the app's own page (same file, or same origin as the dev server). */
export function isAppUrl(url: string, source: RendererSource): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (source.kind === 'url') return parsed.origin === new URL(source.url).origin;
  return parsed.protocol === 'file:' && decodeURIComponent(parsed.pathname).endsWith(source.path.replaceAll('\\', '/'));
}

/** Creates the main window and loads the renderer; the window shows itself once its first paint is ready. */
export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const isAllowed = options.isAllowedExternalUrl ?? isAllowListedExternalUrl;
  const onError = options.onError ?? ((error: unknown) => console.error('[main-window]', error));
  const openExternal = (url: string): void => {
    if (isAllowed(url)) shell.openExternal(url).catch(onError);
  };
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    show: false,
    title: options.title,
    ...(options.iconPath === undefined ? {} : { icon: options.iconPath }),
    // The renderer's own background (styles.css --bg), so that no white flashes before the first paint.
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#14171c' : '#f6f7f9',
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: options.preloadPath },
  });
  const contents = window.webContents;

  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, options.renderer)) return;
    event.preventDefault();
    openExternal(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url, options.renderer)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  window.once('ready-to-show', () => window.show());

  const loaded = options.renderer.kind === 'file' ? window.loadFile(options.renderer.path) : window.loadURL(options.renderer.url);
  loaded.catch(onError);
  return window;
}
