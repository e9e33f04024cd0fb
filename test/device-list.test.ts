/**
 * The device list of DeviceAgents on the lab network (PROFILE.md "Registration and the device list"): each
 * device sees every registered device of its own AOR, by name, from its `reg` subscription, and the list
 * follows registrations, un-registrations and broken connections; after a reconnect the device registers
 * and subscribes again. (A killed device process: device-process.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../electron/api/payloads';
import { otherCpmDevices } from '../electron/device/device-list';
import { useLabWithAgents, type LabAgent } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';
import { startTcpRelay } from './helpers/tcp-relay';

const suite = useLabWithAgents();
const agent = suite.agent;

/** The names of the other CPM devices in the last `devices` event (or the list asked for when none came yet). */
function others(a: LabAgent): string[] {
  const last = a.of('devices').at(-1) ?? [];
  return otherCpmDevices(last).map((d) => d.name).sort();
}

function self(list: readonly DeviceInfo[]): DeviceInfo | undefined {
  return list.find((d) => d.self);
}

describe('the device list of DeviceAgents on the lab', () => {
  let laptop: LabAgent;
  let desktop: LabAgent;
  let bob: LabAgent;

  it('Alice on two devices sees the other one by name, with its GRUU and instance; Bob sees only himself', async () => {
    [laptop, desktop, bob] = await Promise.all([
      agent('sip:alice@a.example', 'Laptop'),
      agent('sip:alice@a.example', 'Desktop', { secure: true }),
      agent('sip:bob@b.example', 'Bob’s desk'),
    ]);
    await waitFor('Laptop lists the Desktop', () => others(laptop).join() === 'Desktop');
    await waitFor('Desktop lists the Laptop', () => others(desktop).join() === 'Laptop');
    await waitFor('Bob lists himself', () => self(bob.of('devices').at(-1) ?? []));
    expect(others(bob)).toEqual([]);

    const list = await laptop.agent.listDevices();
    const desk = list.find((d) => d.name === 'Desktop')!;
    const account = (await desktop.agent.getAccount())!;
    expect(desk).toEqual({ instanceId: account.instanceId, name: 'Desktop', pubGruu: account.pubGruu, self: false, cpmCapable: true });
    expect(self(list)).toMatchObject({ name: 'Laptop', instanceId: (await laptop.agent.getAccount())!.instanceId });
    expect(list.some((d) => d.name.startsWith('Bob'))).toBe(false);
  });

  it('a third device that registers appears on both, and disappears when it signs out', async () => {
    const phone = await agent('sip:alice@a.example', 'Phone');
    await waitFor('Laptop lists the Phone', () => others(laptop).join() === 'Desktop,Phone');
    await waitFor('Desktop lists the Phone', () => others(desktop).join() === 'Laptop,Phone');
    await waitFor('the Phone lists the other two', () => others(phone).join() === 'Desktop,Laptop');

    await phone.agent.signOut();
    await waitFor('Phone gone from the Laptop', () => others(laptop).join() === 'Desktop');
    await waitFor('Phone gone from the Desktop', () => others(desktop).join() === 'Laptop');
    expect(await phone.agent.getAccount()).toBeNull();
    await expect(phone.agent.listDevices()).rejects.toThrow(/\[not-signed-in\]/);
  });

  it('a restarted device keeps its instance id (same data folder) and is listed once', async () => {
    const first = suite.agents.find((a) => a.name === 'Phone')!;
    const again = await agent('sip:alice@a.example', 'Phone', { dataDir: first.dataDir });
    expect(again.agent.instance).toBe(first.agent.instance);
    await waitFor('Phone back on the Laptop', () => others(laptop).join() === 'Desktop,Phone');
    const phones = (await laptop.agent.listDevices()).filter((d) => d.name === 'Phone');
    expect(phones).toHaveLength(1);
    expect(phones[0]!.instanceId).toBe(first.agent.instance);
  });

  it('a device whose connection breaks leaves the others’ lists, comes back after reconnecting, and follows changes again', { timeout: 30_000 }, async () => {
    const a = suite.lab.description.domains.find((d) => d.domain === 'a.example')!;
    const relay = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(a.ws).port) });
    try {
      const tablet = await agent('sip:alice@a.example', 'Tablet', { wsUrl: `ws://127.0.0.1:${relay.port}` });
      await waitFor('Laptop lists the Tablet', () => others(laptop).includes('Tablet'));
      await waitFor('Tablet lists the others', () => others(tablet).join() === 'Desktop,Laptop,Phone');
      const registrations = tablet.of('registrationState').length;

      relay.cut();
      await waitFor('Tablet gone from the Laptop', () => !others(laptop).includes('Tablet'), 10_000);
      await tablet.until('registrationState', (s) => s.state === 'unregistered');
      // JsSIP reconnects (1 s back-off here), registers again, and the agent subscribes again.
      await waitFor('Tablet registered again', () => tablet.of('registrationState').slice(registrations).some((s) => s.state === 'registered'), 15_000);
      await waitFor('Tablet back on the Laptop', () => others(laptop).includes('Tablet'), 10_000);

      const watch = await agent('sip:alice@a.example', 'Watch');
      await waitFor('the new subscription of the Tablet sees the Watch', () => others(tablet).includes('Watch'), 10_000);
      await watch.agent.signOut();
      await waitFor('and sees it leave', () => !others(tablet).includes('Watch'), 10_000);
    } finally {
      await relay.close();
    }
  });
});
