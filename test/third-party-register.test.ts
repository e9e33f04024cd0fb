/**
 * What the core tells its Conversation Server of a device's registration (PROFILE.md "Registration and the device
 * list": a third-party REGISTER after every registration change), seen on the lab's SIP trace and in the server's
 * device registry. A raw UDP client plays a device that re-registers far more often than it needs to.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestResponder, parseDigestChallenges, selectDigestChallenge } from '../server/auth/digest';
import { REPORT_AGAIN_BELOW } from '../server/core/domain-core';
import { serializeMessage } from '../server/sip/message/serialize';
import { createRequest, type SipMessage } from '../server/sip/message/sip-message';
import { openWireClient, type WireClient } from '../server/sip/rfc4475/wire-client';
import { useLab } from './helpers/use-lab';
import { waitFor } from './helpers/lab-device';

const handle = useLab({ trace: true });
const DOMAIN = 'a.example';
const INSTANCE = `urn:uuid:${randomUUID()}`;

/** A raw device: REGISTERs over UDP with digest, one Call-ID, CSeq counting up (RFC 3261 §10.2.4 refreshes). */
class RawDevice {
  private cseq = 0;
  private responder: DigestResponder | undefined;
  private readonly callId = `${randomUUID()}@test`;

  constructor(private readonly client: WireClient) {}

  async register(deviceName: string, expires: number): Promise<number> {
    let answer = await this.send(deviceName, expires);
    if (status(answer) === 401) {
      const challenge = selectDigestChallenge(parseDigestChallenges(answer!.headers.getAll('WWW-Authenticate')));
      this.responder = new DigestResponder(challenge!, 'alice', handle.lab.description.users.find((u) => u.uri === `sip:alice@${DOMAIN}`)!.password);
      answer = await this.send(deviceName, expires);
    }
    return status(answer);
  }

  private async send(deviceName: string, expires: number): Promise<SipMessage | undefined> {
    const cseq = ++this.cseq;
    const branch = `z9hG4bK${randomUUID().replaceAll('-', '')}`;
    const headers = [
      { name: 'Via', value: `SIP/2.0/UDP 127.0.0.1:${this.client.local.port};branch=${branch};rport` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `<sip:alice@${DOMAIN}>;tag=raw${cseq}` },
      { name: 'To', value: `<sip:alice@${DOMAIN}>` },
      { name: 'Call-ID', value: this.callId },
      { name: 'CSeq', value: `${cseq} REGISTER` },
      {
        name: 'Contact',
        value: `<sip:alice@127.0.0.1:${this.client.local.port}>;+sip.instance="<${INSTANCE}>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session";+cpm.device-name="${deviceName}"`,
      },
      { name: 'Supported', value: 'gruu' },
      { name: 'Expires', value: String(expires) },
    ];
    if (this.responder) headers.push({ name: 'Authorization', value: this.responder.authorize('REGISTER', `sip:${DOMAIN}`) });
    const request = createRequest('REGISTER', `sip:${DOMAIN}`, headers);
    return this.client.exchange(serializeMessage(request), (m) => m.type === 'response' && m.headers.get('CSeq') === `${cseq} REGISTER` && m.status >= 200, 5000);
  }
}

function status(message: SipMessage | undefined): number {
  return message?.type === 'response' ? message.status : 0;
}

/** The third-party REGISTERs core A sent CS A, answered 200, so far. */
function toldSoFar(): number {
  return handle.lab.trace.hops({ methods: ['REGISTER'] }).filter((h) => h.from === 'CS A' && h.to === 'core A' && h.status === 200).length;
}

async function told(count: number): Promise<void> {
  await waitFor(`${count} third-party REGISTERs answered`, () => toldSoFar() >= count);
  // nothing more is on its way: a round trip of the trace later, still the same count
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(toldSoFar()).toBe(count);
}

function registeredDevice(): { name: string | undefined; secondsLeft: number } | undefined {
  const devices = handle.lab.domain(DOMAIN).conversation.registry.devices(`sip:alice@${DOMAIN}`);
  const device = devices.find((d) => d.instance === INSTANCE);
  return device && { name: device.name, secondsLeft: Math.round((device.expiresAt - Date.now()) / 1000) };
}

describe('A device that re-registers far more often than it needs to', () => {
  it('reaches the Conversation Server when something changes, not on every refresh', async () => {
    const a = handle.lab.description.domains.find((d) => d.domain === DOMAIN)!;
    const client = await openWireClient('udp', { host: a.host, port: a.udp });
    try {
      const laptop = new RawDevice(client);
      expect(await laptop.register('Laptop', 600)).toBe(200);
      await told(1);
      expect(registeredDevice()).toEqual({ name: 'Laptop', secondsLeft: 600 });

      // Refreshes that repeat everything, moments apart: the server already knows the binding lasts 600 s.
      for (let i = 0; i < 3; i++) expect(await laptop.register('Laptop', 600)).toBe(200);
      await told(1);

      // A new device name is a change.
      expect(await laptop.register('Work Laptop', 600)).toBe(200);
      await told(2);
      expect(registeredDevice()?.name).toBe('Work Laptop');

      // A shorter expiry is a change (RFC 3680 "shortened"); lengthening it again is reported too, since what the
      // server was told (60 s) is under REPORT_AGAIN_BELOW of the new 600 s.
      expect(60).toBeLessThan(REPORT_AGAIN_BELOW * 600);
      expect(await laptop.register('Work Laptop', 60)).toBe(200);
      await told(3);
      expect(registeredDevice()?.secondsLeft).toBe(60);
      expect(await laptop.register('Work Laptop', 600)).toBe(200);
      await told(4);
      expect(registeredDevice()?.secondsLeft).toBe(600);

      // Un-registering is a change: the device leaves the server's registry.
      expect(await laptop.register('Work Laptop', 0)).toBe(200);
      await told(5);
      expect(registeredDevice()).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});
