/**
 * The lab-wide SIP trace: every element of the lab (each core, each Conversation Server, and devices that
 * are given a hook) records each SIP message it sends and receives, in one ordered list, and the list can be
 * drawn as an ASCII ladder diagram (one column per element) for demos and for reading test failures.
 *
 * Elements feed it through the transport `trace` hook they already take (`createTransportLayer({ trace })`):
 * `trace.hook('core a.example')`. Devices (JsSIP under Node) feed it through `trace.device('alice laptop')`.
 *
 * Entries are kept in time order. An entry is stamped when it is recorded, unless its hook is given the time
 * the element saw the message: a Conversation Server in another process reports its entries over IPC a little
 * late, each with its own `process.hrtime.bigint()` reading, which on Linux is the system-wide monotonic clock
 * (CLOCK_MONOTONIC), comparable with ours. Such an entry takes its place among those already recorded.
 *
 * Endpoints are named after elements three ways:
 * 1. the lab names each element's listening points (`nameEndpoint`): no connection can take a listening
 *    point's port as its own, so such an endpoint is that element's at whichever element reports it;
 * 2. any other `local` endpoint an element reports (the ephemeral port of a connection it opened) is that
 *    element's as seen from the other end of that connection, and only there;
 * 3. a device has no known address, so its endpoint is learned, at the element it is connected to, when that
 *    element receives the exact bytes the device sent (or sends bytes the device then receives).
 * An ephemeral host:port alone says nothing about whose it is: Linux chooses the port of an outgoing
 * connection per destination (RFC 6056 §3.3.4, algorithm 4), so alice's Desktop connected to core A and bob
 * connected to core B can both be `ws:127.0.0.1:53122` at the same time. Rules 2 and 3 therefore name the far
 * end of one connection: the pair (the reporting element's local endpoint, the remote endpoint).
 * Anything still unknown is shown as the endpoint text, `ws:127.0.0.1:53122`. Names are resolved when the
 * trace is read, so the order in which the two sides of a hop are recorded does not matter.
 *
 * The trace records nothing until `enable()`; it keeps at most `maxEntries` entries (oldest dropped).
 */
import { createHash } from 'node:crypto';
import { parseMessage } from '../sip/message/parse';
import type { TraceEndpoints, TransportTrace } from '../sip/transport/transport-options';
import type { Endpoint } from '../sip/transport/transport-types';

/** One message as one element saw it. */
export interface SipTraceEntry {
  /**
   * Position in the trace's time order, from 1, counting the entries dropped or cleared before it. An entry
   * recorded late with an earlier time (from another process) moves each entry after it up by one.
   */
  readonly seq: number;
  /** The element that recorded it. */
  readonly element: string;
  /** `out`: the element sent it; `in`: the element received it. */
  readonly direction: 'in' | 'out';
  /** `INVITE`, or `200 OK` for a response. */
  readonly summary: string;
  /** The request method, or for a response the method of its CSeq. */
  readonly method: string;
  /** The status code of a response. */
  readonly status?: number;
  readonly callId?: string;
  /** The CSeq value as written (`1 INVITE`). */
  readonly cseq?: string;
  /** The sending element's name (or its endpoint text when unknown). */
  readonly from: string;
  /** The receiving element's name (or its endpoint text when unknown). */
  readonly to: string;
  /**
   * Monotonic clock (`process.hrtime.bigint()`, ns) when the element saw it: the element's own reading when
   * its hook was given one (never later than when the trace recorded it), else when the trace recorded it.
   */
  readonly timestampNs: bigint;
  /** The message text, when the trace was enabled with `raw: true`. */
  readonly raw?: string;
}

/** One message travelling from one element to the next: the `out` and `in` entries of the same bytes, merged. */
export interface SipTraceHop {
  readonly from: string;
  readonly to: string;
  readonly summary: string;
  readonly method: string;
  readonly status?: number;
  readonly callId?: string;
  readonly cseq?: string;
  /** The earlier of the sender's and the receiver's timestamps (causal order: a hop sorts before what it triggers). */
  readonly timestampNs: bigint;
  /** The entries it merges (one when the other side is not traced). */
  readonly entries: readonly SipTraceEntry[];
  readonly raw?: string;
}

