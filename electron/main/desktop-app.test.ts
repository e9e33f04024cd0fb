import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeviceApiError } from '../api/device-api';
import type { AccountConfig, JoinRequest } from '../api/payloads';
import type { LocalLabPort } from './shell-commands';
import { AppState } from './app-lifecycle';
import { startDesktopApp, type DesktopAppOptions } from './desktop-app';
import { accountInfoFor, createFakeDeviceAgent, type FakeDeviceAgent } from './testing/fake-device-agent';
import { FakeBrowserWindow, FakeNotification, FakeTray, electronFake, fakeEvent, type FakeMenu } from './testing/electron-fake';

vi.mock('electron', async () => (await import('./testing/electron-fake')).electronFake.module);

const RENDERER_FILE = '/opt/cpm/dist/renderer/index.html';
const APP_PAGE = `file://${RENDERER_FILE}`;

const ACCOUNT: AccountConfig = {
  uri: 'sip:alice@a.example',
  displayName: 'Alice',
  deviceName: 'Laptop',
  password: 's3cret-password',
  websocketUrl: 'ws://127.0.0.1:5066',
  transferServiceUri: 'sip:cpm-transfer@a.example',
};

const JOIN: JoinRequest = {
  joinId: 'join-1',
  conversationId: 'conv-1',
  peerUri: 'sip:bob@b.example',
  peerDisplayName: 'Bob',
  sourceDeviceName: 'Laptop',
  expiresAt: Date.now() + 60_000,
};

let base: string;
let agent: FakeDeviceAgent;

function options(overrides: Partial<DesktopAppOptions> = {}): DesktopAppOptions {
  return {
    argv: ['main.js', '--profile', 'desktop'],
    platform: 'linux',
    agentFactory: async () => agent,
    preloadPath: '/opt/cpm/dist/electron/preload/index.cjs',
    renderer: { kind: 'file', path: RENDERER_FILE },
    trayImageDir: '/opt/cpm/assets/tray',
    log: () => undefined,
    ...overrides,
  };
}

async function running(overrides: Partial<DesktopAppOptions> = {}) {
  const app = startDesktopApp(options(overrides));
  await app.started;
  expect(app.lifecycle.state).toBe(AppState.Running);
  return app;
}

/** Calls an ipcMain handler the way Electron does, from a frame showing `url`. */
function invoke(channel: string, args: unknown[], url = APP_PAGE): Promise<unknown> {
  const handler = electronFake.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  const event = { senderFrame: { url } } as unknown as Electron.IpcMainInvokeEvent;
  return Promise.resolve(handler(event, ...args));
}

