import { describe, expect, it } from 'vitest';
import { checkDeviceSpecs, DEFAULT_SHELL_DEVICES, deviceIdFor, parseDeviceSpec, shellAccountConfig, startShellDevice } from './shell-devices';

describe('choosing the shell’s devices', () => {
  it('runs Alice’s Laptop and Desktop and Bob’s Desktop by default', () => {
    expect(DEFAULT_SHELL_DEVICES.map((d) => [d.id, d.user, d.name])).toEqual([
      ['alice-laptop', 'sip:alice@a.example', 'Laptop'],
      ['alice-desktop', 'sip:alice@a.example', 'Desktop'],
      ['bob-desktop', 'sip:bob@b.example', 'Desktop'],
    ]);
    expect(() => checkDeviceSpecs(DEFAULT_SHELL_DEVICES)).not.toThrow();
  });

  it('reads --device AOR,NAME and derives a URL-safe id', () => {
    expect(parseDeviceSpec('sip:carol@a.example,Phone')).toEqual({ id: 'carol-phone', user: 'sip:carol@a.example', name: 'Phone' });
    expect(deviceIdFor('sip:bob@b.example', 'Work PC (2)')).toBe('bob-work-pc-2');
  });

  it.each([
    ['sip:carol@a.example', /expected <aor>,<device name>/],
    ['carol,Phone', /is not an AOR/],
    ['sip:carol@a.example,', /1 to 64 printable characters/],
    ['sip:carol@a.example,Ph\u0001one', /1 to 64 printable characters/],
  ])('explains what is wrong with --device %j', (text, message) => {
    expect(() => parseDeviceSpec(text)).toThrow(message);
  });

  it('refuses an empty list and two devices with the same id', () => {
    expect(() => checkDeviceSpecs([])).toThrow(/at least one device/);
    expect(() => checkDeviceSpecs([parseDeviceSpec('sip:a@x.example,Pc'), parseDeviceSpec('sip:a@x.example,PC')])).toThrow(/share the id a-pc/);
  });

  it('refuses a device whose account the lab does not have, before opening anything', async () => {
    const lab = { domains: [{ domain: 'a.example', ws: 'ws://127.0.0.1:1', transferService: 'sip:cpm-transfer@a.example', store: 'http://127.0.0.1:1', mode: 'proxy' as const }], users: [] };
    await expect(startShellDevice(lab, parseDeviceSpec('sip:zed@z.example,Pc'), { dataDir: '/nonexistent/never' })).rejects.toThrow('zed-pc: the lab has no domain z.example (it has a.example)');
    await expect(startShellDevice(lab, parseDeviceSpec('sip:zed@a.example,Pc'), { dataDir: '/nonexistent/never' })).rejects.toThrow('zed-pc: the lab has no user sip:zed@a.example');
  });

  it('signs a device in again on the shell’s lab for “Try it locally”, under the name the page gave', () => {
    const lab = {
      domains: [
        { domain: 'a.example', ws: 'ws://127.0.0.1:5080', transferService: 'sip:cpm-transfer@a.example', store: 'http://127.0.0.1:1', mode: 'proxy' as const },
        { domain: 'b.example', ws: 'ws://127.0.0.1:6080', transferService: 'sip:cpm-transfer@b.example', store: 'http://127.0.0.1:2', mode: 'in-path' as const },
      ],
      users: [{ uri: 'sip:alice@a.example', password: 'alice-secret' }, { uri: 'sip:bob@b.example', password: 'bob-secret' }],
    };
    expect(shellAccountConfig(lab, parseDeviceSpec('sip:bob@b.example,Desktop'), 'Tablet')).toEqual({
      uri: 'sip:bob@b.example', displayName: '', deviceName: 'Tablet', password: 'bob-secret',
      websocketUrl: 'ws://127.0.0.1:6080', transferServiceUri: 'sip:cpm-transfer@b.example',
    });
    expect(() => shellAccountConfig(lab, parseDeviceSpec('sip:zed@a.example,Pc'), 'Pc')).toThrow('zed-pc: the lab has no user sip:zed@a.example');
  });
});
