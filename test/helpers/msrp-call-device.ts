/**
 * A JsSIP device with real MSRP media for system tests of CPM sessions: a CpmUserAgent over a WsSocket (fed
 * into the lab trace under its name, and every SIP message it receives kept raw) whose MsrpPeerConnection
 * opens each negotiated MSRP session on the device's own MsrpEndpoint (protocol/msrp over TCP): active or
 * passive as the SDP says. It answers every session it is offered while `autoAnswer` is on (the default).
 */
import { randomUUID } from 'node:crypto';
import type { EndEvent, RTCSession } from 'jssip/lib/RTCSession';
import type { IncomingResponse } from 'jssip/lib/SIPMessage';
import type { RTCSessionEvent } from 'jssip/lib/UA';
import { MsrpEndpoint } from '../../electron/device/chat/msrp/msrp-endpoint';
import { CpmUserAgent } from '../../electron/device/sip/cpm-user-agent';
import { MsrpPeerConnection, type MsrpNegotiation } from '../../electron/device/sip/msrp-peer-connection';
import { WsSocket } from '../../electron/device/sip/ws-socket';
import { decodeCpim, encodeCpim } from '../../protocol/cpim/cpim';
import type { MsrpSession } from '../../protocol/msrp/msrp-session';
import { waitFor } from './lab-device';
import type { LabView } from './use-lab';

/** JsSIP must not ask for audio or video (DESIGN.md). */
export const NO_MEDIA = { mediaConstraints: { audio: false, video: false } };

/** The Accept-Contact header line of a CPM session INVITE: the CPM session feature tag (ICSI). */
export const CPM_ACCEPT_CONTACT = 'Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

/** The headers of a CPM session INVITE: Accept-Contact with the CPM feature tag, Conversation-ID, Contribution-ID. */
export function cpmHeaders(conversationId: string = randomUUID(), contributionId: string = randomUUID()): string[] {
  return [CPM_ACCEPT_CONTACT, `Conversation-ID: ${conversationId}`, `Contribution-ID: ${contributionId}`];
}

/** A registered device. */
export interface CallDevice {
  name: string;
  ua: CpmUserAgent;
  msrp: MsrpEndpoint;
  /** Every completed offer/answer, in order. */
  negotiations: MsrpNegotiation[];
  /** The MSRP session of each negotiation, in the same order (resolves once bound). */
  sessions: Promise<MsrpSession>[];
  /** Sessions it was offered (answered while `autoAnswer` was on). */
  incoming: RTCSession[];
  /** Whether it answers what it is offered (default true). */
  autoAnswer: boolean;
  /** Every SIP message it received, as text, in order. */
  wire: string[];
  stop(): Promise<void>;
}

/** Start a device of `user` on the lab (of either placement), registered; resolves once it has its pub-gruu. */
export async function startCallDevice(lab: LabView<'description' | 'trace'>, user: string, name: string): Promise<CallDevice> {
  const domain = lab.description.domains.find((x) => x.domain === user.split('@')[1]);
  const password = lab.description.users.find((u) => u.uri === user)?.password;
  if (!domain || password === undefined) throw new Error(`no lab user ${user}`);
  const msrp = new MsrpEndpoint();
  await msrp.listen();
  const hook = lab.trace.device(name);
  const wire: string[] = [];
  const socket = new WsSocket({
    url: domain.ws,
    trace: {
      sent: (message) => hook.sent(message),
      received: (message) => {
        hook.received(message);
        wire.push(message);
      },
    },
  });
  const negotiations: MsrpNegotiation[] = [];
  const sessions: Promise<MsrpSession>[] = [];
  const ua = new CpmUserAgent({
    uri: user,
    password,
    deviceName: name,
    instanceId: `urn:uuid:${randomUUID()}`,
    socket,
    connectionRecovery: { minIntervalSeconds: 1, maxIntervalSeconds: 2 },
    peerConnectionFactory: () =>
      new MsrpPeerConnection({
        localEndpoint: () => ({ path: [msrp.newLocalUri()], acceptTypes: ['message/cpim'], acceptWrappedTypes: ['text/plain', 'message/imdn+xml'] }),
        onNegotiated: (negotiation) => {
          negotiations.push(negotiation);
          const opened = msrp.openSession({ localUri: negotiation.localPath.at(-1)!, remotePath: negotiation.remotePath, setup: negotiation.setup });
          opened.catch(() => undefined);
          sessions.push(opened);
        },
      }),
  });
  const device: CallDevice = {
    name,
    ua,
    msrp,
    negotiations,
    sessions,
    incoming: [],
    autoAnswer: true,
    wire,
    stop: async () => {
      ua.stop();
      await new Promise((r) => setTimeout(r, 50));
      await msrp.close();
    },
  };
  ua.on('newRTCSession', (event: RTCSessionEvent) => {
    if (event.originator !== 'remote') return;
    device.incoming.push(event.session);
    if (device.autoAnswer) event.session.answer(NO_MEDIA);
  });
  ua.start();
  await waitFor(`${name} registered`, () => ua.pubGruu !== null);
  return device;
}

/** Why a call failed: JsSIP's cause, and the final response's status and reason when one ended it. */
export interface CallFailure extends Error {
  status?: number;
  reason?: string;
}

/**
 * Place a session: the JsSIP session at once, and `confirmed`, which resolves once JsSIP confirms it and
 * rejects with a {@link CallFailure} (`call failed: <cause>`) when it fails.
 */
export function call(from: CallDevice, target: string, extraHeaders: string[]): { session: RTCSession; confirmed: Promise<void> } {
  let session!: RTCSession;
  const confirmed = new Promise<void>((resolve, reject) => {
    session = from.ua.call(target, {
      ...NO_MEDIA,
      extraHeaders,
      eventHandlers: {
        confirmed: () => resolve(),
        failed: (e: EndEvent) => {
          const response = e.message as Partial<IncomingResponse> | undefined;
          const failure: CallFailure = Object.assign(new Error(`call failed: ${e.cause}`), { status: response?.status_code, reason: response?.reason_phrase });
          reject(failure);
        },
      },
    });
  });
  confirmed.catch(() => undefined); // the caller may look at it only later
  return { session, confirmed };
}

/** Place a session; resolves once JsSIP confirms it, rejects with the failure (see {@link call}). */
export async function placeCall(from: CallDevice, target: string, extraHeaders: string[]): Promise<RTCSession> {
  const { session, confirmed } = call(from, target, extraHeaders);
  await confirmed;
  return session;
}

/** `count` CPIM messages from `from` to `to`; resolves with the imdn.Message-IDs sent and those `to` received, in order. */
export async function exchange(from: MsrpSession, to: MsrpSession, count: number, tag: string): Promise<{ sent: string[]; received: string[] }> {
  const received: string[] = [];
  const all = new Promise<void>((resolve) => {
    to.on('message', (m) => {
      received.push(decodeCpim(m.body).imdnMessageId ?? '?');
      if (received.length === count) resolve();
    });
  });
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${tag}-${i}-${randomUUID().slice(0, 8)}`;
    sent.push(id);
    from.send(cpimText(id, `message ${i} ${'·'.repeat(i % 50)}`), 'message/cpim');
  }
  await all;
  return { sent, received };
}

/** A CPIM message wrapping `text` with `imdn.Message-ID` `id`. */
export function cpimText(id: string, text: string): Uint8Array {
  return encodeCpim({ from: { uri: 'sip:anonymous@anonymous.invalid' }, to: [{ uri: 'sip:anonymous@anonymous.invalid' }], dateTime: new Date(), imdn: { messageId: id }, contentType: 'text/plain', body: text });
}
