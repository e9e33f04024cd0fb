/**
 * The location service of one domain: who is registered where (RFC 3261 §10), one binding per device
 * instance and reg-id (RFC 5626 §6), with the GRUUs the registrar minted for it (RFC 5627 §3).
 *
 * Pure data and one timer; the registrar decides, this table remembers. A binding disappears when it expires,
 * when it is un-registered, or when the flow (WS/TCP connection) it was registered over closes (RFC 5626 §5.2).
 *
 * Built to stay small and fast with many bindings:
 * - A binding is one fixed-shape object. Its Contact parameters are kept as the one `;name=value…` string
 *   they arrived as; the device name and the GRUUs are derived from what is stored, not stored again.
 * - Temporary GRUUs are not remembered one by one: each is the binding's serial number and a mint counter,
 *   encrypted as one AES block under a per-table key (the stateless construction RFC 5627 §3.2 and §7.1.2.3
 *   allow). Every temporary GRUU minted for a binding stays valid while the binding lives, and none outlives it.
 * - Lookups by AOR, Contact URI and GRUU are map lookups; expired bindings are dropped when met and by one
 *   coalesced sweep timer for the whole table.
 */
import { createCipheriv, createDecipheriv, randomBytes, type Cipher, type Decipher } from 'node:crypto';
import type { Endpoint } from '../sip/transport/transport-types';
import { ownString, paramTextValue } from './compact-text';

/** What the registrar stores for one contact (see {@link LocationService.upsert}). */
export interface BindingInput {
  /** The address-of-record, normalized `sip:user@domain`. */
  aor: string;
  /** The Contact URI exactly as the device sent it (without header params). */
  contact: string;
  /** `+sip.instance` value without quotes and angle brackets (`urn:uuid:…`), when the device sent one. */
  instance?: string;
  /** `reg-id` (RFC 5626 §4.2), when sent. */
  regId?: number;
  /**
   * Contact header parameters other than expires, q and GRUUs, as `;name=value…` with values raw (quoted
   * strings keep their quotes), e.g. `;+sip.instance="<urn:uuid:…>";reg-id=1;+cpm.device-name="Laptop"`.
   */
  paramText: string;
  /** The connection the REGISTER came over (RFC 5626 flow), for routing requests back to the device. */
  flowId?: string;
  /** The address the REGISTER came from. */
  source: Endpoint;
  callId: string;
  cseq: number;
  /** Absolute expiry, ms since epoch. */
  expiresAt: number;
  q?: number;
}

/** One registered contact of an address-of-record. Read it; only the {@link LocationService} changes it. */
export class Binding {
  /** The address-of-record, normalized `sip:user@domain`. */
  aor: string;
  /** The Contact URI exactly as the device sent it (without header params). */
  contact: string;
  /** `+sip.instance` value without quotes and angle brackets (`urn:uuid:…`), when the device sent one. */
  instance: string | undefined;
  /** `reg-id` (RFC 5626 §4.2), when sent. */
  regId: number | undefined;
  /** Contact header parameters other than expires, q and GRUUs, raw, as one `;name=value…` string. */
  paramText: string;
  /** The connection the REGISTER came over (RFC 5626 flow), for routing requests back to the device. */
  flowId: string | undefined;
  /** The address the REGISTER came from. */
  source: Endpoint;
  callId: string;
  cseq: number;
  /** Absolute expiry, ms since epoch; 0 once removed. */
  expiresAt: number;
  q: number | undefined;
  /** @internal Serial number in its table (temporary GRUUs name the binding by it). */
  serial: number;
  /** @internal Temporary GRUUs minted so far; the newest is number `minted`. */
  minted = 0;
  /**
   * Until when the domain's Conversation Server was last told this binding lasts (ms since epoch; 0: not told,
   * or the telling failed) and the parameters it was told then. The core's third-party registration keeps them
   * (`domain-core.ts`), so that a refresh the server already knows of is not repeated to it.
   */
  reportedUntil = 0;
  /** The `paramText` the Conversation Server was last told (see {@link reportedUntil}). */
  reportedParams: string | undefined = undefined;
  /** @internal The table, for the derived GRUUs. */
  private readonly table: LocationService;

  /** @internal Created by {@link LocationService.upsert}. */
  constructor(table: LocationService, serial: number, input: BindingInput) {
    this.table = table;
    this.serial = serial;
    this.aor = input.aor;
    this.contact = input.contact;
    this.instance = input.instance;
    this.regId = input.regId;
    this.paramText = input.paramText;
    this.flowId = input.flowId;
    this.source = input.source;
    this.callId = input.callId;
    this.cseq = input.cseq;
    this.expiresAt = input.expiresAt;
    this.q = input.q;
  }

