import { describe, expect, it } from 'vitest';
import { utf8 } from '../common/bytes';
import { MsrpConnection, MsrpConnectionState } from './msrp-connection';
import { newLocalMsrpUri } from './msrp-ids';
import type { MsrpMessage, MsrpRequest, MsrpResponse } from './msrp-message';
import { MsrpStreamParser } from './msrp-parser';
import { MsrpSession, MsrpSessionState, type ReceivedMsrpMessage } from './msrp-session';
import { formatMsrpUri, msrpUriKey, type MsrpUri } from './msrp-uri';
import { flush, MemoryDuplex } from './testing/memory-pipe';

/** A device (active) and a server (passive) with one session each, joined in memory. */
function setup(options: { clock?: () => number; activeHighWaterMark?: number; maxMessageBytes?: number; chunkSize?: number } = {}) {
  const serverUri = newLocalMsrpUri('127.0.0.1', 5000);
  const deviceUri = newLocalMsrpUri('::1', 6000);
  const serverSession = new MsrpSession({ localUri: serverUri, remotePath: [deviceUri], reassembly: { maxMessageBytes: options.maxMessageBytes ?? 16 << 20 } });
  const deviceSession = new MsrpSession({
    localUri: deviceUri,
    remotePath: [serverUri],
    highWaterMark: options.activeHighWaterMark ?? 1 << 20,
    ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
  });
  const waiting = new Map<string, MsrpSession>([[msrpUriKey(serverUri), serverSession]]);
  const deviceOut = new MemoryDuplex();
  const serverOut = new MemoryDuplex();
  const device = new MsrpConnection({ transport: deviceOut, role: 'active', now: options.clock ?? (() => 0) });
  const server = new MsrpConnection({ transport: serverOut, role: 'passive', resolveSession: (u) => waiting.get(msrpUriKey(u)), now: options.clock ?? (() => 0) });
  const run = (): number => flush(deviceOut, device, serverOut, server);
  return { serverUri, deviceUri, serverSession, deviceSession, deviceOut, serverOut, device, server, waiting, run };
}

function parseAll(chunks: Uint8Array[]): MsrpMessage[] {
  const p = new MsrpStreamParser();
  return chunks.flatMap((c) => p.push(c));
}

function received(session: MsrpSession): ReceivedMsrpMessage[] {
  const out: ReceivedMsrpMessage[] = [];
  session.on('message', (m) => out.push(m));
  return out;
}

function rawSend(to: MsrpUri, from: MsrpUri, extra: string, body?: string, tid = 'raw12345'): Uint8Array {
  const head = `MSRP ${tid} SEND\r\nTo-Path: ${formatMsrpUri(to)}\r\nFrom-Path: ${formatMsrpUri(from)}\r\n${extra}`;
  return utf8(body === undefined ? `${head}-------${tid}$\r\n` : `${head}Content-Type: text/plain\r\n\r\n${body}\r\n-------${tid}$\r\n`);
}

