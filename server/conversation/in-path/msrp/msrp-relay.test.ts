import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MsrpEndpoint } from '../../../../electron/device/chat/msrp/msrp-endpoint';
import { utf8 } from '../../../../protocol/common/bytes';
import { decodeCpim, encodeCpim } from '../../../../protocol/cpim/cpim';
import type { MsrpEndpointLimits } from '../../../../protocol/msrp/msrp-connection-pool';
import { newLocalMsrpUri } from '../../../../protocol/msrp/msrp-ids';
import { MsrpHeaders, type MsrpRequest } from '../../../../protocol/msrp/msrp-message';
import { MsrpStreamParser } from '../../../../protocol/msrp/msrp-parser';
import { serializeMsrp } from '../../../../protocol/msrp/msrp-serializer';
import { MsrpSession, type MsrpReport, type ReceivedMsrpMessage } from '../../../../protocol/msrp/msrp-session';
import { formatMsrpUri } from '../../../../protocol/msrp/msrp-uri';
import { checkWorkloadBody, mixedSizes, workloadBody } from '../../../../protocol/msrp/testing/workload';
import { MsrpRelay, type MsrpRelayOptions } from './msrp-relay';
import { MsrpServerEndpoint } from './msrp-server-endpoint';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serverEndpoint(limits?: Partial<MsrpEndpointLimits>): Promise<MsrpServerEndpoint> {
  const s = new MsrpServerEndpoint(limits ? { limits } : {});
  cleanups.push(() => s.close());
  await s.listen();
  return s;
}

async function device(limits?: Partial<MsrpEndpointLimits>): Promise<MsrpEndpoint> {
  const d = new MsrpEndpoint(limits ? { limits } : {});
  cleanups.push(() => d.close());
  await d.listen();
  return d;
}

/** A device session connected to a new leg of `server`: the device connects, the server is passive (PROFILE.md). */
async function leg(server: MsrpServerEndpoint, dev: MsrpEndpoint, options: { highWaterMark?: number; deviceChunkSize?: number } = {}) {
  const deviceUri = dev.newLocalUri();
  const { deviceChunkSize, ...legOptions } = options;
  const expected = server.expectLeg({ remotePath: [deviceUri], ...legOptions });
  const deviceSession = await dev.openSession({
    localUri: deviceUri,
    remotePath: [expected.session.localUri],
    setup: 'active',
    ...(deviceChunkSize !== undefined ? { chunkSize: deviceChunkSize } : {}),
  });
  await expected.bound;
  return { server: expected.session, device: deviceSession };
}

/** A/B devices relayed by one server. */
async function relayed(options: Partial<MsrpRelayOptions> = {}, limits: { a?: Partial<MsrpEndpointLimits>; b?: Partial<MsrpEndpointLimits> } = {}) {
  const server = await serverEndpoint();
  const a = await leg(server, await device(limits.a));
  const b = await leg(server, await device(limits.b));
  const relay = new MsrpRelay({ legA: a.server, legB: b.server, readControl: server, ...options });
  cleanups.push(() => relay.close());
  return { server, a, b, relay };
}

const indexOf = (body: Uint8Array): number => new DataView(body.buffer, body.byteOffset, 8).getFloat64(0);

function until(predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => (predicate() ? resolve() : void setTimeout(check, 5));
    check();
  });
}

/**
 * A device leg driven by hand over a raw socket: it binds, records every SEND and answers only when told,
 * and can stop reading (a slow or stuck device).
 */
