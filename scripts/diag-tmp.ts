import { LabNetwork } from '../server/lab/lab-network';
import { allMessages, ChatLoad, deliveryReport, instanceOf, setUpChat, waitUntil } from '../electron/device/testing/transfer-scenario';
const lab = await LabNetwork.start({ modeA: 'in-path', modeB: 'in-path' });
const setup = await setUpChat(lab);
const { laptop, desktop, bob, conversationId } = setup;
const load = new ChatLoad(setup);
load.start();
await new Promise((r) => setTimeout(r, 300));
let holder = laptop;
const log: string[] = [];
for (let i = 0; i < 15; i++) {
  const target = holder === laptop ? desktop : laptop;
  const id = await holder.agent.moveConversation(conversationId, instanceOf(target));
  const f = await holder.until('transferProgress', (p) => p.transferId === id && ['completed', 'declined', 'timed-out', 'failed'].includes(p.phase), 30000);
  log.push(`${performance.now().toFixed(0)} move ${i} ${holder.name}->${target.name} ${f.phase}`);
  if (f.phase === 'completed') holder = target;
  await new Promise((r) => setTimeout(r, 50));
}
await new Promise((r) => setTimeout(r, 300));
load.stop();
await waitUntil('x', async () => deliveryReport(load.sent, await allMessages(holder, conversationId)).lost === 0, 10000).catch(() => undefined);
const thread = await allMessages(holder, conversationId);
const have = new Set(thread.map((m) => m.id));
const atBob = new Set((await allMessages(bob, conversationId)).map((m) => m.id));
for (const s of load.sent) {
  if (!have.has(s.id) || (s.sender === 'alice' && !atBob.has(s.id))) {
    console.log('LOST', s, 'holder has', have.has(s.id), 'bob has', atBob.has(s.id));
    for (const p of [laptop, desktop, bob]) {
      const ev = p.events.filter((e) => (e.type === 'message' && e.payload.id === s.id) || (e.type === 'messageStatus' && e.payload.messageId === s.id));
      console.log(p.name, JSON.stringify(ev.map((e) => [e.type, e.at.toFixed(0), (e.payload as { status?: string }).status])));
    }
  }
}
console.log(log.join('\n'));
console.log(deliveryReport(load.sent, thread), load.refused);
await Promise.allSettled([laptop.close(), desktop.close(), bob.close()]);
await lab.close();
process.exit(0);
