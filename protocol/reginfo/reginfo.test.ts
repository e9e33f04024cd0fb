import { describe, expect, it } from 'vitest';
import { buildReginfo, parseReginfo, unquoteParam, type RegRegistration } from './reginfo';

const laptop: RegRegistration = {
  aor: 'sip:alice@a.example',
  id: 'r1',
  state: 'active',
  contacts: [
    {
      id: 'c1',
      uri: 'sip:x1@abc.invalid;transport=ws',
      state: 'active',
      event: 'registered',
      expires: 600,
      params: { '+sip.instance': '"<urn:uuid:11111111-2222-3333-4444-555555555555>"', '+cpm.device-name': '"Laptop & <Home>"' },
      pubGruu: 'sip:alice@a.example;gr=urn:uuid:11111111-2222-3333-4444-555555555555',
      tempGruu: { uri: 'sip:tgruu.abc@a.example;gr', firstCseq: 3 },
    },
  ],
};

describe('reginfo documents (RFC 3680 + RFC 5628)', () => {
  it('a full document round-trips with device names, instance ids and GRUUs intact', () => {
    const doc = parseReginfo(buildReginfo(4, 'full', [laptop]));
    expect(doc.version).toBe(4);
    expect(doc.state).toBe('full');
    const c = doc.registrations[0]!.contacts[0]!;
    expect(c.pubGruu).toBe(laptop.contacts[0]!.pubGruu);
    expect(c.tempGruu).toEqual({ uri: 'sip:tgruu.abc@a.example;gr', firstCseq: 3 });
    expect(unquoteParam(c.params['+cpm.device-name'])).toBe('Laptop & <Home>');
    expect(unquoteParam(c.params['+sip.instance'])).toBe('urn:uuid:11111111-2222-3333-4444-555555555555');
    expect(c.expires).toBe(600);
  });

  it('a partial document reports a terminated contact with its event', () => {
    const gone: RegRegistration = { ...laptop, state: 'terminated', contacts: [{ ...laptop.contacts[0]!, state: 'terminated', event: 'deactivated' }] };
    const doc = parseReginfo(buildReginfo(5, 'partial', [gone]));
    expect(doc.registrations[0]!.contacts[0]).toMatchObject({ state: 'terminated', event: 'deactivated' });
  });

  it('refuses documents that are not reginfo, and hostile XML', () => {
    expect(() => parseReginfo('<foo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"/>')).toThrow(/reginfo/);
    expect(() => parseReginfo('<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="-1" state="full"/>')).toThrow(/version/);
    expect(() => parseReginfo('<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="odd"/>')).toThrow(/state/);
    expect(() => parseReginfo('<!DOCTYPE x [<!ENTITY a "aaaa">]><reginfo/>')).toThrow();
    const noUri = buildReginfo(0, 'full', [laptop]).replace(/<uri>.*<\/uri>/, '');
    expect(() => parseReginfo(noUri)).toThrow(/uri/);
  });
});
