/**
 * Test support: a deterministic workload of messages of mixed sizes (most small, some of tens of
 * kilobytes, a few up to 1 MiB), each body tagged with its index so a receiver can check identity.
 */

/** Sizes for `count` messages: deterministic, always including one of exactly 1 MiB. */
export function mixedSizes(count: number, seed = 42): number[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (i === Math.floor(count / 2)) sizes.push(1024 * 1024);
    else if (r < 0.001) sizes.push(Math.floor(200_000 + rnd() * (1024 * 1024 - 200_000)));
    else if (r < 0.02) sizes.push(Math.floor(4_000 + rnd() * 60_000));
    else sizes.push(Math.floor(8 + rnd() * 1_500));
  }
  return sizes;
}

/** A body of `size` bytes (at least 8) whose first 8 bytes hold `index` and the rest a pattern of it. */
export function workloadBody(index: number, size: number): Uint8Array {
  const body = new Uint8Array(Math.max(8, size));
  new DataView(body.buffer).setFloat64(0, index);
  for (let i = 8; i < body.length; i++) body[i] = (index + i * 31) & 0xff;
  return body;
}

/** Whether `body` is exactly what `workloadBody(index, size)` produced. */
export function checkWorkloadBody(body: Uint8Array, index: number, size: number): boolean {
  if (body.length !== Math.max(8, size)) return false;
  if (new DataView(body.buffer, body.byteOffset, body.byteLength).getFloat64(0) !== index) return false;
  for (let i = 8; i < body.length; i++) if (body[i] !== ((index + i * 31) & 0xff)) return false;
  return true;
}
