/**
 * The tray (menu bar) icon: shows the registration state in its tooltip and menu, and offers Open and
 * Quit. On macOS the image is a template image (the system tints it for light and dark menu bars);
 * elsewhere the glyph colour follows the OS theme.
 */
import { Menu, Tray, nativeImage, nativeTheme, type MenuItemConstructorOptions } from 'electron';
import type { RegistrationStateName, RegistrationStatus } from '../api/payloads';

/** Where the tray images live and which platform we run on. */
export interface TrayOptions {
  /** Folder holding trayTemplate.png, tray-light.png and tray-dark.png (with their @2x variants). */
  imageDir: string;
  platform: NodeJS.Platform;
  productName: string;
  onOpen: () => void;
  onQuit: () => void;
}

/** How each registration state reads in the tray. */
export const REGISTRATION_LABELS: Readonly<Record<RegistrationStateName, string>> = {
  unregistered: 'Not signed in',
  registering: 'Connecting…',
  registered: 'Online',
  refreshing: 'Online',
  failed: 'Offline',
};

/** What the tray says when history cannot be kept on disk (the reason follows in the menu). */
export const HISTORY_IN_MEMORY_LABEL = 'History: kept in memory only (lost on quit)';

/** The tray image file for a platform and theme. */
export function trayImageFile(platform: NodeJS.Platform, darkTheme: boolean): string {
  if (platform === 'darwin') return 'trayTemplate.png';
  // A light glyph on dark panels, a dark glyph on light ones.
  return darkTheme ? 'tray-light.png' : 'tray-dark.png';
}

/** Owns the Tray and keeps it in step with the registration state. */
export class TrayController {
  private readonly tray: Tray;
  private status: RegistrationStatus = { state: 'unregistered', cause: null, pubGruu: null, expiresAt: null };
  private account: string | null = null;
  private historyProblem: string | null = null;

  constructor(private readonly options: TrayOptions) {
    this.tray = new Tray(this.image());
    this.tray.on('click', () => options.onOpen());
    if (options.platform !== 'darwin') nativeTheme.on('updated', () => this.tray.setImage(this.image()));
    this.render();
  }

  /** Show a new registration state (and, when known, the account it is for). */
  update(status: RegistrationStatus, account?: string | null): void {
    this.status = status;
    if (account !== undefined) this.account = account;
    this.render();
  }

  /**
   * Say (or stop saying) that history is kept in memory only, and why: a line in the tooltip and a disabled
   * item in the menu.
   */
  setHistoryProblem(problem: string | null): void {
    if (problem === this.historyProblem) return;
    this.historyProblem = problem;
    this.render();
  }

  /** The tooltip currently shown. */
  get tooltip(): string {
    const label = REGISTRATION_LABELS[this.status.state];
    const who = this.account === null ? '' : ` as ${this.account}`;
    const cause = this.status.state === 'failed' && this.status.cause ? ` (${this.status.cause})` : '';
    const history = this.historyProblem === null ? '' : `\n${HISTORY_IN_MEMORY_LABEL}`;
    return `${this.options.productName}: ${label}${this.status.state === 'registered' || this.status.state === 'refreshing' ? who : ''}${cause}${history}`;
  }

  /** Remove the icon. */
  destroy(): void {
    this.tray.destroy();
  }

  private image(): Electron.NativeImage {
    const file = trayImageFile(this.options.platform, nativeTheme.shouldUseDarkColors);
    const image = nativeImage.createFromPath(`${this.options.imageDir}/${file}`);
    if (this.options.platform === 'darwin') image.setTemplateImage(true);
    return image;
  }

  private render(): void {
    this.tray.setToolTip(this.tooltip);
    const template: MenuItemConstructorOptions[] = [
      { label: `Open ${this.options.productName}`, click: () => this.options.onOpen() },
      { type: 'separator' },
      { id: 'registration', label: `Registration: ${REGISTRATION_LABELS[this.status.state]}`, enabled: false },
      ...(this.historyProblem === null
        ? []
        : [{ id: 'history', label: HISTORY_IN_MEMORY_LABEL, sublabel: this.historyProblem, toolTip: this.historyProblem, enabled: false }]),
      { type: 'separator' },
      { label: 'Quit', click: () => this.options.onQuit() },
    ];
    this.tray.setContextMenu(Menu.buildFromTemplate(template));
  }
}
