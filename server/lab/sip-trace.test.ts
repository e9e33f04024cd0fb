import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../sip/transport/transport-types';
import { SipTrace, endpointText, renderLadder, type SipTraceHop } from './sip-trace';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function request(method: string, callId: string, cseq = 1): string {
  return [
    `${method} sip:bob@b.example SIP/2.0`,
    'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1',
    'From: <sip:alice@a.example>;tag=a1',
    'To: <sip:bob@b.example>',
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function response(status: number, reason: string, method: string, callId: string): string {
  return [
    `SIP/2.0 ${status} ${reason}`,
    'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1',
    'From: <sip:alice@a.example>;tag=a1',
    'To: <sip:bob@b.example>;tag=b1',
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const tls = (port: number): Endpoint => ({ protocol: 'tls', host: '127.0.0.1', port });

/** Two elements: X listens on 5061, Y on 5071; X reaches Y over a connection from ephemeral port 40000. */
function twoElements(trace: SipTrace) {
  trace.nameEndpoint(tls(5061), 'X');
  trace.nameEndpoint(tls(5071), 'Y');
  const x = trace.hook('X');
  const y = trace.hook('Y');
  const send = (text: string): void => {
    x('out', enc(text), { local: tls(40000), remote: tls(5071) });
    y('in', enc(text), { local: tls(5071), remote: tls(40000) });
  };
  const reply = (text: string): void => {
    y('out', enc(text), { local: tls(5071), remote: tls(40000) });
    x('in', enc(text), { local: tls(40000), remote: tls(5071) });
  };
  return { x, y, send, reply };
}

describe('the lab SIP trace', () => {
  it('records nothing until enabled, and nothing after it is disabled', () => {
    const trace = new SipTrace();
    const { send } = twoElements(trace);
    send(request('OPTIONS', 'c0'));
    expect(trace.entries()).toEqual([]);
    trace.enable();
    send(request('OPTIONS', 'c1'));
    trace.disable();
    send(request('OPTIONS', 'c2'));
    expect(trace.entries().map((e) => e.callId)).toEqual(['c1', 'c1']);
  });

  it('records who sent what to whom, naming the ephemeral port of an element’s connection after that element', () => {
    const trace = new SipTrace();
    trace.enable();
    const { send, reply } = twoElements(trace);
    send(request('INVITE', 'c1'));
    reply(response(200, 'OK', 'INVITE', 'c1'));
    const entries = trace.entries();
    expect(entries.map((e) => [e.seq, e.element, e.direction, e.summary, e.from, e.to])).toEqual([
      [1, 'X', 'out', 'INVITE', 'X', 'Y'],
      [2, 'Y', 'in', 'INVITE', 'X', 'Y'],
      [3, 'Y', 'out', '200 OK', 'Y', 'X'],
      [4, 'X', 'in', '200 OK', 'Y', 'X'],
    ]);
    expect(entries[2]).toMatchObject({ method: 'INVITE', status: 200, callId: 'c1', cseq: '1 INVITE' });
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.timestampNs >= entries[i - 1]!.timestampNs).toBe(true);
    expect(entries[0]!.raw).toBeUndefined();
  });

  it('keeps the message text only when asked to', () => {
    const trace = new SipTrace();
    trace.enable({ raw: true });
    const { send } = twoElements(trace);
    send(request('BYE', 'c1'));
    expect(trace.entries()[0]!.raw).toBe(request('BYE', 'c1'));
  });

  it('shows an unknown endpoint as its text', () => {
    const trace = new SipTrace();
    trace.enable();
    const ws: Endpoint = { protocol: 'ws', host: '::1', port: 52000 };
    trace.hook('core')('in', enc(request('REGISTER', 'r1')), { local: { protocol: 'ws', host: '::1', port: 8080 }, remote: ws });
    expect(trace.entries()[0]).toMatchObject({ from: 'ws:[::1]:52000', to: 'core' });
    expect(endpointText(ws)).toBe('ws:[::1]:52000');
  });

  it('learns a device’s endpoint from the bytes it sent, whichever side recorded first', () => {
    const trace = new SipTrace();
    trace.enable();
    const core = trace.hook('core');
    const phone = trace.device('phone');
    const local: Endpoint = { protocol: 'ws', host: '127.0.0.1', port: 8080 };
    const remote: Endpoint = { protocol: 'ws', host: '127.0.0.1', port: 52001 };
    const reply = response(200, 'OK', 'REGISTER', 'r1');
    core('out', enc(reply), { local, remote }); // recorded before the device's copy
    phone.received(reply);
    phone.sent(request('MESSAGE', 'm1'));
    core('in', enc(request('MESSAGE', 'm1')), { local, remote });
    expect(trace.hops().map((h) => `${h.from} → ${h.to}: ${h.summary} (${h.entries.length})`)).toEqual([
      'core → phone: 200 OK (2)',
      'phone → core: MESSAGE (2)',
    ]);
  });

  it('drops an unparsable message into the trace as such, without throwing', () => {
    const trace = new SipTrace();
    trace.enable();
    trace.hook('core')('in', enc('HELLO\r\n\r\n'), { local: tls(5061), remote: tls(40000) });
    expect(trace.entries()[0]).toMatchObject({ summary: '(unparsable)', method: '' });
    expect(trace.entries()[0]!.callId).toBeUndefined();
  });

  it('filters by Call-ID and method (a response counts as its CSeq method)', () => {
    const trace = new SipTrace();
    trace.enable();
    const { send, reply } = twoElements(trace);
    send(request('INVITE', 'c1'));
    reply(response(200, 'OK', 'INVITE', 'c1'));
    send(request('MESSAGE', 'c2'));
    expect(trace.hops({ callId: 'c1' }).map((h) => h.summary)).toEqual(['INVITE', '200 OK']);
    expect(trace.hops({ methods: ['message'] }).map((h) => h.callId)).toEqual(['c2']);
  });

  it('merges the two sides of each hop, and keeps a retransmission as a hop of its own', () => {
    const trace = new SipTrace();
    trace.enable();
    const { send } = twoElements(trace);
    send(request('INVITE', 'c1'));
    send(request('INVITE', 'c1'));
    const hops = trace.hops();
    expect(hops).toHaveLength(2);
    expect(hops.map((h) => h.entries.map((e) => e.seq))).toEqual([[1, 2], [3, 4]]);
  });

  it('forgets everything on clear, and keeps at most maxEntries', () => {
    const trace = new SipTrace({ maxEntries: 3 });
    trace.enable();
    const { send } = twoElements(trace);
    send(request('OPTIONS', 'c1'));
    send(request('OPTIONS', 'c2'));
    expect(trace.entries().map((e) => e.seq)).toEqual([2, 3, 4]);
    trace.clear();
    expect(trace.entries()).toEqual([]);
    send(request('OPTIONS', 'c3'));
    expect(trace.entries().map((e) => e.seq)).toEqual([5, 6]);
    expect(() => new SipTrace({ maxEntries: 0 })).toThrow('SipTrace: maxEntries must be a positive integer, got 0');
  });
});

describe('one ephemeral port towards two elements at once', () => {
  // Linux chooses a connection's ephemeral port per destination (RFC 6056 §3.3.4, algorithm 4): two
  // connections to two different listening points can have the same source host:port at the same time. An
  // endpoint is only an element's, or a device's, together with the endpoint at the other end.
  const ws = (port: number): Endpoint => ({ protocol: 'ws', host: '127.0.0.1', port });
  const shared = ws(50000);
  const line = (h: SipTraceHop): string => `${h.from} → ${h.to}: ${h.summary} (${h.entries.length})`;

  it('names each of two devices that reach two cores from the same host:port after the device it is', () => {
    const trace = new SipTrace();
    trace.enable();
    trace.nameEndpoint(ws(8080), 'core A');
    trace.nameEndpoint(ws(8090), 'core B');
    const [coreA, coreB] = [trace.hook('core A'), trace.hook('core B')];
    const [desktop, bob] = [trace.device('Desktop'), trace.device('Bob')];
    // alice's Desktop registers with core A first, then bob with core B, from the same port
    desktop.sent(request('REGISTER', 'desktop-reg'));
    coreA('in', enc(request('REGISTER', 'desktop-reg')), { local: ws(8080), remote: shared });
    bob.sent(request('REGISTER', 'bob-reg'));
    coreB('in', enc(request('REGISTER', 'bob-reg')), { local: ws(8090), remote: shared });
    // core B brings bob an INVITE; core A answers the Desktop
    coreB('out', enc(request('INVITE', 'chat')), { local: ws(8090), remote: shared });
    bob.received(request('INVITE', 'chat'));
    coreA('out', enc(response(200, 'OK', 'REGISTER', 'desktop-reg')), { local: ws(8080), remote: shared });
    desktop.received(response(200, 'OK', 'REGISTER', 'desktop-reg'));

    expect(trace.hops().map(line)).toEqual([
      'Desktop → core A: REGISTER (2)',
      'Bob → core B: REGISTER (2)',
      'core B → Bob: INVITE (2)',
      'core A → Desktop: 200 OK (2)',
    ]);
  });

  it('names the connections two elements opened from the same port after their own element, whichever side reports first', () => {
    const trace = new SipTrace();
    trace.enable();
    trace.nameEndpoint(tls(5061), 'core A');
    trace.nameEndpoint(tls(5071), 'CS A');
    trace.nameEndpoint(tls(5062), 'core B');
    trace.nameEndpoint(tls(5072), 'CS B');
    const [coreA, csA, coreB, csB] = [trace.hook('core A'), trace.hook('CS A'), trace.hook('core B'), trace.hook('CS B')];
    // core A → CS A from port 40000; CS B → core B from port 40000 too, its own entry reported late (IPC)
    coreA('out', enc(request('OPTIONS', 'a')), { local: tls(40000), remote: tls(5071) });
    csA('in', enc(request('OPTIONS', 'a')), { local: tls(5071), remote: tls(40000) });
    const sent = process.hrtime.bigint();
    coreB('in', enc(request('NOTIFY', 'b')), { local: tls(5062), remote: tls(40000) });
    csB('out', enc(request('NOTIFY', 'b')), { local: tls(40000), remote: tls(5062) }, sent);

    expect(trace.hops().map(line)).toEqual(['core A → CS A: OPTIONS (2)', 'CS B → core B: NOTIFY (2)']);
  });
});

describe('entries an element in another process reports late, with the time it saw them', () => {
  /**
   * Core X (in our process) sends an INVITE to server Y (a forked process, reporting over IPC): Y's `in` entry,
   * stamped by Y when it read the INVITE, reaches the trace only after X has already recorded Y's 100 Trying.
   */
  function lateChild(trace: SipTrace): { sawInvite: bigint } {
    trace.nameEndpoint(tls(5061), 'X');
    trace.nameEndpoint(tls(5071), 'Y');
    const x = trace.hook('X');
    const y = trace.hook('Y');
    x('out', enc(request('INVITE', 'c1')), { local: tls(40000), remote: tls(5071) });
    const sawInvite = process.hrtime.bigint();
    const sawTryingSent = process.hrtime.bigint();
    x('in', enc(response(100, 'Trying', 'INVITE', 'c1')), { local: tls(40000), remote: tls(5071) });
    // now Y's two entries arrive, each with its own (earlier) time
    y('in', enc(request('INVITE', 'c1')), { local: tls(5071), remote: tls(40000) }, sawInvite);
    y('out', enc(response(100, 'Trying', 'INVITE', 'c1')), { local: tls(5071), remote: tls(40000) }, sawTryingSent);
    return { sawInvite };
  }

  it('places each by its own time, before what it caused, with seq increasing in that order', () => {
    const trace = new SipTrace();
    trace.enable();
    const { sawInvite } = lateChild(trace);
    const entries = trace.entries();
    expect(entries.map((e) => [e.seq, e.element, e.direction, e.summary])).toEqual([
      [1, 'X', 'out', 'INVITE'],
      [2, 'Y', 'in', 'INVITE'],
      [3, 'Y', 'out', '100 Trying'],
      [4, 'X', 'in', '100 Trying'],
    ]);
    expect(entries[1]!.timestampNs).toBe(sawInvite);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.timestampNs >= entries[i - 1]!.timestampNs).toBe(true);
    // The hops pair the late entries with their other sides and keep causal order.
    expect(trace.hops().map((h) => `${h.from} → ${h.to}: ${h.summary} (${h.entries.length})`)).toEqual([
      'X → Y: INVITE (2)',
      'Y → X: 100 Trying (2)',
    ]);
    // A filtered read numbers its entries as the whole trace does.
    expect(trace.entries({ methods: ['INVITE'] }).filter((e) => e.element === 'Y').map((e) => e.seq)).toEqual([2, 3]);
  });

  it('takes a time later than when the entry arrived as the arrival time', () => {
    const trace = new SipTrace();
    trace.enable();
    const before = process.hrtime.bigint();
    trace.hook('Y')('in', enc(request('OPTIONS', 'o1')), { local: tls(5071), remote: tls(40000) }, before + 3_600_000_000_000n);
    const after = process.hrtime.bigint();
    const stamped = trace.entries()[0]!.timestampNs;
    expect(stamped >= before && stamped <= after).toBe(true);
  });

  it('drops a late entry older than everything kept when the trace is full', () => {
    const trace = new SipTrace({ maxEntries: 2 });
    trace.enable();
    const longAgo = process.hrtime.bigint();
    const { send } = twoElements(trace);
    send(request('OPTIONS', 'c1'));
    trace.hook('Z')('in', enc(request('OPTIONS', 'late')), { local: tls(5081), remote: tls(40001) }, longAgo);
    expect(trace.entries().map((e) => [e.seq, e.callId])).toEqual([
      [2, 'c1'],
      [3, 'c1'],
    ]);
  });
});

describe('the ladder diagram', () => {
  const hop = (from: string, to: string, summary: string, ms: number): SipTraceHop => ({
    from, to, summary, method: summary, timestampNs: BigInt(ms * 1_000_000), entries: [],
  });

  it('draws one column per element and one arrow per message, pointing the way it went', () => {
    const text = renderLadder([hop('A', 'B', 'INVITE', 0), hop('B', 'C', 'INVITE', 1), hop('C', 'A', '200 OK', 2.5)]);
    expect(text).toBe([
      '                     A                 B                 C',
      '                     |                 |                 |',
      '+0.000ms             |-----INVITE----->|                 |',
      '+1.000ms             |                 |-----INVITE----->|',
      '+2.500ms             |<-------------200 OK---------------|',
      '',
    ].join('\n'));
  });

  it('says so when there is nothing to draw', () => {
    expect(renderLadder([])).toBe('(no SIP messages traced)\n');
    expect(renderLadder([hop('A', 'B', 'INVITE', 0)], { elements: ['C'] })).toBe('(no SIP messages traced)\n');
  });

  it('uses the columns given, leaving out hops to elements not shown, and can omit times', () => {
    const text = renderLadder([hop('A', 'B', 'INVITE', 0), hop('B', 'C', 'INVITE', 1)], { elements: ['B', 'A'], times: false });
    expect(text.split('\n')).toEqual([
      '         B                 A',
      '         |                 |',
      '         |<----INVITE------|',
      '',
    ]);
  });
});
