/**
 * A TCP relay on 127.0.0.1 (ephemeral port) in front of a lab listener, for tests that need a device's
 * connection to break: `cut()` destroys every relayed connection at once, as a network failure would; new
 * connections are relayed again afterwards.
 */
import net from 'node:net';

/** A running relay. */
export interface TcpRelay {
  port: number;
  /** Connections relayed right now. */
  readonly open: number;
  /** Break every relayed connection (both sockets destroyed). */
  cut(): void;
  close(): Promise<void>;
}

/** Relay 127.0.0.1:<ephemeral> to `target`. */
export async function startTcpRelay(target: { host: string; port: number }): Promise<TcpRelay> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target);
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = (): void => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get open() {
      return pairs.size;
    },
    cut,
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
