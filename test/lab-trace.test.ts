/**
 * The lab-wide SIP trace on a running lab: every element's messages in one ordered list, named after the
 * elements (internal TLS connections from ephemeral ports included), and the ladder diagram of a flow.
 */
import { describe, expect, it } from 'vitest';
import { parseMessageText } from '../server/sip/message/parse';
import { elementLabels } from '../server/lab/lab-network';
import { useLabWithDevices, waitFor } from './helpers/lab-device';

const suite = useLabWithDevices();
const { device, devices } = suite;

describe('the lab trace', () => {
  it('names the elements after their domains and lists them in the description', () => {
    expect(suite.lab.description.domains.map((d) => d.elements)).toEqual([
      { core: 'core A', conversationServer: 'CS A' },
      { core: 'core B', conversationServer: 'CS B' },
    ]);
    expect(elementLabels(['a.example', 'b.example', 'a.test'])).toEqual(['a.example', 'B', 'a.test']);
  });

  it('records nothing while disabled', async () => {
    const alice = device('sip:alice@a.example', 'Laptop');
    await alice.registered;
    expect(suite.lab.trace.entries()).toEqual([]);
  });

  it('orders a registration: the device’s REGISTER reaches core A before core A tells CS A', async () => {
    suite.lab.trace.enable({ raw: true });
    const bob = device('sip:bob@b.example', 'Desktop');
    await bob.registered;
    await waitFor('the third-party REGISTER answered', () =>
      suite.lab.trace.hops({ methods: ['REGISTER'] }).some((h) => h.from === 'CS B' && h.status === 200));
    const entries = suite.lab.trace.entries();
    for (let i = 1; i < entries.length; i++) {
      expect(entries[i]!.seq).toBeGreaterThan(entries[i - 1]!.seq);
      expect(entries[i]!.timestampNs >= entries[i - 1]!.timestampNs).toBe(true);
    }
    const hops = suite.lab.trace.hops({ methods: ['REGISTER'] });
    const lastFromDevice = hops.map((h) => h.to === 'core B' && h.summary === 'REGISTER').lastIndexOf(true);
    const thirdParty = hops.findIndex((h) => h.from === 'core B' && h.to === 'CS B' && h.summary === 'REGISTER');
    expect(lastFromDevice).toBeGreaterThanOrEqual(0);
    expect(thirdParty).toBeGreaterThan(lastFromDevice);
    // The device is not traced: it shows as its endpoint. The raw text is the message as it went.
    expect(hops[lastFromDevice]!.from).toMatch(/^ws:127\.0\.0\.1:\d+$/);
    const raw = parseMessageText(hops[thirdParty]!.raw!);
    expect(raw.type === 'request' && raw.method).toBe('REGISTER');
    expect(raw.headers.get('To')).toBe('<sip:bob@b.example>');
  });

  it('follows a MESSAGE across both domains and back, and draws it as a ladder', async () => {
    suite.lab.trace.clear();
    expect(suite.lab.trace.entries()).toEqual([]);
    const alice = devices[0]!;
    const bob = devices[1]!;
    const got: string[] = [];
    bob.ua.on('newMessage', (e: { originator: string; request: { body: unknown } }) => {
      if (e.originator === 'remote') got.push(String(e.request.body));
    });
    alice.ua.sendMessage('sip:bob@b.example', 'hello bob');
    await waitFor('bob got it', () => got.length === 1);
    const callId = parseMessageText(bob.wire.filter((m) => m.startsWith('MESSAGE ')).at(-1)!).headers.get('Call-ID')!;
    await waitFor('the 200 back at Alice', () => suite.lab.trace.hops({ callId }).some((h) => h.status === 200 && h.from === 'core A'));

    const hops = suite.lab.trace.hops({ callId });
    const aliceAt = hops[0]!.from;
    const bobAt = hops.find((h) => h.from === 'core B' && h.summary === 'MESSAGE')!.to;
    expect(hops.map((h) => `${h.from} → ${h.to}: ${h.summary}`)).toEqual([
      `${aliceAt} → core A: MESSAGE`,
      'core A → core B: MESSAGE',
      `core B → ${bobAt}: MESSAGE`,
      `${bobAt} → core B: 200 OK`,
      'core B → core A: 200 OK',
      `core A → ${aliceAt}: 200 OK`,
    ]);
    // Core to core is one hop seen from both sides: core A's out and core B's in.
    expect(hops[1]!.entries.map((e) => `${e.element} ${e.direction}`)).toEqual(['core A out', 'core B in']);

    const ladder = suite.lab.trace.ladder({ callId, elements: ['core A', 'core B'], times: false });
    const lines = ladder.trimEnd().split('\n');
    expect(lines[0]!.trim().split(/\s{2,}/)).toEqual(['core A', 'core B']);
    expect(lines[2]).toMatch(/\|-+MESSAGE-+>\|/);
    expect(lines[3]).toMatch(/\|<-+200 OK-+\|/);
    expect(lines).toHaveLength(4);
  });

  it('stops recording when disabled', async () => {
    suite.lab.trace.disable();
    const before = suite.lab.trace.entries().length;
    const bob = devices[1]!;
    const received = bob.wire.length;
    devices[0]!.ua.sendMessage('sip:bob@b.example', 'not traced');
    await waitFor('bob got the untraced MESSAGE', () => bob.wire.slice(received).some((m) => m.startsWith('MESSAGE ')));
    expect(suite.lab.trace.entries()).toHaveLength(before);
  });
});
