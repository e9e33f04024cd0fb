/**
 * Seeded mutation of SIP messages, for fuzz tests: bit flips, inserted and deleted bytes, truncation,
 * duplicated lines and huge values, chosen by a fixed-seed PRNG so that every run tries the same mutants.
 * Test tooling: nothing in the stack uses it.
 */

/** A PRNG: each call returns a number in [0, 1). */
export type Random = () => number;

/** Mulberry32: a small, fast, fixed-seed PRNG (not for cryptography). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes that matter to SIP's grammar (CR, LF, SP, HTAB, separators, quotes, escapes) and to UTF-8. */
const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x25, 0x40, 0x5c, 0x00, 0xff, 0xc3, 0x3d, 0x3f, 0x5b, 0x5d];

/** Options of {@link mutateMessage}. */
export interface MutationOptions {
  /** Longest run of bytes a "huge value" mutation inserts (default 20,000). */
  maxHugeValue?: number;
}

/** The bytes of `parts`, one after the other. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One to three random mutations of `base` (which is not changed). */
export function mutateMessage(base: Uint8Array, rnd: Random, options: MutationOptions = {}): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const maxHuge = options.maxHugeValue ?? 20_000;
  let bytes = base;
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const at = pick(bytes.length + 1);
    const head = bytes.subarray(0, at);
    const tail = bytes.subarray(at);
    switch (pick(7)) {
      case 0: // flip one bit of one byte
        if (bytes.length) {
          bytes = bytes.slice();
          bytes[Math.min(at, bytes.length - 1)]! ^= 1 << pick(8);
        }
        break;
      case 1: // insert an interesting or random byte
        bytes = concatBytes(head, Uint8Array.of(rnd() < 0.7 ? INTERESTING[pick(INTERESTING.length)]! : pick(256)), tail);
        break;
      case 2: // delete a range
        bytes = concatBytes(head, bytes.subarray(at + 1 + pick(8)));
        break;
      case 3: // truncate
        bytes = head.slice();
        break;
      case 4: { // duplicate the line around `at`
        const lineStart = bytes.lastIndexOf(0x0a, Math.max(0, at - 1)) + 1;
        let lineEnd = bytes.indexOf(0x0a, at);
        if (lineEnd < 0) lineEnd = bytes.length - 1;
        bytes = concatBytes(bytes.subarray(0, lineEnd + 1), bytes.subarray(lineStart, lineEnd + 1), bytes.subarray(lineEnd + 1));
        break;
      }
      case 5: // a huge value: digits (scalar overflow) or text
        bytes = concatBytes(head, new Uint8Array(1 + pick(rnd() < 0.9 ? Math.min(300, maxHuge) : maxHuge)).fill(rnd() < 0.5 ? 0x39 : 0x61), tail);
        break;
      default: // replace one byte with an interesting one
        if (bytes.length) {
          bytes = bytes.slice();
          bytes[Math.min(at, bytes.length - 1)] = INTERESTING[pick(INTERESTING.length)]!;
        }
    }
  }
  return bytes;
}
