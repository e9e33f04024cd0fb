/**
 * Devices slice: the user's registered devices (RFC 3680 `reg` event, through the agent), and which of
 * them a conversation can move to.
 */
import type { DeviceApi } from '../../electron/api/device-api';
import type { DeviceInfo } from '../../electron/api/payloads';
import { errorText, type SliceCreator } from './app-state';

/** Devices state and actions. */
export interface DevicesSlice {
  /** The registered devices now (the `reg` event lists active contacts only). */
  devices: DeviceInfo[];
  /** Every other device seen since sign-in, so that one that went away can be shown as offline. */
  seenDevices: Record<string, DeviceInfo>;
  devicesError: string | null;
  loadDevices(): Promise<void>;
  applyDevices(devices: DeviceInfo[]): void;
  resetDevices(): void;
}

/** A device the picker lists, with whether it can take the conversation and why not. */
export interface MoveCandidate {
  device: DeviceInfo;
  online: boolean;
  available: boolean;
  /** Why it cannot be chosen, when it cannot. */
  reason: string | null;
}

/**
 * The picker's list (PROFILE.md: every *other* active, CPM-capable contact of the same AOR): the other
 * devices by name, online ones first; offline ones and those without the CPM feature tag are listed but
 * disabled, with the reason.
 */
export function moveCandidates(devices: readonly DeviceInfo[], seen: Readonly<Record<string, DeviceInfo>> = {}): MoveCandidate[] {
  const online = new Map(devices.filter((d) => !d.self).map((d) => [d.instanceId, d]));
  const offline = Object.values(seen).filter((d) => !d.self && !online.has(d.instanceId));
  const byName = (a: MoveCandidate, b: MoveCandidate) => Number(b.online) - Number(a.online) || a.device.name.localeCompare(b.device.name);
  return [
    ...[...online.values()].map((device) => ({
      device,
      online: true,
      available: device.cpmCapable,
      reason: device.cpmCapable ? null : 'cannot take chats (no CPM support)',
    })),
    ...offline.map((device) => ({ device, online: false, available: false, reason: 'offline' })),
  ].sort(byName);
}

/** Why nothing can be chosen, or null when some device can. */
export function noCandidateReason(candidates: readonly MoveCandidate[], sessionActive: boolean): string | null {
  if (!sessionActive) return 'Only a live chat can be moved: send a message first.';
  if (!candidates.some((c) => c.online)) return 'None of your other devices is online.';
  if (!candidates.some((c) => c.available)) return 'None of your online devices can take chats.';
  return null;
}

/** Creates the devices slice over `api`. */
export function createDevicesSlice(api: DeviceApi): SliceCreator<DevicesSlice> {
  const remember = (seen: Record<string, DeviceInfo>, devices: readonly DeviceInfo[]): Record<string, DeviceInfo> => {
    const next = { ...seen };
    for (const d of devices) if (!d.self) next[d.instanceId] = d;
    return next;
  };
  return (set, get) => ({
    devices: [],
    seenDevices: {},
    devicesError: null,
    async loadDevices() {
      try {
        get().applyDevices(await api.listDevices());
      } catch (error) {
        set({ devicesError: errorText(error) });
      }
    },
    applyDevices(devices) {
      set({ devices, seenDevices: remember(get().seenDevices, devices), devicesError: null });
    },
    resetDevices() {
      set({ devices: [], seenDevices: {}, devicesError: null });
    },
  });
}
