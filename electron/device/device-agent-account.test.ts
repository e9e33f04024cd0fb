/**
 * The DeviceAgent's account path without a network: what `accountInfo()` reports (the agent's own
 * auto-accept, the Message Store) and how a bad account is refused (invalid-argument, never internal).
 * The WebSocket URL names a closed loopback port: nothing registers, nothing is needed to.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceApiError } from '../api/device-api';
import type { AccountConfig } from '../api/payloads';
import { DeviceAgent, type DeviceAgentOptions } from './device-agent';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

let dataDir: string;
const agents: DeviceAgent[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cpm-agent-account-'));
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await rm(dataDir, { recursive: true, force: true });
});

function newAgent(options: Partial<DeviceAgentOptions> = {}): DeviceAgent {
  const agent = new DeviceAgent({ dataDir, deviceName: 'Laptop', reconnect: { minIntervalSeconds: 60, maxIntervalSeconds: 60 }, ...options });
  agents.push(agent);
  return agent;
}

const CONFIG: AccountConfig = {
  uri: 'sip:alice@a.example',
  displayName: 'Alice',
  deviceName: 'Laptop',
  password: 'alice-secret',
  websocketUrl: 'ws://127.0.0.1:9',
  messageStoreUrl: 'http://127.0.0.1:9/store',
};

describe('DeviceAgent account info', () => {
  it('reports the agent’s own auto-accept setting, before and after setAutoAccept, and the Message Store', async () => {
    const agent = newAgent({ autoAccept: true });
    const info = await agent.signIn(CONFIG);
    expect(info).toMatchObject({ uri: 'sip:alice@a.example', autoAccept: true, messageStoreUrl: 'http://127.0.0.1:9/store' });
    await agent.setAutoAccept(false);
    expect(await agent.getAccount()).toMatchObject({ autoAccept: false });
  });

  it('reports auto-accept off by default and no Message Store when the account has none', async () => {
    const agent = newAgent();
    const { messageStoreUrl: _none, ...withoutStore } = CONFIG;
    const info = await agent.signIn(withoutStore);
    expect(info.autoAccept).toBe(false);
    expect(info).not.toHaveProperty('messageStoreUrl');
  });
});

describe('DeviceAgent refusing a bad account', () => {
  it('maps the WebSocket constructor’s TypeError (a certificate with a ws: URL) to invalid-argument at start()', async () => {
    const agent = newAgent({ account: { uri: 'sip:alice@a.example', password: 'x', wsUrl: 'ws://127.0.0.1:9', trustedCertificatePem: PEM } });
    const failure = await agent.start().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DeviceApiError);
    expect(failure).toMatchObject({ code: 'invalid-argument' });
    expect(String(failure)).toMatch(/trustedCertificatePem only applies to wss: URLs/);
  });

  it('refuses the same account in signIn with invalid-argument naming the field, and stays signed out', async () => {
    const agent = newAgent();
    await expect(agent.signIn({ ...CONFIG, trustedCertificatePem: PEM })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringMatching(/signIn\.config\.trustedCertificatePem: only applies to a wss:\/\/ WebSocket URL/),
    });
    expect(await agent.getAccount()).toBeNull();
  });

  it('maps a URL the WebSocket refuses (a scheme the validator never sees at start) to invalid-argument', async () => {
    const agent = newAgent({ account: { uri: 'sip:alice@a.example', password: 'x', wsUrl: 'http://127.0.0.1:9' } });
    await expect(agent.start()).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/scheme must be ws: or wss:/) });
  });
});
