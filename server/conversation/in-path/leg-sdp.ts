/**
 * The SDP of the in-path server's legs (RFC 4975 §8, RFC 6135, PROFILE.md "A CPM session"): always our own
 * MSRP path on each leg (a B2BUA terminates the media), and the `a=setup` PROFILE.md gives a Conversation
 * Server: passive, except when the peer's offer is itself passive (another in-path server), where the
 * answer can only be active (see msrp-connector.ts).
 */
import { buildMsrpSdp, parseMsrpSdp, type MsrpSdp } from '../../../protocol/sdp/msrp-sdp';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';
import type { SipMessage } from '../../sip/message/sip-message';

/** Our SDP on a leg: `a=path` our leg URI, `a=setup` as given. */
export function legSdp(uri: MsrpUri, setup: 'active' | 'passive'): string {
  const address = uri.host.replace(/^\[|\]$/g, '');
  return buildMsrpSdp({
    address: { addrType: address.includes(':') ? 'IP6' : 'IP4', address },
    port: uri.port ?? 2855,
    path: [uri],
    setup,
  });
}

/** The outcome of reading a peer's SDP. */
export type PeerSdp = { ok: true; sdp: MsrpSdp } | { ok: false; reason: string };

/** Read the MSRP SDP of a request or response: `application/sdp`, an MSRP stream that was not declined. */
export function readPeerSdp(message: SipMessage): PeerSdp {
  const type = message.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  if (message.body.length === 0) return { ok: false, reason: 'no SDP' };
  if (type !== 'application/sdp') return { ok: false, reason: `body is ${type ?? 'untyped'}, not application/sdp` };
  try {
    const sdp = parseMsrpSdp(new TextDecoder().decode(message.body));
    if (sdp.rejected) return { ok: false, reason: 'the MSRP stream is declined (port 0)' };
    if (sdp.path.length === 0) return { ok: false, reason: 'no a=path' };
    if (sdp.setup === 'holdconn') return { ok: false, reason: 'a=setup:holdconn is not supported' };
    return { ok: true, sdp };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Our `a=setup` in an answer to `offer` on a leg (RFC 6135 §4.2): passive, so that the device connects to
 * us; active only when the offer is passive (the peer is another Conversation Server).
 */
export function answerSetupFor(offer: MsrpSdp): 'active' | 'passive' {
  return offer.setup === 'passive' ? 'active' : 'passive';
}

/** Who connects once our passive offer is answered: an `active` answer, or none (RFC 6135 §4.2), is the peer. */
export function peerConnectsToOurOffer(answer: MsrpSdp): boolean {
  return answer.setup === 'active' || answer.setup === undefined;
}
