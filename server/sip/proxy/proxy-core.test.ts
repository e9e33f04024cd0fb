import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessage, SipRequest, SipResponse } from '../message/sip-message';
import { parseVia } from '../message/via';
import { FakeTransport } from '../transaction/fake-transport';
import { sampleRequest, sampleResponse } from '../transaction/sample-messages';
import type { Endpoint } from '../transport/transport-types';
import { ProxyCore } from './proxy-core';
import type { ProxyHooks, ProxyTarget } from './proxy-hooks';

const T1 = 10;
const UAC: Endpoint = { protocol: 'udp', host: '192.0.2.1', port: 5070 };
const BOB1 = 'sip:bob@192.0.2.21:5060';
const BOB2 = 'sip:bob@192.0.2.22:5060';
const POINTS: Endpoint[] = [
  { protocol: 'udp', host: '127.0.0.1', port: 5060 },
  { protocol: 'tcp', host: '127.0.0.1', port: 5062 },
];

interface Setup {
  transport: FakeTransport;
  proxy: ProxyCore;
  errors: Error[];
}

function setup(targets: readonly ProxyTarget[] | ProxyHooks['locate'], extra: Partial<ProxyHooks> = {}, timerC = 1_000): Setup {
  const transport = new FakeTransport(POINTS);
  const locate: ProxyHooks['locate'] = typeof targets === 'function' ? targets : () => targets;
  const proxy = new ProxyCore({ transport, hooks: { locate, ...extra }, timers: { t1: T1, t2: 40, t4: 50 }, timerC });
  const errors: Error[] = [];
  proxy.on('error', (e) => errors.push(e));
  return { transport, proxy, errors };
}

/** An INVITE from the UAC to the proxy's domain. */
function invite(options: Parameters<typeof sampleRequest>[1] = {}): SipRequest {
  return sampleRequest('INVITE', { uri: 'sip:bob@127.0.0.1:5060', ...options });
}

function sentTo(transport: FakeTransport, host: string): SipMessage[] {
  return transport.sent.filter((s) => s.target.host === host).map((s) => s.message);
}

function requestsTo(transport: FakeTransport, host: string, method: string): SipRequest[] {
  return sentTo(transport, host).filter((m): m is SipRequest => m.type === 'request' && m.method === method);
}

function responsesTo(transport: FakeTransport, host: string): SipResponse[] {
  return sentTo(transport, host).filter((m): m is SipResponse => m.type === 'response');
}

/** Answer a forwarded request as the downstream UAS would (its To tag), delivered from `host`. */
function answer(transport: FakeTransport, forwarded: SipRequest, status: number, host: string, tag = `tag-${host}`): void {
  transport.deliver(sampleResponse(forwarded, status, tag), { protocol: 'udp', host, port: 5060 });
}

