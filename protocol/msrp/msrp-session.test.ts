import { describe, expect, it } from 'vitest';
import { utf8 } from '../common/bytes';
import { MsrpConnection } from './msrp-connection';
import { newLocalMsrpUri, newSessionId, newTransactionId } from './msrp-ids';
import { IDENT } from './msrp-message';
import { MsrpSession, MsrpSessionState, type MsrpSessionCarrier, type ReceivedMsrpChunk, type ReceivedMsrpMessage, type MsrpSendOutcome, type OutgoingStream } from './msrp-session';
import { parseMsrpUri } from './msrp-uri';
import { flush, MemoryDuplex } from './testing/memory-pipe';

const nullCarrier: MsrpSessionCarrier = { wake: () => undefined, writeUnacknowledged: () => undefined, detach: () => undefined };

describe('MsrpSession state machine', () => {
  it('throws on a transition the diagram does not allow', () => {
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [newLocalMsrpUri('p', 2)] });
    s.close();
    expect(s.state).toBe(MsrpSessionState.Closed);
    expect(() => s.attachActive(nullCarrier)).toThrow('illegal MSRP session transition closed → binding');
  });

  it('refuses to attach a session twice, without a remote path, or on the passive side', () => {
    const remote = newLocalMsrpUri('p', 2);
    const conn = new MsrpConnection({ transport: new MemoryDuplex(), role: 'active' });
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [remote] });
    conn.attach(s);
    expect(() => conn.attach(s)).toThrow(TypeError);
    expect(() => conn.attach(new MsrpSession({ localUri: newLocalMsrpUri('h', 1) }))).toThrow('remote path');
    const passive = new MsrpConnection({ transport: new MemoryDuplex(), role: 'passive' });
    expect(() => passive.attach(new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [remote] }))).toThrow('passive');
  });

  it('requires a session-id in its URI and validates what it is asked to send', () => {
    expect(() => new MsrpSession({ localUri: parseMsrpUri('msrp://relay.example:1;tcp') })).toThrow('session-id');
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1) });
    expect(() => s.send(utf8('x'), 'text/plain\r\nEvil: 1')).toThrow(TypeError);
    expect(() => s.send(utf8('x'), 'text/plain', { messageId: 'no spaces allowed' })).toThrow(TypeError);
  });

  it('fails queued messages with status 0 on close', async () => {
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1) });
    const m = s.send(utf8('x'), 'text/plain');
    s.close();
    expect(await m.done).toEqual({ ok: false, messageId: m.messageId, status: 0, comment: 'session closed' });
  });
});

describe('MSRP identifiers', () => {
  it('makes transaction ids of ≥64 bits and session ids of ≥80 bits within the ident grammar', () => {
    const tid = newTransactionId();
    expect(tid.length * Math.log2(62)).toBeGreaterThanOrEqual(64);
    expect(IDENT.test(tid)).toBe(true);
    expect(newSessionId().length * Math.log2(62)).toBeGreaterThanOrEqual(80);
  });
});

/** A device (active) and a server (passive) session joined in memory. */
function joined() {
  const serverUri = newLocalMsrpUri('127.0.0.1', 5000);
  const deviceUri = newLocalMsrpUri('127.0.0.1', 6000);
  const server = new MsrpSession({ localUri: serverUri, remotePath: [deviceUri] });
  const device = new MsrpSession({ localUri: deviceUri, remotePath: [serverUri] });
  const deviceOut = new MemoryDuplex();
  const serverOut = new MemoryDuplex();
  const deviceConn = new MsrpConnection({ transport: deviceOut, role: 'active' });
  const serverConn = new MsrpConnection({ transport: serverOut, role: 'passive', resolveSession: () => server });
  deviceConn.attach(device);
  const run = (): number => flush(deviceOut, deviceConn, serverOut, serverConn);
  run();
  return { server, device, deviceConn, serverConn, deviceOut, serverOut, run };
}

