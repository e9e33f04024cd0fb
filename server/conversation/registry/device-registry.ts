/**
 * The Conversation Server's device registry: every CPM device of every user of its domain, fed by the
 * third-party REGISTERs of the SIP/IP core (PROFILE.md, "Registration and the device list").
 *
 * The core's third-party REGISTER carries the AOR in To and, in Contact, every binding the AOR has right now
 * (each with `expires`, `+sip.instance`, `+cpm.device-name`, feature tags, `pub-gruu`, `temp-gruu`), and
 * bindings just removed with `expires=0`. The registry diffs that against what it knew and reports changes
 * in the vocabulary of the reg event package (RFC 3680 §5.2), which the notifier turns into NOTIFYs.
 */
import { randomBytes } from 'node:crypto';
import { getParam, getParamText } from '../../sip/message/header-params';
import { parseContactList } from '../../sip/message/name-addr';
import { serializeUri } from '../../sip/message/sip-uri';
import type { RegContact, RegRegistration } from '../../../protocol/reginfo/reginfo';

/** The CPM session feature tag value (PROFILE.md). */
export const CPM_ICSI = '"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

/** One device of a user. */
export interface Device {
  /** Registry-local id, stable while the device stays registered. */
  id: string;
  aor: string;
  contact: string;
  instance?: string;
  name?: string;
  pubGruu?: string;
  tempGruu?: string;
  /** Whether its Contact carries the CPM session feature tag. */
  cpmCapable: boolean;
  /** Contact parameters as registered (raw). */
  params: Record<string, string | null>;
  expiresAt: number;
  callId?: string;
  cseq?: number;
}

/** A change to one AOR's devices. */
export interface DeviceChange {
  aor: string;
  device: Device;
  event: RegContact['event'];
  state: RegContact['state'];
}

