import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_COMMAND_NAMES } from '../api/device-api';
import { loadDeviceAgent, type DeviceAgentHandle } from './device-agent-factory';

let dir: string | null = null;
let agent: DeviceAgentHandle | null = null;

afterEach(async () => {
  await agent?.close();
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  agent = null;
  dir = null;
});

describe('the real DeviceAgent factory', () => {
  it('imports, creates and starts the agent of a profile, signed out, with every DeviceApi command', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpm-agent-'));
    agent = await loadDeviceAgent({ dataDir: dir, profile: 'laptop', deviceName: 'Laptop' });
    const record = agent as unknown as Record<string, unknown>;
    expect(DEVICE_COMMAND_NAMES.filter((name) => typeof record[name] !== 'function')).toEqual([]);
    await expect(agent.getAccount()).resolves.toBeNull();
    await expect(agent.listDevices()).rejects.toMatchObject({ code: 'not-signed-in' });
  });
});