describe('MsrpSession chunk-level relaying', () => {
  it('sends a stream chunk by chunk as chunks are pushed, and settles it after the last acknowledgement', async () => {
    const t = joined();
    const got: ReceivedMsrpMessage[] = [];
    t.server.on('message', (m) => got.push(m));
    const stream = t.device.sendStream('text/plain', { messageId: 'relayed0001' });
    let settled = false;
    void stream.done.then(() => (settled = true));
    expect(stream.push({ body: utf8('Hello, '), byteRange: { start: 1, end: 7, total: 12 }, continuation: '+' })).toBe(true);
    t.run();
    expect(got).toEqual([]);
    stream.push({ body: utf8('Bob!!'), byteRange: { start: 8, end: 12, total: 12 }, continuation: '$' });
    t.run();
    expect(got.map((m) => [m.messageId, new TextDecoder().decode(m.body)])).toEqual([['relayed0001', 'Hello, Bob!!']]);
    expect(await stream.done).toEqual({ ok: true, messageId: 'relayed0001' });
    expect(settled).toBe(true);
  });

  it('tells a stream owner the outcome through onDone, once and at once, with done still available later', async () => {
    const t = joined();
    const outcomes: unknown[] = [];
    const stream = t.device.sendStream('text/plain', { messageId: 'relayed0002', onDone: (o) => outcomes.push(o) });
    stream.push({ body: utf8('one'), byteRange: { start: 1, end: 3, total: 6 }, continuation: '+' });
    t.run();
    expect(outcomes).toEqual([]); // one chunk of two acknowledged: not done yet
    stream.push({ body: utf8('two'), byteRange: { start: 4, end: 6, total: 6 }, continuation: '$' });
    t.run();
    // Called synchronously with the last acknowledgement, before any promise job ran.
    expect(outcomes).toEqual([{ ok: true, messageId: 'relayed0002' }]);
    expect(await stream.done).toEqual({ ok: true, messageId: 'relayed0002' });
    expect(outcomes).toHaveLength(1);
  });

  it('reports a refused stream through onDone with the status of the refusal', () => {
    const t = joined();
    t.server.handleChunksWith(() => ({ status: 415, comment: 'not that' }));
    const outcomes: unknown[] = [];
    const stream = t.device.sendStream('application/x-odd', { messageId: 'relayed0003', onDone: (o) => outcomes.push(o) });
    stream.push({ body: utf8('x'), byteRange: { start: 1, end: 1, total: 1 }, continuation: '$' });
    t.run();
    expect(outcomes).toEqual([{ ok: false, messageId: 'relayed0003', status: 415, comment: 'not that' }]);
  });

  it('lets one onDone serve many streams, telling them apart by the tag each was given', () => {
    const t = joined();
    t.server.handleChunksWith((chunk) => (chunk.messageId === 'relayed0005' ? { status: 415, comment: 'not that one' } : { status: 200 }));
    const settled: Array<[string | undefined, boolean, string]> = [];
    const onDone = (outcome: MsrpSendOutcome, stream: OutgoingStream<{ name: string }>): void => {
      settled.push([stream.tag?.name, outcome.ok, stream.messageId]);
    };
    const streams = ['relayed0004', 'relayed0005', 'relayed0006'].map((messageId, i) =>
      t.device.sendStream<{ name: string }>('text/plain', { messageId, onDone, tag: { name: `record ${i}` } }),
    );
    for (const stream of streams) stream.push({ body: utf8('x'), byteRange: { start: 1, end: 1, total: 1 }, continuation: '$' });
    t.run();
    expect(settled).toEqual([
      ['record 0', true, 'relayed0004'],
      ['record 1', false, 'relayed0005'],
      ['record 2', true, 'relayed0006'],
    ]);
    expect(streams.map((s) => s.tag?.name)).toEqual(['record 0', 'record 1', 'record 2']);
  });

  it('holds back the 200 of a chunk whose handler says so until releaseHeldResponses, and drops it on close', async () => {
    const t = joined();
    t.server.handleChunksWith(() => ({ status: 200, holdResponse: true }));
    let settled = false;
    const first = t.device.send(utf8('one'), 'text/plain');
    void first.done.then(() => (settled = true));
    t.run();
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(t.server.heldResponseCount).toBe(1);
    expect(t.server.releaseHeldResponses()).toBe(1);
    t.run();
    expect(await first.done).toMatchObject({ ok: true });
    expect(t.server.heldResponseCount).toBe(0);
    t.device.send(utf8('two'), 'text/plain');
    t.run();
    expect(t.server.heldResponseCount).toBe(1);
    t.server.close();
    expect(t.server.heldResponseCount).toBe(0);
    expect(t.server.releaseHeldResponses()).toBe(0);
  });

  it('hands every incoming chunk to a chunk handler as it arrives, answering with its verdict', async () => {
    const t = joined();
    const chunks: ReceivedMsrpChunk[] = [];
    const messages: ReceivedMsrpMessage[] = [];
    t.server.on('message', (m) => messages.push(m));
    t.server.handleChunksWith((c) => {
      chunks.push(c);
      return chunks.length === 2 ? { status: 413, comment: 'too much' } : { status: 200 };
    });
    const first = t.device.send(new Uint8Array(5000).fill(0x41), 'text/plain', { messageId: 'chunked0001' });
    t.run();
    // Both chunks (2 KiB, then twice that at most) were on the wire before the 413 came back (pipelined).
    expect(chunks.map((c) => [c.byteRange.start, c.continuation, c.body.length])).toEqual([
      [1, '+', 2048],
      [2049, '$', 2952],
    ]);
    expect(await first.done).toMatchObject({ ok: false, status: 413, comment: 'too much' });
    const second = t.device.send(utf8('hi'), 'text/plain');
    t.run();
    expect(await second.done).toMatchObject({ ok: true });
    expect(chunks[2]).toMatchObject({ messageId: second.messageId, contentType: 'text/plain', continuation: '$' });
    expect(messages).toEqual([]);
  });

  it('answers 400 in chunk mode to a chunk whose body does not match its Byte-Range', () => {
    const t = joined();
    const chunks: ReceivedMsrpChunk[] = [];
    t.server.handleChunksWith((c) => (chunks.push(c), { status: 200 }));
    const stream = t.device.sendStream('text/plain');
    stream.push({ body: utf8('abc'), byteRange: { start: 1, end: 10, total: 10 }, continuation: '$' });
    t.run();
    expect(chunks).toEqual([]);
    return expect(stream.done).resolves.toMatchObject({ ok: false, status: 400 });
  });

  it('parks chunks that arrive before their handler, answers them 200, and hands them over in order', () => {
    const t = joined();
    t.server.parkChunks(2000);
    const first = t.device.send(utf8('one'), 'text/plain');
    const second = t.device.send(utf8('two'), 'text/plain');
    const tooMuch = t.device.send(new Uint8Array(4000), 'application/octet-stream');
    t.run();
    const seen: string[] = [];
    t.server.handleChunksWith((c) => (seen.push(new TextDecoder().decode(c.body)), { status: 200 }));
    expect(seen).toEqual(['one', 'two']);
    return Promise.all([first.done, second.done, tooMuch.done]).then(([a, b, c]) => {
      expect([a.ok, b.ok]).toEqual([true, true]);
      expect(c).toMatchObject({ ok: false, status: 413 });
    });
  });

  it('reassembles parked chunks into messages when no handler comes', () => {
    const t = joined();
    t.server.parkChunks(64 * 1024);
    const got: string[] = [];
    t.server.on('message', (m) => got.push(new TextDecoder().decode(m.body)));
    t.device.send(utf8('x'.repeat(5000)), 'text/plain');
    t.run();
    expect(got).toEqual([]);
    t.server.handleChunksWith(undefined);
    expect(got).toEqual(['x'.repeat(5000)]);
  });

  it('says why it closed: by its owner, by losing its connection, or refused by the peer', () => {
    const local = joined();
    local.device.close();
    expect(local.device.closeInfo).toEqual({ cause: 'local', reason: 'session closed' });
    const lost = joined();
    lost.deviceConn.transportClosed();
    expect(lost.device.closeInfo).toEqual({ cause: 'connection-lost', reason: 'connection closed' });
    const refused = new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [newLocalMsrpUri('p', 2)] });
    const out = new MemoryDuplex();
    const peerOut = new MemoryDuplex();
    const conn = new MsrpConnection({ transport: out, role: 'active' });
    const peer = new MsrpConnection({ transport: peerOut, role: 'passive', resolveSession: () => undefined });
    conn.attach(refused);
    flush(out, conn, peerOut, peer);
    expect(refused.closeInfo?.cause).toBe('refused');
    expect(refused.closeInfo?.reason).toMatch(/^peer answered 481/);
  });

  it('tolerates its owner closing the connection from a stateChange listener while it closes', () => {
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [newLocalMsrpUri('p', 2)] });
    const conn = new MsrpConnection({ transport: new MemoryDuplex(), role: 'active' });
    conn.attach(s); // the binding SEND is outstanding
    s.on('stateChange', (state) => state === MsrpSessionState.Closed && conn.close());
    expect(() => s.close()).not.toThrow();
    expect(conn.state).toBe('closed');
  });

  it('keeps a long queue in order while acknowledged messages leave it', async () => {
    const t = joined();
    const got: string[] = [];
    t.server.on('message', (m) => got.push(new TextDecoder().decode(m.body)));
    const outcomes = Array.from({ length: 2000 }, (_, i) => t.device.send(utf8(String(i)), 'text/plain').done);
    t.run();
    expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
    expect((await Promise.all(outcomes)).every((o) => o.ok)).toBe(true);
    expect(t.device.bufferedAmount).toBe(0);
  });
});
