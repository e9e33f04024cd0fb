/**
 * The lab domain core that wire tests (RFC 4475 torture, fuzzing) throw raw bytes at: one per test file,
 * started before its tests and closed after them, listening on UDP and TCP at 127.0.0.1 (ephemeral ports)
 * with short transaction timers (T1 50 ms) so that every transaction ends soon after the traffic does.
 *
 * It also keeps what such tests check at the end: every address the core sent to (all must be loopback),
 * and every listener that threw inside the core (the transport turns those into process warnings with
 * code `SIP_TRANSPORT_LISTENER` rather than crash).
 */
import { afterAll, beforeAll } from 'vitest';
import { DomainCore } from '../../server/core/domain-core';
import type { DomainUser } from '../../server/core/registrar';

/** The transports a wire core listens on. */
export type WireTransport = 'udp' | 'tcp';

/** What the core holds (see `DomainCore.load`). */
export type CoreLoad = ReturnType<DomainCore['load']>;

/** The suite's core and what it saw; read it inside tests (it is empty before `beforeAll` has run). */
export interface WireCore {
  /** The running core. */
  readonly core: DomainCore;
  /** Connections the core held right after it started (its own, before any test connected). */
  readonly baselineConnections: number;
  /** Every host the core sent a message to. */
  readonly sentTo: ReadonlySet<string>;
  /** Messages of the listeners that threw inside the core. */
  readonly listenerFailures: readonly string[];
  /** The port the core listens on for `transport`. */
  port(transport: WireTransport): number;
  /**
   * Wait, at most `withinMs`, until every field of `expected` matches the core's load, then return the
   * load as it is (the caller asserts on it, so that a miss fails with the numbers).
   */
  settledLoad(expected: Partial<CoreLoad>, withinMs: number): Promise<CoreLoad>;
}

/** Start a wire core for `domain` in this file's `beforeAll`, and close it in its `afterAll`. */
export function useWireCore(domain: string, users: readonly DomainUser[]): WireCore {
  let core: DomainCore | undefined;
  let baselineConnections = 0;
  const sentTo = new Set<string>();
  const listenerFailures: string[] = [];
  const onWarning = (warning: Error & { code?: string }): void => {
    if (warning.code === 'SIP_TRANSPORT_LISTENER') listenerFailures.push(warning.message);
  };
  const running = (): DomainCore => {
    if (!core) throw new Error('wire core: not started (use it inside a test)');
    return core;
  };

  beforeAll(async () => {
    process.on('warning', onWarning);
    core = await DomainCore.start({
      domain,
      users,
      listeners: [
        { protocol: 'udp', host: '127.0.0.1', port: 0 },
        { protocol: 'tcp', host: '127.0.0.1', port: 0 },
      ],
      timers: { t1: 50, t2: 400, t4: 500 },
      trace: (direction, _bytes, endpoints) => {
        if (direction === 'out') sentTo.add(endpoints.remote.host);
      },
    });
    baselineConnections = core.transport.connectionCount();
  });

  afterAll(async () => {
    process.off('warning', onWarning);
    await core?.close();
  });

  return {
    get core() {
      return running();
    },
    get baselineConnections() {
      return baselineConnections;
    },
    sentTo,
    listenerFailures,
    port(transport) {
      const point = running().transport.listeningPoint(transport);
      if (!point) throw new Error(`wire core: no ${transport} listener`);
      return point.port;
    },
    async settledLoad(expected, withinMs) {
      const matches = (load: CoreLoad): boolean =>
        (Object.keys(expected) as (keyof CoreLoad)[]).every((key) => load[key] === expected[key]);
      const deadline = Date.now() + withinMs;
      while (!matches(running().load()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return running().load();
    },
  };
}
