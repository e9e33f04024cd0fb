/**
 * SIP message parse and serialize throughput: our message layer (server/sip/message) against JsSIP's own
 * parser (`jssip/lib/Parser` `parseMessage(data, ua)`) and serializer (`OutgoingRequest#toString`), on the
 * same messages in the same process. Medians of several interleaved rounds; prints a markdown table and
 * writes bench/results/sip-parse.json (with the load average: on a busy machine compare ratios only).
 *
 * Run: npx tsx bench/sip-parse.bench.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseMessage } from '../server/sip/message/parse';
import { checkRequest } from '../server/sip/message/request-check';
import { serializeMessage } from '../server/sip/message/serialize';

const require = createRequire(import.meta.url);

/** The slice of JsSIP's parser we call: a message object, or undefined when it cannot parse. */
type JsSipParse = (data: string, ua: unknown) => unknown;
/** The slice of JsSIP's OutgoingRequest we call. */
type JsSipOutgoingRequest = new (method: string, ruri: string, ua: unknown, params: Record<string, unknown>, extraHeaders: string[], body?: string) => { toString(): string };

const jssipParser = require('jssip/lib/Parser') as { parseMessage: JsSipParse };
const jssipMessages = require('jssip/lib/SIPMessage') as { OutgoingRequest: JsSipOutgoingRequest };
const jssipUri = require('jssip/lib/URI') as { parse(uri: string): unknown };

/**
 * The minimal UA JsSIP needs: its parser only stores the ua on IncomingRequest; OutgoingRequest reads
 * `configuration` (uri, display name, extra headers, preloaded route, session timers, user agent) and
 * `contact` (GRUUs) when it builds and serializes a request; URIs must be JsSIP URI objects.
 */
const uaStub = {
  configuration: {
    uri: jssipUri.parse('sip:alice@a.example'), display_name: 'Alice', extra_headers: null, use_preloaded_route: false,
    session_timers: false, user_agent: 'bench', jssip_id: 'bench',
  },
  contact: { pub_gruu: null, temp_gruu: null },
};

const SDP = [
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 198.51.100.1', 's=-', 'c=IN IP4 198.51.100.1', 't=0 0',
  'm=message 7394 TCP/MSRP *', 'a=accept-types:message/cpim', 'a=accept-wrapped-types:text/plain message/imdn+xml',
  'a=path:msrp://198.51.100.1:7394/jshA7weztas;tcp', 'a=setup:active', '',
].join('\r\n');

