import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../api/payloads';
import { deliveryReport, sentDuringMoves, type MoveWindow, type SentMessage } from './transfer-scenario';

const sent = (sender: SentMessage['sender'], seq: number, at: number): SentMessage => ({ id: `${sender}-${seq}`, seq, sender, at });
const shown = (ids: string[]): ChatMessage[] => ids.map((id) => ({ id }) as ChatMessage);

describe('the accounting of a back-and-forth run', () => {
  const windows: MoveWindow[] = [
    { move: 1, from: 'Laptop', to: 'Desktop', referAt: 100, releasedAt: 140 },
    { move: 2, from: 'Desktop', to: 'Laptop', referAt: 200, releasedAt: 205 },
  ];

  it("counts the messages one sender sent inside each move's window, both ends included", () => {
    const messages = [sent('bob', 1, 99), sent('bob', 2, 100), sent('alice', 1, 120), sent('bob', 3, 140), sent('bob', 4, 141), sent('bob', 5, 203)];
    expect(sentDuringMoves(windows, messages)).toEqual([{ move: 1, count: 2 }, { move: 2, count: 1 }]);
    expect(sentDuringMoves(windows, messages, 'alice')).toEqual([{ move: 1, count: 1 }, { move: 2, count: 0 }]);
  });

  it("finds a lost, a duplicated and an out-of-order message in a thread, per sender's order", () => {
    const expected = [sent('bob', 1, 0), sent('bob', 2, 1), sent('bob', 3, 2), sent('alice', 1, 0), sent('alice', 2, 1)];
    // alice's order is independent of bob's: a2 after b1 is fine; b3 before b2 is not; a1 twice; bob-9 was not expected.
    expect(deliveryReport(expected, shown(['alice-1', 'alice-1', 'bob-1', 'bob-3', 'alice-2', 'bob-2', 'bob-9']))).toEqual({
      sent: 5,
      received: 5,
      lost: 0,
      duplicated: 1,
      outOfOrder: 1,
    });
    expect(deliveryReport(expected, shown(['bob-1', 'alice-2']))).toMatchObject({ received: 2, lost: 3, duplicated: 0, outOfOrder: 0 });
  });
});
