/**
 * A CPM chat between DeviceAgents in every pair of Conversation Server modes (PROFILE.md: "the two servers'
 * modes are independent (all four pairs must work)"): alice@a.example and bob@b.example, both ways, with
 * delivery and display notifications, and liveness probes answered through whatever is in the path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import { LabNetwork } from '../server/lab/lab-network';
import { startLabAgent, type LabAgent } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';

let lab: LabNetwork | undefined;
const agents: LabAgent[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await lab?.close();
  lab = undefined;
});

const PAIRS: Array<[ConversationMode, ConversationMode]> = [
  ['proxy', 'proxy'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['in-path', 'in-path'],
];

describe('chat across every pair of Conversation Server modes', () => {
  it.each(PAIRS)('CS A %s, CS B %s', async (modeA, modeB) => {
    lab = await LabNetwork.start({ modeA, modeB });
    lab.trace.enable();
    const running = lab;
    // Both agents probe their session every 100 ms (in-dialog OPTIONS): whatever is in the path must answer.
    const [alice, bob] = await Promise.all([
      startLabAgent(running, 'sip:alice@a.example', 'Laptop', { sessionKeepAliveMs: 100 }),
      startLabAgent(running, 'sip:bob@b.example', 'Desk', { sessionKeepAliveMs: 100 }),
    ]);
    agents.push(alice, bob);
    const conversation = await alice.agent.startChat('sip:bob@b.example');
    const incoming = await bob.until('incomingSession');
    expect(incoming).toMatchObject({ conversationId: conversation.id, peerUri: 'sip:alice@a.example' });
    await bob.agent.acceptSession(incoming.sessionId);
    await alice.until('sessionState', (s) => s.state === 'active');

    const hello = await alice.agent.sendMessage(conversation.id, `hello (${modeA}/${modeB})`);
    await bob.until('message', (m) => m.id === hello.id && m.text === `hello (${modeA}/${modeB})`);
    await alice.until('messageStatus', (s) => s.messageId === hello.id && s.status === 'delivered');
    await bob.agent.markDisplayed(conversation.id, hello.id);
    await alice.until('messageStatus', (s) => s.messageId === hello.id && s.status === 'displayed');

    const reply = await bob.agent.sendMessage(conversation.id, 'hi back');
    await alice.until('message', (m) => m.id === reply.id);
    await bob.until('messageStatus', (s) => s.messageId === reply.id && s.status === 'delivered');

    // Probes from both ends answered (a 408 or 481 would have ended the session).
    for (const element of ['core A', 'core B']) {
      await waitFor(`an answered OPTIONS at ${element}`, () => running.trace.entries({ methods: ['OPTIONS'] }).find((e) => e.element === element && e.status !== undefined));
    }
    expect([...alice.of('sessionState'), ...bob.of('sessionState')].filter((s) => s.state === 'ended' || s.state === 'failed')).toEqual([]);

    await alice.agent.endSession(conversation.activeSessionId ?? (await alice.agent.listConversations())[0]!.activeSessionId!);
    const ended = await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && s.state === 'ended');
    expect(ended.cause).toBe('ended by the peer');
  });
});
