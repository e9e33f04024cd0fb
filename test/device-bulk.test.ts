/**
 * Volume through the whole device stack on the lab: 10,000 CPM messages of mixed sizes, up to 1 MiB (chunked
 * by MSRP, RFC 4975 §5.1), from Alice's agent to Bob's arrive complete, in order and each once, and every one
 * is reported delivered by Bob's IMDN. Bounded: the test's own time-out is 60 s.
 */
import { describe, expect, it } from 'vitest';
import { useLabWithAgents } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';

const COUNT = 10_000;
const MIB = 1024 * 1024;

const suite = useLabWithAgents();

/** Deterministic sizes: mostly short texts, some of tens of KiB, a few of exactly 1 MiB. */
function sizeOf(i: number): number {
  if (i % 1250 === 7) return MIB; // 8 messages
  if (i % 100 === 3) return 2048 + ((i * 7919) % (64 * 1024)); // 100 messages over one chunk
  return 1 + ((i * 2654435761) % 300);
}

/** The text of message `i`: its number first, then filler that differs per message. */
function textOf(i: number): string {
  const head = `#${i}:`;
  const size = Math.max(sizeOf(i), head.length);
  const filler = String.fromCharCode(97 + (i % 26));
  return head + filler.repeat(size - head.length);
}

describe('10,000 messages through DeviceAgents', () => {
  it('arrive complete, in order, each once, and are all delivered', { timeout: 60_000 }, async () => {
    const [alice, bob] = await Promise.all([suite.agent('sip:alice@a.example', 'Laptop'), suite.agent('sip:bob@b.example', 'Desk')]);
    const conversation = await alice.agent.startChat('sip:bob@b.example');
    const incoming = await bob.until('incomingSession');
    await bob.agent.acceptSession(incoming.sessionId);
    await alice.until('sessionState', (s) => s.state === 'active');

    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) ids.push((await alice.agent.sendMessage(conversation.id, textOf(i))).id);
    expect(new Set(ids).size).toBe(COUNT);
    expect(sizeOf(7)).toBe(MIB);

    await waitFor('every message at Bob', () => bob.of('message').length >= COUNT, 55_000);
    const received = bob.of('message');
    expect(received).toHaveLength(COUNT);
    expect(received.map((m) => m.id)).toEqual(ids);
    for (let i = 0; i < COUNT; i++) {
      const m = received[i]!;
      if (m.text.length !== textOf(i).length || m.text !== textOf(i)) throw new Error(`message ${i} arrived altered (${m.text.length} characters)`);
    }
    await waitFor('every message delivered', () => alice.of('messageStatus').filter((s) => s.status === 'delivered').length >= COUNT, 55_000);
    const delivered = new Set(alice.of('messageStatus').filter((s) => s.status === 'delivered').map((s) => s.messageId));
    expect(delivered.size).toBe(COUNT);
    expect(alice.of('messageStatus').some((s) => s.status === 'failed')).toBe(false);
  });
});