  /** The device's human name from `+cpm.device-name`, unquoted. */
  get deviceName(): string | undefined {
    return paramTextValue(this.paramText, '+cpm.device-name') || undefined;
  }

  /** The public GRUU (RFC 5627 §3.1): `<aor>;gr=<instance>`; only for bindings with an instance. */
  get pubGruu(): string | undefined {
    return this.instance === undefined ? undefined : `${this.aor};gr=${this.instance}`;
  }

  /** The newest temporary GRUU (RFC 5627 §3.2), renewed at every REGISTER; only with an instance. */
  get tempGruu(): string | undefined {
    return this.minted === 0 ? undefined : this.table.temporaryGruu(this.serial, this.minted);
  }
}

/** A change to a binding, as the reg event package reports it (RFC 3680 §5.2). */
export type BindingEvent = 'registered' | 'created' | 'refreshed' | 'shortened' | 'expired' | 'deactivated' | 'unregistered';

/** One binding and what happened to it. */
export interface BindingChange {
  binding: Binding;
  event: BindingEvent;
}

type Listener = (changes: BindingChange[]) => void;

/** Options of the location service. */
export interface LocationServiceOptions {
  /** The domain whose AORs this table holds (used for temp-GRUU host parts). */
  domain: string;
  /** Clock, for tests. */
  now?: () => number;
  /**
   * Expiry events are batched: the sweep timer fires no more often than this (ms). Bindings are checked for
   * expiry whenever they are looked up, so lookups never see an expired binding. Default 1000.
   */
  sweepGranularityMs?: number;
}

/**
 * Magic word in the clear block of a temporary GRUU. With the high serial word (zero below 2^32 bindings) it is
 * 64 known bits: a forged or damaged token decrypts to them with a chance of about 2^-64.
 */
const TEMP_MAGIC = 0x63706d5f; // "cpm_"
const TEMP_PREFIX = 'tgruu.';

/** The bindings of one domain, with GRUU and Contact lookup and expiry. */
export class LocationService {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly bySerial = new Map<number, Binding>();
  /** Contact URI → the binding(s) registered with it (usually one). */
  private readonly byContactUri = new Map<string, Binding | Binding[]>();
  private readonly listeners = new Set<Listener>();
  private readonly now: () => number;
  private readonly granularity: number;
  /** ECB over single whole blocks: each update() is one block in, one block out; the streams are never final. */
  private readonly cipher: Cipher;
  private readonly decipher: Decipher;
  private readonly tempSuffix: string;
  private nextSerial = 1;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the sweep timer fires (ms since epoch), Infinity when not armed. */
  private timerAt = Infinity;

  constructor(private readonly options: LocationServiceOptions) {
    this.now = options.now ?? Date.now;
    this.granularity = Math.max(0, options.sweepGranularityMs ?? 1000);
    this.tempSuffix = `@${options.domain};gr`;
    const key = randomBytes(16);
    this.cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    this.decipher = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  }

  /** Subscribe to binding changes (called once per REGISTER, with every change it made). */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The live bindings of an AOR (a copy). */
  bindings(aor: string): Binding[] {
    const list = this.liveList(aor);
    return list ? [...list] : [];
  }

  /**
   * The live binding of `aor` that a REGISTER's contact refreshes: same instance and reg-id, or (without an
   * instance) the same Contact URI (RFC 5626 §6, RFC 3261 §10.3 step 7).
   */
  find(aor: string, key: { instance?: string | undefined; regId?: number | undefined; contact: string }): Binding | undefined {
    const list = this.liveList(aor);
    if (list !== undefined) for (const b of list) if (sameBinding(b, key)) return b;
    return undefined;
  }

  /** Every AOR with at least one binding. */
  aors(): string[] {
    return [...this.byAor.keys()];
  }

  /** Total bindings (for tests and benchmarks). */
  size(): number {
    return this.count;
  }

