/**
 * RFC 4475 over real sockets: every torture message is sent, byte for byte, to a lab domain core over UDP
 * and over TCP, and what comes back on the wire is checked against the RFC 4475 table
 * (server/sip/rfc4475/rfc4475-table.ts) for the role the core plays for that message: registrar for a
 * REGISTER to its own domain, proxy for everything else.
 *
 * The core serves `example.com`, the domain of the torture messages, so that their REGISTERs reach its
 * registrar. It runs with short transaction timers (T1 50 ms) so that every transaction ends soon after
 * the table is done; the test then checks that nothing is left behind.
 *
 * Where the table says "process", the message passed every check and the core's own policy answers:
 * - a response is not ours (its top Via names someone else): discarded, nothing comes back (§18.1.2);
 * - a REGISTER without credentials: 401 (RFC 3261 §22.1, registrar step 3);
 * - an out-of-dialog request from a user of this domain: 407 (the core asserts identities, RFC 3325);
 * - an out-of-dialog request from another domain: 403 (clients may only send as their own users);
 * - an in-dialog request routed to a host name the lab does not resolve: the branch fails like a transport
 *   error, 503 (§16.9), which goes upstream as 500 (§16.7 item 6).
 * A stream (TCP) differs from a datagram where Content-Length decides the framing (§18.3): a value larger
 * than what was sent means "wait for more", so clerr gets no answer until we close our side; a message
 * without one (inv2543) or with one that cannot be read (ncl, mcl01) loses the framing: a 400, and the
 * connection closed; dblreq's INVITE is a second message on a stream, whose trailing bytes lose it too.
 *
 * Nothing here sends to a non-loopback address, nor to a socket the test does not own. Over UDP the test
 * writes its own transport and port into the top Via (a UAC's transport writes its Via, RFC 3261 §18.1.1),
 * since responses follow the Via's transport and sent-by port (§18.2.2), and the core stamps `received`
 * with the source address, 127.0.0.1. Over TCP responses take the connection. A trace hook records every
 * message the core sends, and the last test checks that all of them went to 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRequest, type SipMessage, type SipRequest, type SipResponse } from '../server/sip/message/sip-message';
import { serializeMessage } from '../server/sip/message/serialize';
import { screenMessage } from '../server/sip/message/request-check';
import { RFC4475_TABLE, TORTURE_ROLE_OPTIONS, type TortureOutcome, type TortureRow } from '../server/sip/rfc4475/rfc4475-table';
import { ackForFinal, echoProblems, tryParseMessage } from '../server/sip/rfc4475/torture-answers';
import { isLoopback, openWireClient, withTopViaSentBy, type WireClient } from '../server/sip/rfc4475/wire-client';
import { useWireCore } from './helpers/wire-core';

const DIR = fileURLToPath(new URL('../../shared/sip-torture/rfc4475/', import.meta.url));
const DOMAIN = 'example.com';
const DOMAIN_PATTERN = DOMAIN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Generous bounds for answers on loopback; a test fails (not hangs) when one is missed. */
const ANSWER_WITHIN_MS = 5_000;
const SETTLE_WITHIN_MS = 15_000;

/** What must come back on the wire. */
type WireExpectation =
  | { answer: number; because: string; closes?: boolean }
  | { answer: 'nothing'; because: string }
  /** TCP only: the element waits for the rest of the message; we close, nothing comes back. */
  | { answer: 'nothing-until-closed'; because: string };

const wire = useWireCore(DOMAIN, [{ user: 'alice', password: 'alice-secret' }]);

function read(file: string): Uint8Array {
  return new Uint8Array(readFileSync(DIR + file));
}

/** The role the core plays for a message: registrar for a REGISTER to its domain, else proxy. */
function roleFor(bytes: Uint8Array): 'registrar' | 'proxy' {
  const startLine = Buffer.from(bytes.subarray(0, 200)).toString('latin1').split('\r\n')[0] ?? '';
  return new RegExp(`^REGISTER sips?:${DOMAIN_PATTERN} `, 'i').test(startLine) ? 'registrar' : 'proxy';
}

