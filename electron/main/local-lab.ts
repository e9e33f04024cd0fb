/**
 * "Try it locally", in plain Node (no electron import, so it is tested for real): start the lab network
 * (server/lab) inside this process, or join the one another profile of the app already runs on this machine.
 *
 * The profile that starts the lab writes its description to `<userData>/local-lab.json` (the app's root
 * data folder, shared by every profile, not a profile's own), with its pid. Another profile reads that file,
 * checks that the pid is alive and that the lab's SIP WebSocket answers a `sip` subprotocol handshake
 * (RFC 7118 §4), and signs in as the same lab user on a second device. A file whose pid is dead, whose lab
 * does not answer, or that does not parse is stale: a fresh lab is started and the file replaced. The owner
 * removes the file and stops the lab on `release()` (the app calls it on quit); guests leave both alone.
 *
 * ```
 *            acquire()                   started the lab, wrote the file
 *   idle ─────────────────► acquiring ─────────────────────────────────────► owner
 *    │  ◄───── failed ───── │     ▲                                            │
 *    │     joined the lab   │     │ acquire(): the joined lab stopped answering │ release()
 *    │     the file names   ▼     │                                            ▼
 *    │                     guest ─┘─────────────── release() ────────────► released
 *    └────────────────────────────────────────── release() ──────────────────▲
 * ```
 * Transitions: idle → acquiring | released; acquiring → owner | guest | idle; guest → acquiring | released;
 * owner → released. `transition` is the only way to change the state and throws on any other move.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { TypedEmitter } from '../../protocol/common/typed-emitter';
import { LabNetwork, type LabDescription, type LabOptions } from '../../server/lab/lab-network';
import type { AccountConfig } from '../api/payloads';
import { accountConfig as validateAccountConfig } from '../api/validate';

/** Name of the file, in the app's userData root, that describes the lab running on this machine. */
export const LOCAL_LAB_FILE_NAME = 'local-lab.json';

/** What the owner writes: which process runs the lab, and the lab's description. */
export interface LocalLabFile {
  version: 1;
  /** The process that runs the lab (it stops the lab when it quits). */
  pid: number;
  /** When the lab was started (epoch ms); with `pid`, tells this run's file from an older one. */
  startedAt: number;
  description: LabDescription;
}

/** States of a LocalLab (see the diagram). */
export enum LocalLabState {
  Idle = 'idle',
  Acquiring = 'acquiring',
  Owner = 'owner',
  Guest = 'guest',
  Released = 'released',
}

const TRANSITIONS: Readonly<Record<LocalLabState, readonly LocalLabState[]>> = {
  [LocalLabState.Idle]: [LocalLabState.Acquiring, LocalLabState.Released],
  [LocalLabState.Acquiring]: [LocalLabState.Owner, LocalLabState.Guest, LocalLabState.Idle],
  [LocalLabState.Owner]: [LocalLabState.Released],
  [LocalLabState.Guest]: [LocalLabState.Acquiring, LocalLabState.Released],
  [LocalLabState.Released]: [],
};

/** Events of a LocalLab. */
export type LocalLabEvents = {
  stateChange: (state: LocalLabState, from: LocalLabState, reason: string) => void;
};

/** Options of a LocalLab. */
export interface LocalLabOptions {
  /** The app's userData root (where `local-lab.json` lives), not a profile's folder. */
  rootDir: string;
  /** This process's id (default `process.pid`). */
  pid?: number;
  /** Whether a process is running (default: `process.kill(pid, 0)`). */
  isProcessAlive?: (pid: number) => boolean;
  /** Options of the lab this process starts (default: the built-in two-domain lab on 127.0.0.1). */
  labOptions?: LabOptions;
  /** How long the WebSocket probe of a running lab may take, ms (default 3000). */
  probeTimeoutMs?: number;
  /** Diagnostics, one line each. */
  log?: (line: string) => void;
}

/** The lab running on this machine, started by this process or joined. */
export class LocalLab extends TypedEmitter<LocalLabEvents> {
  private current: LocalLabState = LocalLabState.Idle;
  private acquiring: Promise<LabDescription> | null = null;
  private own: { lab: LabNetwork; file: LocalLabFile } | null = null;
  private joined: LocalLabFile | null = null;
  private readonly pid: number;

  constructor(private readonly options: LocalLabOptions) {
    super();
    this.pid = options.pid ?? process.pid;
  }

  /** The current state. */
  get state(): LocalLabState {
    return this.current;
  }

  /** Where the description file lives. */
  get filePath(): string {
    return join(this.options.rootDir, LOCAL_LAB_FILE_NAME);
  }

  /** The lab in use (own or joined), or null before `acquire()` resolved. */
  get description(): LabDescription | null {
    return this.own?.file.description ?? this.joined?.description ?? null;
  }

  /** The lab this process started, or null (guest, or not acquired). */
  get network(): LabNetwork | null {
    return this.own?.lab ?? null;
  }

