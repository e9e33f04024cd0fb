/**
 * A JsSIP device on the lab network under plain Node, for system tests: a CpmUserAgent over a WsSocket, with
 * every SIP message it receives recorded as it came off the wire. `useLabWithDevices` gives a test file its
 * lab and stops every device started on it.
 */
import { randomUUID } from 'node:crypto';
import { CpmUserAgent } from '../../electron/device/sip/cpm-user-agent';
import { WsSocket } from '../../electron/device/sip/ws-socket';
import type { LabNetwork, ProcessLabDomain } from '../../server/lab/lab-network';
import { useLab, type AnyLab, type LabHandle, type LabView, type UseLabOptions } from './use-lab';

/** A test device. */
export interface LabDevice {
  ua: CpmUserAgent;
  /** The device's AOR. */
  user: string;
  socket: WsSocket;
  /** Raw SIP messages received, in order. */
  wire: string[];
  /** Resolves when registered (rejects on registrationFailed). */
  registered: Promise<void>;
  stop(): void;
}

/** Options of a test device. */
export interface LabDeviceOptions {
  /** The lab (of either placement); only its description is used. */
  lab: LabView<'description'>;
  user: string; // sip:alice@a.example
  device: string; // "Laptop"
  password?: string;
  secure?: boolean;
  instanceId?: string;
}

/** Start a device: connect, register. */
export function startLabDevice(options: LabDeviceOptions): LabDevice {
  const { lab } = options;
  const domain = options.user.split('@')[1] ?? '';
  const d = lab.description.domains.find((x) => x.domain === domain);
  if (!d) throw new Error(`no lab domain for ${options.user}`);
  const password = options.password ?? lab.description.users.find((u) => u.uri === options.user)?.password ?? '';
  const wire: string[] = [];
  const socket = new WsSocket({
    url: options.secure ? d.wss : d.ws,
    ...(options.secure ? { trustedCertificatePem: lab.description.certificate } : {}),
    // every message the socket hands up to JsSIP's transport, as it came
    trace: { sent: () => undefined, received: (message) => wire.push(message) },
  });
  const ua = new CpmUserAgent({
    uri: options.user,
    password,
    deviceName: options.device,
    instanceId: options.instanceId ?? `urn:uuid:${randomUUID()}`,
    socket,
    connectionRecovery: { minIntervalSeconds: 1, maxIntervalSeconds: 2 },
  });
  const registered = new Promise<void>((resolve, reject) => {
    ua.on('registered', () => resolve());
    ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${String(e.cause)}`)));
  });
  registered.catch(() => undefined);
  ua.start();
  return { ua, user: options.user, socket, wire, registered, stop: () => ua.stop() };
}

/** A test file's lab network and the devices started on it. */
export interface LabWithDevices<L extends AnyLab = LabNetwork> extends LabHandle<L> {
  /** Every device started through `device`, in the order they were started. */
  readonly devices: readonly LabDevice[];
  /** Start a device on the lab (`startLabDevice`); `afterAll` stops it before closing the lab. */
  device(user: string, name: string, options?: Pick<LabDeviceOptions, 'password' | 'secure'>): LabDevice;
}

/**
 * Start a lab network in this file's `beforeAll`, and in its `afterAll` stop every device started through
 * the returned `device`, give their un-REGISTERs 100 ms, and close the lab. With `conversationServers: 'process'`
 * its Conversation Servers are forked.
 */
export function useLabWithDevices(options?: UseLabOptions & { conversationServers?: 'in-process' }): LabWithDevices;
export function useLabWithDevices(options: UseLabOptions & { conversationServers: 'process' }): LabWithDevices<LabNetwork<ProcessLabDomain>>;
export function useLabWithDevices(options: UseLabOptions = {}): LabWithDevices<AnyLab> {
  const devices: LabDevice[] = [];
  const handle = useLab(options, async () => {
    for (const d of devices) d.stop();
    await new Promise((r) => setTimeout(r, 100));
  });
  return {
    get lab() {
      return handle.lab;
    },
    devices,
    device(user, name, deviceOptions = {}) {
      const d = startLabDevice({ lab: handle.lab, user, device: name, ...deviceOptions });
      devices.push(d);
      return d;
    },
  };
}

/** Wait until `check` returns a truthy value, polling; rejects with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | null, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