async function rawDevice(server: MsrpServerEndpoint, highWaterMark?: number) {
  const uri = newLocalMsrpUri('127.0.0.1', 9);
  const expected = server.expectLeg({ remotePath: [uri], ...(highWaterMark ? { highWaterMark } : {}) });
  const socket: Socket = connect(server.listenAddress!.port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const parser = new MsrpStreamParser();
  const sends: MsrpRequest[] = [];
  const unanswered: MsrpRequest[] = [];
  let autoAnswer = false;
  const answer = (req: MsrpRequest): void => {
    const headers = new MsrpHeaders([
      { name: 'To-Path', value: req.headers.get('From-Path')! },
      { name: 'From-Path', value: formatMsrpUri(uri) },
    ]);
    socket.write(serializeMsrp({ kind: 'response', transactionId: req.transactionId, status: 200, comment: 'OK', headers }));
  };
  socket.on('data', (d) => {
    for (const m of parser.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))) {
      if (m.kind !== 'request' || m.method !== 'SEND') continue;
      sends.push(m);
      if (autoAnswer) answer(m);
      else unanswered.push(m);
    }
  });
  const to = formatMsrpUri(expected.session.localUri);
  socket.write(`MSRP bind0001 SEND\r\nTo-Path: ${to}\r\nFrom-Path: ${formatMsrpUri(uri)}\r\nMessage-ID: bind0001\r\nByte-Range: 1-0/0\r\n-------bind0001$\r\n`);
  await expected.bound;
  return {
    session: expected.session,
    socket,
    sends,
    /** Answer the first `n` SENDs that are waiting. */
    answerWaiting(n = unanswered.length): void {
      for (const req of unanswered.splice(0, n)) answer(req);
    },
    setAutoAnswer(on: boolean): void {
      autoAnswer = on;
      if (on) this.answerWaiting();
    },
    messageIds(): string[] {
      return sends.map((s) => s.headers.get('Message-ID')!).filter((id) => id !== undefined);
    },
  };
}