  /** The binding a GRUU (public or temporary) names, or undefined (RFC 5627 §7). */
  byGruuUri(gruu: string): Binding | undefined {
    const bare = gruu.trim().replace(/^<|>$/g, '');
    const semi = bare.indexOf(';');
    if (semi < 0) return undefined;
    const base = bare.slice(0, semi);
    let gr: string | null | undefined;
    for (const p of bare.slice(semi + 1).split(';')) {
      const eq = p.indexOf('=');
      const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      if (name === 'gr') gr = eq < 0 ? null : p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    if (gr === undefined) return undefined;
    const binding = gr === null || gr === '' ? this.byTemporaryGruu(base) : this.byPublicGruu(base, gr);
    return binding && this.alive(binding) ? binding : undefined;
  }

  /**
   * The first live binding whose Contact URI is exactly `contact` (a request addressed to a registered contact,
   * RFC 5626 §5.3), or undefined.
   */
  byContact(contact: string): Binding | undefined {
    const entry = this.byContactUri.get(contact);
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry)) return this.alive(entry) ? entry : undefined;
    for (const b of [...entry]) if (this.alive(b)) return b;
    return undefined;
  }

  /** True when the URI carries a `gr` parameter, that is names a GRUU (for 404 vs 480 decisions). */
  isGruu(uri: string): boolean {
    return /;gr(=|;|$)/i.test(uri);
  }

  /**
   * Add or refresh a binding (see {@link find} for when two are the same), and mint a temporary GRUU for it when
   * it has an instance. Returns the stored binding and what happened to it.
   */
  upsert(input: BindingInput): { binding: Binding; event: BindingEvent } {
    let list = this.liveList(input.aor);
    let existing: Binding | undefined;
    if (list !== undefined) {
      for (const b of list) {
        if (!sameBinding(b, input)) continue;
        existing = b;
        break;
      }
    }
    let binding: Binding;
    let event: BindingEvent;
    if (existing) {
      // A refresh: strings that did not change are kept as they are (no copy per REGISTER), the rest copied.
      event = input.expiresAt < existing.expiresAt ? 'shortened' : 'refreshed';
      if (existing.flowId !== input.flowId || existing.contact !== input.contact) event = 'registered';
      if (existing.contact !== input.contact) {
        this.unindexContact(existing);
        existing.contact = ownString(input.contact);
        this.indexContact(existing);
      }
      if (existing.instance !== input.instance) existing.instance = input.instance === undefined ? undefined : ownString(input.instance);
      existing.regId = input.regId;
      if (existing.paramText !== input.paramText) existing.paramText = ownString(input.paramText);
      existing.flowId = input.flowId;
      existing.source = input.source;
      if (existing.callId !== input.callId) existing.callId = ownString(input.callId);
      existing.cseq = input.cseq;
      existing.expiresAt = input.expiresAt;
      existing.q = input.q;
      binding = existing;
    } else {
      const stored = ownBindingInput(input);
      if (!list) {
        list = [];
        this.byAor.set(stored.aor, list);
      } else {
        // share one AOR string among the AOR's bindings
        stored.aor = list[0]?.aor ?? stored.aor;
      }
      binding = new Binding(this, this.nextSerial++, stored);
      list.push(binding);
      this.bySerial.set(binding.serial, binding);
      this.indexContact(binding);
      this.count++;
      event = 'registered';
    }
    if (binding.instance !== undefined) binding.minted++;
    this.arm(binding.expiresAt);
    return { binding, event };
  }

  /** Remove one binding (un-REGISTER with expires=0) and tell listeners. */
  remove(binding: Binding, event: BindingEvent = 'unregistered'): void {
    if (!this.detach(binding)) return;
    this.emit([{ binding, event }]);
  }

  /** Remove every binding registered over a flow that closed (RFC 5626 §5.2); returns how many. */
  removeFlow(flowId: string): number {
    const gone: Binding[] = [];
    for (const list of this.byAor.values()) for (const b of list) if (b.flowId === flowId) gone.push(b);
    for (const b of gone) this.remove(b, 'deactivated');
    return gone.length;
  }

  /** Tell listeners about changes made by one REGISTER. */
  emit(changes: BindingChange[]): void {
    if (changes.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch {
        // a listener's failure must not break registration
      }
    }
  }

  /** Drop every expired binding now (one pass over the table). */
  expire(): void {
    const now = this.now();
    const gone: Binding[] = [];
    for (const list of this.byAor.values()) for (const b of list) if (b.expiresAt <= now) gone.push(b);
    for (const b of gone) this.remove(b, 'expired');
  }

  /** Stop the expiry timer and forget everything. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.byAor.clear();
    this.bySerial.clear();
    this.byContactUri.clear();
    this.count = 0;
    this.listeners.clear();
  }

  /** @internal The temporary GRUU number `counter` of the binding with serial `serial` (RFC 5627 §3.2). */
  temporaryGruu(serial: number, counter: number): string {
    const block = Buffer.alloc(16);
    block.writeUInt32BE(serial >>> 0, 0);
    block.writeUInt32BE(counter >>> 0, 4);
    block.writeUInt32BE(TEMP_MAGIC, 8);
    block.writeUInt32BE(Math.floor(serial / 2 ** 32) >>> 0, 12);
    const token = this.cipher.update(block).toString('hex');
    return `sip:${TEMP_PREFIX}${token}${this.tempSuffix}`;
  }

  // ---------------------------------------------------------------------------------------------------------

  /** The AOR's list with its expired bindings dropped (and reported), or undefined when none is left. */
  private liveList(aor: string): Binding[] | undefined {
    const list = this.byAor.get(aor);
    if (!list) return undefined;
    const now = this.now();
    for (const b of list) {
      if (b.expiresAt > now) continue;
      for (const gone of list.filter((x) => x.expiresAt <= now)) this.remove(gone, 'expired');
      return this.byAor.get(aor);
    }
    return list;
  }

  /** False (after removing it) when the binding has expired; false when it was already removed. */
  private alive(binding: Binding): boolean {
    if (binding.expiresAt === 0) return false;
    if (binding.expiresAt > this.now()) return true;
    this.remove(binding, 'expired');
    return false;
  }

  private byPublicGruu(base: string, instance: string): Binding | undefined {
    let decoded = instance;
    try {
      decoded = decodeURIComponent(instance);
    } catch {
      // keep it as written
    }
    const list = this.byAor.get(base) ?? this.byAor.get(lowerHost(base));
    return list?.find((b) => b.instance === decoded);
  }

  private byTemporaryGruu(base: string): Binding | undefined {
    const at = base.indexOf('@');
    const colon = base.indexOf(':');
    if (colon < 0 || at < 0) return undefined;
    const user = base.slice(colon + 1, at);
    if (!user.toLowerCase().startsWith(TEMP_PREFIX)) return undefined;
    const hex = user.slice(TEMP_PREFIX.length);
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
    if (base.slice(at + 1).toLowerCase() !== this.options.domain.toLowerCase()) return undefined;
    const block = this.decipher.update(Buffer.from(hex, 'hex'));
    if (block.length !== 16) return undefined;
    if (block.readUInt32BE(8) !== TEMP_MAGIC) return undefined;
    const serial = block.readUInt32BE(12) * 2 ** 32 + block.readUInt32BE(0);
    const counter = block.readUInt32BE(4);
    const binding = this.bySerial.get(serial);
    return binding && counter >= 1 && counter <= binding.minted ? binding : undefined;
  }

  /** Take a binding out of every index; false when it was not in the table. */
  private detach(binding: Binding): boolean {
    const list = this.byAor.get(binding.aor);
    if (!list) return false;
    const at = list.indexOf(binding);
    if (at < 0) return false;
    list.splice(at, 1);
    if (list.length === 0) this.byAor.delete(binding.aor);
    this.bySerial.delete(binding.serial);
    this.unindexContact(binding);
    this.count--;
    binding.expiresAt = 0;
    return true;
  }

  private indexContact(binding: Binding): void {
    const entry = this.byContactUri.get(binding.contact);
    if (entry === undefined) this.byContactUri.set(binding.contact, binding);
    else if (Array.isArray(entry)) entry.push(binding);
    else this.byContactUri.set(binding.contact, [entry, binding]);
  }

  private unindexContact(binding: Binding): void {
    const entry = this.byContactUri.get(binding.contact);
    if (entry === binding) this.byContactUri.delete(binding.contact);
    else if (Array.isArray(entry)) {
      const rest = entry.filter((b) => b !== binding);
      if (rest.length === 0) this.byContactUri.delete(binding.contact);
      else this.byContactUri.set(binding.contact, rest.length === 1 ? (rest[0] as Binding) : rest);
    }
  }

  /** Make sure the sweep runs by `expiresAt` (coalesced to the granularity). */
  private arm(expiresAt: number): void {
    if (expiresAt >= this.timerAt) return;
    const now = this.now();
    const at = Math.max(expiresAt, now + this.granularity);
    if (this.timer && at >= this.timerAt - this.granularity) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.sweep(), Math.min(Math.max(0, at - now + 5), 2 ** 31 - 1));
    this.timer.unref();
  }

  /** The timer: drop what expired, re-arm for the earliest expiry left. */
  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.expire();
    let next = Infinity;
    for (const list of this.byAor.values()) for (const b of list) if (b.expiresAt < next) next = b.expiresAt;
    if (next !== Infinity) this.arm(next);
  }
}

function sameBinding(a: { instance?: string | undefined; regId?: number | undefined; contact: string }, b: { instance?: string | undefined; regId?: number | undefined; contact: string }): boolean {
  if (a.instance !== undefined || b.instance !== undefined) return a.instance === b.instance && (a.regId ?? null) === (b.regId ?? null);
  return a.contact === b.contact;
}

/** The input with every string it keeps made independent of the message it was cut from. */
function ownBindingInput(input: BindingInput): BindingInput {
  return {
    ...input,
    contact: ownString(input.contact),
    paramText: ownString(input.paramText),
    callId: ownString(input.callId),
    ...(input.instance !== undefined ? { instance: ownString(input.instance) } : {}),
  };
}

/** `sip:User@Host` with the host part lower-cased (AOR keys hold the domain as configured, usually lower case). */
function lowerHost(uri: string): string {
  const at = uri.lastIndexOf('@');
  return at < 0 ? uri.toLowerCase() : `${uri.slice(0, at + 1)}${uri.slice(at + 1).toLowerCase()}`;
}