/** What the core's policy answers to a message that passed every check (see the module comment). */
function policyAnswer(bytes: Uint8Array, role: 'registrar' | 'proxy'): WireExpectation {
  const message = tryParseMessage(bytes);
  if (!message) throw new Error('a message the table says to process must parse');
  if (message.type === 'response') return { answer: 'nothing', because: 'a response whose top Via is not ours is discarded (RFC 3261 §18.1.2)' };
  if (role === 'registrar') return { answer: 401, because: 'REGISTER without credentials: challenged (RFC 3261 §10.3 step 3)' };
  if (/;\s*tag\s*=/i.test(message.headers.get('To') ?? '')) {
    return { answer: 500, because: 'in-dialog request to a host name the lab does not resolve: 503 for the branch (RFC 3261 §16.9), 500 upstream (§16.7 item 6)' };
  }
  const from = message.headers.get('From') ?? '';
  if (new RegExp(`@${DOMAIN_PATTERN}(?:[>;]|$)`, 'i').test(from)) {
    return { answer: 407, because: 'out-of-dialog request from a user of this domain: identity asserted after Digest (RFC 3325)' };
  }
  return { answer: 403, because: 'out-of-dialog request from another domain: refused at the edge' };
}

/** Files whose Content-Length a stream cannot frame by: negative (ncl), or given twice (mcl01). */
const STREAM_FRAMING_LOST: ReadonlySet<string> = new Set(['ncl.dat', 'mcl01.dat']);

function expectationFor(row: TortureRow, transport: 'udp' | 'tcp'): WireExpectation {
  const bytes = read(row.file);
  const role = roleFor(bytes);
  if (transport === 'tcp' && row.file === 'clerr.dat') {
    return { answer: 'nothing-until-closed', because: 'RFC 3261 §18.3: on a stream, the element waits for the 9999 body bytes announced' };
  }
  if (transport === 'tcp' && row.file === 'inv2543.dat') {
    return { answer: 400, closes: true, because: 'RFC 3261 §18.3: Content-Length is mandatory on a stream; without it the framing is lost' };
  }
  if (transport === 'tcp' && row.file === 'dblreq.dat') {
    return {
      answer: 401, closes: true,
      because: 'on a stream the INVITE after the REGISTER is a message of its own, and the 5 bytes after its 150 body bytes start one without Content-Length: framing lost (RFC 3261 §18.3), closed before the INVITE is answered',
    };
  }
  const outcome: TortureOutcome = row[role];
  if (outcome.outcome === 'reject') {
    // on a stream, a Content-Length that cannot be read also loses the framing: answered, then closed
    const closes = transport === 'tcp' && STREAM_FRAMING_LOST.has(row.file);
    return closes ? { answer: outcome.status, closes, because: `${outcome.because}; framing lost on a stream (RFC 3261 §18.3)` } : { answer: outcome.status, because: outcome.because };
  }
  if (outcome.outcome === 'drop') return { answer: 'nothing', because: outcome.because };
  return policyAnswer(bytes, role);
}

let probeCount = 0;

/** An OPTIONS the core always answers 403 (a stranger's out-of-dialog request), to show it still listens. */
function probe(client: WireClient): SipRequest {
  probeCount++;
  return createRequest('OPTIONS', `sip:${DOMAIN}`, [
    { name: 'Via', value: `SIP/2.0/${client.transport.toUpperCase()} 127.0.0.1:${client.local.port};branch=z9hG4bK-probe-${probeCount}` },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: `<sip:probe@probe.invalid>;tag=p${probeCount}` },
    { name: 'To', value: `<sip:${DOMAIN}>` },
    { name: 'Call-ID', value: `probe-${probeCount}@wire.test` },
    { name: 'CSeq', value: '1 OPTIONS' },
  ]);
}

function isFinalFor(callId: string) {
  return (m: SipMessage): m is SipResponse => m.type === 'response' && m.status >= 200 && m.headers.get('Call-ID') === callId;
}

/**
 * The final responses that came back for the torture message (anything but the probe's), one per status
 * and CSeq: over UDP an INVITE's final response is retransmitted until our ACK lands (RFC 3261 §17.2.1),
 * and our own retransmissions of the request are answered again (a stateless 400 even with a new To tag).
 */
function tortureFinals(client: WireClient, probeCallId: string): SipResponse[] {
  const out = new Map<string, SipResponse>();
  for (const item of client.received) {
    if (item.kind !== 'message' || item.message.type !== 'response') continue;
    const r = item.message;
    if (r.headers.get('Call-ID') === probeCallId || r.status < 200) continue;
    out.set(`${r.status} ${r.headers.get('CSeq') ?? ''}`, r);
  }
  return [...out.values()];
}

