/**
 * A JsSIP device with real MSRP media for system tests of CPM sessions: a CpmUserAgent over a WsSocket (fed
 * into the lab trace under its name) whose MsrpPeerConnection opens each negotiated MSRP session on the
 * device's own MsrpEndpoint (protocol/msrp over TCP): active or passive as the SDP says. It answers every
 * session it is offered.
 */
import { randomUUID } from 'node:crypto';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { RTCSessionEvent } from 'jssip/lib/UA';
import { MsrpEndpoint } from '../../electron/device/chat/msrp/msrp-endpoint';
import { CpmUserAgent } from '../../electron/device/sip/cpm-user-agent';
import { MsrpPeerConnection, type MsrpNegotiation } from '../../electron/device/sip/msrp-peer-connection';
import { WsSocket } from '../../electron/device/sip/ws-socket';
import { decodeCpim, encodeCpim } from '../../protocol/cpim/cpim';
import type { MsrpSession } from '../../protocol/msrp/msrp-session';
import type { LabNetwork } from '../../server/lab/lab-network';
import { waitFor } from './lab-device';

/** JsSIP must not ask for audio or video (DESIGN.md). */
export const NO_MEDIA = { mediaConstraints: { audio: false, video: false } };

/** The headers of a CPM session INVITE: Accept-Contact with the CPM feature tag, Conversation-ID, Contribution-ID. */
export function cpmHeaders(conversationId: string = randomUUID(), contributionId: string = randomUUID()): string[] {
  return [
    'Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"',
    `Conversation-ID: ${conversationId}`,
    `Contribution-ID: ${contributionId}`,
  ];
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
  /** Sessions it was offered (and answered). */
  incoming: RTCSession[];
  stop(): Promise<void>;
}

/** Start a device of `user` on the lab, registered; resolves once it has its pub-gruu. */
export async function startCallDevice(lab: LabNetwork, user: string, name: string): Promise<CallDevice> {
  const domain = lab.description.domains.find((x) => x.domain === user.split('@')[1]);
  const password = lab.description.users.find((u) => u.uri === user)?.password;
  if (!domain || password === undefined) throw new Error(`no lab user ${user}`);
  const msrp = new MsrpEndpoint();
  await msrp.listen();
  const socket = new WsSocket({ url: domain.ws });
  const hook = lab.trace.device(name);
  const send = socket.send.bind(socket);
  socket.send = (message: string): boolean => {
    hook.sent(message);
    return send(message);
  };
  let inner: (data: string) => void = () => undefined;
  Object.defineProperty(socket, 'ondata', {
    configurable: true,
    get: () => (data: string) => {
      hook.received(data);
      inner(data);
    },
    set: (fn: (data: string) => void) => {
      inner = fn;
    },
  });
  const negotiations: MsrpNegotiation[] = [];
  const sessions: Promise<MsrpSession>[] = [];
  const incoming: RTCSession[] = [];
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
  ua.on('newRTCSession', (event: RTCSessionEvent) => {
    if (event.originator !== 'remote') return;
    incoming.push(event.session);
    event.session.answer(NO_MEDIA);
  });
  ua.start();
  await waitFor(`${name} registered`, () => ua.pubGruu !== null);
  return {
    name,
    ua,
    msrp,
    negotiations,
    sessions,
    incoming,
    stop: async () => {
      ua.stop();
      await new Promise((r) => setTimeout(r, 50));
      await msrp.close();
    },
  };
}

/** Place a session; resolves once JsSIP confirms it, rejects with the failure's cause. */
export function placeCall(from: CallDevice, target: string, extraHeaders: string[]): Promise<RTCSession> {
  return new Promise<RTCSession>((resolve, reject) => {
    const session = from.ua.call(target, {
      ...NO_MEDIA,
      extraHeaders,
      eventHandlers: { confirmed: () => resolve(session), failed: (e: { cause: string }) => reject(new Error(`call failed: ${e.cause}`)) },
    });
  });
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
