/**
 * A JsSIP device on the lab network under plain Node, for system tests: a CpmUserAgent over a WsSocket, with
 * every SIP message it receives recorded as it came off the wire.
 */
import { randomUUID } from 'node:crypto';
import { CpmUserAgent } from '../../electron/device/sip/cpm-user-agent';
import { WsSocket } from '../../electron/device/sip/ws-socket';
import type { LabNetwork } from '../../server/lab/lab-network';

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
  lab: LabNetwork;
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
  const socket = new WsSocket({
    url: options.secure ? d.wss : d.ws,
    ...(options.secure ? { trustedCertificatePem: lab.description.certificate } : {}),
  });
  const wire: string[] = [];
  recordIncoming(socket, wire);
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

/** Record every message JsSIP's transport hands up from this socket. */
function recordIncoming(socket: WsSocket, wire: string[]): void {
  let inner: (data: string) => void = () => undefined;
  Object.defineProperty(socket, 'ondata', {
    configurable: true,
    get: () => (data: string) => {
      wire.push(data);
      inner(data);
    },
    set: (fn: (data: string) => void) => {
      inner = fn;
    },
  });
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
