import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocationService, type BindingChange, type BindingInput } from './location-service';

let clock = 1_000_000;
const now = (): number => clock;

function input(over: Partial<BindingInput> = {}): BindingInput {
  return {
    aor: 'sip:alice@a.example',
    contact: 'sip:k3@abc.invalid;transport=ws',
    instance: 'urn:uuid:aaaa-1',
    regId: 1,
    paramText: ';+sip.instance="<urn:uuid:aaaa-1>";reg-id=1;+cpm.device-name="Alice\'s \\"Laptop\\""',
    flowId: 'flow-1',
    source: { protocol: 'ws', host: '127.0.0.1', port: 50000 },
    callId: 'reg-1',
    cseq: 1,
    expiresAt: clock + 3_600_000,
    ...over,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Temporary GRUUs (RFC 5627 §3.2) of a device', () => {
  it('every temporary GRUU minted while the binding lives reaches it; all are different', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const minted: string[] = [];
    for (let cseq = 1; cseq <= 3; cseq++) {
      const { binding } = location.upsert(input({ cseq }));
      minted.push(binding.tempGruu ?? '');
    }
    expect(new Set(minted).size).toBe(3);
    const [binding] = location.bindings('sip:alice@a.example');
    for (const gruu of minted) {
      expect(gruu).toMatch(/^sip:tgruu\.[0-9a-f]{32}@a\.example;gr$/);
      expect(location.byGruuUri(gruu)).toBe(binding);
      expect(location.byGruuUri(`<${gruu}>`)).toBe(binding);
    }
    location.close();
  });

  it('die with the binding, and a new binding of the same device does not inherit them', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const old = location.upsert(input()).binding;
    const gruu = old.tempGruu ?? '';
    location.remove(old);
    expect(location.byGruuUri(gruu)).toBeUndefined();
    const fresh = location.upsert(input({ callId: 'reg-2' })).binding;
    expect(fresh).not.toBe(old);
    expect(location.byGruuUri(gruu)).toBeUndefined();
    expect(location.byGruuUri(fresh.tempGruu ?? '')).toBe(fresh);
    location.close();
  });

  it('a tampered, foreign-domain or other-table temporary GRUU names nobody', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const other = new LocationService({ domain: 'a.example', now });
    const gruu = location.upsert(input()).binding.tempGruu ?? '';
    other.upsert(input());
    const hex = /tgruu\.([0-9a-f]{32})/.exec(gruu)?.[1] ?? '';
    const flipped = `${hex.slice(0, 31)}${hex.endsWith('0') ? '1' : '0'}`;
    expect(location.byGruuUri(gruu.replace(hex, flipped))).toBeUndefined();
    expect(location.byGruuUri(gruu.replace('@a.example', '@b.example'))).toBeUndefined();
    expect(location.byGruuUri(gruu.replace(hex, 'zz'))).toBeUndefined();
    expect(other.byGruuUri(gruu)).toBeUndefined();
    location.close();
    other.close();
  });

  it('a binding without an instance has no GRUUs', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const { binding } = location.upsert(input({ instance: undefined, regId: undefined, paramText: '' }));
    expect(binding.pubGruu).toBeUndefined();
    expect(binding.tempGruu).toBeUndefined();
    location.close();
  });
});

