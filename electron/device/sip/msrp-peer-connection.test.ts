import { describe, expect, it } from 'vitest';
import { parseMsrpUri } from '../../../protocol/msrp/msrp-uri';
import { MsrpPeerConnection, MsrpSignalingState, type MsrpNegotiation, type MsrpPeerConnectionOptions } from './msrp-peer-connection';

const CPM_TYPES = { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['text/plain', 'message/imdn+xml'] };

function endpoint(uri: string) {
  return () => ({ path: [parseMsrpUri(uri)], ...CPM_TYPES });
}

function peer(uri: string, extra: Partial<MsrpPeerConnectionOptions> = {}) {
  const negotiations: MsrpNegotiation[] = [];
  const states: string[] = [];
  const pc = new MsrpPeerConnection({ localEndpoint: endpoint(uri), onNegotiated: (n) => negotiations.push(n), ...extra });
  pc.on('stateChange', (to) => states.push(to));
  return { pc, negotiations, states };
}

/** SDP as a remote party would send it. */
function remoteSdp(path: string, setup?: string, extraLines: string[] = []): string {
  return [
    'v=0', 'o=- 1 1 IN IP4 192.0.2.7', 's=-', 'c=IN IP4 192.0.2.7', 't=0 0',
    'm=message 7777 TCP/MSRP *', 'a=accept-types:message/cpim', 'a=accept-wrapped-types:text/plain',
    `a=path:${path}`, ...(setup ? [`a=setup:${setup}`] : []), ...extraLines, '',
  ].join('\r\n');
}

const A_URI = 'msrp://127.0.0.1:40001/aaaaaaaaaaaaaaaaaaaa;tcp';
const B_URI = 'msrp://192.0.2.7:7777/bbbbbbbbbbbbbbbbbbbb;tcp';

describe('MsrpPeerConnection as offerer', () => {
  it('offers one MSRP media line with the CPM accept types, our path and setup:actpass', async () => {
    const { pc } = peer(A_URI);
    const offer = await pc.createOffer();
    expect(offer.type).toBe('offer');
    const lines = offer.sdp.split('\r\n');
    expect(lines).toContain('m=message 40001 TCP/MSRP *');
    expect(lines).toContain('c=IN IP4 127.0.0.1');
    expect(lines).toContain('a=accept-types:message/cpim');
    expect(lines).toContain('a=accept-wrapped-types:text/plain message/imdn+xml');
    expect(lines).toContain(`a=path:${A_URI}`);
    expect(lines).toContain('a=setup:actpass');
    expect(offer.sdp.endsWith('\r\n')).toBe(true);
  });

  it('is really in have-local-offer after setting its offer, as JsSIP checks', async () => {
    const { pc, states } = peer(A_URI);
    await pc.setLocalDescription(await pc.createOffer());
    expect(pc.signalingState).toBe('have-local-offer');
    expect(pc.localDescription?.sdp).toContain(A_URI);
    expect(states).toEqual([MsrpSignalingState.HaveLocalOffer]);
  });

  it('connects actively when a Conversation Server answers passive, and tells its owner where to', async () => {
    const { pc, negotiations, states } = peer(A_URI);
    await pc.setLocalDescription(await pc.createOffer());
    await pc.setRemoteDescription({ type: 'answer', sdp: remoteSdp(B_URI, 'passive') });
    expect(pc.signalingState).toBe('stable');
    expect(states).toEqual(['have-local-offer', 'stable']);
    expect(negotiations).toHaveLength(1);
    expect(negotiations[0]).toMatchObject({
      role: 'offerer',
      setup: 'active',
      remoteAddress: { host: '192.0.2.7', port: 7777 },
      remoteAcceptTypes: ['message/cpim'],
      remoteAcceptWrappedTypes: ['text/plain'],
    });
    expect(negotiations[0]!.localPath[0]!.sessionId).toBe('aaaaaaaaaaaaaaaaaaaa');
    expect(negotiations[0]!.remotePath[0]!.sessionId).toBe('bbbbbbbbbbbbbbbbbbbb');
  });

  it('waits passively when the answerer chose active', async () => {
    const { pc, negotiations } = peer(A_URI);
    await pc.setLocalDescription(await pc.createOffer());
    await pc.setRemoteDescription({ type: 'answer', sdp: remoteSdp(B_URI, 'active') });
    expect(negotiations[0]?.setup).toBe('passive');
  });

  it('connects to the first hop of a relayed path (RFC 4976)', async () => {
    const { pc, negotiations } = peer(A_URI);
    await pc.setLocalDescription(await pc.createOffer());
    await pc.setRemoteDescription({ type: 'answer', sdp: remoteSdp(`msrp://relay.example:2856;tcp ${B_URI}`, 'passive') });
    expect(negotiations[0]?.remoteAddress).toEqual({ host: 'relay.example', port: 2856 });
    expect(negotiations[0]?.remotePath).toHaveLength(2);
  });

  it('refuses an answer whose setup clashes with what it offered', async () => {
    const { pc, negotiations } = peer(A_URI, { endpointKind: 'server' }); // offers passive
    const offer = await pc.createOffer();
    expect(offer.sdp).toContain('a=setup:passive');
    await pc.setLocalDescription(offer);
    await expect(pc.setRemoteDescription({ type: 'answer', sdp: remoteSdp(B_URI, 'passive') })).rejects.toThrow(
      'setRemoteDescription(answer): offer a=setup:passive and answer a=setup:passive do not fit',
    );
    expect(pc.signalingState).toBe('have-local-offer');
    expect(negotiations).toEqual([]);
  });

  it('refuses actpass in an answer', async () => {
    const { pc } = peer(A_URI);
    await pc.setLocalDescription(await pc.createOffer());
    await expect(pc.setRemoteDescription({ type: 'answer', sdp: remoteSdp(B_URI, 'actpass') })).rejects.toThrow(
      'setRemoteDescription(answer): a=setup must be active or passive in an answer (got actpass)',
    );
  });
});

