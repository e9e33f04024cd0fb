import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEVICE_COMMAND_NAMES, DeviceApiError, SHELL_COMMAND_NAMES, type AppApi } from '../api/device-api';
import { electronFake } from '../main/testing/electron-fake';

vi.mock('electron', async () => (await import('../main/testing/electron-fake')).electronFake.module);

let api: AppApi;

beforeAll(async () => {
  electronFake.reset();
  await import('./index');
  api = electronFake.exposed.get('cpm') as AppApi;
});

describe('the preload', () => {
  it('exposes one global, cpm, holding exactly the DeviceApi commands, the shell commands and on()', () => {
    expect([...electronFake.exposed.keys()]).toEqual(['cpm']);
    expect(Object.keys(api).sort()).toEqual([...DEVICE_COMMAND_NAMES, ...SHELL_COMMAND_NAMES, 'on'].sort());
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('sends a command with ipcRenderer.invoke on its channel, with the arguments spread', async () => {
    electronFake.state.invokeResult = async () => ({ id: 'conv-1' });
    await expect(api.startChat('sip:bob@b.example')).resolves.toEqual({ id: 'conv-1' });
    expect(electronFake.invocations.at(-1)).toEqual({ channel: 'cpm:command:startChat', args: ['sip:bob@b.example'] });
  });

  it('sends tryLocally on its own channel like any command', async () => {
    electronFake.state.invokeResult = async () => ({ uri: 'sip:alice@a.example' });
    await expect(api.tryLocally('Laptop')).resolves.toEqual({ uri: 'sip:alice@a.example' });
    expect(electronFake.invocations.at(-1)).toEqual({ channel: 'cpm:command:tryLocally', args: ['Laptop'] });
  });

  it('refuses a malformed call before it reaches IPC', async () => {
    const before = electronFake.invocations.length;
    await expect(api.startChat('not a uri')).rejects.toBeInstanceOf(DeviceApiError);
    expect(electronFake.invocations).toHaveLength(before);
  });

  it('restores the error code of a rejection that crossed IPC as a plain message', async () => {
    electronFake.state.invokeResult = async (channel) =>
      Promise.reject(new Error(`Error invoking remote method '${channel}': Error: [not-signed-in] sign in first`));
    await expect(api.listDevices()).rejects.toMatchObject({ code: 'not-signed-in', detail: 'sign in first' });
  });

  it('delivers valid events, drops malformed ones, and stops listening on unsubscribe', () => {
    const seen: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const off = api.on('registrationState', (status) => seen.push(status.state));
    electronFake.sendToRenderer('cpm:event:registrationState', { state: 'registered', cause: null, pubGruu: null, expiresAt: null });
    electronFake.sendToRenderer('cpm:event:registrationState', { state: 'hacked' });
    off();
    electronFake.sendToRenderer('cpm:event:registrationState', { state: 'failed', cause: null, pubGruu: null, expiresAt: null });
    expect(seen).toEqual(['registered']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('dropped a malformed registrationState event'));
    expect(electronFake.rendererListenerCount('cpm:event:registrationState')).toBe(0);
    warn.mockRestore();
  });
});