describe('Public GRUU (RFC 5627 §3.1) and Contact lookups', () => {
  it('the public GRUU reaches its device, whatever the case of the host or a percent-encoded instance', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const { binding } = location.upsert(input());
    location.upsert(input({ instance: 'urn:uuid:bbbb-2', contact: 'sip:k4@abc.invalid;transport=ws', flowId: 'flow-2' }));
    expect(binding.pubGruu).toBe('sip:alice@a.example;gr=urn:uuid:aaaa-1');
    expect(location.byGruuUri('sip:alice@a.example;gr=urn:uuid:aaaa-1')).toBe(binding);
    expect(location.byGruuUri('sip:alice@A.Example;gr=urn:uuid:aaaa-1')).toBe(binding);
    expect(location.byGruuUri('sip:alice@a.example;gr=urn%3Auuid%3Aaaaa-1')).toBe(binding);
    expect(location.byGruuUri('sip:alice@a.example;gr=urn:uuid:cccc-3')).toBeUndefined();
    expect(location.byGruuUri('sip:alice@a.example')).toBeUndefined();
    location.close();
  });

  it('a request to a registered Contact URI finds its binding; a refresh that moves the Contact re-indexes it', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const { binding } = location.upsert(input());
    expect(location.byContact('sip:k3@abc.invalid;transport=ws')).toBe(binding);
    const moved = location.upsert(input({ contact: 'sip:k9@abc.invalid;transport=ws', cseq: 2 }));
    expect(moved).toEqual({ binding, event: 'registered' });
    expect(location.byContact('sip:k3@abc.invalid;transport=ws')).toBeUndefined();
    expect(location.byContact('sip:k9@abc.invalid;transport=ws')).toBe(binding);
    location.close();
  });

  it('two AORs registered with the same Contact URI: removing one leaves the other reachable', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const contact = 'sip:shared@192.0.2.1:5060';
    const alice = location.upsert(input({ instance: undefined, regId: undefined, paramText: '', contact })).binding;
    const carol = location.upsert(input({ aor: 'sip:carol@a.example', instance: undefined, regId: undefined, paramText: '', contact })).binding;
    expect(location.byContact(contact)).toBe(alice);
    location.remove(alice);
    expect(location.byContact(contact)).toBe(carol);
    location.remove(carol);
    expect(location.byContact(contact)).toBeUndefined();
    expect(location.size()).toBe(0);
    location.close();
  });

  it('the device name is read from the stored parameters, unquoted', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const { binding } = location.upsert(input());
    expect(binding.deviceName).toBe('Alice\'s "Laptop"');
    expect(location.upsert(input({ paramText: ';reg-id=1' })).binding.deviceName).toBeUndefined();
    location.close();
  });
});

describe('Expiry (RFC 3261 §10.3 step 7)', () => {
  it('an expired binding is not returned by any lookup and is reported once as expired', () => {
    const location = new LocationService({ domain: 'a.example', now });
    const changes: BindingChange[] = [];
    location.onChange((c) => changes.push(...c));
    const { binding } = location.upsert(input({ expiresAt: clock + 60_000 }));
    const gruu = binding.tempGruu ?? '';
    clock += 60_000;
    expect(location.byContact(binding.contact)).toBeUndefined();
    expect(location.byGruuUri(gruu)).toBeUndefined();
    expect(location.bindings('sip:alice@a.example')).toEqual([]);
    expect(location.size()).toBe(0);
    expect(changes).toEqual([{ binding, event: 'expired' }]);
    expect(binding.expiresAt).toBe(0);
    location.close();
  });

  it('the one sweep timer reports expiry without any lookup, and re-arms for the next binding', () => {
    vi.useFakeTimers({ now: 5_000_000 });
    const location = new LocationService({ domain: 'a.example' });
    const expired: string[] = [];
    location.onChange((c) => expired.push(...c.filter((x) => x.event === 'expired').map((x) => x.binding.contact)));
    location.upsert(input({ expiresAt: Date.now() + 10_000 }));
    location.upsert(input({ aor: 'sip:carol@a.example', contact: 'sip:c@192.0.2.9', expiresAt: Date.now() + 30_000 }));
    vi.advanceTimersByTime(12_000);
    expect(expired).toEqual(['sip:k3@abc.invalid;transport=ws']);
    vi.advanceTimersByTime(20_000);
    expect(expired).toEqual(['sip:k3@abc.invalid;transport=ws', 'sip:c@192.0.2.9']);
    expect(location.size()).toBe(0);
    location.close();
  });

  it('a refresh that shortens the expiry is reported as shortened, one that extends it as refreshed', () => {
    const location = new LocationService({ domain: 'a.example', now });
    location.upsert(input({ expiresAt: clock + 600_000 }));
    expect(location.upsert(input({ cseq: 2, expiresAt: clock + 300_000 })).event).toBe('shortened');
    expect(location.upsert(input({ cseq: 3, expiresAt: clock + 900_000 })).event).toBe('refreshed');
    expect(location.upsert(input({ cseq: 4, flowId: 'flow-2' })).event).toBe('registered');
    expect(location.size()).toBe(1);
    location.close();
  });

  it('a closed flow takes its bindings with it (RFC 5626 §5.2)', () => {
    const location = new LocationService({ domain: 'a.example', now });
    location.upsert(input());
    location.upsert(input({ aor: 'sip:carol@a.example', contact: 'sip:c@192.0.2.9', flowId: 'flow-2' }));
    expect(location.removeFlow('flow-1')).toBe(1);
    expect(location.aors()).toEqual(['sip:carol@a.example']);
    location.close();
  });
});
