/** Types of start.mjs (for its test). */

/** The Electron executable, or null with the reason it is not usable. */
export function findElectronBinary(repoRoot?: string, env?: Record<string, string | undefined>): { path: string; reason: null } | { path: null; reason: string };

/** True when package.json defines `npm run <name>`. */
export function hasScript(name: string, repoRoot?: string): boolean;

/** The lines start.mjs prints after the browser shell's JSON line (where to open each device); empty for any other line. */
export function describeShellLine(line: string): string[];
