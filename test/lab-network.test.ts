/**
 * The lab network with real JsSIP devices: registration, the device list from the `reg` event, a MESSAGE
 * across the two domains, and identity checks, on loopback.
 */
import { describe, expect, it } from 'vitest';
import { parseReginfo, unquoteParam, type Reginfo } from '../protocol/reginfo/reginfo';
import { parseMessageText } from '../server/sip/message/parse';
import { useLabWithDevices, waitFor, type LabDevice } from './helpers/lab-device';

const suite = useLabWithDevices();
const { device, devices } = suite;

/** Every reginfo NOTIFY a subscription of `d` receives, parsed. */
function watchRegistrations(d: LabDevice, target = d.user) {
  const docs: Reginfo[] = [];
  const outcome: { terminated?: { code: number; reason: string | undefined } } = {};
  const sub = d.ua.subscribe(target, 'reg', 'application/reginfo+xml', { expires: 600, contentType: 'application/reginfo+xml' });
  sub.on('notify', (_final, _request, body) => {
    if (body) docs.push(parseReginfo(body));
  });
  sub.on('terminated', (code, reason) => {
    outcome.terminated = { code, reason };
  });
  sub.subscribe();
  return { docs, outcome, sub };
}

/** The device list as a subscriber reconstructs it from full and partial documents. */
function deviceNames(docs: Reginfo[]): string[] {
  const active = new Map<string, string>();
  for (const doc of docs) {
    if (doc.state === 'full') active.clear();
    for (const r of doc.registrations) {
      for (const c of r.contacts) {
        if (c.state === 'active') active.set(c.id, unquoteParam(c.params['+cpm.device-name']) ?? '?');
        else active.delete(c.id);
      }
    }
  }
  return [...active.values()].sort();
}

describe('Alice and Bob on the lab network', () => {
  it('Alice registers her Laptop over WS and her Desktop over WSS, each with its own pub-gruu', async () => {
    const laptop = device('sip:alice@a.example', 'Laptop');
    const desktop = device('sip:alice@a.example', 'Desktop', { secure: true });
    await Promise.all([laptop.registered, desktop.registered]);
    expect(laptop.ua.pubGruu).toMatch(/^sip:alice@a\.example;gr=urn:uuid:/);
    expect(desktop.ua.pubGruu).toMatch(/^sip:alice@a\.example;gr=urn:uuid:/);
    expect(laptop.ua.pubGruu).not.toBe(desktop.ua.pubGruu);
    expect(suite.lab.domain('a.example').core.location.bindings('sip:alice@a.example')).toHaveLength(2);
  });

  it('Laptop sees both of Alice’s devices, by name, in its reg subscription; Desktop leaving shows up', async () => {
    const laptop = devices[0]!;
    const desktop = devices[1]!;
    const watch = watchRegistrations(laptop);
    await waitFor('both devices in the reg NOTIFY', () => deviceNames(watch.docs).join() === 'Desktop,Laptop');
    const full = watch.docs[0]!;
    expect(full.state).toBe('full');
    const contact = full.registrations[0]!.contacts.find((c) => unquoteParam(c.params['+cpm.device-name']) === 'Desktop')!;
    expect(contact.pubGruu).toBe(desktop.ua.pubGruu);
    expect(unquoteParam(contact.params['+sip.instance'])).toBe(desktop.ua.instanceId);

    desktop.ua.unregister();
    await waitFor('Desktop gone from the device list', () => deviceNames(watch.docs).join() === 'Laptop');
    expect(watch.docs.at(-1)!.state).toBe('partial');
    watch.sub.terminate();
  });

  it('a device whose connection closes vanishes from the list (RFC 5626 flow)', async () => {
    const laptop = devices[0]!;
    const phone = device('sip:alice@a.example', 'Phone');
    await phone.registered;
    const watch = watchRegistrations(laptop);
    await waitFor('Phone listed', () => deviceNames(watch.docs).includes('Phone'));
    phone.socket.disconnect();
    phone.ua.stop();
    await waitFor('Phone gone', () => !deviceNames(watch.docs).includes('Phone'));
    watch.sub.terminate();
  });

  it('a wrong password gets no registration', async () => {
    const intruder = device('sip:alice@a.example', 'Intruder', { password: 'not-it' });
    await expect(intruder.registered).rejects.toThrow(/registration failed/);
    const names = suite.lab.domain('a.example').core.location.bindings('sip:alice@a.example').map((b) => b.deviceName);
    expect(names).not.toContain('Intruder');
  });

  it('subscribing to someone else’s registrations is refused with 403, in the same domain and across', async () => {
    const laptop = devices[0]!;
    for (const target of ['sip:carol@a.example', 'sip:bob@b.example']) {
      const watch = watchRegistrations(laptop, target);
      await waitFor(`refusal of ${target}`, () => watch.outcome.terminated);
      expect(watch.docs).toEqual([]);
      const callId = (watch.sub as unknown as { _params: { call_id: string } })._params.call_id;
      const refusal = laptop.wire.find((m) => /^SIP\/2\.0 403 /.test(m) && /CSeq: \d+ SUBSCRIBE/.test(m) && m.includes(callId));
      expect(refusal, `a 403 to the SUBSCRIBE for ${target}`).toBeDefined();
    }
  });

  it('Alice’s MESSAGE reaches Bob across both domains with her asserted identity, never a forged one', async () => {
    const laptop = devices[0]!;
    const bob = device('sip:bob@b.example', 'Bob’s desktop');
    await bob.registered;
    const got: string[] = [];
    bob.ua.on('newMessage', (e: { originator: string; request: { body: unknown } }) => {
      if (e.originator === 'remote') got.push(String(e.request.body));
    });
    laptop.ua.sendMessage('sip:bob@b.example', 'hello bob', { extraHeaders: ['P-Asserted-Identity: <sip:carol@a.example>'] });
    await waitFor('bob got the MESSAGE', () => got.length === 1);
    expect(got).toEqual(['hello bob']);

    const raw = bob.wire.find((m) => m.startsWith('MESSAGE '))!;
    const onWire = parseMessageText(raw);
    // What Bob's device actually received: one P-Asserted-Identity, Alice's, added by core A.
    expect(onWire.headers.getAll('P-Asserted-Identity')).toEqual(['<sip:alice@a.example>']);
    // Via: core B's on top, then core A's, then Alice's device (RFC 3261 §16.6 item 8).
    const vias = onWire.headers.values('Via');
    expect(vias).toHaveLength(3);
    const coreA = suite.lab.domain('a.example').core.internal.port;
    const coreBws = Number(new URL(suite.lab.description.domains[1]!.ws).port);
    expect(vias[0]).toContain(`WS 127.0.0.1:${coreBws}`);
    expect(vias[1]).toContain(`TLS 127.0.0.1:${coreA}`);
    expect(vias[2]).toMatch(/^SIP\/2\.0\/WSS? /);
    // MESSAGE creates no dialog: nobody Record-Routes it.
    expect(onWire.headers.getAll('Record-Route')).toEqual([]);
  });
});
