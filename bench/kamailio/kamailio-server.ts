/**
 * Kamailio 5.6 (Debian `kamailio`) as the reference server of bench/lab-core.bench.ts: writes its db_text user
 * table, starts it in the foreground with kamailio.cfg on an ephemeral UDP port, pinned to one CPU, with small
 * memory pools and a runtime directory under the bench's temporary directory.
 */
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTreeCpuSeconds, stopChild, waitForSipAnswer, type ServerUnderTest } from '../sipp/server-under-test';

/** Where Debian installs Kamailio. */
export const KAMAILIO_BINARY = '/usr/sbin/kamailio';

/** The benchmark configuration. */
export const KAMAILIO_CONFIG = fileURLToPath(new URL('./kamailio.cfg', import.meta.url));

/** A user of the subscriber table. */
export interface KamailioUser {
  user: string;
  password: string;
}

/**
 * Write a db_text database for kamailio.cfg into `dir`: the `version` table (copied from bench/kamailio/db) and a
 * `subscriber` table with plain passwords (auth_db's calculate_ha1 mode).
 * @throws Error when a user name or password cannot be stored in db_text's `:`-separated rows
 */
export function writeSubscriberTable(dir: string, domain: string, users: readonly KamailioUser[]): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(fileURLToPath(new URL('./db/version', import.meta.url)), join(dir, 'version'));
  const rows = users.map((u, i) => {
    for (const value of [u.user, u.password, domain]) if (/[:\\\n\r]/.test(value)) throw new Error(`subscriber table: ${JSON.stringify(value)} contains : \\ or a line break`);
    return `${i + 1}:${u.user}:${domain}:${u.password}::`;
  });
  writeFileSync(join(dir, 'subscriber'), `id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null)\n${rows.join('\n')}\n`);
}

/** Options of a Kamailio run. */
export interface KamailioOptions {
  /** Scratch directory: db_text tables, runtime dir, kamailio.log. */
  workDir: string;
  /** UDP port on 127.0.0.1 (choose a free one). */
  port: number;
  /** The domain it serves (must be the `alias` of kamailio.cfg: a.example). */
  domain: string;
  users: readonly KamailioUser[];
  /** Pin every Kamailio process to this CPU. */
  cpu: number;
  /**
   * Shared memory (MB), default 256: at 800 calls/s the transactions tm keeps for its wait timer exhaust
   * Kamailio's default 64 MB ("out of mem", 500 replies), which would measure the pool, not the server.
   * Private memory per process (MB), default 8 (Kamailio's default).
   */
  sharedMb?: number;
  privateMb?: number;
}

/** Start Kamailio; resolves when it answers SIP on its port. */
export async function startKamailio(options: KamailioOptions): Promise<ServerUnderTest> {
  if (!existsSync(KAMAILIO_BINARY)) throw new Error(`${KAMAILIO_BINARY} not found: apt-get install -y kamailio`);
  const db = join(options.workDir, 'db');
  const run = join(options.workDir, 'run');
  mkdirSync(run, { recursive: true });
  writeSubscriberTable(db, options.domain, options.users);
  const args = [
    '-c', String(options.cpu), KAMAILIO_BINARY,
    '-f', KAMAILIO_CONFIG,
    '-DD', '-E',
    '-l', `udp:127.0.0.1:${options.port}`,
    '-m', String(options.sharedMb ?? 256),
    '-M', String(options.privateMb ?? 8),
    '-Y', run,
    '-w', run,
    '-P', join(run, 'kamailio.pid'),
  ];
  // Kamailio logs to stderr (-E); keep it in the work directory for a look after a failure.
  const logPath = join(options.workDir, 'kamailio.log');
  const logFd = openSync(logPath, 'w');
  const child = spawn('taskset', args, { env: { ...process.env, KAMBENCH_DB_URL: `text://${db}` }, stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  const tail = (): string => {
    try {
      return readFileSync(logPath, 'utf8').slice(-3000);
    } catch {
      return '';
    }
  };
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start Kamailio: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`Kamailio exited with ${String(code)}:\n${tail()}`)));
  });
  try {
    await Promise.race([waitForSipAnswer('127.0.0.1', options.port), exited]);
  } catch (error) {
    await stopChild(child, 1000);
    throw error;
  }
  exited.catch(() => undefined);
  const pid = child.pid as number;
  return {
    name: 'Kamailio 5.6',
    host: '127.0.0.1',
    udpPort: options.port,
    domain: options.domain,
    pid,
    cpuSeconds: () => processTreeCpuSeconds(pid),
    stop: () => stopChild(child),
  };
}
