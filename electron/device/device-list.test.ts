import { describe, expect, it } from 'vitest';
import { CPM_FEATURE_TAG } from '../../protocol/cpm/cpm-headers';
import { buildReginfo, parseReginfo, type RegContact } from '../../protocol/reginfo/reginfo';
import { DeviceList, otherCpmDevices } from './device-list';

const SELF = 'urn:uuid:00000000-0000-4000-8000-000000000001';
const DESK = 'urn:uuid:00000000-0000-4000-8000-000000000002';
const PHONE = 'urn:uuid:00000000-0000-4000-8000-000000000003';
const ICSI = CPM_FEATURE_TAG.slice(CPM_FEATURE_TAG.indexOf('=') + 1);

function contact(id: string, instance: string, name: string, options: { state?: 'active' | 'terminated'; cpm?: boolean; gruu?: boolean } = {}): RegContact {
  return {
    id,
    uri: `sip:alice@127.0.0.1:5060;transport=ws;ob`,
    state: options.state ?? 'active',
    event: options.state === 'terminated' ? 'unregistered' : 'registered',
    params: {
      '+sip.instance': `"<${instance}>"`,
      '+cpm.device-name': `"<${name}>"`,
      ...(options.cpm === false ? {} : { '+g.3gpp.icsi-ref': ICSI }),
    },
    ...(options.gruu === false ? {} : { pubGruu: `sip:alice@a.example;gr=${instance}` }),
  };
}

function doc(version: number, state: 'full' | 'partial', contacts: RegContact[]) {
  // Through the wire format and back, as a subscriber gets it.
  return parseReginfo(buildReginfo(version, state, [{ aor: 'sip:alice@a.example', id: 'r1', state: 'active', contacts }]));
}

const names = (list: DeviceList): string[] => list.devices().map((d) => d.name);

describe('DeviceList: merging reg event documents (RFC 3680 §5)', () => {
  it('lists every device of a full document by name, marking ourselves and the CPM-capable ones', () => {
    const list = new DeviceList(SELF);
    expect(list.apply(doc(0, 'full', [contact('c1', SELF, 'Laptop'), contact('c2', DESK, 'Desktop'), contact('c3', PHONE, 'Old phone', { cpm: false })]))).toBe('changed');
    expect(list.devices()).toEqual([
      { instanceId: DESK, name: 'Desktop', pubGruu: `sip:alice@a.example;gr=${DESK}`, self: false, cpmCapable: true },
      { instanceId: SELF, name: 'Laptop', pubGruu: `sip:alice@a.example;gr=${SELF}`, self: true, cpmCapable: true },
      { instanceId: PHONE, name: 'Old phone', pubGruu: `sip:alice@a.example;gr=${PHONE}`, self: false, cpmCapable: false },
    ]);
    expect(otherCpmDevices(list.devices()).map((d) => d.name)).toEqual(['Desktop']);
  });

  it('applies partial documents in version order: a new device, then one that left', () => {
    const list = new DeviceList(SELF);
    list.apply(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    expect(list.apply(doc(1, 'partial', [contact('c2', DESK, 'Desktop')]))).toBe('changed');
    expect(names(list)).toEqual(['Desktop', 'Laptop']);
    expect(list.apply(doc(2, 'partial', [contact('c2', DESK, 'Desktop', { state: 'terminated' })]))).toBe('changed');
    expect(names(list)).toEqual(['Laptop']);
  });

  it('ignores a repeated or older version, and reports a gap so that the subscriber re-subscribes', () => {
    const list = new DeviceList(SELF);
    list.apply(doc(4, 'full', [contact('c1', SELF, 'Laptop')]));
    expect(list.apply(doc(4, 'partial', [contact('c2', DESK, 'Desktop')]))).toBe('ignored');
    expect(list.apply(doc(3, 'full', [contact('c2', DESK, 'Desktop')]))).toBe('ignored');
    expect(list.apply(doc(6, 'partial', [contact('c2', DESK, 'Desktop')]))).toBe('gap');
    expect(names(list)).toEqual(['Laptop']);
  });

  it('needs a full document first: a partial one on a fresh list is a gap', () => {
    const list = new DeviceList(SELF);
    expect(list.apply(doc(0, 'partial', [contact('c2', DESK, 'Desktop')]))).toBe('gap');
    expect(list.devices()).toEqual([]);
  });

  it('starts over after reset (a new subscription numbers its documents from anywhere)', () => {
    const list = new DeviceList(SELF);
    list.apply(doc(9, 'full', [contact('c1', SELF, 'Laptop'), contact('c2', DESK, 'Desktop')]));
    list.reset();
    expect(list.devices()).toEqual([]);
    expect(list.apply(doc(0, 'full', [contact('c1', SELF, 'Laptop')]))).toBe('changed');
    expect(names(list)).toEqual(['Laptop']);
  });

  it('says unchanged for a refresh that changes nothing a user sees', () => {
    const list = new DeviceList(SELF);
    list.apply(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    expect(list.apply(doc(1, 'partial', [contact('c1', SELF, 'Laptop')]))).toBe('unchanged');
  });

  it('lists a device once even with two contacts, and leaves out contacts without instance or GRUU', () => {
    const list = new DeviceList(SELF);
    const noInstance = contact('c4', DESK, 'Ghost');
    delete noInstance.params['+sip.instance'];
    list.apply(doc(0, 'full', [contact('c2', DESK, 'Desktop'), contact('c3', DESK, 'Desktop'), noInstance, contact('c5', PHONE, 'NoGruu', { gruu: false })]));
    expect(names(list)).toEqual(['Desktop']);
  });

  it('matches our own instance case-insensitively', () => {
    const list = new DeviceList(SELF.toUpperCase().replace('URN:UUID', 'urn:uuid'));
    list.apply(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    expect(list.devices()[0]!.self).toBe(true);
  });
});
