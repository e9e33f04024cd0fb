/**
 * What the SIPp system test and the lab-core benchmark feed SIPp: scenario paths, a lab configuration with many
 * users, and injection files for `register-digest.xml`.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabConfig, LabUser } from '../../server/lab/lab-config';

/** The scenarios of this folder, as absolute paths. */
export const SCENARIOS = {
  /** REGISTER, 401, REGISTER with digest, 200: one registration per call, from an injection file. */
  register: fileURLToPath(new URL('./register-digest.xml', import.meta.url)),
  /** INVITE, 407, ACK, INVITE with digest, 200 (route set recorded), ACK, pause, BYE, 200. */
  callUac: fileURLToPath(new URL('./call-uac.xml', import.meta.url)),
  /** The callee of a cross-domain lab call, checking what the cores assert and record. */
  callUas: fileURLToPath(new URL('./call-uas.xml', import.meta.url)),
} as const;

/** `count` load users named `u0000`, `u0001`, … with the password `<user>-secret`. */
export function loadUsers(count: number): LabUser[] {
  return Array.from({ length: count }, (_, i) => {
    const user = `u${String(i).padStart(4, '0')}`;
    return { user, password: `${user}-secret` };
  });
}

/** The default lab's people (alice and carol on a.example, bob on b.example) plus load users on a.example. */
export function labConfigWithLoadUsers(count: number): LabConfig {
  return {
    domains: [
      { domain: 'a.example', users: [{ user: 'alice', password: 'alice-secret' }, { user: 'carol', password: 'carol-secret' }, ...loadUsers(count)] },
      { domain: 'b.example', users: [{ user: 'bob', password: 'bob-secret' }] },
    ],
  };
}

/** One registration: a row of the injection file of `register-digest.xml`. */
export interface RegistrationRow {
  user: string;
  domain: string;
  password: string;
  /** `+sip.instance` UUID (RFC 5626 §4.1): one device. */
  instance: string;
  /** `+cpm.device-name`. */
  deviceName: string;
  /** `host:port` of the Contact. */
  contact: string;
}

/**
 * `devicesPerUser` devices for each user, listed round-robin (every user's first device, then every user's
 * second, …) so that a run registers many AORs at once rather than one AOR many times in a row.
 */
export function registrationRows(users: readonly LabUser[], domain: string, devicesPerUser: number, contact: string): RegistrationRow[] {
  const rows: RegistrationRow[] = [];
  for (let device = 0; device < devicesPerUser; device++) {
    for (const u of users) rows.push({ user: u.user, domain, password: u.password, instance: randomUUID(), deviceName: `${u.user} device ${device + 1}`, contact });
  }
  return rows;
}

/** Write rows as a SIPp injection file (SEQUENTIAL: call N uses row N, wrapping around). */
export function writeInjectionFile(path: string, rows: readonly RegistrationRow[]): void {
  for (const r of rows) {
    for (const value of Object.values(r)) if (/[;\n\r]/.test(value)) throw new Error(`injection file: ${JSON.stringify(value)} contains ; or a line break`);
  }
  const lines = rows.map((r) => [r.user, r.domain, r.password, r.instance, r.deviceName, r.contact].join(';'));
  writeFileSync(path, `SEQUENTIAL\n${lines.join('\n')}\n`);
}
