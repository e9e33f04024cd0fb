/**
 * Fuzzing a lab domain core over real sockets: a few thousand mutants (fixed seed) of valid requests and
 * responses, sent over UDP and TCP. Throughout, a probe shows the core still answers; afterwards it must
 * still register a user properly (Digest, RFC 3261 §22) and have nothing left behind: no transaction, no
 * response context, no connection, no binding.
 *
 * Nothing may leave the machine. The core forwards only to IP literals (it resolves no names), so a mutant
 * that names an address other than 127.0.0.0/8 (IPv4 or IPv6) is not sent; over UDP, a mutant whose answer
 * would go to a socket we do not own (its top Via names another transport, or lost both `rport` and our
 * port) is not sent either, so that no stray response lands in someone else's socket. The trace of the
 * core checks that every message it sent went to 127.0.0.1. Over UDP every probe is retransmitted until
 * answered (RFC 3261 §17.1.2.2), so that a datagram lost on a busy machine fails nothing.
 */
import { describe, expect, it } from 'vitest';
import { DigestResponder, parseDigestChallenges, selectDigestChallenge } from '../server/auth/digest';
import { DomainCore } from '../server/core/domain-core';
import { mutateMessage, seededRandom, type Random } from '../server/sip/message/mutation';
import { createRequest, type SipMessage, type SipRequest } from '../server/sip/message/sip-message';
import { serializeMessage } from '../server/sip/message/serialize';
import { parseVia } from '../server/sip/message/via';
import { tryParseMessage } from '../server/sip/rfc4475/torture-answers';
import { isLoopback, openWireClient, type WireClient } from '../server/sip/rfc4475/wire-client';
import { useWireCore } from './helpers/wire-core';

const DOMAIN = 'example.com';
const UDP_MUTANTS = 2500;
const TCP_MUTANTS = 1000;
/** Mutants between two liveness probes over UDP (also the most that are in flight at once). */
const UDP_BATCH = 50;
/** TCP connections open at once. */
const TCP_PARALLEL = 8;
/** Mutants sent back to back on every fourth TCP connection. */
const TCP_BURST = 4;
/** Rounds of TCP_PARALLEL connections between two liveness probes. */
const TCP_PROBE_EVERY_ROUNDS = 10;
const ANSWER_WITHIN_MS = 5_000;
/** The PRNG seed; set SIP_FUZZ_SEED to try other mutants (the default keeps every run the same). */
const SEED = Number(process.env.SIP_FUZZ_SEED ?? 0xf022_0000);
const SETTLE_WITHIN_MS = 15_000;

const wire = useWireCore(DOMAIN, [{ user: 'alice', password: 'alice-secret' }]);
let sequence = 0;

/** The Via a client puts in its requests: its own address, with `rport` (RFC 3581). */
function clientVia(client: WireClient, branch: string): string {
  return `SIP/2.0/${client.transport.toUpperCase()} 127.0.0.1:${client.local.port};branch=z9hG4bK${branch};rport`;
}

/**
 * The messages the mutants start from: what the core meets every day, requests and a response. `n` makes
 * branch and Call-ID unique, so that each mutant is a new transaction rather than a retransmission.
 */
