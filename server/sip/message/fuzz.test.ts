/**
 * Mutation fuzzing of the parser, serializer and request checks with a fixed seed: 100,000 mutants of
 * valid messages (byte flips, insertions, deletions, truncations, duplicated lines, huge values).
 * Only SipParseError may come out, and whatever parses must survive serialize → parse unchanged.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage } from './parse';
import { SipParseError } from './parse-error';
import { mutateMessage, seededRandom } from './mutation';
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
    const rnd = seededRandom(0x5eed4475);
    let parsed = 0;
    let rejected = 0;
    for (let n = 0; n < 100_000; n++) {
      const input = mutateMessage(SEEDS[n % SEEDS.length]!, rnd);
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