describe('MsrpConnection binding (RFC 4975 §5.4, PROFILE.md)', () => {
  it('sends a bodiless SEND at once and binds both sides when it is answered', () => {
    const t = setup();
    const deviceStates: string[] = [];
    const serverStates: string[] = [];
    t.deviceSession.on('stateChange', (s) => deviceStates.push(s));
    t.serverSession.on('stateChange', (s) => serverStates.push(s));
    const bound: MsrpSession[] = [];
    t.server.on('sessionBound', (s) => bound.push(s));
    t.device.attach(t.deviceSession);
    const [binding] = parseAll([...t.deviceOut.queue]) as MsrpRequest[];
    expect(binding).toMatchObject({ kind: 'request', method: 'SEND', body: undefined });
    expect(binding!.headers.get('Byte-Range')).toBe('1-0/0');
    t.run();
    expect(deviceStates).toEqual(['binding', 'active']);
    expect(serverStates).toEqual(['active']);
    expect(bound).toEqual([t.serverSession]);
    expect(t.device.state).toBe(MsrpConnectionState.Bound);
    expect(t.server.state).toBe(MsrpConnectionState.Bound);
  });

  it('uses the first chunk of a queued message as the binding SEND', () => {
    const t = setup();
    const got = received(t.serverSession);
    t.deviceSession.send(utf8('hello'), 'text/plain');
    t.device.attach(t.deviceSession);
    const first = parseAll([...t.deviceOut.queue]);
    expect(first).toHaveLength(1);
    expect((first[0] as MsrpRequest).body).toEqual(utf8('hello'));
    t.run();
    expect(got.map((m) => new TextDecoder().decode(m.body))).toEqual(['hello']);
  });

  it('closes the active session when its binding SEND is answered 481', () => {
    const t = setup();
    t.waiting.clear();
    t.device.attach(t.deviceSession);
    t.run();
    expect(t.deviceSession.state).toBe(MsrpSessionState.Closed);
    expect(t.device.sessionCount).toBe(0);
  });

  it('answers 506 when a session is already bound to another connection', () => {
    const t = setup();
    t.device.attach(t.deviceSession);
    t.run();
    const otherOut = new MemoryDuplex();
    const other = new MsrpConnection({ transport: otherOut, role: 'passive', resolveSession: () => t.serverSession });
    other.receive(rawSend(t.serverUri, t.deviceUri, 'Message-ID: m1234\r\nByte-Range: 1-0/0\r\n'));
    expect((parseAll(otherOut.queue)[0] as MsrpResponse).status).toBe(506);
  });

  it('answers 481 when the From-Path is not the session peer', () => {
    const t = setup();
    const stranger = newLocalMsrpUri('10.0.0.9', 1);
    t.server.receive(rawSend(t.serverUri, stranger, 'Message-ID: m1234\r\nByte-Range: 1-0/0\r\n'));
    const res = parseAll(t.serverOut.queue)[0] as MsrpResponse;
    expect(res.status).toBe(481);
    expect(res.headers.get('To-Path')).toBe(formatMsrpUri(stranger));
    expect(t.serverSession.state).toBe(MsrpSessionState.Idle);
  });
});

