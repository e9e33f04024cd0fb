/**
 * The devices the browser shell runs: which ones (`ShellDeviceSpec`, three by default), and starting one on
 * a lab: its own data folder, its SQLite history wired to the domain's Message Store (electron/device/history,
 * depositing when the domain's Conversation Server is a proxy), and its DeviceAgent signed in over the
 * domain core's WebSocket. "Try it locally" from a page signs the device in again on the shell's lab.
 */
import { mkdir } from 'node:fs/promises';
import type { AccountConfig, AccountInfo } from '../api/payloads';
import { DeviceAgent, type DeviceAgentOptions } from '../device/device-agent';
import { DeviceHistory } from '../device/history/device-history';
import type { ShellLab } from './lab-description';

/** One device of the shell. */
export interface ShellDeviceSpec {
  /** URL-safe id, used in the page URL (`alice-laptop`). */
  id: string;
  /** The account's AOR (`sip:alice@a.example`). */
  user: string;
  /** The device name (`+cpm.device-name`). */
  name: string;
}

/** Alice's Laptop and Desktop, and Bob's Desktop. */
export const DEFAULT_SHELL_DEVICES: readonly ShellDeviceSpec[] = Object.freeze([
  { id: 'alice-laptop', user: 'sip:alice@a.example', name: 'Laptop' },
  { id: 'alice-desktop', user: 'sip:alice@a.example', name: 'Desktop' },
  { id: 'bob-desktop', user: 'sip:bob@b.example', name: 'Desktop' },
]);

const AOR = /^sips?:([A-Za-z0-9._~!$&'()*+,;=-]{1,64})@([A-Za-z0-9.-]{1,253})$/;

/** The id of a device: the AOR's user part and the device name, lower case, `-` for anything else. */
export function deviceIdFor(user: string, name: string): string {
  const userPart = AOR.exec(user)?.[1] ?? user;
  return `${userPart}-${name}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Reads `--device <aor>,<name>` (e.g. `sip:carol@a.example,Phone`); throws an Error saying what is wrong. */
export function parseDeviceSpec(text: string): ShellDeviceSpec {
  const comma = text.indexOf(',');
  if (comma === -1) throw new Error(`--device ${JSON.stringify(text)}: expected <aor>,<device name> such as sip:carol@a.example,Phone`);
  const user = text.slice(0, comma).trim();
  const name = text.slice(comma + 1).trim();
  if (!AOR.test(user)) throw new Error(`--device ${JSON.stringify(text)}: ${JSON.stringify(user)} is not an AOR such as sip:carol@a.example`);
  if (name === '' || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name)) throw new Error(`--device ${JSON.stringify(text)}: the device name must be 1 to 64 printable characters`);
  const id = deviceIdFor(user, name);
  if (id === '') throw new Error(`--device ${JSON.stringify(text)}: no usable id can be made of it`);
  return { id, user, name };
}

/** Checks a device list: at least one, ids unique. */
export function checkDeviceSpecs(specs: readonly ShellDeviceSpec[]): void {
  if (specs.length === 0) throw new Error('the shell needs at least one device');
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.id)) throw new Error(`two devices share the id ${spec.id} (same account and device name)`);
    seen.add(spec.id);
  }
}

/** A running device of the shell. */
export interface ShellDevice {
  spec: ShellDeviceSpec;
  agent: DeviceAgent;
  history: DeviceHistory;
  dataDir: string;
  /** The shell's answer to `tryLocally`: sign this device in again on the shell's lab, as `deviceName`. */
  tryLocally(deviceName: string): Promise<AccountInfo>;
  /** Sign out, then write and close the history (the agent closes it; here only if the agent never took it). */
  close(): Promise<void>;
}

/**
 * The account `spec`'s user signs in with on `lab` as `deviceName`: the domain's WebSocket URL and transfer
 * service, the lab's password. Throws an Error when the lab has no domain or no user for it.
 */
export function shellAccountConfig(lab: ShellLab, spec: ShellDeviceSpec, deviceName: string): AccountConfig {
  const { domain, password } = labAccount(lab, spec);
  return { uri: spec.user, displayName: '', deviceName, password, websocketUrl: domain.ws, transferServiceUri: domain.transferService };
}

/** The lab domain and password of `spec`'s user. */
function labAccount(lab: ShellLab, spec: ShellDeviceSpec): { domain: ShellLab['domains'][number]; password: string } {
  const match = AOR.exec(spec.user);
  if (!match) throw new Error(`${spec.id}: ${JSON.stringify(spec.user)} is not an AOR`);
  const domainName = match[2]!.toLowerCase();
  const domain = lab.domains.find((d) => d.domain.toLowerCase() === domainName);
  if (!domain) throw new Error(`${spec.id}: the lab has no domain ${domainName} (it has ${lab.domains.map((d) => d.domain).join(', ')})`);
  const password = lab.users.find((u) => u.uri.toLowerCase() === spec.user.toLowerCase())?.password;
  if (password === undefined) throw new Error(`${spec.id}: the lab has no user ${spec.user}`);
  return { domain, password };
}

/** Agent settings the shell passes through (tests shorten the liveness probe). */
export type ShellAgentSettings = Pick<DeviceAgentOptions, 'sessionKeepAliveMs' | 'registerExpires' | 'reconnect'>;

/** Options of `startShellDevice`. */
export interface StartShellDeviceOptions {
  /** The device's own data folder (created if absent). */
  dataDir: string;
  agent?: ShellAgentSettings;
  /** Diagnostics (a history sync that failed…). */
  log?: (line: string) => void;
}

/**
 * Opens the device's history and starts its DeviceAgent with it, which fetches what the Message Store has
 * and begins registering (this does not wait for the registration).
 */
export async function startShellDevice(lab: ShellLab, spec: ShellDeviceSpec, options: StartShellDeviceOptions): Promise<ShellDevice> {
  const { domain, password } = labAccount(lab, spec);

  await mkdir(options.dataDir, { recursive: true });
  const history = DeviceHistory.open({
    dataDir: options.dataDir,
    self: spec.user,
    deposit: domain.mode === 'proxy',
    store: { baseUrl: domain.store, username: spec.user.replace(/^sips?:/i, ''), password },
  });
  // Handed to the agent as a DeviceHistory (not its bare MessageHistory): the move needs the Message Store
  // side (deposit before the release, fetch on the target). The agent starts it (deposit what a previous run
  // left, fetch what the store has) and closes it when it closes.
  let handedOver = false;
  const agent = new DeviceAgent({
    ...options.agent,
    dataDir: options.dataDir,
    deviceName: spec.name,
    history: () => {
      handedOver = true;
      return history;
    },
    account: { uri: spec.user, password, wsUrl: domain.ws, transferServiceUri: domain.transferService },
  });
  const close = async (): Promise<void> => {
    await agent.close().catch((error: unknown) => options.log?.(`${spec.id}: ${error instanceof Error ? error.message : String(error)}`));
    if (!handedOver) await history.close();
  };
  try {
    await agent.start();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const tryLocally = (deviceName: string): Promise<AccountInfo> => agent.signIn(shellAccountConfig(lab, spec, deviceName));
  return { spec, agent, history, dataDir: options.dataDir, tryLocally, close };
}

/**
 * Resolves true once the agent is registered, false after `timeoutMs` (the shell starts anyway: the page
 * shows the registration state).
 */
export async function waitUntilRegistered(agent: DeviceAgent, timeoutMs: number): Promise<boolean> {
  if ((await agent.getAccount())?.registration === 'registered') return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(false);
    }, timeoutMs);
    const stop = agent.on('registrationState', (status) => {
      if (status.state !== 'registered') return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}
