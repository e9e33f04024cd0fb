/** Polling for the tests, the demo and the benches that drive DeviceAgents on the lab. */

/** Poll `check` every 10 ms until it returns (or resolves to) a value; rejects naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