describe('MsrpConnection answering requests (RFC 4975 §7)', () => {
  function bound(options: Parameters<typeof setup>[0] = {}) {
    const t = setup(options);
    t.device.attach(t.deviceSession);
    t.run();
    t.serverOut.drain();
    return t;
  }

  it.each([
    ['no Message-ID', 'Byte-Range: 1-2/2\r\n', 'hi', 400],
    ['a bad Byte-Range', 'Message-ID: m1234\r\nByte-Range: 0-2/2\r\n', 'hi', 400],
    ['a bad Failure-Report', 'Message-ID: m1234\r\nFailure-Report: sometimes\r\n', 'hi', 400],
    ['a Byte-Range that does not match the body', 'Message-ID: m1234\r\nByte-Range: 1-5/5\r\n', 'hi', 400],
  ])('answers 400 to a SEND with %s and keeps the connection', (_name, headers, body, status) => {
    const t = bound();
    t.server.receive(rawSend(t.serverUri, t.deviceUri, headers, body));
    expect((parseAll(t.serverOut.drain())[0] as MsrpResponse).status).toBe(status);
    expect(t.server.state).toBe(MsrpConnectionState.Bound);
  });

  it('answers 501 to an unknown method and never answers a REPORT', () => {
    const t = bound();
    t.server.receive(utf8(`MSRP xyz12345 FROB\r\nTo-Path: ${formatMsrpUri(t.serverUri)}\r\nFrom-Path: ${formatMsrpUri(t.deviceUri)}\r\n-------xyz12345$\r\n`));
    expect(parseAll(t.serverOut.drain())).toMatchObject([{ kind: 'response', status: 501, transactionId: 'xyz12345' }]);
    t.server.receive(utf8(`MSRP rep12345 REPORT\r\nTo-Path: ${formatMsrpUri(t.serverUri)}\r\nFrom-Path: ${formatMsrpUri(t.deviceUri)}\r\nMessage-ID: m1234\r\nStatus: 000 200 OK\r\n-------rep12345$\r\n`));
    expect(t.serverOut.queue).toHaveLength(0);
  });

  it('sends no 200 under Failure-Report no or partial, but still the error under partial', () => {
    const t = bound();
    t.server.receive(rawSend(t.serverUri, t.deviceUri, 'Message-ID: m1234\r\nByte-Range: 1-2/2\r\nFailure-Report: no\r\n', 'hi'));
    t.server.receive(rawSend(t.serverUri, t.deviceUri, 'Message-ID: m5678\r\nByte-Range: 1-2/2\r\nFailure-Report: partial\r\n', 'hi'));
    expect(t.serverOut.queue).toHaveLength(0);
    t.server.receive(rawSend(t.serverUri, t.deviceUri, 'Message-ID: m9999\r\nByte-Range: 1-9/9\r\nFailure-Report: partial\r\n', 'hi'));
    expect((parseAll(t.serverOut.drain())[0] as MsrpResponse).status).toBe(400);
  });

  it('refuses a message over the size bound with 413, which fails the sender', async () => {
    const t = setup({ maxMessageBytes: 10_000 });
    t.device.attach(t.deviceSession);
    const big = t.deviceSession.send(new Uint8Array(50_000), 'application/octet-stream');
    const small = t.deviceSession.send(utf8('after'), 'text/plain');
    const got = received(t.serverSession);
    t.run();
    expect(await big.done).toMatchObject({ ok: false, status: 413 });
    expect(await small.done).toEqual({ ok: true, messageId: small.messageId });
    expect(got.map((m) => m.messageId)).toEqual([small.messageId]);
  });

  it('sends a success REPORT when asked and delivers it to the sender', () => {
    const t = bound();
    const reports: unknown[] = [];
    t.deviceSession.on('report', (r) => reports.push(r));
    const m = t.deviceSession.send(new Uint8Array(5000), 'application/octet-stream', { successReport: true });
    t.run();
    expect(reports).toEqual([{ messageId: m.messageId, status: { namespace: 0, code: 200, comment: 'OK' }, byteRange: { start: 1, end: 5000, total: 5000 } }]);
  });

  it('tells the receiver when the sender aborts a message midway', async () => {
    const t = bound({ chunkSize: 2048 }); // fixed 2 KiB chunks: more than one window of them
    const aborted: string[] = [];
    t.serverSession.on('messageAborted', (id) => aborted.push(id));
    const got = received(t.serverSession);
    const m = t.deviceSession.send(new Uint8Array(600_000), 'application/octet-stream'); // more than 256 chunks: over one window
    // Deliver the first window of chunks to the server, holding its responses back; then abort.
    for (const bytes of t.deviceOut.drain()) t.server.receive(bytes);
    expect(t.serverOut.queue.length).toBeGreaterThan(1);
    expect(t.deviceSession.abort(m.messageId)).toBe(true);
    t.run();
    expect(await m.done).toMatchObject({ ok: false, status: 0, comment: 'aborted' });
    expect(aborted).toEqual([m.messageId]);
    expect(got).toHaveLength(0);
  });

  it('closes on unparseable input with an error event, without throwing', () => {
    const t = bound();
    const errors: Error[] = [];
    t.server.on('error', (e) => errors.push(e));
    expect(() => t.server.receive(utf8('GARBAGE\r\n'))).not.toThrow();
    expect(errors[0]?.message).toMatch(/start line/);
    expect(t.server.state).toBe(MsrpConnectionState.Closed);
    expect(t.serverOut.closed).toBe(true);
    expect(t.serverSession.state).toBe(MsrpSessionState.Closed);
  });
});

