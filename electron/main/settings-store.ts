/**
 * The profile's settings file (`<profile>/settings.json`): the account (SIP URI, WebSocket URL, transfer
 * service URI, device name…) with its password encrypted by Electron's `safeStorage` (the OS keychain,
 * DPAPI or libsecret), where the account came from (typed in, or "Try it locally"), and the "auto-accept
 * moves from my own devices" switch, off by default.
 *
 * The file never holds the password in clear: where the OS offers no encryption the password is kept in
 * memory for this run only, and the user types it again next time.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SafeStorage } from 'electron';
import type { AccountConfig } from '../api/payloads';
import { accountConfig as validateAccountConfig } from '../api/validate';

/** The part of `safeStorage` the store uses (injected so that tests need no keychain). */
export type SecretCipher = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>;

/** The account as stored: everything but the password, which is kept encrypted apart. */
export type StoredAccount = Omit<AccountConfig, 'password'> & {
  /** base64 of safeStorage.encryptString(password), or null when it could not be stored. */
  encryptedPassword: string | null;
};

/**
 * Where the stored account came from: typed in by the user, or made by "Try it locally" (then the next start
 * starts or joins the local lab again rather than reuse its old, per-run WebSocket URL).
 */
export type AccountSource = 'manual' | 'local-lab';

/** The settings file's content. */
export interface ProfileSettings {
  version: 1;
  account: StoredAccount | null;
  /** Where `account` came from; absent in files written before it existed (read as `manual`). */
  accountSource?: AccountSource;
  /** Accept Join requests from the user's own devices without prompting (PROFILE.md); off by default. */
  autoAccept: boolean;
}

/** Settings of a new profile. */
export const DEFAULT_SETTINGS: ProfileSettings = Object.freeze({ version: 1, account: null, autoAccept: false });

/** What `saveAccount` managed to keep. */
export interface SaveAccountResult {
  /** False when the OS offers no encryption: the password lives in memory for this run only. */
  passwordPersisted: boolean;
}

/** Reads and writes one profile's settings file. */
export class SettingsStore {
  private settings: ProfileSettings;
  private sessionPassword: string | null = null;
  /** Why the file could not be read, if it could not (the store then starts from the defaults). */
  readonly loadProblem: string | null;

  constructor(
    private readonly filePath: string,
    private readonly cipher: SecretCipher,
  ) {
    const loaded = readSettings(filePath);
    this.settings = loaded.settings;
    this.loadProblem = loaded.problem;
  }

  /** The auto-accept switch. */
  get autoAccept(): boolean {
    return this.settings.autoAccept;
  }

  /** Turn auto-accept on or off and save. */
  setAutoAccept(enabled: boolean): void {
    this.settings = { ...this.settings, autoAccept: enabled };
    this.write();
  }

  /** Where the stored account came from (`manual` when there is none). */
  get accountSource(): AccountSource {
    return this.settings.account === null ? 'manual' : (this.settings.accountSource ?? 'manual');
  }

  /** The stored account's device name, password or not (what "Try it locally" needs to sign in again). */
  get deviceName(): string | null {
    return this.settings.account?.deviceName ?? null;
  }

  /** True when an account is stored (with or without a usable password). */
  get hasAccount(): boolean {
    return this.settings.account !== null;
  }

  /**
   * The stored account with its password decrypted, or null when there is none or its password is not
   * available (not persisted, or the keychain refuses to decrypt it).
   */
  account(): AccountConfig | null {
    const stored = this.settings.account;
    if (stored === null) return null;
    const password = this.sessionPassword ?? this.decrypt(stored.encryptedPassword);
    if (password === null) return null;
    const { encryptedPassword: _omitted, ...rest } = stored;
    const checked = validateAccountConfig({ ...rest, password }, 'settings.account');
    return checked.ok ? checked.value : null;
  }

  /** Store the account the user signed in with (replacing any other), and where it came from, and save. */
  saveAccount(config: AccountConfig, source: AccountSource = 'manual'): SaveAccountResult {
    const { password, ...rest } = config;
    let encryptedPassword: string | null = null;
    if (this.cipher.isEncryptionAvailable()) {
      encryptedPassword = this.cipher.encryptString(password).toString('base64');
      this.sessionPassword = null;
    } else {
      this.sessionPassword = password;
    }
    this.settings = { ...this.settings, account: { ...rest, encryptedPassword }, accountSource: source };
    this.write();
    return { passwordPersisted: encryptedPassword !== null };
  }

  /** Forget the account and its password (sign out) and save. */
  forgetAccount(): void {
    this.sessionPassword = null;
    this.settings = { ...this.settings, account: null, accountSource: 'manual' };
    this.write();
  }

  /** A copy of what is stored (the password stays encrypted). */
  snapshot(): ProfileSettings {
    return structuredClone(this.settings);
  }

  private decrypt(encrypted: string | null): string | null {
    if (encrypted === null || !this.cipher.isEncryptionAvailable()) return null;
    try {
      return this.cipher.decryptString(Buffer.from(encrypted, 'base64'));
    } catch {
      return null;
    }
  }

  private write(): void {
    mkdirSync(dirname(this.filePath), { recursive: true });
    const temporary = `${this.filePath}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.settings, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.filePath);
  }
}

/** Reads the file; a missing file gives the defaults, a damaged one the defaults and a problem to report. */
function readSettings(filePath: string): { settings: ProfileSettings; problem: string | null } {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    if (isMissingFile(error)) return { settings: { ...DEFAULT_SETTINGS }, problem: null };
    return { settings: { ...DEFAULT_SETTINGS }, problem: `cannot read ${filePath}: ${String(error)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { settings: { ...DEFAULT_SETTINGS }, problem: `${filePath} is not valid JSON; starting from the defaults` };
  }
  const settings = parseSettings(parsed);
  return settings === null
    ? { settings: { ...DEFAULT_SETTINGS }, problem: `${filePath} has an unknown layout; starting from the defaults` }
    : { settings, problem: null };
}

function parseSettings(input: unknown): ProfileSettings | null {
  if (typeof input !== 'object' || input === null) return null;
  const record = input as Record<string, unknown>;
  if (record['version'] !== 1 || typeof record['autoAccept'] !== 'boolean') return null;
  const source = record['accountSource'];
  if (source !== undefined && source !== 'manual' && source !== 'local-lab') return null;
  const accountSource: AccountSource = source ?? 'manual';
  const account = record['account'];
  if (account === null) return { version: 1, account: null, accountSource, autoAccept: record['autoAccept'] };
  if (typeof account !== 'object' || account === undefined) return null;
  const { encryptedPassword, ...rest } = account as Record<string, unknown>;
  if (encryptedPassword !== null && typeof encryptedPassword !== 'string') return null;
  // Validate the stored fields with the contract's own validator (a placeholder stands in for the password).
  const checked = validateAccountConfig({ ...rest, password: 'x' }, 'settings.account');
  if (!checked.ok) return null;
  const { password: _placeholder, ...fields } = checked.value;
  return { version: 1, account: { ...fields, encryptedPassword }, accountSource, autoAccept: record['autoAccept'] };
}

function isMissingFile(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}
