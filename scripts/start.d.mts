/** Types of start.mjs (for its test). */

/** The Electron executable, or null with the reason it is not usable. */
export function findElectronBinary(repoRoot?: string, env?: Record<string, string | undefined>): { path: string; reason: null } | { path: null; reason: string };

/** True when package.json defines `npm run <name>`. */
export function hasScript(name: string, repoRoot?: string): boolean;

/** The lines start.mjs prints after the browser shell's JSON line (where to open each device); empty for any other line. */
export function describeShellLine(line: string): string[];

/** Where the stamp of the last native rebuild for Electron lives, relative to the repository root. */
export const NATIVE_STAMP_PATH: string;

/** What the native modules are built from now (null when Electron or better-sqlite3 is not installed). */
export interface NativeFingerprint {
  electron: string;
  betterSqlite3: string;
  /** SHA-256 of better_sqlite3.node, null when it is not built. */
  addonSha256: string | null;
}

/** The fingerprint of what is installed now. */
export function nativeFingerprint(repoRoot?: string): NativeFingerprint | null;

/** The stamp of the last successful rebuild for Electron, or null. */
export function readNativeStamp(repoRoot?: string): (NativeFingerprint & { rebuiltAt?: string }) | null;

/** Why a rebuild for Electron is due, or null when the stamp matches. */
export function nativeRebuildReason(now: NativeFingerprint, stamp: { electron: string; betterSqlite3?: unknown; addonSha256?: unknown } | null): string | null;

/** Rebuilds the native modules for Electron when the stamp says so (a failure is reported, never thrown). */
export function ensureNativeModules(options?: { repoRoot?: string; log?: (line: string) => void }): Promise<{ action: 'skipped' | 'up-to-date' | 'rebuilt' | 'failed'; reason: string }>;