describe('MsrpPeerConnection as answerer', () => {
  it.each([
    ['actpass', 'passive'],
    ['active', 'passive'],
    ['passive', 'active'],
    [undefined, 'passive'],
  ])('answers an offer with setup %s by %s', async (offered, answered) => {
    const { pc, negotiations } = peer(A_URI);
    await pc.setRemoteDescription({ type: 'offer', sdp: remoteSdp(B_URI, offered) });
    expect(pc.signalingState).toBe('have-remote-offer');
    const answer = await pc.createAnswer();
    expect(answer.sdp).toContain(`a=setup:${answered}`);
    expect(answer.sdp).toContain(`a=path:${A_URI}`);
    await pc.setLocalDescription(answer);
    expect(pc.signalingState).toBe('stable');
    expect(negotiations).toHaveLength(1);
    expect(negotiations[0]).toMatchObject({ role: 'answerer', setup: answered, remoteAddress: { host: '192.0.2.7', port: 7777 } });
  });

  it('as a server endpoint, always answers passive and refuses a passive offer', async () => {
    const server = peer(A_URI, { endpointKind: 'server' });
    await server.pc.setRemoteDescription({ type: 'offer', sdp: remoteSdp(B_URI, 'actpass') });
    expect((await server.pc.createAnswer()).sdp).toContain('a=setup:passive');
    const other = peer(A_URI, { endpointKind: 'server' });
    await other.pc.setRemoteDescription({ type: 'offer', sdp: remoteSdp(B_URI, 'passive') });
    await expect(other.pc.createAnswer()).rejects.toThrow('createAnswer: both sides passive: a Conversation Server never connects');
  });

  it('refuses to answer when there is no offer', async () => {
    const { pc } = peer(A_URI);
    await expect(pc.createAnswer()).rejects.toThrow('createAnswer: no remote offer (signalingState is stable)');
  });

  it.each([
    ['an audio-only offer', remoteSdp(B_URI).replace('m=message 7777 TCP/MSRP *', 'm=audio 7777 RTP/AVP 0'), 'no m=message TCP/MSRP media'],
    ['a rejected media line', remoteSdp(B_URI).replace('m=message 7777', 'm=message 0'), 'the MSRP media line is rejected (port 0)'],
    ['no path', remoteSdp(B_URI).replace(`a=path:${B_URI}\r\n`, ''), 'missing a=path (RFC 4975 §8.1)'],
    ['a path that is not MSRP', remoteSdp('http://192.0.2.7/x'), 'bad a=path'],
    ['an unknown setup', remoteSdp(B_URI, 'sideways'), 'bad a=setup "sideways"'],
    ['text that is not SDP', 'hello', 'SDP must start with v=0'],
  ])('rejects %s with a clear reason and stays stable', async (_label, sdp, reason) => {
    const { pc } = peer(A_URI);
    await expect(pc.setRemoteDescription({ type: 'offer', sdp })).rejects.toThrow(`setRemoteDescription: ${reason}`);
    expect(pc.signalingState).toBe('stable');
  });

  it('refuses a second offer while one is pending (glare is the SIP layer\'s 491)', async () => {
    const { pc } = peer(A_URI);
    await pc.setLocalDescription(await pc.createOffer());
    await expect(pc.setRemoteDescription({ type: 'offer', sdp: remoteSdp(B_URI, 'actpass') })).rejects.toThrow(
      'setRemoteDescription(offer): signalingState is have-local-offer',
    );
  });
});

