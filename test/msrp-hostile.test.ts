/**
 * Hostile peers against a device's MSRP endpoint (RFC 4975 over TCP on loopback) while a good session is
 * live on it: broken framing, wrong To-Path / From-Path, oversize chunks and heads, unknown methods, a
 * flood of connections, random garbage. Each bad peer must get an error response or a closed connection;
 * the good session must keep delivering, in order and once; nothing may crash, reject unhandled, or leak
 * a socket. The same is then aimed at the in-path Conversation Server's MSRP listener while its relay
 * carries a session. (`device-hostile-msrp.test.ts` aims it at a whole DeviceAgent.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsrpEndpoint } from '../electron/device/chat/msrp/msrp-endpoint';
import { MsrpRelay } from '../server/conversation/in-path/msrp/msrp-relay';
import { MsrpServerEndpoint } from '../server/conversation/in-path/msrp/msrp-server-endpoint';
import { utf8 } from '../protocol/common/bytes';
import type { MsrpSession } from '../protocol/msrp/msrp-session';
import { formatMsrpUri, type MsrpUri } from '../protocol/msrp/msrp-uri';
import { HOSTILE_RESPONSE_END as RESPONSE, garbage, hostileSend as send, rawExchange, type RawExchange } from './helpers/hostile-msrp-peer';

const LIMITS = { maxChunkBytes: 64 * 1024, maxMessageBytes: 256 * 1024, bindingTimeoutMs: 300, maxUnboundConnections: 64, maxConnections: 128 };

let caller: MsrpEndpoint;
let callee: MsrpEndpoint;
let sender: MsrpSession;
let receiver: MsrpSession;
let calleeUri: MsrpUri;
let callerUri: MsrpUri;
const received: number[] = [];
const peerErrors: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  caller = new MsrpEndpoint({ limits: LIMITS });
  callee = new MsrpEndpoint({ limits: LIMITS });
  await caller.listen();
  await callee.listen();
  callee.on('peerError', (e) => peerErrors.push(e.message));
  callerUri = caller.newLocalUri();
  calleeUri = callee.newLocalUri();
  [receiver, sender] = await Promise.all([
    callee.openSession({ localUri: calleeUri, remotePath: [callerUri], setup: 'passive' }),
    caller.openSession({ localUri: callerUri, remotePath: [calleeUri], setup: 'active' }),
  ]);
  receiver.on('message', (m) => received.push(Number(new TextDecoder().decode(m.body))));
});

afterAll(async () => {
  await Promise.all([caller.close(), callee.close()]);
  process.off('unhandledRejection', onUnhandled);
});

/**
 * Connect, write `bytes`, and collect the reply until the endpoint closes the connection or `until`
 * matches what was read. Bounded by the endpoint's binding timeout (an idle connection is closed).
 */
function exchange(bytes: Uint8Array | string, until?: RegExp, port = callee.listenAddress!.port): Promise<RawExchange> {
  return rawExchange({ host: '127.0.0.1', port }, bytes, until);
}

/** Send `count` numbered messages on the good session, paced so that hostile traffic interleaves. */
async function goodTraffic(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const { done } = sender.send(utf8(String(i)), 'text/plain');
    if (i % 10 === 9) {
      const outcome = await done;
      if (!outcome.ok) throw new Error(`good message ${i} failed: ${outcome.status} ${outcome.comment}`);
    }
  }
}