describe('MsrpConnection transactions and flow control', () => {
  it('fails a chunk with 408 when no response comes within the timeout', async () => {
    let now = 1000;
    const t = setup({ clock: () => now });
    t.device.attach(t.deviceSession);
    t.run();
    const m = t.deviceSession.send(utf8('lost'), 'text/plain');
    t.deviceOut.drain(); // the SEND is lost on the wire
    expect(t.device.nextDeadline()).toBe(31_000);
    now = 30_999;
    expect(t.device.expireTransactions()).toBe(0);
    now = 31_000;
    expect(t.device.expireTransactions()).toBe(1);
    expect(await m.done).toMatchObject({ ok: false, status: 408 });
    expect(t.device.nextDeadline()).toBeUndefined();
  });

  it('keeps at most maxOutstanding transactions in flight', () => {
    const t = setup();
    const out = new MemoryDuplex();
    const conn = new MsrpConnection({ transport: out, role: 'active', maxOutstanding: 4 });
    const s = new MsrpSession({ localUri: t.deviceUri, remotePath: [t.serverUri], chunkSize: 10 });
    conn.attach(s);
    s.send(new Uint8Array(1000), 'application/octet-stream');
    expect(conn.outstandingTransactions).toBe(1); // only the binding SEND until it is answered
    const p = new MsrpStreamParser();
    const binding = p.push(out.drain()[0]!)[0]!;
    conn.receive(utf8(`MSRP ${binding.transactionId} 200 OK\r\nTo-Path: ${formatMsrpUri(t.deviceUri)}\r\nFrom-Path: ${formatMsrpUri(t.serverUri)}\r\n-------${binding.transactionId}$\r\n`));
    expect(conn.outstandingTransactions).toBe(4);
    expect(out.queue).toHaveLength(4);
  });

  it('settles a Failure-Report: no message once written, without waiting for responses', async () => {
    const t = setup();
    t.device.attach(t.deviceSession);
    t.run();
    const got = received(t.serverSession);
    const answeredBefore = t.serverOut.written;
    const m = t.deviceSession.send(new Uint8Array(5000), 'application/octet-stream', { failureReport: 'no' });
    expect(t.device.outstandingTransactions).toBe(0);
    expect(await m.done).toEqual({ ok: true, messageId: m.messageId });
    const sent = parseAll([...t.deviceOut.queue]) as MsrpRequest[];
    // Chunks ramp up from 2 KiB: 2048 + 2952 bytes.
    expect(sent.map((r) => [r.headers.get('Failure-Report'), r.body?.length])).toEqual([
      ['no', 2048],
      ['no', 2952],
    ]);
    t.run();
    expect(t.serverOut.written).toBe(answeredBefore); // the receiver answered none of the chunks
    expect(got).toHaveLength(1);
  });

  it('ignores a response whose transaction it does not know', () => {
    const t = setup();
    t.device.attach(t.deviceSession);
    t.run();
    expect(() => t.device.receive(utf8(`MSRP zzzz9999 200 OK\r\nTo-Path: ${formatMsrpUri(t.deviceUri)}\r\nFrom-Path: ${formatMsrpUri(t.serverUri)}\r\n-------zzzz9999$\r\n`))).not.toThrow();
    expect(t.device.state).toBe(MsrpConnectionState.Bound);
  });

  it('stops writing when the transport pushes back and resumes on transportDrained', () => {
    const t = setup();
    t.device.attach(t.deviceSession);
    t.run();
    t.deviceOut.writeResult = false;
    t.deviceSession.send(new Uint8Array(20_000), 'application/octet-stream');
    expect(t.deviceOut.queue).toHaveLength(1);
    t.deviceOut.writeResult = undefined;
    t.device.transportDrained();
    expect(t.deviceOut.queue.length).toBeGreaterThan(1);
  });

  it('signals back-pressure through bufferedAmount, accepted and drain', () => {
    const t = setup({ activeHighWaterMark: 10_000 });
    const drains: number[] = [];
    t.deviceSession.on('drain', () => drains.push(t.deviceSession.bufferedAmount));
    const a = t.deviceSession.send(new Uint8Array(8_000), 'application/octet-stream');
    const b = t.deviceSession.send(new Uint8Array(8_000), 'application/octet-stream');
    const c = t.deviceSession.send(new Uint8Array(8_000), 'application/octet-stream');
    expect([a.accepted, b.accepted, c.accepted]).toEqual([true, true, false]);
    expect(t.deviceSession.bufferedAmount).toBe(24_000);
    expect(t.deviceSession.needsDrain).toBe(true);
    t.device.attach(t.deviceSession);
    t.run();
    expect(t.deviceSession.bufferedAmount).toBe(0);
    expect(drains).toHaveLength(1);
    expect(drains[0]).toBeLessThan(10_000);
  });

  it('fails pending messages with status 0 when the transport closes', async () => {
    const t = setup();
    t.device.attach(t.deviceSession);
    t.run();
    const m = t.deviceSession.send(utf8('x'), 'text/plain');
    t.device.transportClosed();
    expect(await m.done).toMatchObject({ ok: false, status: 0 });
    expect(t.deviceSession.state).toBe(MsrpSessionState.Closed);
    expect(t.deviceOut.closed).toBe(false);
    expect(() => t.deviceSession.send(utf8('y'), 'text/plain')).toThrow(TypeError);
  });

  it('routes the messages of several sessions sharing one connection by To-Path', () => {
    const t = setup();
    const extraServer = newLocalMsrpUri('127.0.0.1', 5000);
    const extraDevice = newLocalMsrpUri('::1', 6000);
    const s2 = new MsrpSession({ localUri: extraServer, remotePath: [extraDevice] });
    const d2 = new MsrpSession({ localUri: extraDevice, remotePath: [extraServer] });
    t.waiting.set(msrpUriKey(extraServer), s2);
    t.device.attach(t.deviceSession);
    t.device.attach(d2);
    const got1 = received(t.serverSession);
    const got2 = received(s2);
    const back = received(d2);
    t.deviceSession.send(utf8('to one'), 'text/plain');
    d2.send(utf8('to two'), 'text/plain');
    t.run();
    s2.send(utf8('back to two'), 'text/plain');
    t.run();
    expect(got1.map((m) => new TextDecoder().decode(m.body))).toEqual(['to one']);
    expect(got2.map((m) => new TextDecoder().decode(m.body))).toEqual(['to two']);
    expect(back.map((m) => new TextDecoder().decode(m.body))).toEqual(['back to two']);
    expect(t.server.sessionCount).toBe(2);
    d2.close();
    expect(t.device.sessionCount).toBe(1);
  });
});

describe('MsrpConnection under hostile input', () => {
  it('never throws from receive() on mutated SENDs, whatever the bytes', () => {
    let seed = 99;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const t = setup();
    const valid = rawSend(t.serverUri, t.deviceUri, 'Message-ID: m1234\r\nByte-Range: 1-5/5\r\n', 'hello');
    const alphabet = utf8('\r\n-$+#:/ 0123456789;MSRPSENDabcdTo-Path');
    for (let round = 0; round < 300; round++) {
      const out = new MemoryDuplex();
      const conn = new MsrpConnection({ transport: out, role: 'passive', resolveSession: () => new MsrpSession({ localUri: t.serverUri }) });
      conn.on('error', () => undefined);
      const bytes = valid.slice();
      for (let k = 0; k < 1 + rnd(6); k++) bytes[rnd(bytes.length)] = alphabet[rnd(alphabet.length)]!;
      expect(() => {
        conn.receive(bytes);
        conn.receive(valid);
      }).not.toThrow();
    }
  });
});
