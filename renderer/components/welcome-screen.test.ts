import { describe, expect, it } from 'vitest';
import { accountFromForm } from './welcome-screen';

const TYPED = {
  uri: 'alice@a.example',
  password: 'alice-secret',
  websocketUrl: 'wss://sip.a.example/ws',
  transferServiceUri: '',
  messageStoreUrl: '',
  deviceName: 'Laptop',
  displayName: 'Alice',
};

describe('the manual account form', () => {
  it('leaves the Message Store out when the field is empty, and takes it (trimmed) with the deposit switch', () => {
    const none = accountFromForm(TYPED);
    expect(none.ok && none.config).not.toHaveProperty('messageStoreUrl');
    expect(none.ok && none.config).not.toHaveProperty('depositHistory');
    const withStore = accountFromForm({ ...TYPED, messageStoreUrl: ' https://store.a.example/ ' }, { depositHistory: true });
    expect(withStore).toEqual({
      ok: true,
      config: expect.objectContaining({ uri: 'sip:alice@a.example', messageStoreUrl: 'https://store.a.example/', depositHistory: true }),
    });
  });

  it('points at the Message Store field for an address that is not http(s), or for depositing without one', () => {
    expect(accountFromForm({ ...TYPED, messageStoreUrl: 'store.a.example' })).toEqual({
      ok: false,
      field: 'messageStoreUrl',
      problem: 'Enter the Message Store address, such as https://store.a.example/, or leave it empty.',
    });
    expect(accountFromForm(TYPED, { depositHistory: true })).toEqual({
      ok: false,
      field: 'messageStoreUrl',
      problem: 'Enter the Message Store address, such as https://store.a.example/, to deposit your messages there.',
    });
  });
});
