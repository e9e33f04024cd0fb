/**
 * The OS notification for a Join request (PROFILE.md, "the target's user accepts"):
 * "Continue your conversation with Bob here? (moved from Laptop)". On macOS it carries Accept and Decline
 * buttons that answer the DeviceAgent directly; elsewhere clicking it brings up the window, where the
 * renderer shows the same prompt (it gets the `joinRequest` event too). Whatever is answered first wins;
 * the notification goes away when the request expires.
 */
import { Notification, type NotificationConstructorOptions } from 'electron';
import type { DeviceCommands } from '../api/device-api';
import type { JoinRequest } from '../api/payloads';

/** What the notifier needs around it. */
export interface JoinNotifierOptions {
  platform: NodeJS.Platform;
  agent: Pick<DeviceCommands, 'acceptJoin' | 'declineJoin'>;
  /** Bring the window forward (the in-app prompt is there). */
  showPrompt: (joinId: string) => void;
  /** Absolute path of the app icon, for platforms that show one. */
  iconPath?: string;
  /** Told when answering the agent fails. */
  onError: (error: unknown) => void;
  /** Clock and timer, injectable for tests. */
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => { unref?: () => void } | number;
}

/** The sentence the user reads, in the notification and in the in-app prompt. */
export function joinPromptText(request: Pick<JoinRequest, 'peerDisplayName' | 'peerUri' | 'sourceDeviceName'>): string {
  const peer = request.peerDisplayName.trim() || request.peerUri;
  return `Continue your conversation with ${peer} here? (moved from ${request.sourceDeviceName})`;
}

/** Index of each action button (macOS). */
const ACCEPT = 0;
const DECLINE = 1;

/** Raises one notification per Join request and routes its answer. */
export class JoinNotifier {
  private readonly open = new Map<string, Notification>();
  private readonly joinByConversation = new Map<string, string>();
  private readonly answered = new Set<string>();

  constructor(private readonly options: JoinNotifierOptions) {}

  /** Show the notification for `request` (nothing if notifications are unsupported or it already expired). */
  notify(request: JoinRequest): void {
    if (!Notification.isSupported()) return;
    const now = (this.options.now ?? Date.now)();
    if (request.expiresAt <= now || this.open.has(request.joinId)) return;
    const withActions = this.options.platform === 'darwin';
    const settings: NotificationConstructorOptions = {
      title: 'Move conversation',
      body: joinPromptText(request),
      timeoutType: 'never',
      ...(this.options.iconPath === undefined ? {} : { icon: this.options.iconPath }),
      ...(withActions ? { actions: [{ type: 'button', text: 'Accept' }, { type: 'button', text: 'Decline' }], closeButtonText: 'Later' } : {}),
    };
    const notification = new Notification(settings);
    this.open.set(request.joinId, notification);
    this.joinByConversation.set(request.conversationId, request.joinId);
    notification.on('action', (details) => {
      if (details.actionIndex === ACCEPT) this.answer(request.joinId, 'accept');
      else if (details.actionIndex === DECLINE) this.answer(request.joinId, 'decline');
    });
    notification.on('click', () => this.options.showPrompt(request.joinId));
    notification.on('close', () => this.open.delete(request.joinId));
    notification.show();
    const timer = (this.options.setTimer ?? setTimeout)(() => this.dismiss(request.joinId), request.expiresAt - now);
    if (typeof timer === 'object') timer.unref?.();
  }

  /** Take the notification away (answered in the app, expired, or the transfer ended). */
  dismiss(joinId: string): void {
    const notification = this.open.get(joinId);
    this.open.delete(joinId);
    notification?.close();
  }

  /**
   * The Join of `conversationId` was answered elsewhere (in the app, by auto-accept) or is over: take its
   * notification away.
   */
  dismissConversation(conversationId: string): void {
    const joinId = this.joinByConversation.get(conversationId);
    if (joinId === undefined) return;
    this.joinByConversation.delete(conversationId);
    this.dismiss(joinId);
  }

  /** Number of notifications on screen. */
  get openCount(): number {
    return this.open.size;
  }

  private answer(joinId: string, decision: 'accept' | 'decline'): void {
    if (this.answered.has(joinId)) return;
    this.answered.add(joinId);
    this.dismiss(joinId);
    const sent = decision === 'accept' ? this.options.agent.acceptJoin(joinId) : this.options.agent.declineJoin(joinId);
    sent.catch(this.options.onError);
    if (decision === 'accept') this.options.showPrompt(joinId);
  }
}