  /**
   * The lab to sign in to: the one already in use (a joined one only while it still answers), else the one
   * the file names if it is alive, else a lab started here. Concurrent calls share one attempt.
   */
  acquire(): Promise<LabDescription> {
    if (this.current === LocalLabState.Released) return Promise.reject(new Error('local lab: released'));
    if (this.acquiring) return this.acquiring;
    this.acquiring = this.acquireOnce().finally(() => {
      this.acquiring = null;
    });
    return this.acquiring;
  }

  /** The sign-in for `deviceName` on the lab: acquires it first (see {@link labAccountConfig}). */
  async signInConfig(deviceName: string): Promise<AccountConfig> {
    return labAccountConfig(await this.acquire(), deviceName);
  }

  /** Stop using the lab: the owner removes the file (if it is still ours) and stops the lab. Idempotent. */
  async release(): Promise<void> {
    // An acquire under way settles first (its lab, if it started one, is then stopped here).
    await this.acquiring?.catch(() => undefined);
    if (this.current === LocalLabState.Released) return;
    const own = this.own;
    this.own = null;
    this.joined = null;
    this.transition(LocalLabState.Released, own ? 'the owner stops the lab' : 'no longer used');
    if (!own) return;
    const onDisk = await readLocalLabFile(this.filePath);
    if (onDisk.ok && onDisk.file.pid === own.file.pid && onDisk.file.startedAt === own.file.startedAt) {
      await rm(this.filePath, { force: true }).catch((error: unknown) => this.log(`cannot remove ${this.filePath}: ${message(error)}`));
    }
    await own.lab.close();
  }

  private async acquireOnce(): Promise<LabDescription> {
    if (this.own) return this.own.file.description;
    if (this.joined) {
      const problem = await this.problemWith(this.joined);
      if (problem === null) return this.joined.description;
      this.log(`the lab this profile joined is gone (${problem})`);
      this.joined = null;
    }
    this.transition(LocalLabState.Acquiring, 'lab wanted');
    try {
      const running = await this.liveFile();
      if (running.ok) return this.join(running.file);
      this.log(`starting a lab (${running.problem})`);
      return await this.startOwn();
    } catch (error) {
      if (this.current === LocalLabState.Acquiring) this.transition(LocalLabState.Idle, `failed: ${message(error)}`);
      throw error;
    }
  }

  private join(file: LocalLabFile): LabDescription {
    this.joined = file;
    this.transition(LocalLabState.Guest, `joined the lab of process ${file.pid}`);
    return file.description;
  }

  private async startOwn(): Promise<LabDescription> {
    const lab = await LabNetwork.start({ ...this.options.labOptions, ...(this.options.log ? { log: this.options.log } : {}) });
    const file: LocalLabFile = { version: 1, pid: this.pid, startedAt: Date.now(), description: lab.description };
    try {
      await mkdir(this.options.rootDir, { recursive: true });
      // Written whole to a temporary file, then linked into place: link() refuses an existing name, so the
      // file appears complete or not at all, and of two profiles starting at once exactly one wins.
      const temporary = `${this.filePath}.${randomUUID()}.tmp`;
      await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      try {
        const created = await link(temporary, this.filePath).then(
          () => true,
          (error: unknown) => {
            if (errorCode(error) !== 'EEXIST') throw error;
            return false;
          },
        );
        if (!created) {
          // Another profile may have started one meanwhile: join it if it is alive, else replace the stale file.
          const other = await this.liveFile();
          if (other.ok) {
            await lab.close();
            return this.join(other.file);
          }
          await rename(temporary, this.filePath);
        }
      } finally {
        await rm(temporary, { force: true });
      }
    } catch (error) {
      await lab.close();
      throw new Error(`local lab: cannot write ${this.filePath}: ${message(error)}`);
    }
    this.own = { lab, file };
    this.transition(LocalLabState.Owner, `started the lab (${file.description.domains.map((d) => d.ws).join(', ')})`);
    return file.description;
  }

  /** The file, if it names a lab that is running and answering; else why not. */
  private async liveFile(): Promise<{ ok: true; file: LocalLabFile } | { ok: false; problem: string }> {
    const read = await readLocalLabFile(this.filePath);
    if (!read.ok) return read;
    const problem = await this.problemWith(read.file);
    return problem === null ? read : { ok: false, problem };
  }

  /** Null when the lab a file names is alive (its process runs and its first WebSocket answers). */
  private async problemWith(file: LocalLabFile): Promise<string | null> {
    const alive = this.options.isProcessAlive ?? isProcessAlive;
    if (!alive(file.pid)) return `process ${file.pid}, which started the lab, is not running`;
    const ws = file.description.domains[0]?.ws;
    if (ws === undefined) return 'the lab has no domain';
    return (await probeSipWebSocket(ws, this.options.probeTimeoutMs ?? 3000)) ? null : `${ws} does not answer`;
  }

  private log(line: string): void {
    this.options.log?.(`local lab: ${line}`);
  }

