import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSideSocket } from 'ws';
import { WsSocket, WsSocketState } from './ws-socket';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface TestServer {
  url: string;
  wss: WebSocketServer;
  /** Resolves with the next server-side connection. */
  nextConnection(): Promise<ServerSideSocket>;
}

/** A WebSocket server on 127.0.0.1, ephemeral port; `selectSip: false` makes it ignore the subprotocol. */
async function startServer(options: { selectSip?: boolean; https?: HttpsServer } = {}): Promise<TestServer> {
  const selectSip = options.selectSip ?? true;
  const handleProtocols = (protocols: Set<string>) => (selectSip && protocols.has('sip') ? 'sip' : false);
  const wss = options.https
    ? new WebSocketServer({ server: options.https, handleProtocols })
    : new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols });
  const waiting: ((ws: ServerSideSocket) => void)[] = [];
  const arrived: ServerSideSocket[] = [];
  wss.on('connection', (ws) => {
    const next = waiting.shift();
    if (next) next(ws);
    else arrived.push(ws);
  });
  if (options.https) await new Promise<void>((resolve) => options.https!.listen(0, '127.0.0.1', resolve));
  else await new Promise<void>((resolve) => wss.once('listening', resolve));
  const port = ((options.https ?? wss).address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => (options.https ? options.https.close(() => resolve()) : resolve()));
      }),
  );
  return {
    url: `${options.https ? 'wss' : 'ws'}://${options.https ? 'localhost' : '127.0.0.1'}:${port}`,
    wss,
    nextConnection: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** A socket with its callbacks recorded as promises, the way JsSIP's Transport would hook it. */
function track(socket: WsSocket) {
  const states: WsSocketState[] = [];
  const data: string[] = [];
  const disconnects: { error: boolean; code: number | undefined }[] = [];
  const errors: Error[] = [];
  let connected!: () => void;
  let disconnected!: () => void;
  const connectedP = new Promise<void>((r) => (connected = r));
  const disconnectedP = new Promise<void>((r) => (disconnected = r));
  socket.on('stateChange', (to) => states.push(to));
  socket.on('error', (e) => errors.push(e));
  socket.onconnect = () => connected();
  socket.ondisconnect = (error, code) => {
    disconnects.push({ error, code });
    disconnected();
  };
  socket.ondata = (d) => data.push(d);
  cleanups.push(() => socket.disconnect());
  return { states, data, disconnects, errors, connected: connectedP, disconnected: disconnectedP };
}

/** A socket connected to a fresh server (tracked), with the server's end of the connection. */
async function connectedSocket() {
  const server = await startServer();
  const socket = new WsSocket({ url: server.url });
  const t = track(socket);
  socket.connect();
  const peer = await server.nextConnection();
  await t.connected;
  return { server, socket, t, peer };
}

const until = async (predicate: () => boolean): Promise<void> => {
  while (!predicate()) await new Promise((r) => setTimeout(r, 5));
};

describe('WsSocket', () => {
  it('opens with the sip subprotocol and carries SIP text both ways', async () => {
    const server = await startServer();
    const socket = new WsSocket({ url: server.url });
    const t = track(socket);
    expect(socket.via_transport).toBe('WS');
    expect(socket.sip_uri).toMatch(/^sip:127\.0\.0\.1:\d+;transport=ws$/);
    socket.connect();
    expect(socket.isConnecting()).toBe(true);
    const peer = await server.nextConnection();
    await t.connected;
    expect(peer.protocol).toBe('sip');
    expect(socket.isConnected()).toBe(true);

    const received = new Promise<string>((resolve) => peer.once('message', (m) => resolve(m.toString())));
    expect(socket.send('OPTIONS sip:x SIP/2.0\r\n\r\n')).toBe(true);
    await expect(received).resolves.toBe('OPTIONS sip:x SIP/2.0\r\n\r\n');

    peer.send('SIP/2.0 200 OK\r\n\r\n'); // text frame
    peer.send(Buffer.from('SIP/2.0 180 Ringing · ü\r\n\r\n', 'utf8'), { binary: true }); // binary frame, UTF-8
    await until(() => t.data.length === 2);
    expect(t.data).toEqual(['SIP/2.0 200 OK\r\n\r\n', 'SIP/2.0 180 Ringing · ü\r\n\r\n']);
    expect(t.states).toEqual([WsSocketState.Connecting, WsSocketState.Connected]);
  });

  it('reports an abrupt close by the peer as an error disconnect, so that JsSIP recovers', async () => {
    const { socket, t, peer } = await connectedSocket();
    peer.terminate();
    await t.disconnected;
    expect(t.disconnects).toEqual([{ error: true, code: 1006 }]);
    expect(socket.state).toBe(WsSocketState.Disconnected);
    expect(socket.send('x')).toBe(false);
  });

  it('reports a clean close by the peer (1000) as a non-error disconnect', async () => {
    const { t, peer } = await connectedSocket();
    peer.close(1000, 'bye');
    await t.disconnected;
    expect(t.disconnects).toEqual([{ error: false, code: 1000 }]);
  });

  it('fails the connection when the server does not agree on the sip subprotocol', async () => {
    const server = await startServer({ selectSip: false });
    const socket = new WsSocket({ url: server.url });
    const t = track(socket);
    socket.connect();
    await t.disconnected;
    expect(t.disconnects[0]?.error).toBe(true);
    expect(t.states).toEqual([WsSocketState.Connecting, WsSocketState.Disconnected]);
    expect(t.errors.map((e) => e.message).join()).toMatch(/subprotocol/i);
  });

  it('reports a refused connection as an error disconnect', async () => {
    const server = await startServer();
    const url = server.url;
    await cleanups.pop()!(); // stop the server: nothing listens on that port any more
    const socket = new WsSocket({ url });
    const t = track(socket);
    socket.connect();
    await t.disconnected;
    expect(t.disconnects[0]?.error).toBe(true);
    expect(t.errors[0]?.message).toMatch(/ECONNREFUSED/);
  });

  it('closes cleanly on disconnect() without calling ondisconnect, and can connect again', async () => {
    const { server, socket, t, peer } = await connectedSocket();
    const closeCode = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    socket.disconnect();
    expect(socket.state).toBe(WsSocketState.Closing);
    await expect(closeCode).resolves.toBe(1000);
    await until(() => socket.state === WsSocketState.Disconnected);
    expect(t.disconnects).toEqual([]);

    socket.connect();
    await server.nextConnection();
    await until(() => socket.isConnected());
    expect(t.states).toEqual(['connecting', 'connected', 'closing', 'disconnected', 'connecting', 'connected']);
  });

  it('aborts a handshake in progress on disconnect() without an unhandled error', async () => {
    const server = await startServer();
    const socket = new WsSocket({ url: server.url });
    const t = track(socket);
    socket.connect();
    socket.disconnect();
    expect(socket.state).toBe(WsSocketState.Disconnected);
    await new Promise((r) => setTimeout(r, 20));
    expect(t.disconnects).toEqual([]);
  });

  it('refuses URLs that are not ws: or wss:', () => {
    expect(() => new WsSocket({ url: 'http://127.0.0.1' })).toThrow('WsSocket: URL scheme must be ws: or wss: (got "http:")');
    expect(() => new WsSocket({ url: 'not a url' })).toThrow('WsSocket: invalid WebSocket URL "not a url"');
    expect(() => new WsSocket({ url: 'ws://127.0.0.1', trustedCertificatePem: 'x' })).toThrow('only applies to wss:');
  });

  describe('over TLS (wss:)', () => {
    async function tlsServer() {
      const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        curve: 'P-256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
      });
      const https = createHttpsServer({ key: pems.private, cert: pems.cert });
      const server = await startServer({ https });
      return { server, cert: pems.cert };
    }

    it('connects when the server certificate is the one we were told to trust', async () => {
      const { server, cert } = await tlsServer();
      const socket = new WsSocket({ url: server.url, trustedCertificatePem: cert });
      const t = track(socket);
      expect(socket.via_transport).toBe('WSS');
      socket.connect();
      await t.connected;
      expect(socket.isConnected()).toBe(true);
    });

    it('refuses an untrusted self-signed certificate', async () => {
      const { server } = await tlsServer();
      const socket = new WsSocket({ url: server.url });
      const t = track(socket);
      socket.connect();
      await t.disconnected;
      expect(t.disconnects[0]?.error).toBe(true);
      expect(t.errors[0]?.message).toMatch(/self[- ]signed/i);
    });
  });
});
