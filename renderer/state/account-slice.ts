/**
 * Account slice: who we are signed in as, the registration state, the settings the user controls.
 */
import type { DeviceApi, ShellCommands } from '../../electron/api/device-api';
import type { AccountConfig, AccountInfo, DeviceErrorInfo, RegistrationStatus } from '../../electron/api/payloads';
import { errorText, type SliceCreator } from './app-state';

/** The DeviceApi as the account slice may find it: with the shell's commands (`tryLocally`), or without (an older preload). */
export type LabCapableApi = DeviceApi & Partial<ShellCommands>;

/** Account state and actions. */
export interface AccountSlice {
  account: AccountInfo | null;
  /** False until `getAccount` answered (the first screen waits for it). */
  accountLoaded: boolean;
  registration: RegistrationStatus;
  signingIn: boolean;
  signInError: string | null;
  /** Accept moves from my own devices without asking (off by default; read back from the account the shell gives). */
  autoAccept: boolean;
  settingsError: string | null;
  /** True when the DeviceApi offers `tryLocally` (the embedded lab). */
  canTryLocally: boolean;
  /** The connection to the device (IPC or bridge) is gone. */
  connectionLost: boolean;
  /** The last problem the agent reported outside any command (`error` event), until dismissed. */
  notice: string | null;

  loadAccount(): Promise<void>;
  signIn(config: AccountConfig): Promise<boolean>;
  tryLocally(deviceName: string): Promise<boolean>;
  signOut(): Promise<void>;
  setAutoAccept(enabled: boolean): Promise<void>;
  /** Load what a signed-in account shows: devices and conversations. */
  afterSignIn(): Promise<void>;
  applyRegistration(status: RegistrationStatus): void;
  setConnectionLost(): void;
  applyDeviceError(info: DeviceErrorInfo): void;
  dismissNotice(): void;
}

const SIGNED_OUT: RegistrationStatus = { state: 'unregistered', cause: null, pubGruu: null, expiresAt: null };

/** Creates the account slice over `api`. */
export function createAccountSlice(api: LabCapableApi): SliceCreator<AccountSlice> {
  const signedIn = (info: AccountInfo): Partial<AccountSlice> => ({
    account: info,
    signingIn: false,
    signInError: null,
    registration: { state: info.registration, cause: null, pubGruu: info.pubGruu, expiresAt: null },
    // The setting in force, as the shell saved it; a shell that does not say leaves the switch as it is.
    ...(info.autoAccept === undefined ? {} : { autoAccept: info.autoAccept }),
  });
  return (set, get) => ({
    account: null,
    accountLoaded: false,
    registration: SIGNED_OUT,
    signingIn: false,
    signInError: null,
    autoAccept: false,
    settingsError: null,
    canTryLocally: typeof api.tryLocally === 'function',
    connectionLost: false,
    notice: null,

    async loadAccount() {
      try {
        const account = await api.getAccount();
        set(account ? { ...signedIn(account), accountLoaded: true } : { account: null, accountLoaded: true });
        if (account) await get().afterSignIn();
      } catch (error) {
        set({ accountLoaded: true, signInError: errorText(error) });
      }
    },

    async signIn(config) {
      set({ signingIn: true, signInError: null });
      try {
        set(signedIn(await api.signIn(config)));
        await get().afterSignIn();
        return true;
      } catch (error) {
        set({ signingIn: false, signInError: errorText(error) });
        return false;
      }
    },

    async tryLocally(deviceName) {
      if (!api.tryLocally) {
        set({ signInError: 'This build cannot start the local lab.' });
        return false;
      }
      set({ signingIn: true, signInError: null });
      try {
        set(signedIn(await api.tryLocally(deviceName)));
        await get().afterSignIn();
        return true;
      } catch (error) {
        set({ signingIn: false, signInError: errorText(error) });
        return false;
      }
    },

    async signOut() {
      try {
        await api.signOut();
      } finally {
        set({ account: null, registration: SIGNED_OUT });
        get().resetConversations();
        get().resetDevices();
      }
    },

    async setAutoAccept(enabled) {
      const before = get().autoAccept;
      set({ autoAccept: enabled, settingsError: null });
      try {
        await api.setAutoAccept(enabled);
      } catch (error) {
        set({ autoAccept: before, settingsError: errorText(error) });
      }
    },

    async afterSignIn() {
      await Promise.all([get().loadDevices(), get().loadConversations()]);
    },

    applyRegistration(status) {
      const account = get().account;
      set({ registration: status, account: account ? { ...account, registration: status.state, pubGruu: status.pubGruu ?? account.pubGruu } : null });
    },

    setConnectionLost() {
      set({ connectionLost: true });
    },

    applyDeviceError(info) {
      set({ notice: info.message });
    },

    dismissNotice() {
      set({ notice: null });
    },
  });
}
