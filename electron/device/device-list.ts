/**
 * The device list of our own AOR, rebuilt from `reg` event documents (RFC 3680 §5, RFC 5628 `pub-gruu`;
 * PROFILE.md "Registration and the device list"): a full document replaces the known contacts, a partial one
 * changes the contacts it names. Versions must follow each other (RFC 3680 §5.2): an older or repeated
 * version is ignored, a gap means state was lost and the subscriber must fetch a full document again.
 */
import type { DeviceInfo } from '../api/payloads';
import { hasCpmFeatureTag, CPM_FEATURE_TAG } from '../../protocol/cpm/cpm-headers';
import { unquoteParam, type RegContact, type Reginfo } from '../../protocol/reginfo/reginfo';

const FEATURE_TAG_NAME = CPM_FEATURE_TAG.slice(0, CPM_FEATURE_TAG.indexOf('='));

function quoted(value: string): string {
  const v = value.trim();
  return v.startsWith('"') ? v : `"${v}"`;
}

/** What applying a document did. */
export type ReginfoOutcome = 'changed' | 'unchanged' | 'ignored' | 'gap';

/** The merged view of one AOR's registrations. */
export class DeviceList {
  private readonly contacts = new Map<string, RegContact>();
  private version: number | null = null;

  constructor(
    /** Our own `+sip.instance`, to mark `self`. */
    private readonly selfInstanceId: string,
  ) {}

  /** Forget everything (a new subscription starts with a full document). */
  reset(): void {
    this.contacts.clear();
    this.version = null;
  }

  /** Apply one document; `gap` asks the caller to re-subscribe (RFC 3680 §5.2). */
  apply(doc: Reginfo): ReginfoOutcome {
    const before = this.signature();
    if (doc.state === 'full') {
      if (this.version !== null && doc.version <= this.version) return 'ignored';
      this.contacts.clear();
    } else {
      if (this.version === null) return 'gap'; // a partial document before any full one
      if (doc.version <= this.version) return 'ignored';
      if (doc.version > this.version + 1) return 'gap';
    }
    this.version = doc.version;
    for (const registration of doc.registrations) {
      if (doc.state === 'partial' && registration.state === 'terminated') {
        for (const c of registration.contacts) this.contacts.delete(c.id);
      }
      for (const contact of registration.contacts) {
        if (contact.state === 'active' && registration.state !== 'terminated') this.contacts.set(contact.id, contact);
        else this.contacts.delete(contact.id);
      }
    }
    return this.signature() === before ? 'unchanged' : 'changed';
  }

  /**
   * Every active device (one per `+sip.instance`; contacts without an instance or a pub-gruu cannot be
   * addressed and are left out), ours included with `self: true`, sorted by name.
   */
  devices(): DeviceInfo[] {
    const byInstance = new Map<string, DeviceInfo>();
    for (const contact of this.contacts.values()) {
      const instanceId = unquoteParam(contact.params['+sip.instance'])?.toLowerCase();
      if (!instanceId || !contact.pubGruu) continue;
      const name = unquoteParam(contact.params['+cpm.device-name']) ?? 'Unnamed device';
      const icsi = contact.params['+g.3gpp.icsi-ref'];
      const cpmCapable = typeof icsi === 'string' && hasCpmFeatureTag(`;${FEATURE_TAG_NAME}=${quoted(icsi)}`);
      const info: DeviceInfo = { instanceId, name, pubGruu: contact.pubGruu, self: instanceId === this.selfInstanceId.toLowerCase(), cpmCapable };
      const known = byInstance.get(instanceId);
      if (!known || (cpmCapable && !known.cpmCapable)) byInstance.set(instanceId, info);
    }
    return [...byInstance.values()].sort((a, b) => a.name.localeCompare(b.name) || a.instanceId.localeCompare(b.instanceId));
  }

  private signature(): string {
    return JSON.stringify(this.devices());
  }
}

/** The devices a conversation can move to: every other active, CPM-capable device (PROFILE.md). */
export function otherCpmDevices(devices: readonly DeviceInfo[]): DeviceInfo[] {
  return devices.filter((d) => !d.self && d.cpmCapable);
}