beforeEach(() => {
  electronFake.reset();
  base = mkdtempSync(join(tmpdir(), 'cpm-main-'));
  electronFake.state.userData = base;
  agent = createFakeDeviceAgent();
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('the main window', () => {
  it('is created with context isolation, the sandbox, no Node integration and the preload', async () => {
    await running();
    const window = FakeBrowserWindow.instances[0]!;
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      preload: '/opt/cpm/dist/electron/preload/index.cjs',
    });
    expect(window.loaded).toBe(`file:${RENDERER_FILE}`);
    expect(window.options.title).toBe('CPM Handoff (desktop)');
  });

  it('denies every new window and opens only allow-listed https links in the browser', async () => {
    await running();
    const contents = FakeBrowserWindow.instances[0]!.webContents;
    const open = (url: string) => contents.windowOpenHandler!({ url } as Electron.HandlerDetails);
    expect(open('https://github.com/cpm-handoff')).toEqual({ action: 'deny' });
    expect(open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(open('http://github.com/')).toEqual({ action: 'deny' });
    expect(electronFake.state.openedExternally).toEqual(['https://github.com/cpm-handoff']);
  });

  it('blocks navigation away from the app page but lets the page reload itself', async () => {
    await running();
    const contents = FakeBrowserWindow.instances[0]!.webContents;
    const away = fakeEvent({ url: 'https://evil.example/phish' });
    contents.emit('will-navigate', away);
    const reload = fakeEvent({ url: APP_PAGE });
    contents.emit('will-navigate', reload);
    const webview = fakeEvent({});
    contents.emit('will-attach-webview', webview);
    expect(away.defaultPrevented).toBe(true);
    expect(reload.defaultPrevented).toBe(false);
    expect(webview.defaultPrevented).toBe(true);
  });

  it('sets the Content-Security-Policy response header, replacing the server one', async () => {
    await running();
    let headers: Record<string, string | string[]> | undefined;
    electronFake.state.headersListener!({ responseHeaders: { 'content-security-policy': ["default-src *"], 'X-Other': ['1'] } }, (r) => {
      headers = r.responseHeaders;
    });
    expect(headers).toEqual({
      'X-Other': ['1'],
      'Content-Security-Policy': [expect.stringContaining("default-src 'self'")],
    });
    expect(String(headers?.['Content-Security-Policy'])).toContain('connect-src \'self\' ws://127.0.0.1:*');
  });
});

describe('profiles', () => {
  it('gives each profile its own data folder and single-instance lock', async () => {
    await running();
    expect(electronFake.state.userData).toBe(join(base, 'profiles', 'desktop'));
    expect(electronFake.state.lockedWith).toEqual({ profile: 'desktop' });
  });

  it('registers the Windows AppUserModelID (notifications need it) that matches electron-builder.yml', async () => {
    await running({ platform: 'win32' });
    expect(electronFake.state.appUserModelId).toBe('org.cpmhandoff.desktop');
    const builder = readFileSync(new URL('../../electron-builder.yml', import.meta.url), 'utf8');
    expect(builder).toContain(`appId: ${electronFake.state.appUserModelId}`);
  });

  it('stops at once, without an agent, when another instance holds the profile', async () => {
    electronFake.state.singleInstanceLock = false;
    const factory = vi.fn(async () => agent);
    const app = startDesktopApp(options({ agentFactory: factory }));
    await app.started;
    expect(app.lifecycle.state).toBe(AppState.Stopped);
    expect(electronFake.state.quitCalls).toBe(1);
    expect(factory).not.toHaveBeenCalled();
  });

  it('refuses a profile name that is not a folder name, with a clear error box', async () => {
    const app = startDesktopApp(options({ argv: ['main.js', '--profile', '../etc'] }));
    await app.started;
    expect(app.lifecycle.state).toBe(AppState.Stopped);
    expect(electronFake.state.exitCode).toBe(1);
    expect(electronFake.state.errorBoxes[0]?.content).toContain('--profile "../etc"');
  });

  it('reports an agent that cannot start instead of crashing', async () => {
    const app = startDesktopApp(options({ agentFactory: async () => Promise.reject(new Error('SQLite is locked')) }));
    await app.started;
    expect(app.lifecycle.state).toBe(AppState.Stopped);
    expect(electronFake.state.errorBoxes[0]?.content).toContain('SQLite is locked');
  });
});

describe('IPC', () => {
  it('registers one handler per DeviceApi command and passes valid calls to the agent', async () => {
    await running();
    expect([...electronFake.handlers.keys()]).toContain('cpm:command:startChat');
    await invoke('cpm:command:markDisplayed', ['conv-1', 'msg-9']);
    expect(agent.spies.markDisplayed).toHaveBeenCalledWith('conv-1', 'msg-9');
  });

  it('refuses an invalid payload with a clear error and never calls the agent', async () => {
    await running();
    const error = await invoke('cpm:command:sendMessage', ['conv-1', 42]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceApiError);
    expect((error as Error).message).toBe('[invalid-argument] sendMessage.text: must be a string (got 42)');
    const extra = await invoke('cpm:command:signIn', [{ ...ACCOUNT, isAdmin: true }]).catch((e: unknown) => e);
    expect((extra as Error).message).toBe('[invalid-argument] signIn.config.isAdmin: is not a known field');
    expect(agent.spies.sendMessage).not.toHaveBeenCalled();
    expect(agent.spies.signIn).not.toHaveBeenCalled();
  });

  it('refuses calls from a frame that is not the app page', async () => {
    await running();
    await expect(invoke('cpm:command:listDevices', [], 'https://evil.example/')).rejects.toMatchObject({ code: 'forbidden' });
    expect(agent.spies.listDevices).not.toHaveBeenCalled();
  });

  it('forwards agent events to the window on their event channel', async () => {
    await running();
    agent.emit('registrationState', { state: 'registered', cause: null, pubGruu: 'sip:alice@a.example;gr=urn:uuid:1', expiresAt: 1 });
    expect(FakeBrowserWindow.instances[0]!.webContents.sent).toEqual([
      { channel: 'cpm:event:registrationState', payload: { state: 'registered', cause: null, pubGruu: 'sip:alice@a.example;gr=urn:uuid:1', expiresAt: 1 } },
    ]);
  });
});

describe('settings in the profile', () => {
  it('stores the account on sign-in with the password encrypted, and signs in again on the next start', async () => {
    await running();
    await invoke('cpm:command:signIn', [ACCOUNT]);
    const file = readFileSync(join(base, 'profiles', 'desktop', 'settings.json'), 'utf8');
    expect(file).toContain('sip:alice@a.example');
    expect(file).not.toContain('s3cret-password');
    expect(JSON.parse(file)).toMatchObject({ autoAccept: false, account: { deviceName: 'Laptop' } });

    electronFake.reset();
    electronFake.state.userData = base;
    agent = createFakeDeviceAgent();
    const factory = vi.fn(async () => agent);
    await running({ agentFactory: factory });
    expect(factory).toHaveBeenCalledWith({ dataDir: join(base, 'profiles', 'desktop'), profile: 'desktop', deviceName: 'Laptop', onHistoryStatus: expect.any(Function) });
    await vi.waitFor(() => expect(agent.spies.signIn).toHaveBeenCalledWith(ACCOUNT));
    expect(agent.spies.setAutoAccept).not.toHaveBeenCalled();
  });

  it('remembers auto-accept only once the agent took it, and forgets the account on sign-out', async () => {
    const app = await running();
    await invoke('cpm:command:signIn', [ACCOUNT]);
    await invoke('cpm:command:setAutoAccept', [true]);
    expect(app.settings?.autoAccept).toBe(true);
    agent.spies.setAutoAccept.mockRejectedValueOnce(new DeviceApiError('invalid-state', 'busy'));
    await expect(invoke('cpm:command:setAutoAccept', [false])).rejects.toMatchObject({ code: 'invalid-state' });
    expect(app.settings?.autoAccept).toBe(true);
    await invoke('cpm:command:signOut', []);
    expect(app.settings?.hasAccount).toBe(false);
  });
});

describe('join requests', () => {
  it('on macOS raises a notification whose Accept reaches the DeviceAgent', async () => {
    await running({ platform: 'darwin' });
    agent.emit('joinRequest', JOIN);
    const notification = FakeNotification.instances[0]!;
    expect(notification.options.body).toBe('Continue your conversation with Bob here? (moved from Laptop)');
    expect(notification.options.actions?.map((a) => a.text)).toEqual(['Accept', 'Decline']);
    expect(notification.shown).toBe(true);
    notification.emit('action', fakeEvent({ actionIndex: 0, selectionIndex: -1 }));
    notification.emit('action', fakeEvent({ actionIndex: 1, selectionIndex: -1 }));
    expect(agent.spies.acceptJoin).toHaveBeenCalledWith('join-1');
    expect(agent.spies.declineJoin).not.toHaveBeenCalled();
    expect(notification.closed).toBe(true);
  });

  it('on macOS sends Decline to the DeviceAgent', async () => {
    await running({ platform: 'darwin' });
    agent.emit('joinRequest', JOIN);
    FakeNotification.instances[0]!.emit('action', fakeEvent({ actionIndex: 1, selectionIndex: -1 }));
    expect(agent.spies.declineJoin).toHaveBeenCalledWith('join-1');
    expect(agent.spies.acceptJoin).not.toHaveBeenCalled();
  });

  it('elsewhere raises a notification without buttons whose click brings up the in-app prompt', async () => {
    await running({ platform: 'linux' });
    const window = FakeBrowserWindow.instances[0]!;
    agent.emit('joinRequest', JOIN);
    const notification = FakeNotification.instances[0]!;
    expect(notification.options.actions).toBeUndefined();
    notification.emit('click', fakeEvent({}));
    expect(window.shown && window.focused).toBe(true);
    expect(agent.spies.acceptJoin).not.toHaveBeenCalled();
    // The renderer got the same request, to show its prompt.
    expect(window.webContents.sent.map((s) => s.channel)).toContain('cpm:event:joinRequest');
  });

  it('takes the notification away when the move was answered in the app', async () => {
    await running({ platform: 'darwin' });
    agent.emit('joinRequest', JOIN);
    const notification = FakeNotification.instances[0]!;
    agent.emit('transferProgress', { transferId: 't-1', conversationId: 'conv-1', role: 'target', phase: 'requested', statusCode: null });
    expect(notification.closed).toBe(false);
    agent.emit('transferProgress', { transferId: 't-1', conversationId: 'conv-1', role: 'target', phase: 'accepted', statusCode: 202 });
    expect(notification.closed).toBe(true);
    expect(agent.spies.acceptJoin).not.toHaveBeenCalled();
  });

  it('raises no OS notification while the window is in front (the in-app prompt is visible)', async () => {
    await running();
    FakeBrowserWindow.instances[0]!.focused = true;
    agent.emit('joinRequest', JOIN);
    expect(FakeNotification.instances).toHaveLength(0);
  });
});

describe('history storage', () => {
  const PROBLEM = 'History is kept in memory only and will be lost on quit: the SQLite module (better-sqlite3) was built for another Node.js/Electron version.';

  it('runs with history in memory when SQLite cannot load, saying so in the tray and in every AccountInfo', async () => {
    const logged: string[] = [];
    const app = await running({
      log: (message) => logged.push(message),
      agentFactory: async (o) => {
        o.onHistoryStatus?.({ storage: 'memory', problem: PROBLEM });
        return agent;
      },
    });
    expect(app.history).toEqual({ storage: 'memory', problem: PROBLEM });
    expect(logged).toContain(PROBLEM);
    const tray = FakeTray.instances[0]!;
    expect(tray.tooltip).toBe('CPM Handoff: Not signed in\nHistory: kept in memory only (lost on quit)');
    expect((tray.menu as FakeMenu).template.find((item) => item.id === 'history')).toMatchObject({ sublabel: PROBLEM, enabled: false });
    await expect(invoke('cpm:command:signIn', [ACCOUNT])).resolves.toMatchObject({ historyStorage: 'memory', historyProblem: PROBLEM });
    // The page shows it in its notice bar once loaded (and again after a reload).
    const contents = FakeBrowserWindow.instances[0]!.webContents;
    expect(contents.sent.filter((m) => m.channel === 'cpm:event:error')).toEqual([]);
    contents.emit('did-finish-load');
    expect(contents.sent.filter((m) => m.channel === 'cpm:event:error')).toEqual([
      { channel: 'cpm:event:error', payload: { code: 'internal', message: PROBLEM, conversationId: null } },
    ]);
  });

  it('tells an open window about a problem that comes later, and clears the tray line once history is on disk', async () => {
    let report: ((status: { storage: 'disk' | 'memory'; problem: string | null }) => void) | undefined;
    await running({
      agentFactory: async (o) => {
        report = o.onHistoryStatus;
        report?.({ storage: 'memory', problem: PROBLEM });
        return agent;
      },
    });
    const tray = FakeTray.instances[0]!;
    expect(tray.tooltip).toContain('kept in memory only');
    const contents = FakeBrowserWindow.instances[0]!.webContents;
    const ACCOUNT_PROBLEM = 'History is kept in memory only and will be lost on quit: the history database of sip:alice@a.example could not be opened (disk full).';
    report?.({ storage: 'memory', problem: ACCOUNT_PROBLEM });
    expect(contents.sent.filter((m) => m.channel === 'cpm:event:error').map((m) => (m.payload as { message: string }).message)).toEqual([ACCOUNT_PROBLEM]);
    report?.({ storage: 'disk', problem: null });
    expect(tray.tooltip).toBe('CPM Handoff: Not signed in');
    contents.emit('did-finish-load');
    expect(contents.sent.filter((m) => m.channel === 'cpm:event:error')).toHaveLength(1);
    expect((tray.menu as FakeMenu).template.some((item) => item.id === 'history')).toBe(false);
    const info = await invoke('cpm:command:signIn', [ACCOUNT]);
    expect(info).toMatchObject({ historyStorage: 'disk' });
    expect(info).not.toHaveProperty('historyProblem');
  });
});

describe('tray and badge', () => {
  it('the tray follows the registration state', async () => {
    await running();
    const tray = FakeTray.instances[0]!;
    const registrationLabel = () => (tray.menu as FakeMenu).template.find((item) => item.id === 'registration')?.label;
    expect(registrationLabel()).toBe('Registration: Not signed in');
    agent.emit('registrationState', { state: 'registered', cause: null, pubGruu: null, expiresAt: 2 });
    expect(registrationLabel()).toBe('Registration: Online');
    agent.emit('registrationState', { state: 'failed', cause: '403 Forbidden', pubGruu: null, expiresAt: null });
    expect(registrationLabel()).toBe('Registration: Offline');
    expect(tray.tooltip).toBe('CPM Handoff: Offline (403 Forbidden)');
  });

  it('names the account in the tray and recounts the badge once registered', async () => {
    await running();
    agent.spies.getAccount.mockResolvedValue({ ...accountInfoFor(ACCOUNT), registration: 'registered' });
    agent.spies.listConversations.mockResolvedValue([
      { id: 'c1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: 'hi', updatedAt: 1, unreadCount: 4, activeSessionId: null },
    ]);
    agent.emit('registrationState', { state: 'registered', cause: null, pubGruu: null, expiresAt: 2 });
    const tray = FakeTray.instances[0]!;
    await vi.waitFor(() => expect(tray.tooltip).toBe('CPM Handoff: Online as sip:alice@a.example'));
    expect(electronFake.state.badgeCount).toBe(4);
  });

  it('the tray menu opens the window and quits through the agent shutdown', async () => {
    const app = await running();
    const tray = FakeTray.instances[0]!;
    const items = (tray.menu as FakeMenu).template;
    const window = FakeBrowserWindow.instances[0]!;
    items.find((i) => i.label === 'Open CPM Handoff')!.click!({} as Electron.MenuItem, undefined, {} as Electron.KeyboardEvent);
    expect(window.shown && window.focused).toBe(true);
    items.find((i) => i.label === 'Quit')!.click!({} as Electron.MenuItem, undefined, {} as Electron.KeyboardEvent);
    expect(electronFake.state.quitCalls).toBe(1);
    const beforeQuit = fakeEvent({});
    electronFake.app.emit('before-quit', beforeQuit);
    expect(beforeQuit.defaultPrevented).toBe(true);
    expect(app.lifecycle.state).toBe(AppState.Quitting);
    await vi.waitFor(() => expect(app.lifecycle.state).toBe(AppState.Stopped));
    expect(agent.close).toHaveBeenCalledTimes(1);
    expect(electronFake.state.quitCalls).toBe(2);
  });

  it('the badge shows the total of unread messages', async () => {
    await running();
    const summary = { peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', lastMessageText: 'hi', updatedAt: 1, activeSessionId: null };
    agent.emit('conversationUpdated', { ...summary, id: 'c1', unreadCount: 2 });
    agent.emit('conversationUpdated', { ...summary, id: 'c2', unreadCount: 3 });
    agent.emit('conversationUpdated', { ...summary, id: 'c1', unreadCount: 0 });
    expect(electronFake.state.badgeCount).toBe(3);
  });
});

describe('Try it locally', () => {
  const LAB_ACCOUNT: AccountConfig = { ...ACCOUNT, password: 'alice-secret', websocketUrl: 'wss://127.0.0.1:40443', trustedCertificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' };

  /** A local lab double that records the calls it gets, in order, into `calls`. */
  function fakeLab(calls: string[]): { port: LocalLabPort; roots: string[] } {
    const roots: string[] = [];
    return {
      roots,
      port: {
        signInConfig: async (deviceName) => {
          calls.push(`lab:${deviceName}`);
          return { ...LAB_ACCOUNT, deviceName };
        },
        release: async () => {
          calls.push('lab:release');
        },
      },
    };
  }

  it('signs in with the account the lab gives, reads auto-accept back, and gets the lab again on the next start', async () => {
    const calls: string[] = [];
    const lab = fakeLab(calls);
    const app = await running({ localLab: (root) => (lab.roots.push(root), lab.port) });
    // The lab file lives in the app's own data folder, shared by every profile, not in the profile's.
    expect(lab.roots).toEqual([base]);
    await invoke('cpm:command:setAutoAccept', [true]);
    const info = await invoke('cpm:command:tryLocally', ['Desktop']);
    expect(calls).toEqual(['lab:Desktop']);
    expect(agent.spies.signIn).toHaveBeenCalledWith({ ...LAB_ACCOUNT, deviceName: 'Desktop' });
    expect(info).toMatchObject({ uri: 'sip:alice@a.example', deviceName: 'Desktop', autoAccept: true });
    expect(app.settings?.accountSource).toBe('local-lab');

    electronFake.reset();
    electronFake.state.userData = base;
    agent = createFakeDeviceAgent();
    const next: string[] = [];
    await running({ localLab: () => fakeLab(next).port });
    await vi.waitFor(() => expect(agent.spies.signIn).toHaveBeenCalledWith({ ...LAB_ACCOUNT, deviceName: 'Desktop' }));
    expect(next).toEqual(['lab:Desktop']);
    expect(agent.spies.setAutoAccept).toHaveBeenCalledWith(true);
  });

  it('adds the saved auto-accept setting to the account the window reads', async () => {
    await running();
    agent.spies.getAccount.mockResolvedValue({ uri: 'sip:alice@a.example', displayName: '', deviceName: 'Laptop', instanceId: 'urn:uuid:1', pubGruu: null, websocketUrl: 'ws://127.0.0.1:1', transferServiceUri: null, registration: 'registered' });
    expect(await invoke('cpm:command:getAccount', [])).toMatchObject({ autoAccept: false });
    await invoke('cpm:command:setAutoAccept', [true]);
    expect(await invoke('cpm:command:getAccount', [])).toMatchObject({ autoAccept: true });
  });

  it('is refused with invalid-state by a build without the lab, and with network when the lab cannot start', async () => {
    await running();
    await expect(invoke('cpm:command:tryLocally', ['Laptop'])).rejects.toMatchObject({ code: 'invalid-state' });
    electronFake.reset();
    electronFake.state.userData = base;
    const broken: LocalLabPort = { signInConfig: async () => Promise.reject(new Error('listen EADDRINUSE')), release: async () => undefined };
    await running({ localLab: () => broken });
    await expect(invoke('cpm:command:tryLocally', ['Laptop'])).rejects.toMatchObject({ code: 'network', detail: 'the local lab could not start: listen EADDRINUSE' });
    expect(agent.spies.signIn).not.toHaveBeenCalled();
  });

  it('on quit stops the lab after the agent has signed out through it', async () => {
    const calls: string[] = [];
    agent.close.mockImplementation(async () => {
      calls.push('agent:close');
    });
    const app = await running({ localLab: () => fakeLab(calls).port });
    await invoke('cpm:command:tryLocally', ['Laptop']);
    electronFake.app.emit('before-quit', fakeEvent({}));
    await vi.waitFor(() => expect(app.lifecycle.state).toBe(AppState.Stopped));
    expect(calls).toEqual(['lab:Laptop', 'agent:close', 'lab:release']);
  });
});
