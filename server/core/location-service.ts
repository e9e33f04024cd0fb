/**
 * The location service of one domain: who is registered where (RFC 3261 §10), one binding per device
 * instance and reg-id (RFC 5626 §6), with the GRUUs the registrar minted for it (RFC 5627 §3).
 *
 * Pure data and timers; the registrar decides, this table remembers. A binding disappears when it expires,
 * when it is un-registered, or when the flow (WS/TCP connection) it was registered over closes (RFC 5626 §5.2).
 */
import { randomBytes } from 'node:crypto';
import type { Endpoint } from '../sip/transport/transport-types';

/** One registered contact of an address-of-record. */
export interface Binding {
  /** The address-of-record, normalized `sip:user@domain`. */
  aor: string;
  /** The Contact URI exactly as the device sent it (without header params). */
  contact: string;
  /** `+sip.instance` value without quotes and angle brackets (`urn:uuid:…`), when the device sent one. */
  instance?: string;
  /** `reg-id` (RFC 5626 §4.2), when sent. */
  regId?: number;
  /** Contact header parameters other than expires/q, e.g. feature tags and `+cpm.device-name`, as received. */
  params: Record<string, string | null>;
  /** The device's human name from `+cpm.device-name`, unquoted. */
  deviceName?: string;
  /** The public GRUU (RFC 5627 §3.1): `<aor>;gr=<instance>`; only for bindings with an instance. */
  pubGruu?: string;
  /** The current temporary GRUU (RFC 5627 §3.2), renewed at every REGISTER. */
  tempGruu?: string;
  /** Every temporary GRUU minted for this instance and still valid (they stay valid while the binding lives). */
  tempGruus: string[];
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

/** A change to a binding, as the reg event package reports it (RFC 3680 §5.2). */
export type BindingEvent =
  | 'registered'
  | 'created'
  | 'refreshed'
  | 'shortened'
  | 'expired'
  | 'deactivated'
  | 'unregistered';

export interface BindingChange {
  binding: Binding;
  event: BindingEvent;
}

type Listener = (changes: BindingChange[]) => void;

/** Options of the location service. */
export interface LocationServiceOptions {
  /** The domain whose AORs this table holds (used for temp-GRUU user parts). */
  domain: string;
  /** Clock, for tests. */
  now?: () => number;
}

/** The bindings of one domain, with GRUU lookup and expiry. */
export class LocationService {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly byGruu = new Map<string, Binding>();
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: LocationServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Subscribe to binding changes (called once per REGISTER, with every change it made). */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The live bindings of an AOR. */
  bindings(aor: string): Binding[] {
    this.expire();
    return [...(this.byAor.get(aor) ?? [])];
  }

  /** Every AOR with at least one binding. */
  aors(): string[] {
    return [...this.byAor.keys()];
  }

  /** Total live bindings (for tests and benchmarks). */
  size(): number {
    let n = 0;
    for (const list of this.byAor.values()) n += list.length;
    return n;
  }

  /** The binding a GRUU (public or temporary) names, or undefined (RFC 5627 §7). */
  byGruuUri(gruu: string): Binding | undefined {
    this.expire();
    return this.byGruu.get(gruuKey(gruu));
  }

  /**
   * The first live binding whose Contact URI is exactly `contact` (a request addressed to a registered contact,
   * RFC 5626 §5.3), or undefined. One pass over the table: callers run this for every in-dialog request.
   */
  byContact(contact: string): Binding | undefined {
    this.expire();
    for (const list of this.byAor.values()) for (const b of list) if (b.contact === contact) return b;
    return undefined;
  }

  /** True when the URI is a GRUU this domain minted, live or not known (for 404 vs 480 decisions). */
  isGruu(uri: string): boolean {
    return /;gr(=|;|$)/i.test(uri);
  }

  /**
   * Add or refresh a binding. Bindings are the same when they share instance and reg-id, or (without an
   * instance) the same Contact URI (RFC 5626 §6, RFC 3261 §10.3 step 7). Returns the stored binding.
   */
  upsert(input: Omit<Binding, 'pubGruu' | 'tempGruu' | 'tempGruus'>): { binding: Binding; event: BindingEvent } {
    const list = this.byAor.get(input.aor) ?? [];
    const existing = list.find((b) => sameBinding(b, input));
    let binding: Binding;
    let event: BindingEvent;
    if (existing) {
      event = input.expiresAt < existing.expiresAt ? 'shortened' : 'refreshed';
      if (existing.flowId !== input.flowId || existing.contact !== input.contact) event = 'registered';
      Object.assign(existing, input);
      binding = existing;
    } else {
      binding = { ...input, tempGruus: [] };
      list.push(binding);
      this.byAor.set(input.aor, list);
      event = 'registered';
    }
    if (binding.instance) {
      binding.pubGruu = `${input.aor};gr=${binding.instance}`;
      this.byGruu.set(gruuKey(binding.pubGruu), binding);
      const temp = `sip:tgruu.${randomBytes(12).toString('hex')}@${this.options.domain};gr`;
      binding.tempGruu = temp;
      binding.tempGruus.push(temp);
      this.byGruu.set(gruuKey(temp), binding);
    }
    this.schedule();
    return { binding, event };
  }

  /** Remove one binding (un-REGISTER with expires=0). */
  remove(binding: Binding, event: BindingEvent = 'unregistered'): void {
    const list = this.byAor.get(binding.aor);
    if (!list) return;
    const at = list.indexOf(binding);
    if (at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.byAor.delete(binding.aor);
    if (binding.pubGruu) this.byGruu.delete(gruuKey(binding.pubGruu));
    for (const t of binding.tempGruus) this.byGruu.delete(gruuKey(t));
    binding.expiresAt = 0;
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

  /** Drop expired bindings now. */
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
    this.byAor.clear();
    this.byGruu.clear();
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    let next = Infinity;
    for (const list of this.byAor.values()) for (const b of list) next = Math.min(next, b.expiresAt);
    if (next === Infinity) return;
    const delay = Math.max(0, Math.min(next - this.now() + 5, 2 ** 31 - 1));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
      this.schedule();
    }, delay);
    this.timer.unref();
  }
}

function sameBinding(a: Pick<Binding, 'instance' | 'regId' | 'contact'>, b: Pick<Binding, 'instance' | 'regId' | 'contact'>): boolean {
  if (a.instance || b.instance) return a.instance === b.instance && (a.regId ?? null) === (b.regId ?? null);
  return a.contact === b.contact;
}

/** GRUU lookup key: the URI without a `sip:` scheme case or parameter-order difference that matters. */
function gruuKey(uri: string): string {
  const bare = uri.replace(/^<|>$/g, '').trim();
  const [base = '', ...params] = bare.split(';');
  const gr = params.find((p) => /^gr(=|$)/i.test(p)) ?? 'gr';
  return `${base.toLowerCase()};${gr.replace(/^gr/i, 'gr').replace(/"/g, '')}`;
}
