/**
 * The final responses of completed non-INVITE server transactions over UDP, kept to answer retransmissions of
 * their requests until Timer J fires (RFC 3261 §17.2.2), stored without a JavaScript object per transaction.
 *
 * A registrar or proxy answering thousands of requests a second keeps 64·T1 (32 s) of them. Held as objects
 * (a record, a key string, a copied Uint8Array and its ArrayBuffer, a Map entry each), they are what the garbage
 * collector spends its time on: every one survives the young generation and is later swept from the old one.
 * Here every entry lives in typed arrays and one byte slab:
 *
 * ```
 *  entries (a ring, oldest at head):  hash | next-in-bucket | slab offset | key length | response length
 *                                     | expires at | target port | target host (interned)
 *  slab (linear, live bytes contiguous from the head entry's offset):  [key bytes][response bytes] …
 *  buckets: hash → newest entry of that hash; each entry links to the next older one (chains end at -1)
 * ```
 * Timer J is one duration for the whole layer, so entries expire in the order they were added: expiry pops the
 * head, whose entry is always the last of its bucket's chain. Keys are latin-1 text (a branch, a sent-by, a
 * method); anything else is refused (`add` returns false) and the caller keeps it its own way.
 */

/** Where a retransmission's response goes: the UDP address its request came from (RFC 3261 §18.2.2, RFC 3581). */
export interface RetiredTarget {
  host: string;
  port: number;
}

const NO_ENTRY = -1;
/** The expiry of an entry deleted before its time. */
const DEAD = -Infinity;
const MIN_ENTRIES = 1024;
const MIN_SLAB = 256 * 1024;
/** Longest key kept (a branch and a sent-by are far shorter). */
const MAX_KEY = 1024;

/** FNV-1a over the key's characters, or -1 when one is not latin-1 (such a key is not kept). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0xff) return -1;
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Completed UDP non-INVITE server transactions' responses, by transaction key, oldest first. */
export class RetiredResponses {
  private capacity = MIN_ENTRIES;
  private hashes = new Uint32Array(MIN_ENTRIES);
  private nexts = new Int32Array(MIN_ENTRIES);
  private offsets = new Uint32Array(MIN_ENTRIES);
  private keyLengths = new Uint16Array(MIN_ENTRIES);
  private responseLengths = new Uint32Array(MIN_ENTRIES);
  private expiries = new Float64Array(MIN_ENTRIES);
  private ports = new Uint16Array(MIN_ENTRIES);
  private hostIds = new Uint16Array(MIN_ENTRIES);
  private buckets = new Int32Array(MIN_ENTRIES * 2).fill(NO_ENTRY);
  private slab: Buffer = Buffer.allocUnsafe(MIN_SLAB);
  /** Where the next entry's bytes go in the slab. */
  private write = 0;
  /** Ring positions: entries are `head`, `head + 1`, … `head + count - 1` (mod capacity). */
  private head = 0;
  private count = 0;
  /** Entries deleted before their time: still in the ring (expiry {@link DEAD}), no longer in any chain. */
  private dead = 0;
  /** The last key hashed and its hash: a request is looked up when it comes and added when answered. */
  private lastKey = '';
  private lastHash = -1;
  private readonly hosts: string[] = [];
  private readonly hostIndex = new Map<string, number>();

  /** Entries that still answer retransmissions. */
  get size(): number {
    return this.count - this.dead;
  }

  /** When the oldest entry expires (ms since epoch), or undefined when empty. */
  nextExpiry(): number | undefined {
    return this.count === 0 ? undefined : this.expiries[this.head];
  }

  /**
   * Keep `response` for `key` until `expiresAt`, for retransmissions from `target`. Returns false (keeping
   * nothing) when the key is not latin-1 text or too long, or too many distinct hosts are kept: the caller
   * keeps such a transaction another way. `expiresAt` must not be earlier than that of the entries before it.
   */
  add(key: string, response: Uint8Array, target: RetiredTarget, expiresAt: number): boolean {
    if (key.length === 0 || key.length > MAX_KEY) return false;
    const hash = this.hashOf(key);
    if (hash < 0) return false;
    const hostId = this.internHost(target.host);
    if (hostId === undefined) return false;
    if (this.count === this.capacity) this.grow();
    const need = key.length + response.length;
    this.reserve(need);
    const at = this.write;
    this.slab.write(key, at, key.length, 'latin1');
    this.slab.set(response, at + key.length);
    this.write = at + need;

    const i = (this.head + this.count) % this.capacity;
    this.count++;
    this.hashes[i] = hash;
    this.offsets[i] = at;
    this.keyLengths[i] = key.length;
    this.responseLengths[i] = response.length;
    this.expiries[i] = expiresAt;
    this.ports[i] = target.port;
    this.hostIds[i] = hostId;
    const bucket = hash & (this.buckets.length - 1);
    this.nexts[i] = this.buckets[bucket]!;
    this.buckets[bucket] = i;
    return true;
  }

  /** The live entry kept for `key` (a handle for the other methods), or -1. */
  find(key: string): number {
    if (this.count === this.dead || key.length > MAX_KEY) return NO_ENTRY;
    const hash = this.hashOf(key);
    if (hash < 0) return NO_ENTRY;
    for (let i = this.buckets[hash & (this.buckets.length - 1)]!; i !== NO_ENTRY; i = this.nexts[i]!) {
      if (this.hashes[i] === hash && this.keyEquals(i, key)) return i;
    }
    return NO_ENTRY;
  }

