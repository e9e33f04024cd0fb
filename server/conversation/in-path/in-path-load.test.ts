import { describe, expect, it } from 'vitest';
import type { MsrpSession, ReceivedMsrpMessage } from '../../../protocol/msrp/msrp-session';
import { InPathBench } from './in-path-test-kit';

function nextMessage(session: MsrpSession): Promise<ReceivedMsrpMessage> {
  return new Promise((resolve) => session.once('message', resolve));
}

describe('no state outlives a session', () => {
  it('1,000 sessions (SIP and MSRP on both legs, a message each way, BYE) in batches leave every table empty', async () => {
    const bench = await InPathBench.start({ timers: { t1: 20 } });
    try {
      // Every BYE the handler sends on to the other device is answered at once.
      bench.autoAnswer = (request) => (request.headers.get('To')?.includes('tag=') ? 200 : undefined);
      const one = async (n: number): Promise<void> => {
        const call = await bench.call();
        const callee = bench.answer(call.forwarded);
        const bob = await bench.connectMsrp(call.forwarded.request, callee.path);
        const caller = await bench.acknowledge(call);
        const alice = await bench.connectMsrp(caller.response, call.invite);
        const atBob = nextMessage(bob);
        alice.send(new TextEncoder().encode(`to bob ${n}`), 'message/cpim');
        const atAlice = nextMessage(alice);
        bob.send(new TextEncoder().encode(`to alice ${n}`), 'message/cpim');
        const [b, a] = await Promise.all([atBob, atAlice]);
        expect(new TextDecoder().decode(b.body)).toBe(`to bob ${n}`);
        expect(new TextDecoder().decode(a.body)).toBe(`to alice ${n}`);
        const ended = n % 2 === 0 ? await bench.sendInDialog(caller.dialog, 'BYE') : await bench.send(callee.dialog.createRequest('BYE'));
        expect(ended.status).toBe(200);
        alice.close();
        bob.close();
      };
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => one(batch * 50 + i)));
      }
      await expect.poll(() => bench.handler.tableSizes(), { timeout: 5000 }).toEqual({ sessions: 0, legsByDialog: 0, legsById: 0, unanswered: 0, msrpConnections: 0 });
      expect(bench.msrp.waitingSessionCount).toBe(0);
      // Once the devices hang up their (shared) MSRP connections, the server holds none either.
      bench.devices.close();
      await expect.poll(() => bench.msrp.connectionCount, { timeout: 5000 }).toBe(0);
      // Transactions linger for Timer L/M (64·T1) after their final response, then leave.
      await expect.poll(() => bench.server.layer.size(), { timeout: 5000 }).toBe(0);
      expect(bench.received.filter((r) => r.request.method !== 'BYE')).toEqual([]);
    } finally {
      await bench.close();
    }
  }, 60_000);
});