  /** The one place the state changes; throws on a move the diagram does not have. */
  private transition(to: LocalLabState, reason: string): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`local lab: illegal transition ${from} → ${to} (${reason})`);
    this.current = to;
    this.emit('stateChange', to, from, reason);
  }
}

/**
 * The account a device of this machine signs in with on the lab: the lab's first user (its AOR and password),
 * the secure WebSocket URL (`wss:`, RFC 7118) of that user's domain with the lab's self-signed certificate
 * as the one to trust, the domain's transfer service URI, and its Message Store (depositing into it unless the
 * domain's Conversation Server is in-path). Throws an Error when the lab has no user, or no domain for it.
 */
export function labAccountConfig(description: LabDescription, deviceName: string): AccountConfig {
  const user = description.users[0];
  if (user === undefined) throw new Error('local lab: the lab has no user to sign in as');
  const match = /^sips?:([^@]+)@(.+)$/i.exec(user.uri);
  const host = match?.[2]?.toLowerCase();
  const domain = description.domains.find((d) => d.domain.toLowerCase() === host);
  if (!match || !domain) throw new Error(`local lab: the lab has no domain for ${user.uri}`);
  const userPart = match[1]!;
  const candidate: AccountConfig = {
    uri: user.uri,
    displayName: userPart.charAt(0).toUpperCase() + userPart.slice(1),
    deviceName,
    password: user.password,
    websocketUrl: domain.wss,
    transferServiceUri: domain.transferService,
    trustedCertificatePem: description.certificate,
    messageStoreUrl: domain.store,
    // PROFILE.md: in proxy mode each device deposits what it sends and receives; an in-path CS deposits itself.
    depositHistory: domain.mode !== 'in-path',
  };
  const checked = validateAccountConfig(candidate, 'local lab account');
  if (!checked.ok) throw new Error(checked.error);
  return checked.value;
}

/** Reads the description file; a missing, unreadable or malformed file is a problem in words, never a throw. */
export async function readLocalLabFile(path: string): Promise<{ ok: true; file: LocalLabFile } | { ok: false; problem: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, problem: errorCode(error) === 'ENOENT' ? `no ${LOCAL_LAB_FILE_NAME} yet` : `cannot read ${path}: ${message(error)}` };
  }
  try {
    return { ok: true, file: parseLocalLabFile(JSON.parse(text)) };
  } catch (error) {
    return { ok: false, problem: `${path} is not a lab description (${message(error)})` };
  }
}

/** Checks a parsed description file; throws an Error naming the first wrong field. */
export function parseLocalLabFile(value: unknown): LocalLabFile {
  const root = record(value, '(root)');
  if (root['version'] !== 1) throw new Error('version: must be 1');
  const pid = root['pid'];
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) throw new Error('pid: must be a positive integer');
  const startedAt = root['startedAt'];
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) throw new Error('startedAt: must be a number');
  const description = record(root['description'], 'description');
  const domains = description['domains'];
  if (!Array.isArray(domains) || domains.length === 0) throw new Error('description.domains: must be a non-empty array');
  domains.forEach((d: unknown, i) => {
    const r = record(d, `description.domains[${i}]`);
    for (const [key, pattern] of [['domain', /./], ['ws', /^ws:\/\//], ['wss', /^wss:\/\//], ['transferService', /^sips?:/], ['store', /^https?:\/\//]] as const) {
      const v = r[key];
      if (typeof v !== 'string' || !pattern.test(v)) throw new Error(`description.domains[${i}].${key}: must be a string matching ${pattern.source}`);
    }
  });
  const users = description['users'];
  if (!Array.isArray(users)) throw new Error('description.users: must be an array');
  users.forEach((u: unknown, i) => {
    const r = record(u, `description.users[${i}]`);
    if (typeof r['uri'] !== 'string' || !/^sips?:[^@\s]+@[^@\s]+$/.test(r['uri'])) throw new Error(`description.users[${i}].uri: must be a SIP AOR`);
    if (typeof r['password'] !== 'string' || r['password'] === '') throw new Error(`description.users[${i}].password: must be a non-empty string`);
  });
  if (typeof description['certificate'] !== 'string' || !description['certificate'].includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error('description.certificate: must be a PEM certificate');
  }
  // Every field this module and the sign-in use is checked; the rest is the lab's own LabDescription.
  return value as LocalLabFile;
}

/** True when a process with this id runs (EPERM: it runs, as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * True when `url` completes a WebSocket handshake that agrees on the `sip` subprotocol (RFC 7118 §4) within
 * `timeoutMs`: a SIP WebSocket server listens there, not merely some process that reused the port.
 */
export function probeSipWebSocket(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let socket: WebSocket;
    const finish = (answer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    try {
      socket = new WebSocket(url, 'sip', { handshakeTimeout: timeoutMs });
    } catch {
      clearTimeout(timer);
      resolve(false);
      return;
    }
    socket.on('open', () => finish(socket.protocol === 'sip'));
    socket.on('error', () => finish(false));
    socket.on('unexpected-response', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: must be an object`);
  return value as Record<string, unknown>;
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
