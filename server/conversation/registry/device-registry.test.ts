import { describe, expect, it } from 'vitest';
import { buildReginfo, parseReginfo } from '../../../protocol/reginfo/reginfo';
import { DeviceRegistry } from './device-registry';

const ICSI = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';
const contact = (id: string, name: string, expires: number, extra = `;${ICSI}`) =>
  `<sip:${id}@abc.invalid;transport=ws>;+sip.instance="<urn:uuid:${id}>";+cpm.device-name="${name}"${extra};expires=${expires};pub-gruu="sip:alice@a.example;gr=urn:uuid:${id}"`;

describe('the device registry fed by third-party REGISTERs', () => {
  it('learns devices with names, GRUUs and CPM capability, and reports what changed', () => {
    const registry = new DeviceRegistry();
    const first = registry.applyThirdPartyRegister('sip:alice@a.example', [contact('lap', 'Laptop', 600), contact('prn', '<Printer>', 600, '')]);
    expect(first.map((c) => [c.device.name, c.event])).toEqual([['Laptop', 'registered'], ['Printer', 'registered']]);
    expect(registry.deviceByGruu('sip:alice@a.example;gr=urn:uuid:lap')).toMatchObject({ name: 'Laptop', cpmCapable: true });
    expect(registry.deviceByGruu('sip:alice@a.example;gr=urn:uuid:prn')).toMatchObject({ name: 'Printer', cpmCapable: false });

    const refresh = registry.applyThirdPartyRegister('sip:alice@a.example', [contact('lap', 'Laptop', 600), contact('prn', 'Printer', 0, '')]);
    expect(refresh.map((c) => [c.device.name, c.event, c.state])).toEqual([['Laptop', 'refreshed', 'active'], ['Printer', 'unregistered', 'terminated']]);
    expect(registry.devices('sip:alice@a.example').map((d) => d.name)).toEqual(['Laptop']);
  });

  it('serves a full reginfo and a partial one with only the change, both valid documents', () => {
    const registry = new DeviceRegistry();
    registry.applyThirdPartyRegister('sip:alice@a.example', [contact('lap', 'Laptop', 600), contact('dsk', 'Desktop', 600)]);
    const full = parseReginfo(buildReginfo(0, 'full', [registry.registration('sip:alice@a.example')]));
    expect(full.registrations[0]!.contacts).toHaveLength(2);
    const gone = registry.applyThirdPartyRegister('sip:alice@a.example', [contact('lap', 'Laptop', 600), contact('dsk', 'Desktop', 0)]);
    const partial = parseReginfo(buildReginfo(1, 'partial', [registry.partialRegistration('sip:alice@a.example', gone.filter((c) => c.state === 'terminated'))]));
    expect(partial.registrations[0]!.contacts.map((c) => [c.state, c.event])).toEqual([['terminated', 'unregistered']]);
  });

  it('an unparsable Contact throws for the server to answer 400, and changes nothing', () => {
    const registry = new DeviceRegistry();
    expect(() => registry.applyThirdPartyRegister('sip:alice@a.example', ['<sip:broken'])).toThrow();
    expect(registry.size()).toBe(0);
  });
});