describe('MsrpRelay between two device legs on loopback', () => {
  it('relays 10,000 mixed-size messages each way, complete, in order and once', async () => {
    const t = await relayed();
    const sizes = mixedSizes(10_000, 3);
    const atB: number[] = [];
    const atA: number[] = [];
    let corrupt = 0;
    const check = (into: number[]) => (m: ReceivedMsrpMessage) => {
      const i = indexOf(m.body);
      if (!checkWorkloadBody(m.body, i, sizes[i]!)) corrupt++;
      into.push(i);
    };
    t.b.device.on('message', check(atB));
    t.a.device.on('message', check(atA));
    const pump = async (from: MsrpSession): Promise<boolean[]> => {
      const outcomes: Array<Promise<{ ok: boolean }>> = [];
      for (let i = 0; i < sizes.length; i++) {
        if (from.needsDrain) await new Promise<void>((r) => from.once('drain', r));
        outcomes.push(from.send(workloadBody(i, sizes[i]!), 'application/octet-stream').done);
      }
      return (await Promise.all(outcomes)).map((o) => o.ok);
    };
    const [okA, okB] = await Promise.all([pump(t.a.device), pump(t.b.device)]);
    await until(() => atA.length === sizes.length && atB.length === sizes.length);
    const inOrder = sizes.map((_, i) => i);
    expect(corrupt).toBe(0);
    expect(atB).toEqual(inOrder);
    expect(atA).toEqual(inOrder);
    expect(okA.every(Boolean) && okB.every(Boolean)).toBe(true);
    await until(() => t.relay.bufferedBytes === 0);
    expect(t.relay.unacknowledged('a')).toEqual([]);
    expect(t.relay.unacknowledged('b')).toEqual([]);
    expect(t.relay.relayed('b').at(-1)).toMatchObject({ state: 'acknowledged', deliveries: 1 });
  });

  it('keeps the MSRP Message-ID and the CPIM body byte for byte, and relays the success REPORT back', async () => {
    const t = await relayed();
    const cpim = encodeCpim({
      from: { uri: 'sip:alice@a.example' },
      to: [{ uri: 'sip:bob@b.example' }],
      dateTime: new Date('2026-11-26T10:00:00Z'),
      imdn: { messageId: 'imdn-0001-abcdef', dispositionNotification: ['positive-delivery'] },
      contentType: 'text/plain;charset=utf-8',
      body: utf8('Grüße über den Relay'),
    });
    const arrived = new Promise<ReceivedMsrpMessage>((r) => t.b.device.once('message', r));
    const report = new Promise<MsrpReport>((r) => t.a.device.once('report', r));
    const sent = t.a.device.send(cpim, 'message/cpim', { successReport: true });
    const got = await arrived;
    expect(got.messageId).toBe(sent.messageId);
    expect(got.contentType).toBe('message/cpim');
    expect(got.body).toEqual(cpim);
    expect(decodeCpim(got.body).imdnMessageId).toBe('imdn-0001-abcdef');
    expect(await report).toMatchObject({ messageId: sent.messageId, status: { code: 200 } });
  });

  it('turns the receiver refusing a message into a failure REPORT to the sender', async () => {
    const t = await relayed({}, { b: { maxMessageBytes: 10_000 } });
    const report = new Promise<MsrpReport>((r) => t.a.device.once('report', r));
    const sent = t.a.device.send(new Uint8Array(50_000), 'application/octet-stream');
    expect(await report).toMatchObject({ messageId: sent.messageId, status: { code: 413 } });
    await until(() => t.relay.relayed('b').some((r) => r.state === 'refused'));
    expect(t.relay.unacknowledged('b')).toEqual([]);
  });

  it('refuses a message larger than its own bound with 413', async () => {
    const t = await relayed({ maxMessageBytes: 20_000 });
    const outcome = await t.a.device.send(new Uint8Array(30_000), 'application/octet-stream').done;
    expect(outcome).toMatchObject({ ok: false, status: 413 });
    const next = new Promise<ReceivedMsrpMessage>((r) => t.b.device.once('message', r));
    t.a.device.send(utf8('small'), 'text/plain');
    expect(new TextDecoder().decode((await next).body)).toBe('small');
  });

  it('keeps its buffered bytes bounded while the receiver reads nothing, then delivers everything in order', async () => {
    const server = await serverEndpoint();
    const a = await leg(server, await device());
    const highWaterMark = 64 * 1024;
    const maxStalledBytes = 128 * 1024;
    const slow = await rawDevice(server, highWaterMark);
    slow.setAutoAnswer(true);
    const relay = new MsrpRelay({ legA: a.server, legB: slow.session, readControl: server, maxStalledBytes });
    cleanups.push(() => relay.close());
    slow.socket.pause(); // the receiver stops reading
    let peak = 0;
    relay.on('relayed', () => (peak = Math.max(peak, relay.bufferedBytes)));
    const total = 2000;
    const size = 8 * 1024; // 16 MB in all
    let queued = 0;
    let waitingForDrain = false;
    const sender = (async () => {
      for (; queued < total; queued++) {
        if (a.device.needsDrain) {
          waitingForDrain = true;
          await new Promise<void>((r) => a.device.once('drain', r));
          waitingForDrain = false;
        }
        a.device.send(workloadBody(queued, size), 'application/octet-stream');
      }
    })();
    await until(() => relay.isPaused('b') && waitingForDrain);
    const stuckAt = queued;
    expect(stuckAt).toBeLessThan(total); // the sender is held back by TCP, not buffered by the relay
    // What the relay holds is queued on the leg (up to its high-water mark, plus the rest of the socket read
    // that crossed it: 64 KiB), in flight (32 transactions of 2 KiB chunks) or in the socket's write buffer
    // (16 KiB and a chunk): bounded by the receiver's leg, not by the 16 MB sent.
    expect(peak).toBeGreaterThan(highWaterMark);
    expect(peak).toBeLessThanOrEqual(highWaterMark + 3 * 64 * 1024);
    slow.socket.resume();
    await sender;
    await until(() => new Set(slow.messageIds()).size >= total);
    const firstChunks = slow.sends.filter((s) => s.body && s.headers.get('Byte-Range')?.startsWith('1-'));
    const received = firstChunks.map((s) => indexOf(s.body!));
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
    await until(() => relay.bufferedBytes === 0);
    expect(relay.isPaused('b')).toBe(false);
  });

  it('holds the sender back once maxPendingMessages wait on the receiver, and lets it go at half that', async () => {
    const server = await serverEndpoint();
    const a = await leg(server, await device());
    const slow = await rawDevice(server);
    const relay = new MsrpRelay({ legA: a.server, legB: slow.session, readControl: server, maxPendingMessages: 40 });
    cleanups.push(() => relay.close());
    const total = 2000; // some 540 KB: many socket reads, so the pause has something to stop
    for (let i = 0; i < total; i++) a.device.send(workloadBody(i, 100), 'application/octet-stream');
    await until(() => relay.isPaused('b'));
    expect(server.isReadingPaused(a.server)).toBe(true); // nothing goes the other way: its socket is paused
    const held = relay.unacknowledged('b').length;
    expect(held).toBeGreaterThanOrEqual(40);
    expect(held).toBeLessThan(40 + 300); // the bound plus what one socket read held: the rest waits at the sender or in TCP
    await until(() => slow.sends.length >= held);
    await new Promise((r) => setTimeout(r, 50));
    expect(slow.sends.length).toBe(held); // still held back
    slow.answerWaiting(held - 20); // down to half: released, and more comes (until the bound again)
    await until(() => slow.sends.length > held);
    slow.setAutoAnswer(true);
    await until(() => new Set(slow.messageIds()).size === total);
    const firstChunks = slow.sends.filter((r) => r.body !== undefined);
    expect(firstChunks.map((r) => indexOf(r.body!))).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('keeps both directions moving when both lag at once: it holds back 200s rather than stop a socket whose 200s the other way needs', async () => {
    // Each direction soon holds more than maxStalledBytes. Stopping both devices' sockets would stop the very 200s
    // each direction waits for (a deadlock); the relay holds back its own 200s to the sender instead.
    const t = await relayed({ maxStalledBytes: 2000 });
    const count = 5000;
    let bothHeldBack = false;
    t.relay.on('relayed', () => (bothHeldBack ||= t.relay.isPaused('a') && t.relay.isPaused('b')));
    const flood = async (from: MsrpSession, to: MsrpSession): Promise<number[]> => {
      const got: number[] = [];
      const all = new Promise<void>((resolve) =>
        to.on('message', (m) => {
          got.push(indexOf(m.body));
          if (got.length === count) resolve();
        }),
      );
      for (let i = 0; i < count; i++) {
        if (from.needsDrain) await new Promise<void>((r) => from.once('drain', r));
        from.send(workloadBody(i, 100), 'application/octet-stream');
      }
      await all;
      return got;
    };
    const [atB, atA] = await Promise.all([flood(t.a.device, t.b.device), flood(t.b.device, t.a.device)]);
    const inOrder = Array.from({ length: count }, (_, i) => i);
    expect(atB).toEqual(inOrder);
    expect(atA).toEqual(inOrder);
    expect(bothHeldBack).toBe(true);
    await until(() => t.relay.bufferedBytes === 0);
    expect([t.relay.isPaused('a'), t.relay.isPaused('b')]).toEqual([false, false]);
    expect([t.a.server.heldResponseCount, t.b.server.heldResponseCount]).toEqual([0, 0]);
  });

  it('replaceLeg replays exactly what the old leg had not acknowledged, aborting a half-sent message there', async () => {
    const server = await serverEndpoint();
    // Fixed 2 KiB chunks, so that the large message below is still streaming when the switch happens.
    const a = await leg(server, await device(), { deviceChunkSize: 2048 });
    const old = await rawDevice(server);
    const relay = new MsrpRelay({ legA: a.server, legB: old.session, readControl: server });
    cleanups.push(() => relay.close());
    const ids: string[] = [];
    // Ten small messages; the old device acknowledges the first four only.
    for (let i = 0; i < 10; i++) ids.push(a.device.send(utf8(`message ${i}`), 'text/plain').messageId);
    await until(() => old.sends.length >= 10);
    old.answerWaiting(4);
    await until(() => relay.relayed('b').filter((r) => r.state === 'acknowledged').length === 4);
    // A large message that is still streaming to the old leg when the switch happens (more than the 1 MiB
    // a connection keeps awaiting responses).
    const big = a.device.send(workloadBody(99, 1_500_000), 'application/octet-stream').messageId;
    await until(() => old.sends.some((s) => s.headers.get('Message-ID') === big));
    expect(relay.unacknowledged('b')).toEqual([...ids.slice(4), big]);

    const b2 = await leg(server, await device());
    const atNew: ReceivedMsrpMessage[] = [];
    b2.device.on('message', (m) => atNew.push(m));
    const { replayed } = relay.replaceLeg('b', b2.server); // already bound: switched at once
    expect(replayed).toEqual([...ids.slice(4), big]);
    expect(relay.legB).toBe(b2.server);
    const after = a.device.send(utf8('after the switch'), 'text/plain').messageId;
    await until(() => atNew.length === 8);
    expect(atNew.map((m) => m.messageId)).toEqual([...ids.slice(4), big, after]);
    expect(checkWorkloadBody(atNew[6]!.body, 99, 1_500_000)).toBe(true);
    // The old leg (still alive, answering again) saw the half-sent message aborted, and nothing sent after the switch.
    old.setAutoAnswer(true);
    await until(() => old.sends.some((s) => s.headers.get('Message-ID') === big && s.continuation === '#'));
    expect(old.messageIds()).not.toContain(after);
    await until(() => relay.unacknowledged('b').length === 0);
    expect(relay.relayed('b').filter((r) => r.deliveries === 2).map((r) => r.messageId)).toEqual([...ids.slice(4), big]);
  });

  it('still relays what the old leg sends after the switch, until its owner closes it', async () => {
    const t = await relayed();
    const b2 = await leg(t.server, await device());
    t.relay.replaceLeg('b', b2.server);
    const arrived = new Promise<ReceivedMsrpMessage>((r) => t.a.device.once('message', r));
    t.b.device.send(utf8('late words from the old device'), 'text/plain');
    expect(new TextDecoder().decode((await arrived).body)).toBe('late words from the old device');
    t.b.server.close(); // BYE from the old device
    const fromNew = new Promise<ReceivedMsrpMessage>((r) => t.a.device.once('message', r));
    b2.device.send(utf8('hello from the new device'), 'text/plain');
    expect(new TextDecoder().decode((await fromNew).body)).toBe('hello from the new device');
  });

  it('reports a lost leg and keeps what it could not deliver for the next leg', async () => {
    const t = await relayed();
    const closed = new Promise<string>((r) => t.relay.on('legClosed', (side) => r(side)));
    await t.b.device.close(); // the device vanished (crash, network)
    expect(await closed).toBe('b');
    const sent = t.a.device.send(utf8('while B is away'), 'text/plain').messageId;
    await until(() => t.relay.unacknowledged('b').includes(sent));
    expect(t.relay.relayed('b').at(-1)).toMatchObject({ messageId: sent, state: 'undelivered' });
    const b2 = await leg(t.server, await device());
    const arrived = new Promise<ReceivedMsrpMessage>((r) => b2.device.once('message', r));
    expect(t.relay.replaceLeg('b', b2.server).replayed).toEqual([sent]);
    expect((await arrived).messageId).toBe(sent);
  });

  it('switches to a new leg only once its device has bound it, relaying what that device sends at once', async () => {
    const t = await relayed();
    const dev = await device();
    const uri = dev.newLocalUri();
    const pending = t.server.expectLeg({ remotePath: [uri] });
    const { replayed, switched } = t.relay.replaceLeg('b', pending.session);
    expect(replayed).toEqual([]); // not bound yet: nothing switched
    const beforeBinding = t.a.device.send(utf8('still for the old device'), 'text/plain').messageId;
    const atOld = new Promise<ReceivedMsrpMessage>((r) => t.b.device.once('message', r));
    expect((await atOld).messageId).toBe(beforeBinding);
    expect(t.relay.legB).toBe(t.b.server);
    // The new device's first SEND carries a message: it binds the leg and is relayed.
    const created = dev.createSession({ localUri: uri, remotePath: [pending.session.localUri], setup: 'active' });
    created.session.send(utf8('first words from the new device'), 'text/plain');
    const atA = new Promise<ReceivedMsrpMessage>((r) => t.a.device.once('message', r));
    expect(await switched).toEqual([]);
    expect(t.relay.legB).toBe(pending.session);
    expect(new TextDecoder().decode((await atA).body)).toBe('first words from the new device');
  });

  it('keeps the old leg when the new one closes before it is bound', async () => {
    const t = await relayed();
    const pending = t.server.expectLeg({ waitMs: 50 });
    await expect(t.relay.replaceLeg('b', pending.session).switched).rejects.toThrow('closed before it was bound');
    expect(t.relay.legB).toBe(t.b.server);
    const arrived = new Promise<ReceivedMsrpMessage>((r) => t.b.device.once('message', r));
    t.a.device.send(utf8('still here'), 'text/plain');
    expect(new TextDecoder().decode((await arrived).body)).toBe('still here');
  });

  it('relays what a device sent in its binding SEND before the relay existed', async () => {
    const server = await serverEndpoint();
    const a = await leg(server, await device());
    const dev = await device();
    const uri = dev.newLocalUri();
    const expected = server.expectLeg({ remotePath: [uri] });
    const created = dev.createSession({ localUri: uri, remotePath: [expected.session.localUri], setup: 'active' });
    const early = created.session.send(utf8('sent before the relay was set up'), 'text/plain');
    await expected.bound;
    expect(await early.done).toMatchObject({ ok: true }); // answered by the server's hop
    const arrived = new Promise<ReceivedMsrpMessage>((r) => a.device.once('message', r));
    const relay = new MsrpRelay({ legA: a.server, legB: expected.session, readControl: server });
    cleanups.push(() => relay.close());
    const got = await arrived;
    expect(got.messageId).toBe(early.messageId);
    expect(new TextDecoder().decode(got.body)).toBe('sent before the relay was set up');
  });

  it('rejects replacing a leg with a session it already serves', async () => {
    const t = await relayed();
    expect(() => t.relay.replaceLeg('b', t.a.server)).toThrow(TypeError);
  });
});