/** The registry of one domain. */
export class DeviceRegistry {
  private readonly byAor = new Map<string, Device[]>();
  private readonly listeners = new Set<(changes: DeviceChange[]) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Listen for changes (one call per third-party REGISTER that changed something). */
  onChange(listener: (changes: DeviceChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The live devices of an AOR. */
  devices(aor: string): Device[] {
    this.expire(aor);
    return [...(this.byAor.get(aor) ?? [])];
  }

  /** The device a GRUU (public or temporary) names, in any AOR. */
  deviceByGruu(gruu: string): Device | undefined {
    const key = normalizeGruu(gruu);
    for (const aor of this.byAor.keys()) {
      for (const d of this.devices(aor)) {
        if ((d.pubGruu && normalizeGruu(d.pubGruu) === key) || (d.tempGruu && normalizeGruu(d.tempGruu) === key)) return d;
      }
    }
    return undefined;
  }

  /** Number of devices across all users (tests check the registry empties). */
  size(): number {
    let n = 0;
    for (const list of this.byAor.values()) n += list.length;
    return n;
  }

  /**
   * Apply a third-party REGISTER: `aor` from its To, `contactHeaders` its Contact values. Throws a
   * SipParseError on an unparsable Contact (the caller answers 400).
   */
  applyThirdPartyRegister(aor: string, contactHeaders: readonly string[]): DeviceChange[] {
    const now = this.now();
    const list = this.byAor.get(aor) ?? [];
    const changes: DeviceChange[] = [];
    const seen = new Set<Device>();
    for (const line of contactHeaders) {
      const parsed = parseContactList(line);
      if (parsed === '*') {
        for (const d of list) changes.push({ aor, device: d, event: 'unregistered', state: 'terminated' });
        list.length = 0;
        continue;
      }
      for (const c of parsed) {
        const contact = serializeUri(c.uri);
        const instanceText = getParamText(c.params, '+sip.instance') ?? undefined;
        const instance = instanceText ? instanceText.replace(/^<|>$/g, '') : undefined;
        const expiresRaw = getParam(c.params, 'expires');
        const expires = expiresRaw ? Number(expiresRaw) : 0;
        const existing = list.find((d) => (instance ? d.instance === instance : d.contact === contact));
        if (!Number.isFinite(expires) || expires <= 0) {
          if (existing) {
            list.splice(list.indexOf(existing), 1);
            changes.push({ aor, device: existing, event: 'unregistered', state: 'terminated' });
          }
          continue;
        }
        const params: Record<string, string | null> = {};
        for (const p of c.params) {
          const n = p.name.toLowerCase();
          if (n !== 'expires' && n !== 'pub-gruu' && n !== 'temp-gruu' && n !== 'q') params[p.name] = p.value;
        }
        const icsi = getParam(c.params, '+g.3gpp.icsi-ref');
        // `"Laptop"`, or RFC 3840 §9's string form `"<Laptop>"`
        const name = getParamText(c.params, '+cpm.device-name')?.replace(/^<(.*)>$/s, '$1');
        const pubGruu = getParamText(c.params, 'pub-gruu');
        const tempGruu = getParamText(c.params, 'temp-gruu');
        // Plain assignments (one object, no spread of temporaries): this runs for every registration refresh.
        const fields: Omit<Device, 'id'> = {
          aor,
          contact,
          cpmCapable: typeof icsi === 'string' && icsi.toLowerCase().includes('oma.cpm.session'),
          params,
          expiresAt: now + expires * 1000,
        };
        if (instance) fields.instance = instance;
        if (name) fields.name = name;
        if (pubGruu) fields.pubGruu = pubGruu;
        if (tempGruu) fields.tempGruu = tempGruu;
        if (existing) {
          const moved = existing.contact !== contact;
          const shortened = fields.expiresAt < existing.expiresAt;
          Object.assign(existing, fields);
          seen.add(existing);
          changes.push({ aor, device: existing, event: moved ? 'registered' : shortened ? 'shortened' : 'refreshed', state: 'active' });
        } else {
          const device: Device = { id: randomBytes(6).toString('hex'), ...fields };
          list.push(device);
          seen.add(device);
          changes.push({ aor, device, event: 'registered', state: 'active' });
        }
      }
    }
    if (list.length > 0) this.byAor.set(aor, list);
    else this.byAor.delete(aor);
    this.emit(changes);
    return changes;
  }

  /** The reginfo registration element for an AOR (full state). */
  registration(aor: string): RegRegistration {
    const devices = this.devices(aor);
    return {
      aor,
      id: registrationId(aor),
      state: devices.length > 0 ? 'active' : 'init',
      contacts: devices.map((d) => toRegContact(d, 'registered', 'active', this.now())),
    };
  }

  /** The reginfo registration element for a set of changes (partial state). */
  partialRegistration(aor: string, changes: readonly DeviceChange[]): RegRegistration {
    const now = this.now();
    const devices = this.devices(aor);
    return {
      aor,
      id: registrationId(aor),
      state: devices.length > 0 ? 'active' : 'terminated',
      contacts: changes.filter((c) => c.aor === aor).map((c) => toRegContact(c.device, c.event, c.state, now)),
    };
  }

  /** Forget everything. */
  clear(): void {
    this.byAor.clear();
  }

  private expire(aor: string): void {
    const list = this.byAor.get(aor);
    if (!list) return;
    const now = this.now();
    const gone = list.filter((d) => d.expiresAt <= now);
    if (gone.length === 0) return;
    const kept = list.filter((d) => d.expiresAt > now);
    if (kept.length > 0) this.byAor.set(aor, kept);
    else this.byAor.delete(aor);
    this.emit(gone.map((device) => ({ aor, device, event: 'expired', state: 'terminated' })));
  }

  private emit(changes: DeviceChange[]): void {
    if (changes.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch {
        // a notifier's failure must not break registration
      }
    }
  }
}

function toRegContact(d: Device, event: RegContact['event'], state: RegContact['state'], now: number): RegContact {
  return {
    id: d.id,
    uri: d.contact,
    state,
    event,
    ...(state === 'active' ? { expires: Math.max(0, Math.round((d.expiresAt - now) / 1000)) } : {}),
    ...(d.callId !== undefined ? { callId: d.callId } : {}),
    ...(d.cseq !== undefined ? { cseq: d.cseq } : {}),
    params: d.params,
    ...(d.pubGruu ? { pubGruu: d.pubGruu } : {}),
    ...(d.tempGruu ? { tempGruu: { uri: d.tempGruu, firstCseq: d.cseq ?? 1 } } : {}),
  };
}

function registrationId(aor: string): string {
  let h = 0;
  for (let i = 0; i < aor.length; i++) h = (h * 31 + aor.charCodeAt(i)) >>> 0;
  return `r${h.toString(16)}`;
}

function normalizeGruu(uri: string): string {
  return uri.replace(/^<|>$/g, '').trim().toLowerCase();
}
