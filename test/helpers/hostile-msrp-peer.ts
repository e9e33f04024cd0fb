/**
 * A hostile MSRP peer (RFC 4975 over TCP on loopback) for the tests that attack an MSRP listener: it writes
 * raw bytes on a fresh connection and reports what came back and whether the listener closed on it, plus
 * the raw SENDs and the deterministic garbage such tests throw.
 */
import { connect, type Socket } from 'node:net';

/** The transaction id of every hostile request (RFC 4975 §7.1: 8 or more characters). */
export const HOSTILE_TID = 'h0stile1';

/** The end-line of a response to a hostile request (RFC 4975 §7.2: `-------<tid>$`). */
export const HOSTILE_RESPONSE_END = new RegExp(`-------${HOSTILE_TID}\\$\\r\\n`);

/** What a raw peer saw: everything it read, and whether the listener closed the connection. */
export interface RawExchange {
  text: string;
  closed: boolean;
}

/**
 * Connect to `target`, write `bytes`, and read until the listener closes the connection or what was read
 * matches `until`; then close our end. Without `until`, only the listener closing ends it, so the case must
 * be one the listener closes (a bad frame, an idle unbound connection, …).
 */
export function rawExchange(target: { host: string; port: number }, bytes: Uint8Array | string, until?: RegExp): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect(target.port, target.host);
    let text = '';
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ text, closed });
    };
    socket.on('error', () => undefined); // a reset after the listener closes on us; 'close' follows
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (until?.test(text)) finish(false);
    });
    socket.on('close', () => finish(true));
  });
}

/** A raw SEND (RFC 4975 §7.1) from `from` to `to`: bodiless when `body` is undefined, else one whole chunk. */
export function hostileSend(to: string, from: string, body?: string, tid = HOSTILE_TID): string {
  const head = `MSRP ${tid} SEND\r\nTo-Path: ${to}\r\nFrom-Path: ${from}\r\nMessage-ID: evil0001\r\n`;
  if (body === undefined) return `${head}-------${tid}$\r\n`;
  return `${head}Byte-Range: 1-${body.length}/${body.length}\r\nContent-Type: text/plain\r\n\r\n${body}\r\n-------${tid}$\r\n`;
}

/** Deterministic pseudo-random bytes (a linear congruential generator seeded with `seed`). */
export function garbage(seed: number, length: number): Uint8Array {
  let state = seed >>> 0;
  return Uint8Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  });
}