async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('ProxyCore (RFC 3261 §16)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('forwards an INVITE to the located target with its Via on top, Max-Forwards decremented and a Record-Route', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }]);
    transport.deliver(invite(), UAC);
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100]);
    const [out] = requestsTo(transport, '192.0.2.21', 'INVITE');
    expect(out?.uri).toBe(BOB1);
    const vias = out!.headers.values('Via');
    expect(vias).toHaveLength(2);
    const ours = parseVia(vias[0]!);
    expect(`${ours.transport} ${ours.host}:${ours.port ?? ''}`).toBe('UDP 127.0.0.1:5060');
    expect(ours.branch).toMatch(/^z9hG4bK/);
    expect(ours.rport).toBeNull(); // asked for (RFC 3581 §3), not yet filled in
    expect(vias[1]).toBe('SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-test-1');
    expect(out!.headers.get('Max-Forwards')).toBe('69');
    expect(out!.headers.values('Record-Route')).toEqual(['<sip:127.0.0.1:5060;lr>']);

    answer(transport, out!, 180, '192.0.2.21');
    answer(transport, out!, 200, '192.0.2.21');
    await settle();
    const up = responsesTo(transport, UAC.host);
    expect(up.map((r) => r.status)).toEqual([100, 180, 200]);
    expect(up[2]!.headers.values('Via')).toEqual(['SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-test-1']);
    await settle(64 * T1);
    expect(proxy.contextCount()).toBe(0);
    expect(proxy.layer.size()).toBe(0);
  });

  it('maps a retransmitted INVITE to the same server transaction and never forks it twice', async () => {
    const { transport } = setup([{ uri: BOB1 }]);
    transport.deliver(invite(), UAC);
    transport.deliver(invite(), UAC);
    await settle();
    expect(requestsTo(transport, '192.0.2.21', 'INVITE')).toHaveLength(1);
  });

  it('gives the same branch to the same incoming request and a different one to another', async () => {
    const a = setup([{ uri: BOB1 }]);
    const b = setup([{ uri: BOB1 }]);
    a.transport.deliver(invite(), UAC);
    b.transport.deliver(invite(), UAC);
    b.transport.deliver(invite({ branch: 'z9hG4bK-test-2', callId: 'other' }), UAC);
    await settle();
    const branchOf = (m: SipRequest | undefined): string | undefined => parseVia(m!.headers.first('Via')!).branch;
    const [fromA] = requestsTo(a.transport, '192.0.2.21', 'INVITE');
    const [fromB, otherB] = requestsTo(b.transport, '192.0.2.21', 'INVITE');
    expect(branchOf(fromA)).toBe(branchOf(fromB));
    expect(branchOf(otherB)).not.toBe(branchOf(fromB));
  });

  it('answers 483 when Max-Forwards is 0 and 400 when From is missing', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }]);
    const tooFar = sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' });
    tooFar.headers.set('Max-Forwards', '0');
    const noFrom = sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060', branch: 'z9hG4bK-2' });
    noFrom.headers.remove('From');
    transport.deliver(tooFar, UAC);
    transport.deliver(noFrom, UAC);
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([483, 400]);
    expect(requestsTo(transport, '192.0.2.21', 'MESSAGE')).toHaveLength(0);
    await settle(64 * T1);
    expect(proxy.contextCount()).toBe(0);
  });

  it('detects a loop (482) when a request comes back unchanged, but lets a spiral with a new Request-URI through', async () => {
    const { transport } = setup((request) => [{ uri: request.uri.includes('alias') ? 'sip:bob@127.0.0.1:5060' : 'sip:bob@127.0.0.1:5060;x=1' }]);
    transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:alias@127.0.0.1:5060' }), UAC);
    await settle();
    // The proxy sent it to itself (127.0.0.1:5060); deliver what it sent back to it, twice round.
    const first = requestsTo(transport, '127.0.0.1', 'MESSAGE')[0]!;
    transport.deliver(first, { protocol: 'udp', host: '127.0.0.1', port: 5060 }); // spiral: URI changed
    await settle();
    const second = requestsTo(transport, '127.0.0.1', 'MESSAGE')[1]!;
    expect(second.uri).toBe('sip:bob@127.0.0.1:5060;x=1');
    const looped = { ...second, headers: second.headers.clone() };
    looped.uri = first.uri; // back to the URI it had on the second visit: same loop hash
    looped.headers.set('Max-Forwards', first.headers.get('Max-Forwards')!);
    transport.deliver(looped, { protocol: 'udp', host: '127.0.0.1', port: 5060 });
    await settle();
    expect(responsesTo(transport, '127.0.0.1').map((r) => r.status)).toContain(482);
  });

  it('removes its own Route, forwards to the next loose Route, and Record-Routes twice when bridging UDP → TCP', async () => {
    const { transport } = setup([]);
    const request = invite({ uri: BOB1 });
    request.headers.append('Route', '<sip:127.0.0.1:5060;lr>, <sip:192.0.2.30:5064;transport=tcp;lr>');
    transport.deliver(request, UAC);
    await settle();
    const sent = transport.sent.find((s) => s.message.type === 'request')!;
    expect(sent.target).toMatchObject({ protocol: 'tcp', host: '192.0.2.30', port: 5064 });
    const out = sent.message as SipRequest;
    expect(out.uri).toBe(BOB1);
    expect(out.headers.values('Route')).toEqual(['<sip:192.0.2.30:5064;transport=tcp;lr>']);
    expect(out.headers.values('Record-Route')).toEqual(['<sip:127.0.0.1:5062;transport=tcp;lr>', '<sip:127.0.0.1:5060;lr>']);
    expect(out.headers.first('Via')).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:5062;branch=z9hG4bK/);
  });

  it('removes both of its Route values after a double Record-Route', async () => {
    const { transport } = setup([]);
    const bye = sampleRequest('BYE', { uri: BOB1, toTag: 'b1' });
    bye.headers.append('Route', '<sip:127.0.0.1:5060;lr>');
    bye.headers.append('Route', '<sip:127.0.0.1:5062;transport=tcp;lr>');
    transport.deliver(bye, UAC);
    await settle();
    const [out] = requestsTo(transport, '192.0.2.21', 'BYE');
    expect(out?.headers.has('Route')).toBe(false);
    expect(out?.headers.has('Record-Route')).toBe(false);
  });

  it('fixes up a request from a strict router (§16.4): the last Route becomes the Request-URI', async () => {
    const { transport } = setup([]);
    const request = sampleRequest('BYE', { uri: 'sip:127.0.0.1:5060;lr', toTag: 'b1' });
    request.headers.append('Route', `<${BOB1}>`);
    transport.deliver(request, UAC);
    await settle();
    const [out] = requestsTo(transport, '192.0.2.21', 'BYE');
    expect(out?.uri).toBe(BOB1);
    expect(out?.headers.has('Route')).toBe(false);
  });

  it('sends to a strict router with the Request-URI moved to the end of the Route set (§16.6 item 6)', async () => {
    const { transport } = setup([]);
    const request = sampleRequest('BYE', { uri: BOB1, toTag: 'b1' });
    request.headers.append('Route', '<sip:192.0.2.40:5060>');
    transport.deliver(request, UAC);
    await settle();
    const [out] = requestsTo(transport, '192.0.2.40', 'BYE');
    expect(out?.uri).toBe('sip:192.0.2.40:5060');
    expect(out?.headers.values('Route')).toEqual([`<${BOB1}>`]);
  });

  it('forks in parallel: forwards the 200, CANCELs the ringing loser, absorbs its 487, and ends clean', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }, { uri: BOB2 }]);
    transport.deliver(invite(), UAC);
    await settle();
    const [to1] = requestsTo(transport, '192.0.2.21', 'INVITE');
    const [to2] = requestsTo(transport, '192.0.2.22', 'INVITE');
    expect(parseVia(to1!.headers.first('Via')!).branch).not.toBe(parseVia(to2!.headers.first('Via')!).branch);
    answer(transport, to1!, 180, '192.0.2.21');
    answer(transport, to2!, 200, '192.0.2.22');
    await settle();
    const [cancel] = requestsTo(transport, '192.0.2.21', 'CANCEL');
    expect(cancel?.headers.first('Via')).toBe(to1!.headers.first('Via'));
    expect(cancel?.headers.get('Reason')).toContain('cause=200');
    expect(requestsTo(transport, '192.0.2.22', 'CANCEL')).toHaveLength(0);
    answer(transport, cancel!, 200, '192.0.2.21');
    answer(transport, to1!, 487, '192.0.2.21');
    await settle();
    expect(requestsTo(transport, '192.0.2.21', 'ACK')).toHaveLength(1); // the client transaction ACKs the 487
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 180, 200]);
    await settle(64 * T1);
    expect(proxy.contextCount()).toBe(0);
    expect(proxy.layer.size()).toBe(0);
  });

  it('forwards the 200 of one branch when the other answered 486 first', async () => {
    const { transport } = setup([{ uri: BOB1 }, { uri: BOB2 }]);
    transport.deliver(invite(), UAC);
    await settle();
    answer(transport, requestsTo(transport, '192.0.2.21', 'INVITE')[0]!, 486, '192.0.2.21');
    answer(transport, requestsTo(transport, '192.0.2.22', 'INVITE')[0]!, 200, '192.0.2.22');
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 200]);
    expect(transport.sentRequests('CANCEL')).toHaveLength(0);
  });

  it('forwards every 2xx of a forked INVITE, even after the first', async () => {
    const { transport } = setup([{ uri: BOB1 }, { uri: BOB2 }]);
    transport.deliver(invite(), UAC);
    await settle();
    answer(transport, requestsTo(transport, '192.0.2.21', 'INVITE')[0]!, 200, '192.0.2.21');
    answer(transport, requestsTo(transport, '192.0.2.22', 'INVITE')[0]!, 200, '192.0.2.22');
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 200, 200]);
  });

  it('chooses the best final response when all branches fail, and cancels the rest on a 6xx', async () => {
    const { transport } = setup([{ uri: BOB1 }, { uri: BOB2 }]);
    transport.deliver(invite(), UAC);
    await settle();
    const to2 = requestsTo(transport, '192.0.2.22', 'INVITE')[0]!;
    answer(transport, to2, 180, '192.0.2.22');
    answer(transport, requestsTo(transport, '192.0.2.21', 'INVITE')[0]!, 603, '192.0.2.21');
    await settle();
    expect(requestsTo(transport, '192.0.2.22', 'CANCEL')).toHaveLength(1);
    answer(transport, to2, 487, '192.0.2.22');
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 180, 603]);
  });

  it('applies a CANCEL from upstream (§16.10): 200 to it, CANCEL downstream, 487 upstream', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }]);
    transport.deliver(invite(), UAC);
    await settle();
    const out = requestsTo(transport, '192.0.2.21', 'INVITE')[0]!;
    answer(transport, out, 180, '192.0.2.21');
    transport.deliver(sampleRequest('CANCEL', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    await settle();
    const cancel = requestsTo(transport, '192.0.2.21', 'CANCEL')[0]!;
    answer(transport, cancel, 200, '192.0.2.21');
    answer(transport, out, 487, '192.0.2.21');
    await settle();
    const up = responsesTo(transport, UAC.host);
    expect(up.map((r) => `${r.status} ${r.headers.get('CSeq') ?? ''}`)).toEqual(['100 1 INVITE', '180 1 INVITE', '200 1 CANCEL', '487 1 INVITE']);
    transport.deliver(sampleRequest('ACK', { uri: 'sip:bob@127.0.0.1:5060', toTag: 'tag-192.0.2.21' }), UAC);
    await settle(64 * T1);
    expect(proxy.contextCount()).toBe(0);
    expect(proxy.layer.size()).toBe(0);
  });

  it('answers 481 to a CANCEL that matches nothing', async () => {
    const { transport } = setup([{ uri: BOB1 }]);
    transport.deliver(sampleRequest('CANCEL', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([481]);
  });

  it('answers 400 to a CANCEL whose CSeq it cannot read, and its transaction ends (§16.3, §16.10)', async () => {
    const { transport, proxy, errors } = setup([{ uri: BOB1 }]);
    const cancel = sampleRequest('CANCEL', { uri: 'sip:bob@127.0.0.1:5060' });
    cancel.headers.set('CSeq', '1 ,CANCEL');
    transport.deliver(cancel, UAC);
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([400]);
    await settle(64 * T1); // Timer J
    expect(proxy.layer.size()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('CANCELs a branch that rang but never answered when Timer C fires', async () => {
    const { transport } = setup([{ uri: BOB1 }], {}, 300);
    transport.deliver(invite(), UAC);
    await settle();
    answer(transport, requestsTo(transport, '192.0.2.21', 'INVITE')[0]!, 180, '192.0.2.21');
    await settle(299);
    expect(transport.sentRequests('CANCEL')).toHaveLength(0);
    await settle(1);
    expect(requestsTo(transport, '192.0.2.21', 'CANCEL')).toHaveLength(1);
  });

  it('answers 408 upstream when the only branch times out (Timer B)', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }]);
    transport.deliver(invite(), UAC);
    await settle(64 * T1);
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 408]);
    await settle(64 * T1);
    expect(proxy.layer.size()).toBe(0);
  });

  it('forwards an ACK for 2xx statelessly along the route set, with a Via of its own', async () => {
    const { transport, proxy } = setup([]);
    const ack = sampleRequest('ACK', { uri: BOB1, toTag: 'b1', branch: 'z9hG4bK-ack' });
    ack.headers.append('Route', '<sip:127.0.0.1:5060;lr>');
    transport.deliver(ack, UAC);
    await settle();
    const [out] = requestsTo(transport, '192.0.2.21', 'ACK');
    expect(out?.headers.values('Via')).toHaveLength(2);
    expect(out?.headers.has('Route')).toBe(false);
    expect(proxy.layer.size()).toBe(0);
  });

  it('forwards a stray 2xx to the next Via, honouring received and rport', async () => {
    const { transport } = setup([]);
    const response = sampleResponse(sampleRequest('INVITE'), 200);
    response.headers.set('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKgone.x.0;rport');
    response.headers.append('Via', 'SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-up;received=192.0.2.1;rport=6000');
    transport.deliver(response, { protocol: 'udp', host: '192.0.2.21', port: 5060 });
    await settle();
    const sent = transport.sent.at(-1)!;
    expect(sent.target).toEqual({ protocol: 'udp', host: '192.0.2.1', port: 6000 });
    expect((sent.message as SipResponse).headers.values('Via')).toEqual(['SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-up;received=192.0.2.1;rport=6000']);
  });

  it('lets the hooks reject (authorize → 407, locate → 404, nobody → 480) and answers 500 when a hook throws', async () => {
    const challenge = { status: 407, headers: [{ name: 'Proxy-Authenticate', value: 'Digest realm="a.example", nonce="n"' }] };
    const a = setup([{ uri: BOB1 }], { authorize: () => challenge });
    a.transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    const b = setup(() => ({ status: 404 }));
    b.transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    const c = setup([]);
    c.transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    const d = setup(() => Promise.reject(new Error('database down')));
    d.transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    await settle();
    const [auth] = responsesTo(a.transport, UAC.host);
    expect(auth?.status).toBe(407);
    expect(auth?.headers.get('Proxy-Authenticate')).toBe(challenge.headers[0]!.value);
    expect(responsesTo(b.transport, UAC.host).map((r) => r.status)).toEqual([404]);
    expect(responsesTo(c.transport, UAC.host).map((r) => r.status)).toEqual([480]);
    expect(responsesTo(d.transport, UAC.host).map((r) => r.status)).toEqual([500]);
    expect(d.errors.map((e) => e.message)).toEqual(['database down']);
  });

  it('cancels the branches when the upstream flow fails (the server transaction ends early)', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }]);
    transport.deliver(invite({ via: 'SIP/2.0/TCP 192.0.2.1:5070' }), { protocol: 'tcp', host: UAC.host, port: 40000 }, 'uac-flow');
    await settle();
    const out = requestsTo(transport, '192.0.2.21', 'INVITE')[0]!;
    transport.failWith = new Error('flow closed');
    answer(transport, out, 180, '192.0.2.21'); // forwarding the 180 upstream fails
    transport.failWith = undefined;
    await settle();
    const [cancel] = requestsTo(transport, '192.0.2.21', 'CANCEL');
    expect(cancel?.headers.first('Via')).toBe(out.headers.first('Via'));
    answer(transport, cancel!, 200, '192.0.2.21');
    answer(transport, out, 487, '192.0.2.21');
    await settle(64 * T1);
    expect(proxy.contextCount()).toBe(0);
    expect(proxy.layer.size()).toBe(0);
  });

  it('forwards the first final response of a forked non-INVITE once, and never CANCELs it', async () => {
    const { transport } = setup([{ uri: BOB1 }, { uri: BOB2 }]);
    transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    await settle();
    answer(transport, requestsTo(transport, '192.0.2.21', 'MESSAGE')[0]!, 200, '192.0.2.21');
    answer(transport, requestsTo(transport, '192.0.2.22', 'MESSAGE')[0]!, 200, '192.0.2.22');
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([200]);
    expect(transport.sentRequests('CANCEL')).toHaveLength(0);
  });

  it('keeps forking after a target that cannot be reached, and answers from the others', async () => {
    const { transport, errors } = setup([{ uri: 'sip:bob@unresolvable.example' }, { uri: BOB1 }]);
    transport.deliver(invite(), UAC);
    await settle();
    answer(transport, requestsTo(transport, '192.0.2.21', 'INVITE')[0]!, 200, '192.0.2.21');
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 200]);
    expect(errors.map((e) => e.message)).toEqual(['cannot resolve host unresolvable.example: only IP literals are routed']);
  });

  it('answers 500 when the only target cannot be reached (a 503 is never passed upstream)', async () => {
    const { transport } = setup([{ uri: 'sip:bob@unresolvable.example' }]);
    transport.deliver(invite(), UAC);
    await settle();
    expect(responsesTo(transport, UAC.host).map((r) => r.status)).toEqual([100, 500]);
  });

  it('close() ends every context and transaction', async () => {
    const { transport, proxy } = setup([{ uri: BOB1 }]);
    transport.deliver(invite(), UAC);
    await settle();
    expect(proxy.contextCount()).toBe(1);
    proxy.close();
    expect(proxy.contextCount()).toBe(0);
    expect(proxy.layer.size()).toBe(0);
    expect(transport.messageListenerCount()).toBe(0);
  });

  it('lets rewriteRequest add P-Asserted-Identity to each forwarded copy', async () => {
    const { transport } = setup([{ uri: BOB1 }], {
      rewriteRequest: (out) => void out.headers.set('P-Asserted-Identity', '<sip:alice@a.example>'),
    });
    transport.deliver(sampleRequest('MESSAGE', { uri: 'sip:bob@127.0.0.1:5060' }), UAC);
    await settle();
    expect(requestsTo(transport, '192.0.2.21', 'MESSAGE')[0]?.headers.get('P-Asserted-Identity')).toBe('<sip:alice@a.example>');
  });
});
