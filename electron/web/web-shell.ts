/**
 * The browser shell: the app where Electron cannot run (this machine, CI, the browser tests). It puts a few
 * DeviceAgents on a lab network (one started in-process, or a running one described by a file), serves the
 * built renderer over HTTP on 127.0.0.1, and bridges each device's DeviceApi over a WebSocket, so that
 * `http://127.0.0.1:PORT/?device=alice-laptop&token=…` in any browser is that device, and no other page can
 * drive it (handshake-guard.ts).
 *
 * ```
 *   idle ──start()──► starting ──(all up)──► running ──stop()──► stopping ──► stopped
 *     │                   │                                          ▲            ▲
 *     │                   └──────────────(a part failed)─────────────┘            │
 *     └──────────────────────────────────stop()───────────────────────────────────┘
 * ```
 * `stop()` while starting waits for the start to settle, then stops what was started.
 */
import { EventEmitter } from 'node:events';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabNetwork, type LabOptions } from '../../server/lab/lab-network';
import type { DeviceApi } from '../api/device-api';
import type { ShellLab } from './lab-description';
import {
  checkDeviceSpecs,
  DEFAULT_SHELL_DEVICES,
  startShellDevice,
  waitUntilRegistered,
  type ShellAgentSettings,
  type ShellDevice,
  type ShellDeviceSpec,
} from './shell-devices';
import { ShellServer } from './shell-server';

/** States of the shell. */
export enum WebShellState {
  Idle = 'idle',
  Starting = 'starting',
  Running = 'running',
  Stopping = 'stopping',
  Stopped = 'stopped',
}

const TRANSITIONS: Readonly<Record<WebShellState, readonly WebShellState[]>> = {
  [WebShellState.Idle]: [WebShellState.Starting, WebShellState.Stopped],
  [WebShellState.Starting]: [WebShellState.Running, WebShellState.Stopping],
  [WebShellState.Running]: [WebShellState.Stopping],
  [WebShellState.Stopping]: [WebShellState.Stopped],
  [WebShellState.Stopped]: [],
};

/** Options of the shell. */
export interface WebShellOptions {
  /** The built renderer (dist/renderer/; renderer-build.ts). */
  staticRoot: string;
  /** Put the devices on this running lab; without it the shell starts its own, in-process. */
  lab?: ShellLab;
  /** Options of the in-process lab. */
  labOptions?: LabOptions;
  /** The devices (default alice-laptop, alice-desktop, bob-desktop). */
  devices?: readonly ShellDeviceSpec[];
  /** Parent of the devices' data folders; default a temporary folder, removed at stop. */
  dataDir?: string;
  /** HTTP bind address (default 127.0.0.1) and port (default 0: ephemeral). */
  host?: string;
  port?: number;
  /** Passed to every DeviceAgent. */
  agent?: ShellAgentSettings;
  /** How long the start waits for the devices to register, ms (default 10 000; the shell starts anyway). */
  registrationTimeoutMs?: number;
  /** Diagnostics, one line each (never the tokens). */
  log?: (line: string) => void;
}

/** One device as the shell announces it. */
export interface WebShellDeviceDescription {
  id: string;
  user: string;
  name: string;
  /** The page of this device, token included. */
  url: string;
}

/** What the shell prints as its first stdout line. */
export interface WebShellDescription {
  /** The shell's base URL, `http://127.0.0.1:PORT/`. */
  url: string;
  devices: WebShellDeviceDescription[];
}

/** Events of the shell. */
export interface WebShellEvents {
  stateChange: [state: WebShellState, previous: WebShellState];
}

/** The browser shell. */
export class WebShell extends EventEmitter<WebShellEvents> {
  private current: WebShellState = WebShellState.Idle;
  private starting: Promise<WebShellDescription> | null = null;
  private stopping: Promise<void> | null = null;
  private ownLab: LabNetwork | null = null;
  private ownDataDir: string | null = null;
  private readonly devices = new Map<string, ShellDevice>();
  private shellServer: ShellServer | null = null;
  private announced: WebShellDescription | null = null;

  constructor(private readonly options: WebShellOptions) {
    super();
  }

  /** The current state. */
  get state(): WebShellState {
    return this.current;
  }

  /** The lab the shell started in-process (null when it uses a running one, or before the start). */
  get lab(): LabNetwork | null {
    return this.ownLab;
  }