/** Send one torture file and return the final answers to it (empty: nothing came back). */
async function exchange(file: string, transport: 'udp' | 'tcp', expectation: WireExpectation, answerWithinMs: number): Promise<SipResponse[]> {
  const client = await openWireClient(transport, { host: '127.0.0.1', port: wire.port(transport) });
  try {
    const raw = read(file);
    const bytes = transport === 'udp' ? withTopViaSentBy(raw, 'UDP', client.local.port) : raw;
    const sent = tryParseMessage(bytes);
    const sentCallId = sent?.headers.get('Call-ID');
    // wait for the answer: matched by Call-ID when the message parsed, else the first final response
    const isAnswer = (m: SipMessage): boolean => m.type === 'response' && m.status >= 200 && (sentCallId === undefined || m.headers.get('Call-ID') === sentCallId);
    // Over UDP a message that must be answered is retransmitted until it is (RFC 3261 §17.1.2.2), so a
    // datagram lost on a busy machine does not fail the row; the core absorbs the copies (§17.2).
    const answer = typeof expectation.answer === 'number' && transport === 'udp' ? client.exchange(bytes, isAnswer, answerWithinMs) : undefined;
    if (!answer) await client.send(bytes);
    if (expectation.answer === 'nothing-until-closed') {
      client.endWrite();
      expect(await client.waitClosed(ANSWER_WITHIN_MS)).toBe(true);
      return tortureFinals(client, '');
    }
    if (typeof expectation.answer === 'number') {
      const final = await (answer ?? client.waitFor(isAnswer, answerWithinMs));
      if (final?.type === 'response' && !expectation.closes) {
        const ack = ackForFinal(sent, final);
        if (ack) await client.send(serializeMessage(ack));
      }
      if (expectation.closes) {
        expect(await client.waitClosed(ANSWER_WITHIN_MS), 'the core closes a connection whose framing is lost').toBe(true);
        return tortureFinals(client, '');
      }
    }
    // The probe goes out after the torture message on the same socket; once its answer is in, anything the
    // core had to say about the torture message has been said (it answers in order, or drops at once).
    const p = probe(client);
    expect(client.closed, 'the core keeps the connection').toBe(false);
    const answered = await client.exchange(serializeMessage(p), isFinalFor(p.headers.get('Call-ID')!), ANSWER_WITHIN_MS);
    expect(answered?.type === 'response' && answered.status, 'the core still answers after the torture message').toBe(403);
    expect(client.received.filter((r) => r.kind === 'garbage'), 'the core sends well-formed SIP').toEqual([]);
    return tortureFinals(client, p.headers.get('Call-ID')!);
  } finally {
    await client.close();
  }
}

/**
 * What every answer must carry (RFC 3261 §8.2.6.2, `echoProblems`): the request's From, Call-ID and CSeq as
 * they were, its To with a tag added (when the To can take one: a tag appended to quotbal's unterminated quote
 * would be part of the quoted string); and for 420 the Unsupported list of the extensions it required
 * (§8.2.2.3, §16.3 item 5). Checked where the request parses and has each of these exactly once.
 */
function checkEchoes(file: string, response: SipResponse): void {
  const request = tryParseMessage(read(file));
  if (request?.type !== 'request') return;
  expect(echoProblems(request, response), 'what the answer copies from the request').toEqual([]);
  if (response.status === 420) {
    const screening = screenMessage(read(file), TORTURE_ROLE_OPTIONS[roleFor(read(file))]);
    expect(screening.action === 'reject' && screening.rejection.headers, 'the extensions listed').toEqual([{ name: 'Unsupported', value: response.headers.get('Unsupported') }]);
  }
}

function describeExpectation(e: WireExpectation): string {
  return typeof e.answer === 'number' ? String(e.answer) : e.answer;
}

describe('RFC 4475 torture messages on the wire, lab domain core', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    describe(transport.toUpperCase(), () => {
      for (const row of RFC4475_TABLE) {
        const expectation = expectationFor(row, transport);
        const title = `${row.file} (§${row.section}) as ${roleFor(read(row.file))}: ${describeExpectation(expectation)}`;
        it(title, async () => {
          const finals = await exchange(row.file, transport, expectation, ANSWER_WITHIN_MS);
          const statuses = finals.map((r) => r.status);
          if (typeof expectation.answer === 'number') expect(statuses, expectation.because).toEqual([expectation.answer]);
          else expect(statuses, expectation.because).toEqual([]);
          for (const response of finals) checkEchoes(row.file, response);
        });
      }
    });
  }

  it('leaves nothing behind: no transaction, no response context, no extra connection; sent only to loopback', async () => {
    const idle = { transactions: 0, contexts: 0, connections: wire.baselineConnections };
    expect(await wire.settledLoad(idle, SETTLE_WITHIN_MS)).toMatchObject(idle);
    expect(wire.sentTo.size).toBeGreaterThan(0);
    expect([...wire.sentTo].filter((host) => !isLoopback(host))).toEqual([]);
    expect(wire.listenerFailures, 'no listener threw inside the core').toEqual([]);
  });
});
