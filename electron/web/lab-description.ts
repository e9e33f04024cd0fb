/**
 * The part of a lab network's description the shell needs to put devices on it: per domain the core's
 * WebSocket URL, the transfer service, the Message Store and the Conversation Server's mode; the users and
 * their passwords. `npm run lab` prints the full description as its first stdout line
 * (server/lab/lab-network.ts `LabDescription`); save that line to a file and pass it as `--lab-json`.
 */
import { readFile } from 'node:fs/promises';

/** One domain of the lab, as the shell uses it. */
export interface ShellLabDomain {
  domain: string;
  /** The core's SIP-over-WebSocket URL (RFC 7118). */
  ws: string;
  /** The Conversation Server's transfer service URI X. */
  transferService: string;
  /** Base URL of the domain's Message Store HTTP API. */
  store: string;
  /** Mode of the domain's Conversation Server: in `proxy` mode the devices deposit their own history. */
  mode: 'in-path' | 'proxy';
}

/** The lab as the shell uses it (`LabNetwork.description` has this shape and more). */
export interface ShellLab {
  domains: ShellLabDomain[];
  users: { uri: string; password: string }[];
}

/** Reads a lab description; throws an Error naming the first field that is missing or wrong. */
export function parseLabDescription(value: unknown): ShellLab {
  const fail = (where: string, what: string): never => {
    throw new Error(`lab description: ${where} ${what}`);
  };
  const record = (v: unknown, where: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(where, 'must be an object');
  const string = (r: Record<string, unknown>, key: string, where: string, pattern?: RegExp): string => {
    const v = r[key];
    if (typeof v !== 'string' || v === '') return fail(`${where}.${key}`, 'must be a non-empty string');
    if (pattern && !pattern.test(v)) return fail(`${where}.${key}`, `must match ${pattern.source} (got ${JSON.stringify(v.slice(0, 80))})`);
    return v;
  };
  const root = record(value, '(root)');
  if (!Array.isArray(root['domains']) || root['domains'].length === 0) return fail('domains', 'must be a non-empty array');
  if (!Array.isArray(root['users'])) return fail('users', 'must be an array');
  const domains = root['domains'].map((d: unknown, i): ShellLabDomain => {
    const where = `domains[${i}]`;
    const r = record(d, where);
    const mode = r['mode'];
    if (mode !== 'in-path' && mode !== 'proxy') return fail(`${where}.mode`, 'must be "in-path" or "proxy"');
    return {
      domain: string(r, 'domain', where),
      ws: string(r, 'ws', where, /^wss?:\/\//),
      transferService: string(r, 'transferService', where, /^sips?:/),
      store: string(r, 'store', where, /^https?:\/\//),
      mode,
    };
  });
  const users = root['users'].map((u: unknown, i) => {
    const where = `users[${i}]`;
    const r = record(u, where);
    return { uri: string(r, 'uri', where, /^sips?:[^@\s]+@[^@\s]+$/), password: string(r, 'password', where) };
  });
  return { domains, users };
}

/** Reads and checks a lab description file (the JSON line `npm run lab` prints). */
export async function loadLabDescription(path: string): Promise<ShellLab> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`lab description: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The whole file (pretty-printed or not), else its first line (a capture of the lab's whole stdout).
  for (const candidate of [text, text.split('\n')[0] ?? '']) {
    try {
      return parseLabDescription(JSON.parse(candidate));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  throw new Error(`lab description: ${path} is not JSON (save the first line \`npm run lab\` prints)`);
}