function seeds(client: WireClient, n: number): Uint8Array[] {
  const via = clientVia(client, `f${n}`);
  const text = (lines: string[], body = ''): Uint8Array =>
    new TextEncoder().encode(`${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\na=path:msrp://127.0.0.1:7394/s1;tcp\r\n';
  return [
    text([`OPTIONS sip:${DOMAIN} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:stranger@elsewhere.invalid>;tag=1', `To: <sip:${DOMAIN}>`, `Call-ID: seed-options-${n}`, 'CSeq: 1 OPTIONS', 'Accept: application/sdp']),
    text([`REGISTER sip:${DOMAIN} SIP/2.0`, `v: ${via}`, 'Max-Forwards: 70', `f: <sip:alice@${DOMAIN}>;tag=2`, `t: <sip:alice@${DOMAIN}>`, `i: seed-register-${n}`, 'CSeq: 7 REGISTER',
      `m: <sip:alice@127.0.0.1:${client.local.port};transport=${client.transport}>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>";reg-id=1;expires=600`,
      'Supported: path, gruu, outbound', 'Expires: 600']),
    text([`INVITE sip:alice@${DOMAIN} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: "Alice" <sip:alice@${DOMAIN}>;tag=3`, `To: <sip:alice@${DOMAIN}>`, `Call-ID: seed-invite-${n}`, 'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${client.local.port}>`, 'Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"', 'Content-Type: application/sdp'], sdp),
    text([`MESSAGE sip:bob@${DOMAIN} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:stranger@elsewhere.invalid>;tag=4', `To: <sip:bob@${DOMAIN}>`, `Call-ID: seed-message-${n}`, 'CSeq: 2 MESSAGE', 'Content-Type: text/plain;charset=UTF-8'], 'héllo ✓'),
    text([`BYE sip:alice@${DOMAIN} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: <sip:bob@${DOMAIN}>;tag=5`, `To: <sip:alice@${DOMAIN}>;tag=6`, `Call-ID: seed-bye-${n}`, 'CSeq: 3 BYE', `Route: <sip:${DOMAIN};lr>`]),
    text([`CANCEL sip:alice@${DOMAIN} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: <sip:alice@${DOMAIN}>;tag=3`, `To: <sip:alice@${DOMAIN}>`, `Call-ID: seed-invite-${n}`, 'CSeq: 1 CANCEL']),
    text([`ACK sip:alice@${DOMAIN} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: <sip:alice@${DOMAIN}>;tag=3`, `To: <sip:alice@${DOMAIN}>;tag=7`, `Call-ID: seed-invite-${n}`, 'CSeq: 1 ACK']),
    text(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnotours', `From: <sip:alice@${DOMAIN}>;tag=8`, `To: <sip:bob@${DOMAIN}>;tag=9`, `Call-ID: seed-response-${n}`, 'CSeq: 4 MESSAGE']),
  ];
}

/** True when no address in the text is outside loopback (IPv4 literals other than 127/8, any IPv6 but ::1). */
function namesOnlyLoopback(text: string): boolean {
  for (const m of text.matchAll(/[0-9][0-9.]*[0-9]/g)) {
    const run = m[0];
    if (run.split('.').length >= 4 && !run.startsWith('127.')) return false;
  }
  // anything IPv6-shaped (hex groups around two or more colons), bracketed or not, except ::1
  for (const m of text.matchAll(/[0-9A-Fa-f]*(?::[0-9A-Fa-f]*){2,}/g)) {
    if (m[0] !== '::1') return false;
  }
  return true;
}

/**
 * Over UDP: does the answer come back to our socket? Responses follow the top Via (RFC 3261 §18.2.2): its
 * transport (a mutant that says TCP would have the core connect to our port number over TCP, which is
 * someone else's), then `rport` (RFC 3581) or the sent-by port.
 */
function answersReachUs(message: SipMessage | undefined, port: number): boolean {
  if (message === undefined || message.type === 'response') return true; // 400 from the transport goes to the source
  const top = message.headers.first('Via');
  if (top === undefined) return true;
  try {
    const via = parseVia(top);
    const transport = via.transport.toLowerCase();
    if (['tcp', 'tls', 'ws', 'wss', 'sctp'].includes(transport)) return false;
    return transport !== 'udp' || via.rport !== undefined || via.port === port;
  } catch {
    return true; // a broken top Via is answered at the source or not at all
  }
}

/** Mutants made, and how many of them were held back as unsafe. */
interface Counter {
  n: number;
  skipped: number;
}

/** The next mutant that is safe to send from `client` (see the module comment). */
function nextMutant(client: WireClient, rnd: Random, counter: Counter): Uint8Array {
  for (;;) {
    const base = seeds(client, counter.n);
    const mutant = mutateMessage(base[counter.n++ % base.length]!, rnd, { maxHugeValue: 8_000 });
    const safe = namesOnlyLoopback(Buffer.from(mutant).toString('latin1'))
      && (client.transport === 'tcp' || answersReachUs(tryParseMessage(mutant), client.local.port));
    if (safe) return mutant;
    counter.skipped++;
  }
}

/** An OPTIONS from a stranger: the core answers 403 (it only serves its own users' requests). */
function options(client: WireClient): SipRequest {
  sequence++;
  return createRequest('OPTIONS', `sip:${DOMAIN}`, [
    { name: 'Via', value: clientVia(client, `probe${sequence}`) },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: `<sip:probe@elsewhere.invalid>;tag=p${sequence}` },
    { name: 'To', value: `<sip:${DOMAIN}>` },
    { name: 'Call-ID', value: `probe-${sequence}@fuzz.test` },
    { name: 'CSeq', value: '1 OPTIONS' },
  ]);
}

/** Send a request and wait for its final response (undefined: no answer in time). */
async function ask(client: WireClient, request: SipRequest): Promise<SipMessage | undefined> {
  const callId = request.headers.get('Call-ID');
  const cseq = request.headers.get('CSeq');
  // over UDP the request is retransmitted until answered (RFC 3261 §17.1.2.2), as a real client would
  return client.exchange(
    serializeMessage(request),
    (m) => m.type === 'response' && m.status >= 200 && m.headers.get('Call-ID') === callId && m.headers.get('CSeq') === cseq,
    ANSWER_WITHIN_MS,
  );
}

function statusOf(m: SipMessage | undefined): number | undefined {
  return m?.type === 'response' ? m.status : undefined;
}

describe('a lab domain core under fuzzed input on the wire', () => {
  it(`answers throughout ${UDP_MUTANTS} UDP mutants`, async () => {
    const client = await openWireClient('udp', { host: '127.0.0.1', port: wire.port('udp') });
    try {
      const rnd = seededRandom(SEED + 1);
      const counter: Counter = { n: 0, skipped: 0 };
      for (let sent = 0; sent < UDP_MUTANTS; sent += UDP_BATCH) {
        for (let i = 0; i < UDP_BATCH; i++) await client.send(nextMutant(client, rnd, counter));
        expect(statusOf(await ask(client, options(client))), `probe after ${sent + UDP_BATCH} mutants`).toBe(403);
      }
      // whatever the core sends is well-formed SIP
      expect(client.received.filter((r) => r.kind === 'garbage')).toEqual([]);
      // the filter must leave most of the fuzzing in place
      expect(counter.skipped).toBeLessThan(UDP_MUTANTS / 4);
      // the core did answer mutants, and refused some as malformed
      const statuses = client.received.flatMap((r) => (r.kind === 'message' && r.message.type === 'response' ? [r.message.status] : []));
      expect(statuses.filter((s) => s === 400).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 400 && s !== 403).length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it(`answers throughout ${TCP_MUTANTS} TCP mutants, alone or several to a connection`, async () => {
    const rnd = seededRandom(SEED + 2);
    const counter: Counter = { n: 0, skipped: 0 };
    let connections = 0;
    let answered = 0;
    /** One connection: one mutant, or (every fourth) a burst that tests the framing of what follows a bad one. */
    const one = async (): Promise<void> => {
      const burst = connections++ % 4 === 3 ? TCP_BURST : 1;
      const client = await openWireClient('tcp', { host: '127.0.0.1', port: wire.port('tcp') });
      try {
        // a mutant that loses the framing gets the connection closed: the rest of the burst may find it gone
        for (let i = 0; i < burst && !client.closed; i++) await client.send(nextMutant(client, rnd, counter)).catch(() => undefined);
        client.endWrite();
        // the core closes once it has read our FIN (and answered what it could)
        expect(await client.waitClosed(ANSWER_WITHIN_MS)).toBe(true);
        if (client.received.length > 0) answered++;
        expect(client.received.filter((r) => r.kind === 'garbage'), 'the core sends well-formed SIP').toEqual([]);
      } finally {
        await client.close();
      }
    };
    for (let round = 1; counter.n - counter.skipped < TCP_MUTANTS; round++) {
      await Promise.all(Array.from({ length: TCP_PARALLEL }, one));
      if (round % TCP_PROBE_EVERY_ROUNDS === 0) {
        const probe = await openWireClient('tcp', { host: '127.0.0.1', port: wire.port('tcp') });
        try {
          expect(statusOf(await ask(probe, options(probe))), `probe after ${round} rounds`).toBe(403);
        } finally {
          await probe.close();
        }
      }
    }
    expect(answered).toBeGreaterThan(connections / 10);
  });

  it('still registers a user with Digest over UDP and TCP, and unregisters', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const client = await openWireClient(transport, { host: '127.0.0.1', port: wire.port(transport) });
      try {
        const register = (cseq: number, expires: number, authorization?: string): SipRequest => {
          sequence++;
          const headers = [
            { name: 'Via', value: clientVia(client, `reg${sequence}`) },
            { name: 'Max-Forwards', value: '70' },
            { name: 'From', value: `<sip:alice@${DOMAIN}>;tag=r${transport}` },
            { name: 'To', value: `<sip:alice@${DOMAIN}>` },
            { name: 'Call-ID', value: `after-fuzz-${transport}@fuzz.test` },
            { name: 'CSeq', value: `${cseq} REGISTER` },
            { name: 'Contact', value: `<sip:alice@127.0.0.1:${client.local.port};transport=${transport}>;expires=${expires}` },
          ];
          if (authorization) headers.push({ name: 'Authorization', value: authorization });
          return createRequest('REGISTER', `sip:${DOMAIN}`, headers);
        };
        const challenge = await ask(client, register(1, 600));
        expect(statusOf(challenge)).toBe(401);
        const chosen = selectDigestChallenge(parseDigestChallenges(challenge!.headers.getAll('WWW-Authenticate')));
        expect(chosen).toBeDefined();
        const responder = new DigestResponder(chosen!, 'alice', 'alice-secret');
        const ok = await ask(client, register(2, 600, responder.authorize('REGISTER', `sip:${DOMAIN}`)));
        expect(statusOf(ok)).toBe(200);
        expect(ok!.headers.get('Contact')).toContain(`127.0.0.1:${client.local.port}`);
        expect(wire.core.location.size()).toBe(1);
        const gone = await ask(client, register(3, 0, responder.authorize('REGISTER', `sip:${DOMAIN}`)));
        expect(statusOf(gone)).toBe(200);
        expect(wire.core.location.size()).toBe(0);
        expect(statusOf(await ask(client, options(client)))).toBe(403);
      } finally {
        await client.close();
      }
    }
  });

  it('leaves nothing behind, and sent nothing off the machine', async () => {
    const idle = { transactions: 0, contexts: 0, connections: wire.baselineConnections, bindings: 0 };
    expect(await wire.settledLoad(idle, SETTLE_WITHIN_MS)).toMatchObject(idle);
    expect(wire.sentTo.size).toBeGreaterThan(0);
    expect([...wire.sentTo].filter((host) => !isLoopback(host))).toEqual([]);
    expect(wire.listenerFailures, 'no listener threw inside the core').toEqual([]);
  });

  /**
   * Regression: the proxy core used to hand CANCEL to its CANCEL handling before the §16.3 checks and to
   * leave a CANCEL whose CSeq it could not read unanswered, its server transaction in Trying for ever.
   * Runs on a core of its own, so that a leak would not hide among the fuzzing's.
   */
  it('a CANCEL with a malformed CSeq is answered 400 and leaves no transaction', async () => {
    const own = await DomainCore.start({ domain: DOMAIN, users: [], listeners: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], timers: { t1: 50, t2: 400, t4: 500 } });
    const client = await openWireClient('tcp', { host: '127.0.0.1', port: own.transport.listeningPoint('tcp')!.port });
    try {
      const cancel = [
        `CANCEL sip:alice@${DOMAIN} SIP/2.0`, `Via: ${clientVia(client, 'badcancel')}`, 'Max-Forwards: 70',
        `From: <sip:alice@${DOMAIN}>;tag=1`, `To: <sip:alice@${DOMAIN}>`, 'Call-ID: bad-cancel', 'CSeq: 1 ,CANCEL', 'Content-Length: 0', '', '',
      ].join('\r\n');
      await client.send(new TextEncoder().encode(cancel));
      const answer = await client.waitFor((m) => m.type === 'response' && m.headers.get('Call-ID') === 'bad-cancel', ANSWER_WITHIN_MS);
      expect(statusOf(answer)).toBe(400);
      // over TCP the transaction ends with its final response (Timer J is 0, RFC 3261 §17.2.2)
      expect(own.layer.size()).toBe(0);
    } finally {
      await client.close();
      await own.close();
    }
  });
});
