/**
 * System test: SIPp offers a CPM session to a DeviceAgent (issue "The DeviceAgent").
 *
 * SIPp plays alice@a.example over UDP towards core A, answering core A's 407 with digest (the lab's UDP has no
 * flows, so every out-of-dialog request is challenged). Its INVITE carries what PROFILE.md "A CPM session" asks
 * for: the CPM Accept-Contact, Conversation-ID, Contribution-ID and an MSRP offer with `a=setup:actpass`. Both
 * Conversation Servers are in proxy mode, so the answer SIPp gets is the device's own. Bob's DeviceAgent (over
 * WebSocket at core B) accepts when its `incomingSession` event fires.
 *
 * The answer is judged twice: by SIPp itself (regular expressions with `check_it` in
 * `sipp-device/cpm-invite-uac.xml`, so a wrong answer fails SIPp's call) and here, from the 200 core A sent to
 * SIPp as the lab trace recorded it. The test then plays SIPp's MSRP side (SIPp has none): it connects to the
 * device's `a=path`, as the offerer must (RFC 6135), binds, and exchanges one CPIM message each way. Then it cues
 * SIPp (`sipp-device/sipp-cue.ts`), which sends the BYE; SIPp's statistics must show one successful call.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChatPayload, encodeTextMessage, CPIM_CONTENT_TYPE } from '../electron/device/chat/chat-payload';
import { MsrpSocketTransport } from '../electron/device/chat/msrp-socket-transport';
import { MsrpSession, MsrpSessionState } from '../protocol/msrp/msrp-session';
import { formatMsrpUri } from '../protocol/msrp/msrp-uri';
import { newContributionId, newConversationId } from '../protocol/cpm/cpm-ids';
import { parseMsrpSdp, type MsrpSdp } from '../protocol/sdp/msrp-sdp';
import { LabNetwork } from '../server/lab/lab-network';
import type { SipTraceEntry } from '../server/lab/sip-trace';
import { startLabAgent, type LabAgent } from './helpers/lab-agent';
import { waitFor } from './helpers/lab-device';
import { sendSippCue } from './sipp-device/sipp-cue';
import { freeUdpPort, SippProcess, stopAllSipp } from './sipp-lab/sipp-process';
import { describeSippStats } from './sipp-lab/sipp-stats';

const SCENARIO = fileURLToPath(new URL('./sipp-device/cpm-invite-uac.xml', import.meta.url));

/** Random bits a session id of this length carries at least, for the alphabet its characters come from. */
function sessionIdBits(id: string): number {
  const alphabet = /^[A-Za-z0-9]+$/.test(id) ? 62 : /^[A-Za-z0-9_-]+$/.test(id) ? 64 : 0;
  return alphabet === 0 ? 0 : Math.floor(id.length * Math.log2(alphabet));
}

/** The body of a raw SIP message (after the first empty line). */
function sipBody(raw: string): string {
  const at = raw.indexOf('\r\n\r\n');
  return at < 0 ? '' : raw.slice(at + 4);
}