  /** The parent of the devices' data folders, once chosen (a temporary one is removed at stop). */
  get dataFolder(): string | null {
    return this.options.dataDir ?? this.ownDataDir;
  }

  /** The HTTP/WebSocket server, once running. */
  get server(): ShellServer | null {
    return this.shellServer;
  }

  /** What `start()` resolved with; throws before the shell runs. */
  get description(): WebShellDescription {
    if (!this.announced) throw new Error(`web shell: not running (${this.current})`);
    return this.announced;
  }

  /** A running device by id. */
  device(id: string): ShellDevice | undefined {
    return this.devices.get(id);
  }

  /** Start everything; resolves with the description once the server listens. Call once. */
  start(): Promise<WebShellDescription> {
    if (this.starting) return this.starting;
    this.transition(WebShellState.Starting);
    this.starting = this.startParts().catch(async (error: unknown) => {
      this.transition(WebShellState.Stopping);
      await this.stopParts();
      this.transition(WebShellState.Stopped);
      throw error;
    });
    return this.starting;
  }

  /** Stop the server, sign every device out and close its history, stop the in-process lab. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.current === WebShellState.Idle) {
        this.transition(WebShellState.Stopped);
        return;
      }
      await this.starting?.catch(() => undefined);
      if (this.current !== WebShellState.Running) return; // a failed start has already stopped
      this.transition(WebShellState.Stopping);
      await this.stopParts();
      this.transition(WebShellState.Stopped);
    })();
    return this.stopping;
  }

  private async startParts(): Promise<WebShellDescription> {
    const log = this.options.log ?? (() => undefined);
    const specs = this.options.devices ?? DEFAULT_SHELL_DEVICES;
    checkDeviceSpecs(specs);
    await access(join(this.options.staticRoot, 'index.html')).catch(() => {
      throw new Error(`web shell: ${this.options.staticRoot} has no index.html (run \`npm run build:renderer\`)`);
    });
    let lab = this.options.lab;
    if (!lab) {
      this.ownLab = await LabNetwork.start({ ...this.options.labOptions, ...(this.options.log ? { log: this.options.log } : {}) });
      lab = this.ownLab.description;
    }
    const base = this.options.dataDir ?? (this.ownDataDir = await mkdtemp(join(tmpdir(), 'cpm-web-')));
    const started = await Promise.allSettled(
      specs.map((spec) =>
        startShellDevice(lab, spec, {
          dataDir: join(base, spec.id),
          log,
          ...(this.options.agent ? { agent: this.options.agent } : {}),
        }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') this.devices.set(result.value.spec.id, result.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));

    const timeout = this.options.registrationTimeoutMs ?? 10_000;
    await Promise.all(
      [...this.devices.values()].map(async (d) => {
        if (!(await waitUntilRegistered(d.agent, timeout))) log(`web: ${d.spec.id} is not registered after ${timeout} ms; its page shows the registration state`);
      }),
    );

    const apis = new Map<string, DeviceApi>([...this.devices].map(([id, d]) => [id, d.agent]));
    const shellCommands = new Map([...this.devices].map(([id, d]) => [id, { tryLocally: (name: string) => d.tryLocally(name) }]));
    const server = await ShellServer.start({
      devices: apis,
      shellCommands,
      staticRoot: this.options.staticRoot,
      ...(this.options.host ? { host: this.options.host } : {}),
      ...(this.options.port !== undefined ? { port: this.options.port } : {}),
      log,
    });
    this.shellServer = server;
    this.announced = {
      url: `${server.origin}/`,
      devices: specs.map((s) => ({ id: s.id, user: s.user, name: s.name, url: server.deviceUrl(s.id) })),
    };
    this.transition(WebShellState.Running);
    return this.announced;
  }

  private async stopParts(): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    const report = (what: string) => (error: unknown) => log(`web: stopping ${what}: ${error instanceof Error ? error.message : String(error)}`);
    await this.shellServer?.close().catch(report('the server'));
    await Promise.all([...this.devices.values()].map((d) => d.close().catch(report(d.spec.id))));
    this.devices.clear();
    await this.ownLab?.close().catch(report('the lab'));
    if (this.ownDataDir) await rm(this.ownDataDir, { recursive: true, force: true }).catch(report('the data folder'));
  }

  /** The one place the state changes; throws on a move the diagram does not have. */
  private transition(next: WebShellState): void {
    const previous = this.current;
    if (!TRANSITIONS[previous].includes(next)) throw new Error(`web shell: illegal transition ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}
