/**
 * The in-path half of a transfer with real JsSIP devices (PROFILE.md steps 10–13 and 22–25, without the REFERs
 * that precede it): Alice's second device sends the Join INVITE to J, the in-path server's leg URI that her
 * first device's dialog T has as its remote target, with Target-Dialog naming T. T's far side answers with its
 * own MSRP path and moves the relay to the new device as soon as its MSRP connection is up; the first device's
 * late message still reaches Bob; its BYE ends only its own leg; Bob's leg is never touched.
 * - CS A in-path: T's far side is CS A.
 * - CS A proxy, CS B in-path: T's far side is CS B; the Join INVITE passes CS A and both cores to reach it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCpim } from '../protocol/cpim/cpim';
import type { MsrpSession, ReceivedMsrpMessage } from '../protocol/msrp/msrp-session';
import type { ConversationMode } from '../server/conversation/conversation-mode';
import type { InPathHandler } from '../server/conversation/in-path/in-path-handler';
import { LabNetwork } from '../server/lab/lab-network';
import { waitFor } from './helpers/lab-device';
import { cpimText, cpmHeaders, placeCall, startCallDevice, type CallDevice } from './helpers/msrp-call-device';

function nextMessage(session: MsrpSession): Promise<ReceivedMsrpMessage> {
  return new Promise((resolve) => session.once('message', resolve));
}

const CASES: [ConversationMode, ConversationMode, 'a.example' | 'b.example'][] = [
  ['in-path', 'proxy', 'a.example'],
  ['proxy', 'in-path', 'b.example'],
];

describe.each(CASES)('CS A %s, CS B %s: a Join INVITE to T’s far side', (modeA, modeB, farDomain) => {
  let lab: LabNetwork;
  let laptop: CallDevice;
  let desktop: CallDevice;
  let bob: CallDevice;

  beforeAll(async () => {
    lab = await LabNetwork.start({ modeA, modeB });
    lab.trace.enable({ raw: true });
    [laptop, desktop, bob] = await Promise.all([
      startCallDevice(lab, 'sip:alice@a.example', 'alice laptop'),
      startCallDevice(lab, 'sip:alice@a.example', 'alice desktop'),
      startCallDevice(lab, 'sip:bob@b.example', 'bob desktop'),
    ]);
  });

  afterAll(async () => {
    await Promise.all([laptop?.stop(), desktop?.stop(), bob?.stop()]);
    await lab?.close();
  });

  it('moves the session to the new device: media switched, the old device’s late message relayed, its BYE ends only its leg', async () => {
    const far = lab.domain(farDomain).conversation.sessions as InPathHandler;
    const conversationId = randomUUID();
    const contributionId = randomUUID();
    const t = await placeCall(laptop, 'sip:bob@b.example', cpmHeaders(conversationId, contributionId));
    const bobCall = await waitFor('Bob’s side', () => bob.incoming[0]);
    const [laptopMsrp, bobMsrp] = await Promise.all([laptop.sessions[0]!, bob.sessions[0]!]);

    // T as its far side sees it: the leg towards the laptop, and J, that leg's URI (the laptop's remote target).
    const session = await waitFor('the far side’s session', () => far.liveSessions()[0]);
    const leg = session.legs.a!;
    const id = leg.dialog!.id;
    expect(id.callId).toBe(t.id.slice(0, t.id.length - t.local_identity.getParam('tag').length));
    expect(id.remoteTag).toBe(t.local_identity.getParam('tag'));
    const j = leg.contact;
    expect(far.findByDialog(id.callId, id.remoteTag, id.localTag)?.callee.target).toBe(j);

    const moved = new Promise<string[]>((resolve) => far.once('legReplaced', (_s, _prev, _next, replayed) => resolve(replayed)));
    const join = await placeCall(desktop, j, [
      ...cpmHeaders(conversationId),
      `InReplyTo-Contribution-ID: ${contributionId}`,
      `Target-Dialog: ${id.callId};local-tag=${id.localTag};remote-tag=${id.remoteTag}`,
      'Require: tdialog',
    ]);
    const desktopMsrp = await desktop.sessions[0]!;
    await moved;
    // The Join went to the far side only: nobody re-invited Bob.
    const joinInvites = lab.trace.hops({ methods: ['INVITE'] }).filter((h) => h.summary === 'INVITE' && h.raw?.includes('Target-Dialog'));
    expect(joinInvites.at(-1)?.to).toBe(farDomain === 'a.example' ? 'CS A' : 'CS B');
    expect(desktop.negotiations[0]!.remoteAddress.port).toBe(far.msrpAddress!.port);

    // What Bob sends now reaches the new device; what the old one still sends reaches Bob.
    const atDesktop = nextMessage(desktopMsrp);
    bobMsrp.send(cpimText('after-move', 'for the desktop'), 'message/cpim');
    expect(decodeCpim((await atDesktop).body).imdnMessageId).toBe('after-move');
    const atBob = nextMessage(bobMsrp);
    laptopMsrp.send(cpimText('late-from-laptop', 'sent before the release'), 'message/cpim');
    expect(decodeCpim((await atBob).body).imdnMessageId).toBe('late-from-laptop');

    // Release: the laptop's BYE ends T only; Bob's session and the new one go on.
    const laptopEnded = new Promise<void>((resolve) => t.on('ended', () => resolve()));
    t.terminate();
    await laptopEnded;
    await waitFor('the old leg gone', () => far.tableSizes().legsById === 2);
    expect(bobCall.isEnded()).toBe(false);
    expect(join.isEnded()).toBe(false);
    const again = nextMessage(bobMsrp);
    desktopMsrp.send(cpimText('from-desktop', 'hello from the desktop'), 'message/cpim');
    expect(decodeCpim((await again).body).imdnMessageId).toBe('from-desktop');

    // Bob ends the conversation: the desktop's session ends, nothing is left.
    const desktopEnded = new Promise<void>((resolve) => join.on('ended', () => resolve()));
    bobCall.terminate();
    await desktopEnded;
    await waitFor('both servers empty', () => lab.domains.every((d) => d.conversation.sessionCount() === 0));
    expect(far.tableSizes()).toMatchObject({ sessions: 0, legsByDialog: 0, legsById: 0 });
  }, 30_000);
});
