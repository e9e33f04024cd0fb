/**
 * The four mode pairs of the two Conversation Servers (PROFILE.md: each domain's mode is independent), with
 * real JsSIP devices (CpmUserAgent + MsrpPeerConnection) and their MSRP over TCP (the device's MsrpEndpoint):
 * per pair, the INVITE passes core A → CS A → core A → core B → CS B → core B → Bob; the SDP each device sees
 * names the in-path server nearest to it (or the other device when both proxy); each device's MSRP
 * connection goes there; 10,000 (or 1,000) messages each way arrive complete, in order, once; and ending from either
 * side ends every leg.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import type { InPathHandler } from '../server/conversation/in-path/in-path-handler';
import { LabNetwork } from '../server/lab/lab-network';
import { waitFor } from './helpers/lab-device';
import { ALICE_LAPTOP_TO_BOB_DESKTOP, hopLines } from './helpers/lab-hops';
import { cpmHeaders, exchange, placeCall, startCallDevice, type CallDevice } from './helpers/msrp-call-device';

/** Messages each way: 10,000 in the run Alice ends, 1,000 in the one Bob ends (the suite stays short). */
const MESSAGES = { alice: 10_000, bob: 1_000 } as const;

const PAIRS: [ConversationMode, ConversationMode][] = [
  ['in-path', 'in-path'],
  ['in-path', 'proxy'],
  ['proxy', 'in-path'],
  ['proxy', 'proxy'],
];

describe.each(PAIRS)('CS A %s, CS B %s', (modeA, modeB) => {
  let lab: LabNetwork;
  let alice: CallDevice;
  let bob: CallDevice;

  beforeAll(async () => {
    lab = await LabNetwork.start({ modeA, modeB });
    lab.trace.enable({ raw: true });
    [alice, bob] = await Promise.all([startCallDevice(lab, 'sip:alice@a.example', 'alice laptop'), startCallDevice(lab, 'sip:bob@b.example', 'bob desktop')]);
  });

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()]);
    await lab?.close();
  });

  const handlerOf = (domain: string): InPathHandler => lab.domain(domain).conversation.sessions as InPathHandler;
  const msrpPortOf = (domain: string): number => handlerOf(domain).msrpAddress!.port;

  for (const ender of ['alice', 'bob'] as const) {
    it(`routes through both servers, carries ${MESSAGES[ender]} messages each way through the expected MSRP hops, and ${ender} ends every leg`, async () => {
      expect(lab.domain('a.example').conversation.sessions.mode).toBe(modeA);
      expect(lab.domain('b.example').conversation.sessions.mode).toBe(modeB);
      const conversationId = randomUUID();
      const offered = bob.incoming.length;
      const aliceCall = await placeCall(alice, 'sip:bob@b.example', cpmHeaders(conversationId));
      const bobCall = await waitFor('Bob’s side', () => bob.incoming[offered]);

      // The INVITE's way, across every leg (in-path legs have their own Call-IDs): found by Conversation-ID.
      const invites = lab.trace.hops({ methods: ['INVITE'] }).filter((h) => h.summary === 'INVITE' && h.raw?.includes(conversationId));
      expect(hopLines(invites)).toEqual(ALICE_LAPTOP_TO_BOB_DESKTOP);

      // Whom each device's SDP names, and where its MSRP connection goes.
      const aliceNeg = alice.negotiations.at(-1)!;
      const bobNeg = bob.negotiations.at(-1)!;
      const aliceSees = modeA === 'in-path' ? msrpPortOf('a.example') : modeB === 'in-path' ? msrpPortOf('b.example') : bob.msrp.listenAddress!.port;
      const bobSees = modeB === 'in-path' ? msrpPortOf('b.example') : modeA === 'in-path' ? msrpPortOf('a.example') : alice.msrp.listenAddress!.port;
      expect(aliceNeg.remoteAddress.port).toBe(aliceSees);
      expect(bobNeg.remoteAddress.port).toBe(bobSees);
      // Devices connect towards a Conversation Server; device to device, the offerer (Alice) connects.
      expect(aliceNeg.setup).toBe('active');
      expect(bobNeg.setup).toBe(modeA === 'proxy' && modeB === 'proxy' ? 'passive' : 'active');
      const [aliceMsrp, bobMsrp] = await Promise.all([alice.sessions.at(-1)!, bob.sessions.at(-1)!]);
      // Which sockets carry the media: each device has one connection, to the server its SDP names (or to
      // the other device); in-path/in-path, CS B connects to CS A (both offered passive).
      expect([alice.msrp.connectionCount, bob.msrp.connectionCount]).toEqual([1, 1]);
      const sockets = (domain: string): { accepted: number; opened: number } => handlerOf(domain).msrpConnections();
      if (modeA === 'in-path' && modeB === 'in-path') {
        expect([sockets('a.example'), sockets('b.example')]).toEqual([{ accepted: 2, opened: 0 }, { accepted: 1, opened: 1 }]);
      } else if (modeA === 'in-path') expect(sockets('a.example')).toEqual({ accepted: 2, opened: 0 });
      else if (modeB === 'in-path') expect(sockets('b.example')).toEqual({ accepted: 2, opened: 0 });
      const inPath = [modeA === 'in-path' ? 'a.example' : undefined, modeB === 'in-path' ? 'b.example' : undefined].filter((d): d is string => d !== undefined);
      for (const domain of inPath) expect(handlerOf(domain).liveSessions().some((s) => s.relay !== undefined)).toBe(true);

      const [toBob, toAlice] = await Promise.all([exchange(aliceMsrp, bobMsrp, MESSAGES[ender], 'a'), exchange(bobMsrp, aliceMsrp, MESSAGES[ender], 'b')]);
      expect(toBob.received).toEqual(toBob.sent);
      expect(toAlice.received).toEqual(toAlice.sent);

      const ended = [aliceCall, bobCall].map((s) => new Promise<void>((resolve) => s.on('ended', () => resolve())));
      (ender === 'alice' ? aliceCall : bobCall).terminate();
      await Promise.all(ended);
      await waitFor('both servers empty', () => lab.domains.every((d) => d.conversation.sessionCount() === 0));
      for (const domain of inPath) expect(handlerOf(domain).tableSizes()).toMatchObject({ sessions: 0, legsByDialog: 0, legsById: 0 });
    }, 30_000);
  }
});