/** What to include when reading the trace. */
export interface SipTraceFilter {
  /** Only messages of this Call-ID. */
  callId?: string;
  /** Only messages whose method (or CSeq method, for responses) is one of these. */
  methods?: readonly string[];
}

/** Options of `ladder()`. */
export interface LadderOptions extends SipTraceFilter {
  /** Columns, left to right; default: every element in order of first appearance. Hops to others are left out. */
  elements?: readonly string[];
  /** Column width (default: fits the longest name, at least 18). */
  columnWidth?: number;
  /** Prefix each row with the time since the first hop (default true). */
  times?: boolean;
}

/**
 * An element's hook: a {@link TransportTrace} that may also be told when the element saw the message
 * (`process.hrtime.bigint()` in the element's process; default: now).
 */
export type TimedTransportTrace = (direction: 'in' | 'out', bytes: Uint8Array, endpoints: TraceEndpoints, timestampNs?: bigint) => void;

/** What a device calls for each message it sends or receives. */
export interface DeviceTraceHook {
  sent(message: string | Uint8Array): void;
  received(message: string | Uint8Array): void;
}

/** Options of a SipTrace. */
export interface SipTraceOptions {
  /** Most entries kept; the oldest are dropped first (default 10 000). */
  maxEntries?: number;
}

/** Options of `enable()`. */
export interface SipTraceEnableOptions {
  /** Keep each message's text in its entry (default false). */
  raw?: boolean;
}

interface Record {
  readonly element: string;
  readonly direction: 'in' | 'out';
  readonly summary: string;
  readonly method: string;
  readonly status: number | undefined;
  readonly callId: string | undefined;
  readonly cseq: string | undefined;
  /**
   * The key naming the other side: for an element, the far end of the connection as the element sees it
   * ({@link farEndKey}); for a device, a synthetic key of its own.
   */
  readonly peerKey: string;
  /** For an element, the remote endpoint's key: a listening point names it wherever it is reported. */
  readonly peerPoint: string | undefined;
  /** Shown when the peer has no name. */
  readonly peerText: string;
  readonly fingerprint: string;
  readonly timestampNs: bigint;
  readonly raw: string | undefined;
}

interface Unmatched {
  /** The record waiting to be matched. */
  readonly record: Record;
  /** Whose it is: a device (its peer is unknown) or an element (the peer endpoint is unknown). */
  readonly side: 'device' | 'element';
}

const PENDING_LIMIT = 512;

/** The trace of a whole lab. */
export class SipTrace {
  /** In time order (ties in recording order). */
  private records: Record[] = [];
  /** Records dropped (`maxEntries`) or cleared so far: the seq of `records[i]` is `dropped + i + 1`. */
  private dropped = 0;
  /** Listening point (endpoint key) → element: rule 1. */
  private readonly points = new Map<string, string>();
  /** Far end of a connection as one side sees it ({@link farEndKey}), or a device's peer key → name: rules 2 and 3. */
  private readonly names = new Map<string, string>();
  /** fingerprint → records not yet matched to their other side (device ↔ element), oldest first. */
  private readonly unmatched = new Map<string, Unmatched[]>();
  private unmatchedCount = 0;
  private on = false;
  private keepRaw = false;
  private readonly maxEntries: number;

