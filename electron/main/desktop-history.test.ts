/**
 * The desktop app's history, for real: the DeviceAgent the app creates (`loadDeviceAgent`) signed in with
 * the account "Try it locally" makes (`labAccountConfig`), on the lab in this process. What Alice's Laptop
 * sends is kept in SQLite in the profile folder and deposited in her Message Store (the lab's Conversation
 * Servers are proxies); a second profile signing in as Alice fetches the conversation from the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEventMap, DeviceEventName } from '../api/device-api';
import { DeviceAgent } from '../device/device-agent';
import { historyPath } from '../device/history/sqlite-message-history';
import { labAccount } from '../device/testing/lab-accounts';
import { LabNetwork } from '../../server/lab/lab-network';
import { eventually, storedConversation } from '../../test/helpers/history-agent';
import { waitFor } from '../../test/helpers/lab-device';
import { loadDeviceAgent, type DeviceAgentHandle, type HistoryStatus } from './device-agent-factory';
import { labAccountConfig } from './local-lab';

const ALICE = 'sip:alice@a.example';
const BOB = 'sip:bob@b.example';

let lab: LabNetwork;
let root: string;
const agents: DeviceAgentHandle[] = [];

beforeAll(async () => {
  lab = await LabNetwork.start();
  root = await mkdtemp(join(tmpdir(), 'cpm-desktop-history-'));
});

afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.close()));
  await lab?.close();
  await rm(root, { recursive: true, force: true });
});

/** Records one event type of an agent, to wait on. */
function recorder<E extends DeviceEventName>(agent: DeviceAgentHandle, event: E): DeviceEventMap[E][] {
  const seen: DeviceEventMap[E][] = [];
  agent.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('the desktop app’s history', () => {
  it('keeps what a profile sends in SQLite and in the Message Store, and a second profile fetches it from there', async () => {
    const statuses: HistoryStatus[] = [];
    const laptopDir = join(root, 'laptop');
    const laptop = await loadDeviceAgent({ dataDir: laptopDir, profile: 'laptop', deviceName: 'Laptop', onHistoryStatus: (s) => statuses.push(s) });
    agents.push(laptop);
    const bob = new DeviceAgent({ dataDir: join(root, 'bob'), deviceName: 'Desk', account: labAccount(lab.description, BOB) });
    agents.push(bob);
    const bobSessions = recorder(bob, 'incomingSession');
    const bobMessages = recorder(bob, 'message');
    const laptopStates = recorder(laptop, 'registrationState');
    const laptopSessions = recorder(laptop, 'sessionState');
    await bob.start();

    const config = labAccountConfig(lab.description, 'Laptop');
    expect(config).toMatchObject({ messageStoreUrl: lab.description.domains[0]!.store, depositHistory: true });
    const info = await laptop.signIn(config);
    expect(info.messageStoreUrl).toBe(config.messageStoreUrl);
    expect(statuses.at(-1)).toEqual({ storage: 'disk', problem: null });
    expect(existsSync(historyPath(laptopDir, ALICE))).toBe(true);
    await waitFor('the laptop registered', () => laptopStates.find((s) => s.state === 'registered'), 10_000);
    await eventually('bob registered', async () => (await bob.getAccount())?.registration === 'registered', 10_000);

    const conversation = await laptop.startChat(BOB);
    const incoming = await waitFor('bob invited', () => bobSessions.find((s) => s.conversationId === conversation.id), 10_000);
    await bob.acceptSession(incoming.sessionId);
    await waitFor('the session active', () => laptopSessions.find((s) => s.state === 'active'), 10_000);
    const sent = await laptop.sendMessage(conversation.id, 'kept on disk and in the store');
    await waitFor('bob received it', () => bobMessages.find((m) => m.id === sent.id), 10_000);

    const stored = await eventually('the message deposited', async () => {
      const messages = await storedConversation(lab, ALICE, conversation.id);
      return messages.some((m) => m.messageId === sent.id) ? messages : null;
    }, 10_000);
    expect(stored.map((m) => m.messageId)).toContain(sent.id);

    // Another profile of Alice's (its own, empty data folder) gets the conversation from the store.
    const desktop = await loadDeviceAgent({ dataDir: join(root, 'desktop'), profile: 'desktop', deviceName: 'Desktop' });
    agents.push(desktop);
    await desktop.signIn({ ...config, deviceName: 'Desktop' });
    const page = await eventually('the desktop fetched the conversation', async () => {
      const fetched = await desktop.getMessages(conversation.id, { limit: 10 }).catch(() => null);
      return fetched !== null && fetched.messages.some((m) => m.id === sent.id) ? fetched : null;
    }, 10_000);
    expect(page.messages.find((m) => m.id === sent.id)).toMatchObject({ text: 'kept on disk and in the store', direction: 'outgoing' });
  });
});