const INVITE = [
  'INVITE sip:bob@b.example;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6 SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776sgdkse;rport',
  'Max-Forwards: 70',
  'To: "Bob" <sip:bob@b.example>',
  'From: "Alice" <sip:alice@a.example>;tag=9fxced76sl',
  'Call-ID: 3848276298220188511@a.example',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@a.example;gr=urn:uuid:4a1b2c3d-0000-1000-8000-000a95a0e128;ob>',
  'Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"',
  'Conversation-ID: 0bd5c4b4-1d5a-4b2f-9e0e-1f6a4b1c2d3e',
  'Contribution-ID: 7a3f9c2e-5b1d-4e8a-a6f0-2c9d8e7b6a5f',
  'Allow: INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, OPTIONS, REFER, INFO, NOTIFY',
  'Supported: timer, gruu, outbound',
  'User-Agent: cpm-handoff/0.1',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n');

const REGISTER = [
  'REGISTER sip:a.example SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport',
  'Max-Forwards: 70',
  'To: <sip:alice@a.example>',
  'From: <sip:alice@a.example>;tag=456248',
  'Call-ID: 843817637684230@998sdasdh09',
  'CSeq: 1826 REGISTER',
  'Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;+sip.instance="<urn:uuid:4a1b2c3d-0000-1000-8000-000a95a0e128>";reg-id=1;expires=600;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session";+cpm.device-name="Laptop"',
  'Expires: 600',
  'Allow: INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, OPTIONS, REFER, INFO, NOTIFY',
  'Supported: path, gruu, outbound',
  'User-Agent: cpm-handoff/0.1',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

interface Row {
  message: string;
  operation: string;
  implementation: string;
  messagesPerSecond: number;
}

const ROUNDS = 7;

/**
 * Messages per second of each function, median over ROUNDS rounds of about `ms` each (after a warm-up).
 * Rounds are interleaved (round 1 of every function, then round 2…), so that a change in machine load
 * hits every implementation alike and the ratios stay meaningful on a busy machine.
 */
function measureAll<K extends string>(fns: Record<K, () => void>, ms = 200): Record<K, number> {
  const entries = Object.entries(fns) as [K, () => void][];
  const batches = new Map<K, number>();
  const rates = new Map<K, number[]>();
  for (const [name, fn] of entries) {
    const warmEnd = performance.now() + 150;
    while (performance.now() < warmEnd) for (let i = 0; i < 200; i++) fn();
    batches.set(name, 200);
    rates.set(name, []);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of entries) {
      const batch = batches.get(name)!;
      let done = 0;
      const start = performance.now();
      let now = start;
      while (now - start < ms) {
        for (let i = 0; i < batch; i++) fn();
        done += batch;
        now = performance.now();
      }
      rates.get(name)!.push((done / (now - start)) * 1000);
      batches.set(name, Math.max(50, Math.round(done / 10)));
    }
  }
  const out = {} as Record<K, number>;
  for (const [name, list] of rates) {
    list.sort((a, b) => a - b);
    out[name] = list[Math.floor(list.length / 2)]!;
  }
  return out;
}

let sink = 0;
const rows: Row[] = [];
const ratios: Record<string, number> = {};

for (const [name, text] of [['INVITE with SDP', INVITE], ['REGISTER', REGISTER]] as const) {
  const bytes = new TextEncoder().encode(text);
  // sanity: both parsers accept the message
  const ours = parseMessage(bytes);
  if (ours.type !== 'request' || jssipParser.parseMessage(text, uaStub) === undefined) throw new Error(`${name}: a parser refused the benchmark message`);
  if (checkRequest(ours, { role: name === 'REGISTER' ? 'registrar' : 'uas' }) !== undefined) throw new Error(`${name}: rejected by checkRequest`);

  const extra = [...ours.headers]
    .filter((h) => !['Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Allow', 'Supported', 'User-Agent', 'Content-Length'].includes(h.name))
    .map((h) => `${h.name}: ${h.value}`);
  const body = new TextDecoder().decode(ours.body);
  const outgoing = new jssipMessages.OutgoingRequest(ours.method, ours.uri, uaStub, {
    call_id: ours.headers.get('Call-ID'), cseq: 1, from_tag: 'x', to_uri: jssipUri.parse('sip:bob@b.example'),
  }, extra, body || undefined);
  const role = name === 'REGISTER' ? 'registrar' : 'uas';
  const { parseOurs, parseOursChecked, parseJssip, serializeOurs, serializeJssip } = measureAll({
    parseOurs: () => { sink += parseMessage(bytes).headers.size; },
    parseOursChecked: () => {
      const m = parseMessage(bytes);
      if (m.type === 'request') sink += checkRequest(m, { role }) === undefined ? 1 : 0;
    },
    parseJssip: () => { sink += jssipParser.parseMessage(text, uaStub) ? 1 : 0; },
    serializeOurs: () => { sink += serializeMessage(ours).length; },
    // V8 builds concatenated strings as ropes: encoding to UTF-8 (as the socket write does) makes the work real.
    serializeJssip: () => { sink += Buffer.from(outgoing.toString(), 'utf8').length; },
  });

  rows.push(
    { message: name, operation: 'parse', implementation: 'ours (lazy: start line, headers, body)', messagesPerSecond: parseOurs },
    { message: name, operation: 'parse', implementation: 'ours + checkRequest (Via, From, To, CSeq, Contact… parsed)', messagesPerSecond: parseOursChecked },
    { message: name, operation: 'parse', implementation: 'JsSIP Parser.parseMessage', messagesPerSecond: parseJssip },
    { message: name, operation: 'serialize', implementation: 'ours serializeMessage (to bytes)', messagesPerSecond: serializeOurs },
    { message: name, operation: 'serialize', implementation: 'JsSIP OutgoingRequest#toString + UTF-8 encode (to bytes)', messagesPerSecond: serializeJssip },
  );
  ratios[`${name} parse (lazy / JsSIP)`] = parseOurs / parseJssip;
  ratios[`${name} parse (checked / JsSIP)`] = parseOursChecked / parseJssip;
  ratios[`${name} serialize (ours / JsSIP)`] = serializeOurs / serializeJssip;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`| message | operation | implementation | messages/s (median of ${ROUNDS}) |`);
console.log('| --- | --- | --- | ---: |');
for (const r of rows) console.log(`| ${r.message} | ${r.operation} | ${r.implementation} | ${fmt(r.messagesPerSecond)} |`);
console.log('');
console.log(`(1-minute load average at the end: ${loadavg()[0]!.toFixed(1)})`);
console.log('');
console.log('| ratio | × |');
console.log('| --- | ---: |');
for (const [k, v] of Object.entries(ratios)) console.log(`| ${k} | ${v.toFixed(2)} |`);

const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(`${out}sip-parse.json`, `${JSON.stringify({ node: process.version, cpus: cpus().length, rounds: ROUNDS, date: new Date().toISOString(), loadAverage: loadavg()[0], rows, ratios }, null, 2)}\n`);
if (sink === -1) console.log(sink); // keep the measured work observable