  constructor(options: SipTraceOptions = {}) {
    const max = options.maxEntries ?? 10_000;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`SipTrace: maxEntries must be a positive integer, got ${String(max)}`);
    this.maxEntries = max;
  }

  /** Whether messages are being recorded. */
  get enabled(): boolean {
    return this.on;
  }

  /** Start recording (again); `raw` keeps each message's text. */
  enable(options: SipTraceEnableOptions = {}): void {
    this.on = true;
    this.keepRaw = options.raw ?? false;
  }

  /** Stop recording; what was recorded stays. */
  disable(): void {
    this.on = false;
  }

  /** Forget every entry (endpoint names stay). */
  clear(): void {
    this.dropped += this.records.length;
    this.records = [];
    this.unmatched.clear();
    this.unmatchedCount = 0;
  }

  /** Name an endpoint: a listening point of an element, which is that element's whoever reports it. */
  nameEndpoint(endpoint: Endpoint, element: string): void {
    this.points.set(endpointKey(endpoint), element);
  }

  /**
   * The hook to give an element's transport layer (`createTransportLayer({ trace })`); an element in another
   * process passes the time it saw each message as the fourth argument.
   */
  hook(element: string): TimedTransportTrace {
    return (direction, bytes, endpoints, timestampNs) => {
      if (!this.on) return;
      this.fromElement(element, direction, bytes, endpoints, timestampNs);
    };
  }

  /** The hook a device calls with each message it sends and receives (its transport is not ours). */
  device(name: string): DeviceTraceHook {
    const peerKey = `device-peer:${name}`;
    return {
      sent: (message) => {
        if (this.on) this.fromDevice(name, 'out', toBytes(message), peerKey);
      },
      received: (message) => {
        if (this.on) this.fromDevice(name, 'in', toBytes(message), peerKey);
      },
    };
  }

  /** Every entry, in time order (`seq` increasing). */
  entries(filter: SipTraceFilter = {}): SipTraceEntry[] {
    return this.records.flatMap((r, i) => (matches(r, filter) ? [this.entryOf(r, this.dropped + i + 1)] : []));
  }

  /**
   * Every message once, as it went from one element to the next: an `out` entry and the `in` entry of the
   * same bytes at the element it was sent to become one hop. Sorted in causal order.
   */
  hops(filter: SipTraceFilter = {}): SipTraceHop[] {
    const fingerprints = new Map<number, string>();
    const views = this.records.flatMap((r, i) => {
      if (!matches(r, filter)) return [];
      const seq = this.dropped + i + 1;
      fingerprints.set(seq, r.fingerprint);
      return [this.entryOf(r, seq)];
    });
    const waitingIn = new Map<string, SipTraceEntry[]>();
    for (const e of views) {
      if (e.direction !== 'in') continue;
      const key = `${fingerprints.get(e.seq) ?? ''}\u0000${e.from}\u0000${e.element}`;
      const list = waitingIn.get(key);
      if (list) list.push(e);
      else waitingIn.set(key, [e]);
    }
    const paired = new Set<number>();
    const hops: SipTraceHop[] = [];
    for (const e of views) {
      if (e.direction !== 'out') continue;
      const key = `${fingerprints.get(e.seq) ?? ''}\u0000${e.element}\u0000${e.to}`;
      const other = waitingIn.get(key)?.find((x) => !paired.has(x.seq));
      if (other) paired.add(other.seq);
      hops.push(hopOf(other ? [e, other] : [e]));
    }
    for (const e of views) if (e.direction === 'in' && !paired.has(e.seq)) hops.push(hopOf([e]));
    return hops.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0));
  }

  /** The hops drawn as an ASCII ladder diagram, one column per element, one row per message. */
  ladder(options: LadderOptions = {}): string {
    return renderLadder(this.hops(options), options);
  }

  // ---------------------------------------------------------------------------------------------------------

  private fromElement(element: string, direction: 'in' | 'out', bytes: Uint8Array, endpoints: TraceEndpoints, timestampNs: bigint | undefined): void {
    const { local, remote } = endpoints;
    // The element's own end of a connection it opened is its own, as the other end sees it (rule 2). A local
    // endpoint read after its socket closed comes as port 0: it names nothing.
    if (local.port !== 0 && !this.points.has(endpointKey(local))) this.names.set(farEndKey(remote, local), element);
    const peer = { key: farEndKey(local, remote), point: endpointKey(remote), text: endpointText(remote) };
    const record = this.record(element, direction, bytes, peer, timestampNs);
    if (this.peerName(record) === undefined) this.match(record, 'element');
  }

  private fromDevice(name: string, direction: 'in' | 'out', bytes: Uint8Array, peerKey: string): void {
    // Always offered for matching: a device that reconnects shows up at its core from a new endpoint.
    const record = this.record(name, direction, bytes, { key: peerKey, point: undefined, text: '?' });
    this.match(record, 'device');
  }

  private record(
    element: string,
    direction: 'in' | 'out',
    bytes: Uint8Array,
    peer: { key: string; point: string | undefined; text: string },
    seenAt?: bigint,
  ): Record {
    const head = summarize(bytes);
    const now = process.hrtime.bigint();
    const record: Record = {
      element,
      direction,
      ...head,
      peerKey: peer.key,
      peerPoint: peer.point,
      peerText: peer.text,
      fingerprint: createHash('sha1').update(bytes).digest('base64'),
      // An element cannot have seen a message after it reached us: a later reading is taken as now.
      timestampNs: seenAt !== undefined && seenAt < now ? seenAt : now,
      raw: this.keepRaw ? new TextDecoder().decode(bytes) : undefined,
    };
    this.insert(record);
    if (this.records.length > this.maxEntries) {
      const excess = this.records.length - this.maxEntries;
      this.records.splice(0, excess);
      this.dropped += excess;
    }
    return record;
  }

  /** Insert in time order, after every record of the same time; a late record is rarely far from the end. */
  private insert(record: Record): void {
    let at = this.records.length;
    while (at > 0 && this.records[at - 1]!.timestampNs > record.timestampNs) at -= 1;
    if (at === this.records.length) this.records.push(record);
    else this.records.splice(at, 0, record);
  }

  /**
   * Pair a device's record with the element record of the same bytes going the other way (device out ↔
   * element in, element out ↔ device in), and learn both names from the pair: the device is the far end of
   * that element's connection (rule 3), the element is the device's peer.
   */
  private match(record: Record, side: 'device' | 'element'): void {
    const list = this.unmatched.get(record.fingerprint);
    const at = list?.findIndex((u) => u.side !== side && u.record.direction !== record.direction) ?? -1;
    if (list && at >= 0) {
      const other = list.splice(at, 1)[0]!;
      this.unmatchedCount -= 1;
      if (list.length === 0) this.unmatched.delete(record.fingerprint);
      const device = side === 'device' ? record : other.record;
      const element = side === 'device' ? other.record : record;
      this.names.set(element.peerKey, device.element);
      this.names.set(device.peerKey, element.element);
      return;
    }
    const entry: Unmatched = { record, side };
    if (list) list.push(entry);
    else this.unmatched.set(record.fingerprint, [entry]);
    this.unmatchedCount += 1;
    if (this.unmatchedCount > PENDING_LIMIT) this.dropOldestUnmatched();
  }

  private dropOldestUnmatched(): void {
    const [key, list] = this.unmatched.entries().next().value ?? [];
    if (key === undefined || list === undefined) return;
    list.shift();
    this.unmatchedCount -= 1;
    if (list.length === 0) this.unmatched.delete(key);
  }

  /** The name of a record's other side, if known (a listening point first, then what was learned). */
  private peerName(r: Record): string | undefined {
    return (r.peerPoint !== undefined ? this.points.get(r.peerPoint) : undefined) ?? this.names.get(r.peerKey);
  }

  private entryOf(r: Record, seq: number): SipTraceEntry {
    const peer = this.peerName(r) ?? r.peerText;
    return {
      seq,
      element: r.element,
      direction: r.direction,
      summary: r.summary,
      method: r.method,
      ...(r.status !== undefined ? { status: r.status } : {}),
      ...(r.callId !== undefined ? { callId: r.callId } : {}),
      ...(r.cseq !== undefined ? { cseq: r.cseq } : {}),
      from: r.direction === 'out' ? r.element : peer,
      to: r.direction === 'out' ? peer : r.element,
      timestampNs: r.timestampNs,
      ...(r.raw !== undefined ? { raw: r.raw } : {}),
    };
  }
}

