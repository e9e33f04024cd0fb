/**
 * Mutation fuzzing of the parser, serializer and request checks with a fixed seed: 100,000 mutants of
 * valid messages (byte flips, insertions, deletions, truncations, duplicated lines, huge values).
 * Only SipParseError may come out, and whatever parses must survive serialize → parse unchanged.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage } from './parse';
import { SipParseError } from './parse-error';
import { checkRequest, checkResponse } from './request-check';
import { serializeMessage } from './serialize';
import type { SipMessage } from './sip-message';

const SEEDS = [
  [
    'INVITE sip:bob@b.example;gr=urn:uuid:f81d4fae SIP/2.0',
    'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776sgdkse;rport, SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::1',
    'Max-Forwards: 70',
    'To: "Bob \\"B\\"" <sip:bob@b.example>',
    'From: Alice <sip:alice@a.example>;tag=9fxced76sl',
    'Call-ID: 3848276298220188511@a.example',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@a.example;gr=urn:uuid:1>;+sip.instance="<urn:uuid:1>";expires=3600;q=0.5',
    'Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"',
    'Require: tdialog',
    'Refer-To: <sip:carol@c.example?Target-Dialog=abc%40h%3Blocal-tag%3D1>',
    'Content-Type: application/sdp',
    'Content-Length: 94',
    '',
    'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\n',
  ].join('\r\n'),
  [
    'REGISTER sip:a.example SIP/2.0',
    'v: SIP/2.0/TCP 192.0.2.4:5060;branch=z9hG4bKnashds7',
    'Max-Forwards: 70',
    't: <sip:alice@a.example>',
    'f: <sip:alice@a.example>;tag=456248',
    'i: 843817637684230@998sdasdh09',
    'CSeq: 1826 REGISTER',
    'm: <sip:alice@192.0.2.4>;expires=7200, <tel:+1-201-555-0123;ext=1>',
    'Supported: gruu, outbound',
    'Subject: multi',
    '   line',
    'l: 0',
    '',
    '',
  ].join('\r\n'),
  [
    'SIP/2.0 200 Сообщение принято',
    'Via: SIP/2.0/UDP server10.b.example;branch=z9hG4bK4b43c2ff8.1',
    'To: <sip:bob@b.example>;tag=a6c85cf',
    'From: <sip:alice@a.example>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    'CSeq: 314159 MESSAGE',
    'Content-Type: text/plain;charset=UTF-8',
    'Content-Length: 9',
    '',
    'ok ✓ done'.slice(0, 7),
  ].join('\r\n'),
].map((s) => new TextEncoder().encode(s));

/** Mulberry32: a small fixed-seed PRNG, so every run fuzzes the same mutants. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x25, 0x40, 0x5c, 0x00, 0xff, 0xc3, 0x3d, 0x3f, 0x5b, 0x5d];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(base: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let bytes = base;
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const at = pick(bytes.length + 1);
    const head = bytes.subarray(0, at);
    const tail = bytes.subarray(at);
    switch (pick(7)) {
      case 0: // flip one bit of one byte
        if (bytes.length) {
          bytes = bytes.slice();
          bytes[Math.min(at, bytes.length - 1)]! ^= 1 << pick(8);
        }
        break;
      case 1: // insert an interesting or random byte
        bytes = concat(head, Uint8Array.of(rnd() < 0.7 ? INTERESTING[pick(INTERESTING.length)]! : pick(256)), tail);
        break;
      case 2: // delete a range
        bytes = concat(head, bytes.subarray(at + 1 + pick(8)));
        break;
      case 3: // truncate
        bytes = head.slice();
        break;
      case 4: { // duplicate the line around `at`
        const lineStart = bytes.lastIndexOf(0x0a, Math.max(0, at - 1)) + 1;
        let lineEnd = bytes.indexOf(0x0a, at);
        if (lineEnd < 0) lineEnd = bytes.length - 1;
        bytes = concat(bytes.subarray(0, lineEnd + 1), bytes.subarray(lineStart, lineEnd + 1), bytes.subarray(lineEnd + 1));
        break;
      }
      case 5: // a huge value: digits (scalar overflow) or text
        bytes = concat(head, new Uint8Array(1 + pick(rnd() < 0.9 ? 300 : 20000)).fill(rnd() < 0.5 ? 0x39 : 0x61), tail);
        break;
      default: // replace one byte with an interesting one
        if (bytes.length) {
          bytes = bytes.slice();
          bytes[Math.min(at, bytes.length - 1)] = INTERESTING[pick(INTERESTING.length)]!;
        }
    }
  }
  return bytes;
}

/** Everything that defines a message, except Content-Length, which serialization always (re)writes. */
function essence(m: SipMessage): string {
  return JSON.stringify({
    start: m.type === 'request' ? [m.method, m.uri] : [m.status, m.reason],
    headers: [...m.headers].filter((h) => h.name !== 'Content-Length').map((h) => [h.name, h.value]),
    body: Buffer.from(m.body).toString('base64'),
  });
}

describe('fuzzing the message layer', () => {
  it('survives 100,000 mutants: only SipParseError, and parse ∘ serialize is stable', () => {
    const rnd = prng(0x5eed4475);
    let parsed = 0;
    let rejected = 0;
    for (let n = 0; n < 100_000; n++) {
      const input = mutate(SEEDS[n % SEEDS.length]!, rnd);
      let message: SipMessage;
      try {
        message = parseMessage(input);
      } catch (e) {
        if (!(e instanceof SipParseError)) throw new Error(`mutant ${n} threw ${String(e)}`);
        rejected++;
        continue;
      }
      parsed++;
      const bytes = serializeMessage(message);
      const again = parseMessage(bytes);
      // compare cheaply, and only hand a mismatch to expect() for a readable report
      if (essence(again) !== essence(message)) expect(essence(again)).toBe(essence(message));
      if (Buffer.compare(serializeMessage(again), bytes) !== 0) expect(serializeMessage(again)).toEqual(bytes);
      if (n % 8 === 0) {
        // the checks must never throw either, whatever they decide
        if (message.type === 'request') {
          checkRequest(message, { role: 'uas' });
          checkRequest(message, { role: 'proxy' });
          checkRequest(message, { role: 'registrar' });
        } else {
          checkResponse(message, 'proxy');
        }
      }
    }
    // both branches were really exercised
    expect(parsed).toBeGreaterThan(10_000);
    expect(rejected).toBeGreaterThan(10_000);
  });
});