describe('a device MSRP endpoint under hostile input keeps serving its good session', () => {
  it('answers a SEND for a session that does not exist with 481', async () => {
    const unknown = formatMsrpUri({ ...calleeUri, sessionId: 'nosuchsession0000' });
    const [reply] = await Promise.all([exchange(send(unknown, 'msrp://127.0.0.1:9/evil;tcp', 'hi'), RESPONSE), goodTraffic(0, 50)]);
    expect(reply.text).toMatch(/^MSRP h0stile1 481 /);
  });

  it('answers a SEND that names the live session from another connection with 506 (already bound)', async () => {
    const reply = await exchange(send(formatMsrpUri(calleeUri), formatMsrpUri(callerUri), 'hijack'), RESPONSE);
    expect(reply.text).toMatch(/^MSRP h0stile1 506 /);
  });

  it('answers a SEND whose From-Path is not the session peer with 481', async () => {
    const other = caller.newLocalUri();
    const second = callee.newLocalUri();
    const waiting = callee.openSession({ localUri: second, remotePath: [other], setup: 'passive', waitMs: 300 });
    const reply = await exchange(send(formatMsrpUri(second), 'msrp://127.0.0.1:9/impostor;tcp', 'x'), RESPONSE);
    expect(reply.text).toMatch(/^MSRP h0stile1 481 /);
    await expect(waiting).rejects.toMatchObject({ code: 'timeout' });
  });

  it('answers an unknown method with 501 and an unparseable To-Path with 400', async () => {
    const unknown = await exchange(`MSRP h0stile1 FROB\r\nTo-Path: ${formatMsrpUri(calleeUri)}\r\nFrom-Path: msrp://127.0.0.1:9/e;tcp\r\n-------h0stile1$\r\n`, RESPONSE);
    expect(unknown.text).toMatch(/^MSRP h0stile1 501 /);
    const badPath = await exchange(send('not-a-uri', 'msrp://127.0.0.1:9/e;tcp', 'x'), RESPONSE);
    expect(badPath.text).toMatch(/^MSRP h0stile1 400 /);
  });

  it('closes connections with broken framing', async () => {
    const cases = [
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'MSRP h0stile1 SEND\nTo-Path: x\n\n', // bare LF
      `MSRP h0stile1 SEND\r\nTo-Path: ${formatMsrpUri(calleeUri)}\r\nFrom-Path: msrp://a:1/b;tcp\r\n-------wrongtid$\r\n`,
      'MSRP h0stile1 SEND\r\nBad Header Line\r\n',
      `MSRP h0stile1 200 OK\r\nTo-Path: x\r\nFrom-Path: y\r\n\r\nbody\r\n-------h0stile1$\r\n`, // a response with a body
    ];
    const [replies] = await Promise.all([Promise.all(cases.map((c) => exchange(c))), goodTraffic(50, 50)]);
    for (const r of replies) expect(r).toEqual({ text: '', closed: true });
  });

  it('closes connections whose chunk or head is over the bounds', async () => {
    const chunk = send(formatMsrpUri(calleeUri), formatMsrpUri(callerUri), 'y'.repeat(LIMITS.maxChunkBytes + 10));
    const head = `MSRP h0stile1 SEND\r\nTo-Path: ${formatMsrpUri(calleeUri)}\r\nX-Pad: ${'z'.repeat(20_000)}\r\n`;
    const [replies] = await Promise.all([Promise.all([exchange(chunk), exchange(head)]), goodTraffic(100, 50)]);
    for (const r of replies) expect(r.closed).toBe(true);
    expect(peerErrors.some((e) => /body exceeds 65536 bytes/.test(e))).toBe(true);
    expect(peerErrors.some((e) => /head exceeds/.test(e))).toBe(true);
  });

  it('refuses a message announced larger than the reassembly bound with 413', async () => {
    const second = callee.newLocalUri();
    const peer = 'msrp://127.0.0.1:9/bigpeer;tcp';
    const waiting = callee.openSession({ localUri: second, setup: 'passive', waitMs: 2_000 });
    const first = `MSRP h0stile1 SEND\r\nTo-Path: ${formatMsrpUri(second)}\r\nFrom-Path: ${peer}\r\nMessage-ID: big00001\r\nByte-Range: 1-4/${LIMITS.maxMessageBytes + 1}\r\nContent-Type: text/plain\r\n\r\nabcd\r\n-------h0stile1+\r\n`;
    const reply = await exchange(first, RESPONSE);
    expect(reply.text).toMatch(/^MSRP h0stile1 413 /);
    (await waiting).close();
  });

  it('survives a flood of 200 connections: the excess is refused, the rest time out unbound', async () => {
    const flood = Array.from({ length: 200 }, () => exchange(''));
    const [replies] = await Promise.all([Promise.all(flood), goodTraffic(150, 50)]);
    expect(replies.every((r) => r.closed && r.text === '')).toBe(true);
    expect(peerErrors.filter((e) => /connection refused/.test(e)).length).toBeGreaterThan(0);
  });

  it('closes or answers connections that send random garbage', async () => {
    const junk = Array.from({ length: 40 }, (_, i) => exchange(garbage(i + 1, 64 + ((i * 997) % 4000))));
    const [replies] = await Promise.all([Promise.all(junk), goodTraffic(200, 50)]);
    for (const r of replies) expect(r.closed || /^MSRP \S+ [45]\d\d/.test(r.text)).toBe(true);
  });

  it('still delivers every good message in order and once, with no leaked socket and no unhandled rejection', async () => {
    await goodTraffic(250, 50);
    await new Promise<void>((resolve) => {
      const check = (): void => (received.length >= 300 ? resolve() : void setTimeout(check, 10));
      check();
    });
    expect(received).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(receiver.state).toBe('active');
    // Every hostile connection is gone: only the good session's connection remains.
    await new Promise<void>((resolve) => {
      const check = (): void => (callee.connectionCount === 1 ? resolve() : void setTimeout(check, 20));
      check();
    });
    expect(callee.connectionCount).toBe(1);
    expect(caller.connectionCount).toBe(1);
    expect(unhandled).toEqual([]);
  });
});