describe('two MsrpPeerConnections back to back', () => {
  it('agree on exactly one active side and on each other\'s paths, with an IPv6 answerer', async () => {
    const a = peer(A_URI);
    const b = peer('msrp://[::1]:40002/cccccccccccccccccccc;tcp');
    const offer = await a.pc.createOffer();
    await a.pc.setLocalDescription(offer);
    await b.pc.setRemoteDescription(offer);
    const answer = await b.pc.createAnswer();
    expect(answer.sdp).toContain('c=IN IP6 ::1');
    await b.pc.setLocalDescription(answer);
    await a.pc.setRemoteDescription(answer);
    const [na, nb] = [a.negotiations[0]!, b.negotiations[0]!];
    expect([na.setup, nb.setup].sort()).toEqual(['active', 'passive']);
    expect(na.setup).toBe('active'); // PROFILE.md: device to device, the offerer connects
    expect(na.remoteAddress).toEqual({ host: '::1', port: 40002 });
    expect(nb.remotePath).toEqual(na.localPath);
    expect(na.remotePath).toEqual(nb.localPath);
  });

  it('negotiates again on a re-offer (re-INVITE) with a fresh session version', async () => {
    const a = peer(A_URI);
    const b = peer(B_URI);
    for (let round = 1; round <= 2; round++) {
      const offer = await a.pc.createOffer();
      expect(offer.sdp).toMatch(new RegExp(`^o=- \\d+ ${round} IN IP4`, 'm'));
      await a.pc.setLocalDescription(offer);
      await b.pc.setRemoteDescription(offer);
      const answer = await b.pc.createAnswer();
      await b.pc.setLocalDescription(answer);
      await a.pc.setRemoteDescription(answer);
    }
    expect(a.negotiations).toHaveLength(2);
    expect(b.negotiations).toHaveLength(2);
  });
});

describe('the RTCPeerConnection surface JsSIP relies on', () => {
  it('reports ICE as complete and never failed, has no senders and closes once', async () => {
    const { pc, states } = peer(A_URI);
    expect(pc.iceGatheringState).toBe('complete');
    expect(pc.iceConnectionState).toBe('connected');
    expect(pc.getSenders()).toEqual([]);
    const seen: string[] = [];
    pc.addEventListener('iceconnectionstatechange', (e) => seen.push(e.type));
    pc.close();
    pc.close();
    expect(pc.signalingState).toBe('closed');
    expect(pc.iceConnectionState).toBe('closed');
    expect(seen).toEqual(['iceconnectionstatechange']);
    expect(states).toEqual(['closed']);
    await expect(pc.createOffer()).rejects.toThrow('createOffer: the connection is closed');
  });

  it('refuses media tracks with an explanation', () => {
    expect(() => peer(A_URI).pc.addTrack()).toThrow('pass mediaConstraints { audio: false, video: false }');
  });

  it('refuses rollback and pranswer descriptions', async () => {
    const { pc } = peer(A_URI);
    await expect(pc.setRemoteDescription({ type: 'pranswer', sdp: remoteSdp(B_URI) })).rejects.toThrow(
      'setRemoteDescription: type "pranswer" is not supported (offer or answer only)',
    );
  });
});
