import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { devCertificate, generateDevCertificate } from '../transport/dev-certificate';
import { isLoopback, openWireClient, withTopViaSentBy } from './wire-client';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const RESPONSE = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: w1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';

describe('withTopViaSentBy', () => {
  it('replaces the transport and adds the port when the sent-by has none', () => {
    const out = withTopViaSentBy(bytes('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP host9.example.com;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP x:1\r\n\r\n'), 'UDP', 4000);
    expect(text(out)).toBe('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP host9.example.com:4000;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP x:1\r\n\r\n');
  });

  it('replaces an existing port, keeps folding and odd spacing, and finds the compact form', () => {
    const folded = 'INVITE sip:a@b SIP/2.0\r\nv:  SIP  / 2.0  / TCP     spindle.example.com : 5070  ;\r\n  branch  =   z9hG4bK9ikj8\r\n\r\nbody';
    expect(text(withTopViaSentBy(bytes(folded), 'UDP', 9))).toBe('INVITE sip:a@b SIP/2.0\r\nv:  SIP  / 2.0  / UDP     spindle.example.com:9  ;\r\n  branch  =   z9hG4bK9ikj8\r\n\r\nbody');
    const split = 'INVITE sip:a@b SIP/2.0\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n\r\n';
    expect(text(withTopViaSentBy(bytes(split), 'UDP', 7))).toBe('INVITE sip:a@b SIP/2.0\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2:7;branch=390skdjuw\r\n\r\n');
    const v6 = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK1\r\n\r\n';
    expect(text(withTopViaSentBy(bytes(v6), 'UDP', 7))).toContain('Via: SIP/2.0/UDP [2001:db8::9]:7;branch');
  });

  it('leaves a message without a recognisable top Via alone', () => {
    const none = bytes('OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n');
    expect(withTopViaSentBy(none, 'UDP', 1)).toBe(none);
    const broken = bytes('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0\r\n\r\n');
    expect(withTopViaSentBy(broken, 'UDP', 1)).toBe(broken);
  });
});

describe('openWireClient', () => {
  it('refuses any target that is not loopback', async () => {
    expect(isLoopback('127.0.0.1') && isLoopback('127.9.8.7') && isLoopback('::1')).toBe(true);
    expect(isLoopback('192.0.2.1') || isLoopback('::') || isLoopback('1270.0.0.1')).toBe(false);
    await expect(openWireClient('udp', { host: '192.0.2.1', port: 5060 })).rejects.toThrow(/not a loopback/);
  });

  it('over UDP, sends bytes as they are and parses the answer; keeps what does not parse', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    server.on('message', (msg, from) => {
      server.send(msg.toString('latin1') === 'ping' ? RESPONSE : 'garbage', from.port, from.address);
    });
    const client = await openWireClient('udp', { host: '127.0.0.1', port: server.address().port });
    try {
      await client.send(bytes('junk'));
      await client.send(bytes('ping'));
      const answer = await client.waitFor((m) => m.type === 'response', 5_000);
      expect(answer?.type === 'response' && answer.status).toBe(200);
      expect(client.received.map((r) => r.kind)).toEqual(['garbage', 'message']);
      expect(client.closed).toBe(false);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('over UDP, exchange sends again until answered (the first two copies are lost here)', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    let seen = 0;
    server.on('message', (_msg, from) => {
      if (++seen === 3) server.send(RESPONSE, from.port, from.address);
    });
    const client = await openWireClient('udp', { host: '127.0.0.1', port: server.address().port });
    try {
      const answer = await client.exchange(bytes('ping'), (m) => m.type === 'response', 5_000);
      expect(answer?.type === 'response' && answer.status).toBe(200);
      expect(seen).toBeGreaterThanOrEqual(3);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('over TCP, frames answers split across writes, and reports the close', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => {
        socket.write(RESPONSE.slice(0, 20));
        setImmediate(() => socket.end(RESPONSE.slice(20)));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const client = await openWireClient('tcp', { host: '127.0.0.1', port });
    try {
      await client.send(bytes('hello'));
      const answer = await client.waitFor((m) => m.type === 'response' && m.headers.get('Call-ID') === 'w1', 5_000);
      expect(answer?.type === 'response' && answer.status).toBe(200);
      expect(await client.waitClosed(5_000)).toBe(true);
      expect(await client.waitFor(() => false, 5_000)).toBeUndefined();
      await expect(client.send(bytes('more'))).rejects.toThrow(/closed/);
    } finally {
      await client.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('over TLS, verifies the server against the CA given, then frames answers like TCP', async () => {
    const cert = await devCertificate();
    const server = createTlsServer({ key: cert.key, cert: cert.cert }, (socket) => {
      socket.once('data', () => socket.end(RESPONSE));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const client = await openWireClient('tls', { host: '127.0.0.1', port }, { ca: cert.cert });
    try {
      expect(client.transport).toBe('tls');
      await client.send(bytes('hello'));
      const answer = await client.waitFor((m) => m.type === 'response' && m.headers.get('Call-ID') === 'w1', 5_000);
      expect(answer?.type === 'response' && answer.status).toBe(200);
      expect(await client.waitClosed(5_000)).toBe(true);
    } finally {
      await client.close();
    }
    // a server whose certificate another CA signed is refused, and TLS without a CA is refused up front
    const stranger = await generateDevCertificate(1);
    await expect(openWireClient('tls', { host: '127.0.0.1', port }, { ca: stranger.cert })).rejects.toThrow();
    await expect(openWireClient('tls', { host: '127.0.0.1', port })).rejects.toThrow(/CA/);
    await new Promise<void>((r) => server.close(() => r()));
  });
});