describe('SIPp offers a CPM session to a DeviceAgent through the lab', () => {
  let lab: LabNetwork;
  let bob: LabAgent;
  let media: MsrpSocketTransport;
  let work = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'device-sipp-'));
    lab = await LabNetwork.start({ modeA: 'proxy', modeB: 'proxy' });
    lab.trace.enable({ raw: true });
    // No liveness probes: the only in-dialog requests are SIPp's.
    bob = await startLabAgent(lab, 'sip:bob@b.example', 'Desk', { sessionKeepAliveMs: 0 });
    media = await MsrpSocketTransport.listen();
  });

  afterAll(async () => {
    await stopAllSipp();
    await media?.close();
    await bob?.close();
    await lab?.close();
    if (work && process.env.LAB_SIPP_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  });

  it('Bob’s device answers with MSRP SDP (passive, its own path), carries CPIM both ways, and SIPp completes ACK and BYE', async () => {
    const conversationId = newConversationId();
    const contributionId = newContributionId();
    const offerUri = media.newLocalUri();
    const offerSessionId = offerUri.sessionId ?? '';
    const sippPort = await freeUdpPort();
    const a = lab.description.domains.find((d) => d.domain === 'a.example');
    if (!a) throw new Error('no a.example in the lab');

    const sipp = await SippProcess.start({
      name: 'cpm-uac',
      workDir: work,
      scenario: SCENARIO,
      remote: `127.0.0.1:${a.udp}`,
      localPort: sippPort,
      service: 'bob',
      keys: {
        from_user: 'alice',
        from_domain: 'a.example',
        to_domain: 'b.example',
        conversation_id: conversationId,
        contribution_id: contributionId,
        msrp_host: offerUri.host,
        msrp_port: String(offerUri.port),
        msrp_session: offerSessionId,
      },
      auth: { user: 'alice', password: 'alice-secret' },
      calls: 1,
      timeoutSeconds: 30,
    });
    const finished = sipp.done;

    // Bob's device alerts with the CPM identities SIPp sent and the asserted caller; the user accepts.
    const incoming = await bob.until('incomingSession', undefined, 15_000).catch(async (error: unknown) => {
      sipp.stop();
      const result = await finished;
      throw new Error(`${String(error)}; SIPp: exit ${String(result.exitCode)} ${result.stats ? describeSippStats(result.stats) : ''}\n${result.errors}`);
    });
    expect(incoming).toMatchObject({ conversationId, peerUri: 'sip:alice@a.example' });
    await bob.agent.acceptSession(incoming.sessionId);

    // The answer as it left core A for SIPp.
    const invite = await waitFor('SIPp’s authenticated INVITE at core A', () =>
      lab.trace.entries({ methods: ['INVITE'] }).find((e) => e.element === 'core A' && e.direction === 'in' && e.status === undefined && (e.raw ?? '').includes('Proxy-Authorization') && (e.raw ?? '').includes(conversationId)),
    );
    const callId = invite.callId!;
    const ok = await waitFor('the 200 core A sent to SIPp', (): SipTraceEntry | undefined =>
      lab.trace.entries({ callId, methods: ['INVITE'] }).find((e) => e.element === 'core A' && e.direction === 'out' && e.status === 200 && e.to === `udp:127.0.0.1:${sippPort}`),
    );
    expect(ok.raw).toMatch(/^SIP\/2\.0 200 /);
    expect(ok.raw).toMatch(/\r\nContent-Type: *application\/sdp\r\n/i);
    const answer: MsrpSdp = parseMsrpSdp(sipBody(ok.raw!));
    expect(answer).toMatchObject({ protocol: 'TCP/MSRP', rejected: false, setup: 'passive', acceptTypes: ['message/cpim'], direction: 'sendrecv' });
    expect(answer.acceptWrappedTypes).toEqual(expect.arrayContaining(['text/plain', 'message/imdn+xml']));
    expect(answer.path).toHaveLength(1);
    const path = answer.path[0]!;
    expect(path).toMatchObject({ scheme: 'msrp', transport: 'tcp', host: '127.0.0.1', port: answer.port });
    expect(answer.connection?.address).toBe(path.host);
    const sessionId = path.sessionId ?? '';
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sessionIdBits(sessionId)).toBeGreaterThanOrEqual(80);
    expect(sessionId).not.toBe(offerSessionId);

    // SIPp's MSRP side: the offerer connects (RFC 6135 §4.2) and binds with its first SEND (RFC 4975 §5.4).
    const session = new MsrpSession({ localUri: offerUri, remotePath: answer.path });
    const texts: string[] = [];
    session.on('message', (m) => {
      const payload = decodeChatPayload(m.body);
      if (payload.kind === 'text') texts.push(payload.text);
    });
    await media.bind(session, 'active');
    await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && s.state === 'active');

    const hello = encodeTextMessage({ from: { uri: 'sip:alice@a.example' }, to: { uri: 'sip:bob@b.example' }, text: 'hello from SIPp’s side' });
    const sent = await session.send(hello.bytes, CPIM_CONTENT_TYPE).done;
    expect(sent.ok).toBe(true);
    const atBob = await bob.until('message', (m) => m.id === hello.messageId);
    expect(atBob).toMatchObject({ direction: 'incoming', text: 'hello from SIPp’s side', senderUri: 'sip:alice@a.example', conversationId });
    const reply = await bob.agent.sendMessage(conversationId, 'hi, SIPp');
    await waitFor('Bob’s reply over MSRP', () => texts.includes('hi, SIPp'));
    expect(reply.conversationId).toBe(conversationId);

    // Hang up: SIPp sends the BYE along the route set; Bob's session ends with the peer as the cause.
    await sendSippCue({ host: '127.0.0.1', port: sippPort, callId });
    const ended = await bob.until('sessionState', (s) => s.sessionId === incoming.sessionId && s.state === 'ended');
    expect(ended.cause).toBe('ended by the peer');
    await waitFor('the MSRP session to close', () => session.state === MsrpSessionState.Closed || undefined);

    const result = await finished;
    const explain = `exit ${String(result.exitCode)}; ${result.stats ? describeSippStats(result.stats) : 'no statistics'}\n${result.errors}`;
    expect(result.stats, explain).toBeDefined();
    expect({ successful: result.stats?.successful, failed: result.stats?.failed, unexpected: result.stats?.unexpected }, explain).toEqual({ successful: 1, failed: 0, unexpected: 0 });
    expect(result.exitCode, explain).toBe(0);

    // The dialog's whole life reached the device: ACK and BYE (and the device's 200 to the BYE) crossed core B.
    const atCoreB = lab.trace.entries({ callId }).filter((e) => e.element === 'core B');
    expect(atCoreB.some((e) => e.method === 'ACK' && e.direction === 'out')).toBe(true);
    expect(atCoreB.some((e) => e.method === 'BYE' && e.status === 200 && e.direction === 'in')).toBe(true);
    expect(formatMsrpUri(path)).toMatch(/^msrp:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{14,};tcp$/);
  }, 45_000);
});
