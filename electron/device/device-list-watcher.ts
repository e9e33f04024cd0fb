/**
 * Keeps a `reg` event subscription to our own AOR (RFC 3680, RFC 6665; PROFILE.md "Registration and the
 * device list") alive for as long as we are registered, and turns its NOTIFYs into a {@link DeviceList}:
 *
 * - subscribes once registered, and again (fresh dialog, full state) after every new registration, such as
 *   the one after a reconnect, since the old dialog's flow is gone;
 * - re-subscribes when the notifier ends the subscription, after a short back-off while still registered;
 * - re-subscribes at once when a partial document shows a version gap (RFC 3680 §5.2).
 *
 * JsSIP's Subscriber refreshes the subscription before it expires.
 */
import { EventEmitter } from 'node:events';
import { parseReginfo, type Reginfo } from '../../protocol/reginfo/reginfo';
import type { DeviceInfo } from '../api/payloads';
import type { CpmUserAgent } from './sip/cpm-user-agent';
import { RegistrationState, type RegistrationSnapshot } from './sip/registration-state';
import { DeviceList } from './device-list';

type Subscription = ReturnType<CpmUserAgent['subscribe']>;

/** Options of the watcher. */
export interface DeviceListWatcherOptions {
  ua: CpmUserAgent;
  /** Our AOR (the subscription target). */
  aor: string;
  /** Requested subscription lifetime, seconds (default 600). */
  expires?: number;
  /** Back-off before re-subscribing after the notifier ended the subscription (default 2000 ms). */
  retryMs?: number;
}

/** Events of the watcher. */
export interface DeviceListWatcherEvents {
  /** The whole list, each time it changes. */
  devices: (devices: DeviceInfo[]) => void;
  /** A NOTIFY body that could not be read, or a subscription that failed. */
  problem: (message: string) => void;
}

/** The device list of our AOR, kept up to date. */
export class DeviceListWatcher extends EventEmitter {
  private readonly list: DeviceList;
  private subscription: Subscription | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  private current: DeviceInfo[] = [];
  private readonly onRegistration = (snapshot: RegistrationSnapshot, from: RegistrationState): void => {
    if (snapshot.state === RegistrationState.Registered && from === RegistrationState.Registering) this.resubscribe();
  };

  constructor(private readonly options: DeviceListWatcherOptions) {
    super();
    this.list = new DeviceList(options.ua.instanceId);
    options.ua.registration.on('stateChange', this.onRegistration);
    if (options.ua.registration.state === RegistrationState.Registered) this.resubscribe();
  }

  /** The list as last notified. */
  get devices(): DeviceInfo[] {
    return this.current.map((d) => ({ ...d }));
  }

  /** End the subscription and stop following registrations. */
  stop(): void {
    this.stopped = true;
    this.options.ua.registration.off('stateChange', this.onRegistration);
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.drop();
  }

  override on<E extends keyof DeviceListWatcherEvents>(event: E, listener: DeviceListWatcherEvents[E]): this {
    return super.on(event, listener);
  }

  override emit<E extends keyof DeviceListWatcherEvents>(event: E, ...args: Parameters<DeviceListWatcherEvents[E]>): boolean {
    return super.emit(event, ...args);
  }

  /** Start a fresh subscription (full state), ending the previous one. */
  resubscribe(): void {
    if (this.stopped) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.drop();
    this.list.reset();
    const subscription = this.options.ua.subscribe(this.options.aor, 'reg', 'application/reginfo+xml', {
      expires: this.options.expires ?? 600,
      contentType: 'application/reginfo+xml',
    });
    this.subscription = subscription;
    subscription.on('notify', (_isFinal, _request, body) => {
      if (this.subscription !== subscription || body === undefined || body === '') return;
      let doc: Reginfo;
      try {
        doc = parseReginfo(body);
      } catch (error) {
        this.emit('problem', `unreadable reginfo NOTIFY: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      const outcome = this.list.apply(doc);
      if (outcome === 'gap') {
        queueMicrotask(() => this.resubscribe());
        return;
      }
      if (outcome === 'changed') this.publish();
    });
    subscription.on('terminated', (code, reason) => {
      if (this.subscription !== subscription) return;
      this.subscription = null;
      if (this.stopped) return;
      this.emit('problem', `reg subscription ended (code ${code}${reason ? `, ${reason}` : ''})`);
      const registered = this.options.ua.registration.state === RegistrationState.Registered || this.options.ua.registration.state === RegistrationState.Refreshing;
      if (registered) {
        this.retry = setTimeout(() => this.resubscribe(), this.options.retryMs ?? 2000);
        this.retry.unref();
      }
    });
    subscription.subscribe();
  }

  private drop(): void {
    const old = this.subscription;
    this.subscription = null;
    if (old) {
      try {
        old.terminate();
      } catch {
        // already terminated
      }
    }
  }

  private publish(): void {
    this.current = this.list.devices();
    this.emit('devices', this.devices);
  }
}
