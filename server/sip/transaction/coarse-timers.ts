/**
 * One Node timer per time slot for the long SIP timers (RFC 3261 §17: B, F, H, J = 64·T1; D; I, K = T4;
 * E and G once they reach T2), instead of one per transaction.
 *
 * A busy element runs thousands of transactions, each arming a 32 s timer that almost never matters; with one
 * Node timer each, the event loop wakes up for every single expiry. Here a timer of at least
 * {@link COARSE_MIN_MS} joins the slot of its due time rounded *up* to {@link COARSE_SLOT_MS}: it never fires
 * early, at most one slot late (100 ms on a 32 s timer), and every timer due in the same slot fires in one wake-up.
 *
 *   start(ms) ──► slot = ceil((now + ms) / SLOT) · SLOT ──► Map<slot, Set<entry>> ──► one setTimeout per slot
 *   cancel    ──► delete the entry (an empty slot clears its Node timer)
 */

/** Timers shorter than this are not coalesced (retransmission timers around T1 keep their precision). */
export const COARSE_MIN_MS = 1000;
/** Slot width: how late a coalesced timer may fire at most. */
export const COARSE_SLOT_MS = 100;

/** A scheduled coarse timer; pass it to {@link cancelCoarse}. */
export interface CoarseTimer {
  readonly slot: number;
  readonly slots: Map<number, Slot>;
  readonly fire: () => void;
}

/** The timers due in one slot and the Node timer that runs them. */
export interface Slot {
  readonly entries: Set<CoarseTimer>;
  readonly handle: ReturnType<typeof setTimeout>;
}

/**
 * Slots per timer implementation: test fakes replace `setTimeout`, and a slot armed with one must not swallow
 * timers started under the other.
 */
const slotsBySetTimeout = new WeakMap<typeof setTimeout, Map<number, Slot>>();

function currentSlots(): Map<number, Slot> {
  let slots = slotsBySetTimeout.get(setTimeout);
  if (slots === undefined) {
    slots = new Map();
    slotsBySetTimeout.set(setTimeout, slots);
  }
  return slots;
}

/** Run `fire` once, no earlier than `ms` from now and at most {@link COARSE_SLOT_MS} later. */
export function startCoarse(ms: number, fire: () => void): CoarseTimer {
  const now = Date.now();
  const slot = Math.ceil((now + ms) / COARSE_SLOT_MS) * COARSE_SLOT_MS;
  const slots = currentSlots();
  const timer: CoarseTimer = { slot, slots, fire };
  let entry = slots.get(slot);
  if (entry === undefined) {
    const handle = setTimeout(() => runSlot(slots, slot), slot - now);
    // A pending SIP timer alone must not keep the process alive.
    if (typeof handle === 'object' && 'unref' in handle) handle.unref();
    entry = { entries: new Set(), handle };
    slots.set(slot, entry);
  }
  entry.entries.add(timer);
  return timer;
}

/** Cancel a coarse timer (nothing happens if it already fired or was cancelled). */
export function cancelCoarse(timer: CoarseTimer): void {
  const entry = timer.slots.get(timer.slot);
  if (entry === undefined || !entry.entries.delete(timer)) return;
  if (entry.entries.size === 0) {
    clearTimeout(entry.handle);
    timer.slots.delete(timer.slot);
  }
}

/** Coarse timers pending under the current `setTimeout` (for tests). */
export function pendingCoarse(): number {
  let n = 0;
  for (const entry of currentSlots().values()) n += entry.entries.size;
  return n;
}

function runSlot(slots: Map<number, Slot>, slot: number): void {
  const entry = slots.get(slot);
  slots.delete(slot);
  if (entry === undefined) return;
  let failure: { error: unknown } | undefined;
  for (const timer of entry.entries) {
    try {
      timer.fire();
    } catch (error) {
      // One failing callback must not starve the others of the slot; report it as an uncaught timer error would be.
      failure ??= { error };
    }
  }
  if (failure !== undefined) {
    const { error } = failure;
    // Raised from a timer of its own, as it would have been from a timer of its own.
    setTimeout(() => {
      throw error;
    }, 0);
  }
}
