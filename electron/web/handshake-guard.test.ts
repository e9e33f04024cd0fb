import { describe, expect, it } from 'vitest';
import { HandshakeGuard } from './handshake-guard';

const ORIGIN = 'http://127.0.0.1:41234';
let counter = 0;
const guard = new HandshakeGuard({ deviceIds: ['alice-laptop', 'bob-desktop'], origin: () => ORIGIN, newToken: () => `token-${++counter}` });
const aliceToken = guard.tokenFor('alice-laptop');
const bobToken = guard.tokenFor('bob-desktop');

function upgrade(url: string, headers: Record<string, string | undefined> = {}) {
  return guard.check({ url, headers: { host: '127.0.0.1:41234', origin: ORIGIN, ...headers } });
}

describe('who may open a bridge to a device', () => {
  it('lets the shell’s own page in with the device’s own token', () => {
    expect(upgrade(`/bridge?device=alice-laptop&token=${aliceToken}`)).toEqual({ ok: true, deviceId: 'alice-laptop' });
    expect(upgrade(`/bridge?token=${bobToken}&device=bob-desktop`)).toEqual({ ok: true, deviceId: 'bob-desktop' });
  });

  it('gives each device its own token', () => {
    expect(aliceToken).not.toBe(bobToken);
    expect(() => guard.tokenFor('carol-phone')).toThrow(/no device "carol-phone"/);
  });

  it.each([
    ['no token', '/bridge?device=alice-laptop', 400],
    ['an empty token', '/bridge?device=alice-laptop&token=', 403],
    ['a wrong token', '/bridge?device=alice-laptop&token=guess', 403],
    ['another device’s token', `/bridge?device=alice-laptop&token=${'BOB'}`, 403],
    ['an unknown device', `/bridge?device=carol-phone&token=${'ALICE'}`, 403],
    ['two devices', `/bridge?device=alice-laptop&device=bob-desktop&token=${'ALICE'}`, 400],
    ['another path', `/other?device=alice-laptop&token=${'ALICE'}`, 404],
  ])('refuses %s', (_what, template, status) => {
    const url = template.replace('BOB', bobToken).replace('ALICE', aliceToken);
    expect(upgrade(url)).toMatchObject({ ok: false, status });
  });

  it.each([
    ['a foreign Origin', { origin: 'http://evil.example' }],
    ['the right host on another port', { origin: 'http://127.0.0.1:41235' }],
    ['localhost instead of the shell’s address', { origin: 'http://localhost:41234' }],
    ['no Origin (not a browser page of ours)', { origin: undefined }],
    ['the literal Origin null (sandboxed frame, file:)', { origin: 'null' }],
    ['a DNS-rebound Host', { host: 'evil.example:41234' }],
  ])('refuses the right token from %s', (_what, headers) => {
    expect(upgrade(`/bridge?device=alice-laptop&token=${aliceToken}`, headers)).toMatchObject({ ok: false, status: 403 });
  });

  it('says why in its verdict (for the log), without echoing the token', () => {
    const verdict = upgrade('/bridge?device=alice-laptop&token=guess');
    expect(verdict).toEqual({ ok: false, status: 403, reason: 'wrong token for alice-laptop' });
  });

  it('refuses two devices with the same id', () => {
    expect(() => new HandshakeGuard({ deviceIds: ['a', 'a'], origin: () => ORIGIN })).toThrow(/appears twice/);
  });
});