  /** A copy of the response kept by entry `handle` (a copy: the slab moves as entries come and go). */
  response(handle: number): Uint8Array {
    const start = this.offsets[handle]! + this.keyLengths[handle]!;
    return Uint8Array.prototype.slice.call(this.slab, start, start + this.responseLengths[handle]!);
  }

  /** Where entry `handle`'s retransmissions are answered. */
  target(handle: number): RetiredTarget {
    return { host: this.hosts[this.hostIds[handle]!]!, port: this.ports[handle]! };
  }

  /** Forget entry `handle` before its time (its response could not be sent). */
  delete(handle: number): void {
    if (this.expiries[handle] === DEAD) return;
    this.unlink(handle);
    this.expiries[handle] = DEAD;
    this.dead++;
  }

  /** Drop every entry whose Timer J fired by `now`; returns how many live ones went. */
  expire(now: number): number {
    let expired = 0;
    while (this.count > 0) {
      const i = this.head;
      const at = this.expiries[i]!;
      if (at > now) break;
      if (at === DEAD) this.dead--;
      else {
        this.unlink(i);
        expired++;
      }
      this.head = (i + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.write = 0;
    return expired;
  }

  /** Forget everything. */
  clear(): void {
    this.buckets.fill(NO_ENTRY);
    this.head = 0;
    this.count = 0;
    this.dead = 0;
    this.write = 0;
  }

  private hashOf(key: string): number {
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastHash = hashKey(key);
    }
    return this.lastHash;
  }

  private keyEquals(i: number, key: string): boolean {
    if (this.keyLengths[i] !== key.length) return false;
    const at = this.offsets[i]!;
    const slab = this.slab;
    for (let j = 0; j < key.length; j++) if (slab[at + j] !== key.charCodeAt(j)) return false;
    return true;
  }

  /** Take entry `i` out of its bucket's chain (it is the oldest there when expiring; anywhere when deleted). */
  private unlink(i: number): void {
    const bucket = this.hashes[i]! & (this.buckets.length - 1);
    let at = this.buckets[bucket]!;
    if (at === i) {
      this.buckets[bucket] = this.nexts[i]!;
      return;
    }
    while (at !== NO_ENTRY) {
      const next = this.nexts[at]!;
      if (next === i) {
        this.nexts[at] = this.nexts[i]!;
        return;
      }
      at = next;
    }
  }

  private internHost(host: string): number | undefined {
    const known = this.hostIndex.get(host);
    if (known !== undefined) return known;
    if (this.hosts.length > 0xffff) return undefined;
    this.hosts.push(host);
    this.hostIndex.set(host, this.hosts.length - 1);
    return this.hosts.length - 1;
  }

  /**
   * Room for `need` more bytes at the slab's end: the live bytes (contiguous from the head entry) move to the
   * start when they fill at most half of the slab once moved, else into a slab twice the size.
   */
  private reserve(need: number): void {
    if (this.write + need <= this.slab.length) return;
    const base = this.count === 0 ? this.write : this.offsets[this.head]!;
    const live = this.write - base;
    let size = this.slab.length;
    while (live + need > size / 2) size *= 2;
    if (size === this.slab.length) this.slab.copyWithin(0, base, this.write);
    else {
      const bigger = Buffer.allocUnsafe(size);
      this.slab.copy(bigger, 0, base, this.write);
      this.slab = bigger;
    }
    for (let n = 0, i = this.head; n < this.count; n++, i = (i + 1) % this.capacity) this.offsets[i] = this.offsets[i]! - base;
    this.write = live;
  }

  /** Twice the entries: the ring is laid out again from 0 and every chain rebuilt. */
  private grow(): void {
    const old = {
      hashes: this.hashes,
      offsets: this.offsets,
      keyLengths: this.keyLengths,
      responseLengths: this.responseLengths,
      expiries: this.expiries,
      ports: this.ports,
      hostIds: this.hostIds,
    };
    const capacity = this.capacity * 2;
    this.hashes = new Uint32Array(capacity);
    this.nexts = new Int32Array(capacity);
    this.offsets = new Uint32Array(capacity);
    this.keyLengths = new Uint16Array(capacity);
    this.responseLengths = new Uint32Array(capacity);
    this.expiries = new Float64Array(capacity);
    this.ports = new Uint16Array(capacity);
    this.hostIds = new Uint16Array(capacity);
    this.buckets = new Int32Array(capacity * 2).fill(NO_ENTRY);
    for (let n = 0; n < this.count; n++) {
      const from = (this.head + n) % this.capacity;
      this.hashes[n] = old.hashes[from]!;
      this.offsets[n] = old.offsets[from]!;
      this.keyLengths[n] = old.keyLengths[from]!;
      this.responseLengths[n] = old.responseLengths[from]!;
      this.expiries[n] = old.expiries[from]!;
      this.ports[n] = old.ports[from]!;
      this.hostIds[n] = old.hostIds[from]!;
      if (this.expiries[n] === DEAD) {
        this.nexts[n] = NO_ENTRY;
        continue;
      }
      const bucket = this.hashes[n]! & (this.buckets.length - 1);
      this.nexts[n] = this.buckets[bucket]!;
      this.buckets[bucket] = n;
    }
    this.capacity = capacity;
    this.head = 0;
  }
}