describe('the in-path server MSRP listener under hostile input keeps relaying its session', () => {
  it('answers or closes every hostile connection while the relay delivers in order and once', async () => {
    const server = new MsrpServerEndpoint({ limits: LIMITS });
    await server.listen();
    const devices = [new MsrpEndpoint(), new MsrpEndpoint()];
    try {
      const legs = await Promise.all(
        devices.map(async (device) => {
          await device.listen();
          const uri = device.newLocalUri();
          const leg = server.expectLeg({ remotePath: [uri] });
          const mine = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
          return { mine, leg: await leg.bound };
        }),
      );
      const [a, b] = legs as [(typeof legs)[0], (typeof legs)[0]];
      const relay = new MsrpRelay({ legA: a.leg, legB: b.leg, readControl: server });
      const got: number[] = [];
      b.mine.on('message', (m) => got.push(Number(new TextDecoder().decode(m.body))));
      const port = server.listenAddress!.port;
      const legUri = formatMsrpUri(a.leg.localUri);
      // The leg is bound to its device: another connection naming it gets 506 (RFC 4975 §7.3.1).
      const hijack = await exchange(send(legUri, 'msrp://127.0.0.1:9/x;tcp', 'hijack'), RESPONSE, port);
      expect(hijack.text).toMatch(/^MSRP h0stile1 506 /);
      const hostile = [
        ...Array.from({ length: 100 }, () => exchange('', undefined, port)),
        ...Array.from({ length: 20 }, (_, i) => exchange(garbage(100 + i, 2000), undefined, port)),
        exchange(send(legUri, 'msrp://127.0.0.1:9/x;tcp', 'y'.repeat(LIMITS.maxChunkBytes + 1)), undefined, port),
      ];
      const sending = (async () => {
        for (let i = 0; i < 200; i++) {
          const { done } = a.mine.send(utf8(String(i)), 'text/plain');
          if (i % 20 === 19) await done;
        }
      })();
      const [replies] = await Promise.all([Promise.all(hostile), sending]);
      for (const r of replies) expect(r.closed || /^MSRP \S+ [45]\d\d/.test(r.text)).toBe(true);
      await new Promise<void>((resolve) => {
        const check = (): void => (got.length >= 200 && server.connectionCount === 2 ? resolve() : void setTimeout(check, 10));
        check();
      });
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(server.connectionCount).toBe(2);
      expect(unhandled).toEqual([]);
      relay.close();
    } finally {
      await Promise.all([server.close(), ...devices.map((d) => d.close())]);
    }
  });
});
