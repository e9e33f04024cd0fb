/**
 * The lab network's configuration: domains, users and passwords (a JSON file, with a built-in default of
 * alice@a.example, bob@b.example and carol@a.example), validated with clear errors.
 */
import { readFileSync } from 'node:fs';

/** One user of the lab. */
export interface LabUser {
  user: string;
  password: string;
}

/** One domain of the lab. */
export interface LabDomainConfig {
  domain: string;
  users: LabUser[];
  /** Fixed ports (0 or absent: ephemeral). */
  ports?: { ws?: number; wss?: number; udp?: number; tcp?: number };
}

/** The lab configuration. */
export interface LabConfig {
  domains: LabDomainConfig[];
}

/** The default lab: two domains, alice and carol on a.example, bob on b.example. */
export const DEFAULT_LAB_CONFIG: LabConfig = {
  domains: [
    { domain: 'a.example', users: [{ user: 'alice', password: 'alice-secret' }, { user: 'carol', password: 'carol-secret' }] },
    { domain: 'b.example', users: [{ user: 'bob', password: 'bob-secret' }] },
  ],
};

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;
const USER = /^[a-z0-9._~!$&'()*+,;=-]{1,64}$/i;

/** Validate a parsed configuration object; throws an Error naming the bad field. */
export function validateLabConfig(value: unknown): LabConfig {
  const fail = (where: string, what: string): never => {
    throw new Error(`lab config: ${where}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('(root)', 'must be an object');
  const domains = (value as { domains?: unknown }).domains;
  if (!Array.isArray(domains) || domains.length === 0) return fail('domains', 'must be a non-empty array');
  const seen = new Set<string>();
  const out: LabDomainConfig[] = domains.map((d: unknown, i): LabDomainConfig => {
    const where = `domains[${i}]`;
    if (typeof d !== 'object' || d === null) return fail(where, 'must be an object');
    const { domain, users, ports } = d as { domain?: unknown; users?: unknown; ports?: unknown };
    if (typeof domain !== 'string' || !NAME.test(domain)) return fail(`${where}.domain`, 'must be a domain name');
    if (seen.has(domain.toLowerCase())) return fail(`${where}.domain`, `duplicate domain ${domain}`);
    seen.add(domain.toLowerCase());
    if (!Array.isArray(users)) return fail(`${where}.users`, 'must be an array');
    const list = users.map((u: unknown, j): LabUser => {
      const w = `${where}.users[${j}]`;
      if (typeof u !== 'object' || u === null) return fail(w, 'must be an object');
      const { user, password } = u as { user?: unknown; password?: unknown };
      if (typeof user !== 'string' || !USER.test(user)) return fail(`${w}.user`, 'must be a SIP user part');
      if (typeof password !== 'string' || password.length === 0 || password.length > 256) return fail(`${w}.password`, 'must be a non-empty string');
      return { user, password };
    });
    const portsOut: NonNullable<LabDomainConfig['ports']> = {};
    if (ports !== undefined) {
      if (typeof ports !== 'object' || ports === null) return fail(`${where}.ports`, 'must be an object');
      for (const k of ['ws', 'wss', 'udp', 'tcp'] as const) {
        const p = (ports as Record<string, unknown>)[k];
        if (p === undefined) continue;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) return fail(`${where}.ports.${k}`, 'must be a port number');
        portsOut[k] = p;
      }
    }
    return { domain, users: list, ...(ports !== undefined ? { ports: portsOut } : {}) };
  });
  return { domains: out };
}

/** Read and validate a JSON configuration file. */
export function loadLabConfig(path: string): LabConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`lab config: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return validateLabConfig(parsed);
}