/** `tls:127.0.0.1:5061`, `ws:[::1]:8080`: how an unnamed endpoint is shown. */
export function endpointText(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.protocol}:${host}:${endpoint.port}`;
}

function endpointKey(endpoint: Endpoint): string {
  return endpointText(endpoint).toLowerCase();
}

/** The endpoint `far` as seen from `near`, the other end of the connection (or datagram flow) between them. */
function farEndKey(near: Endpoint, far: Endpoint): string {
  return `${endpointKey(near)} ${endpointKey(far)}`;
}

function toBytes(message: string | Uint8Array): Uint8Array {
  return typeof message === 'string' ? new TextEncoder().encode(message) : message;
}

function matches(r: { callId: string | undefined; method: string }, filter: SipTraceFilter): boolean {
  if (filter.callId !== undefined && r.callId !== filter.callId) return false;
  if (filter.methods && !filter.methods.some((m) => m.toUpperCase() === r.method)) return false;
  return true;
}

/** Summary fields of a message; an unparsable one is still recorded, as `(unparsable)`. */
function summarize(bytes: Uint8Array): Pick<Record, 'summary' | 'method' | 'status' | 'callId' | 'cseq'> {
  try {
    const message = parseMessage(bytes, { trailing: 'discard' });
    const cseq = message.headers.get('CSeq');
    const callId = message.headers.get('Call-ID');
    const cseqMethod = cseq?.trim().split(/\s+/)[1]?.toUpperCase() ?? '';
    if (message.type === 'request') return { summary: message.method, method: message.method, status: undefined, callId, cseq };
    return { summary: `${message.status} ${message.reason}`.trim(), method: cseqMethod, status: message.status, callId, cseq };
  } catch {
    return { summary: '(unparsable)', method: '', status: undefined, callId: undefined, cseq: undefined };
  }
}

function hopOf(entries: SipTraceEntry[]): SipTraceHop {
  const first = entries[0]!;
  const timestampNs = entries.reduce((min, e) => (e.timestampNs < min ? e.timestampNs : min), first.timestampNs);
  const raw = entries.find((e) => e.raw !== undefined)?.raw;
  return {
    from: first.from,
    to: first.to,
    summary: first.summary,
    method: first.method,
    ...(first.status !== undefined ? { status: first.status } : {}),
    ...(first.callId !== undefined ? { callId: first.callId } : {}),
    ...(first.cseq !== undefined ? { cseq: first.cseq } : {}),
    timestampNs,
    entries,
    ...(raw !== undefined ? { raw } : {}),
  };
}

/**
 * Draw hops as a ladder:
 * ```
 *             core a.example      cs a.example
 *                   |                   |
 *   +0.000ms        |------INVITE------>|
 *   +1.204ms        |<-----100 Trying---|
 * ```
 */
export function renderLadder(hops: readonly SipTraceHop[], options: LadderOptions = {}): string {
  const columns: string[] = [...(options.elements ?? [])];
  if (!options.elements) {
    for (const h of hops) {
      if (!columns.includes(h.from)) columns.push(h.from);
      if (!columns.includes(h.to)) columns.push(h.to);
    }
  }
  const shown = hops.filter((h) => columns.includes(h.from) && columns.includes(h.to));
  if (shown.length === 0) return '(no SIP messages traced)\n';
  const width = Math.max(options.columnWidth ?? 0, 18, ...columns.map((c) => c.length + 2));
  const showTimes = options.times ?? true;
  const start = shown[0]?.timestampNs ?? 0n;
  const gutter = showTimes ? 12 : 0;
  const centre = (i: number): number => gutter + i * width + Math.floor(width / 2);
  const lineLength = gutter + columns.length * width;
  const blank = (): string[] => {
    const row = Array<string>(lineLength).fill(' ');
    columns.forEach((_, i) => (row[centre(i)] = '|'));
    return row;
  };
  const lines: string[] = [];
  const header = Array<string>(lineLength).fill(' ');
  columns.forEach((name, i) => {
    const left = Math.max(0, centre(i) - Math.floor(name.length / 2));
    for (let k = 0; k < name.length && left + k < lineLength; k++) header[left + k] = name[k]!;
  });
  lines.push(header.join('').trimEnd());
  lines.push(blank().join('').trimEnd());
  for (const hop of shown) {
    const row = blank();
    if (showTimes) {
      const ms = Number(hop.timestampNs - start) / 1e6;
      const text = `+${ms.toFixed(3)}ms`;
      for (let k = 0; k < text.length && k < gutter - 1; k++) row[k] = text[k]!;
    }
    const a = centre(columns.indexOf(hop.from));
    const b = centre(columns.indexOf(hop.to));
    if (a === b) {
      const text = ` (${hop.summary} to itself)`;
      for (let k = 0; k < text.length && a + 1 + k < lineLength; k++) row[a + 1 + k] = text[k]!;
    } else {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      for (let x = lo + 1; x < hi; x++) row[x] = '-';
      if (b > a) row[hi - 1] = '>';
      else row[lo + 1] = '<';
      const room = hi - lo - 5;
      const label = hop.summary.length > room ? hop.summary.slice(0, Math.max(0, room)) : hop.summary;
      const at = lo + 1 + Math.floor((hi - lo - 1 - label.length) / 2);
      for (let k = 0; k < label.length; k++) row[at + k] = label[k]!;
    }
    lines.push(row.join('').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
