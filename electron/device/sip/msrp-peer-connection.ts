/**
 * An object with the shape of the `RTCPeerConnection` members JsSIP's RTCSession uses (DESIGN.md "Facts about
 * the tools"), whose offers and answers are MSRP SDP. It opens no socket: when an offer/answer exchange
 * completes it hands the negotiated MSRP paths, the connection role (RFC 6135 §4.2) and the peer's address to
 * its owner, the chat layer, through `onNegotiated`.
 *
 * Give JsSIP a factory through the UA configuration field `rtc_peer_connection_factory` (added by
 * patches/jssip+3.13.8.patch), e.g. `(config) => new MsrpPeerConnection(options)`, and always pass
 * `mediaConstraints: { audio: false, video: false }` to call / answer.
 *
 * Signalling state (W3C WebRTC §4.3.1, the subset offer/answer over SIP needs):
 * ```
 *              setLocalDescription(offer)                setRemoteDescription(offer)
 *   ┌──────────────────┐ ◄──────────────────── ┌────────┐ ────────────────────► ┌───────────────────┐
 *   │ have-local-offer │                       │ stable │                       │ have-remote-offer │
 *   └──────────────────┘ ────────────────────► └────────┘ ◄──────────────────── └───────────────────┘
 *              setRemoteDescription(answer)     │   ▲       setLocalDescription(answer)
 *                                      close()  ▼   (every state)
 *                                         ┌────────┐
 *                                         │ closed │
 *                                         └────────┘
 * ```
 * ICE does not apply: `iceGatheringState` is always `complete` (JsSIP then sends the SDP at once) and
 * `iceConnectionState` is never `failed` (JsSIP would end the session).
 */
import { EventEmitter } from 'node:events';
import { formatMsrpUri, parseMsrpUri, type MsrpUri } from '../../../protocol/msrp/msrp-uri';
import { answerSetup, connectingSide, msrpSdpCodec, offerSetup, type EndpointKind } from '../../../protocol/sdp/msrp-sdp';
import type { MsrpSdpCodec, MsrpSdpDescription, MsrpSetup } from './msrp-sdp-codec';

/** The port of an MSRP URI that names none (IANA registration in RFC 4975 §15: 2855 for msrp and msrps). */
const MSRP_DEFAULT_PORT = 2855;

/** Signalling states (see the diagram above). */
export enum MsrpSignalingState {
  Stable = 'stable',
  HaveLocalOffer = 'have-local-offer',
  HaveRemoteOffer = 'have-remote-offer',
  Closed = 'closed',
}

const TRANSITIONS: Readonly<Record<MsrpSignalingState, readonly MsrpSignalingState[]>> = {
  [MsrpSignalingState.Stable]: [MsrpSignalingState.HaveLocalOffer, MsrpSignalingState.HaveRemoteOffer, MsrpSignalingState.Closed],
  [MsrpSignalingState.HaveLocalOffer]: [MsrpSignalingState.Stable, MsrpSignalingState.Closed],
  [MsrpSignalingState.HaveRemoteOffer]: [MsrpSignalingState.Stable, MsrpSignalingState.Closed],
  [MsrpSignalingState.Closed]: [],
};

/** What this side advertises: asked for once per offer or answer it creates. */
export interface MsrpLocalEndpoint {
  /** Our `a=path`: normally one URI, `msrp://<host>:<port>/<fresh session id>;tcp` (PROFILE.md: ≥ 80 random bits). */
  path: MsrpUri[];
  /** Address for `c=`; defaults to the host of our own (last) path URI. */
  address?: string;
  acceptTypes: string[];
  acceptWrappedTypes: string[];
}

/** The result of one completed offer/answer exchange. */
export interface MsrpNegotiation {
  /** Our part in the exchange. */
  role: 'offerer' | 'answerer';
  localPath: MsrpUri[];
  remotePath: MsrpUri[];
  /** `active`: we open the TCP connection to `remoteAddress` and send the binding SEND (RFC 4975 §5.4); `passive`: we wait. */
  setup: 'active' | 'passive';
  /** The first hop towards the peer: the host and port of the first URI of its path (RFC 4975 §5.2, RFC 4976). */
  remoteAddress: { host: string; port: number };
  remoteAcceptTypes: string[];
  remoteAcceptWrappedTypes: string[];
}

/** Options of the adapter. */
export interface MsrpPeerConnectionOptions {
  /** Called when creating an offer or an answer. */
  localEndpoint: () => MsrpLocalEndpoint;
  /** Called once per completed offer/answer exchange (a re-INVITE completes another one). */
  onNegotiated: (negotiation: MsrpNegotiation) => void;
  /**
   * Whose `a=setup` policy to apply (protocol/sdp/msrp-sdp.ts, PROFILE.md): a `device` offers `actpass` and
   * answers so that the offerer connects; a `server` is always passive. Default `device`.
   */
  endpointKind?: EndpointKind;
  /** The SDP codec; defaults to protocol/sdp's `msrpSdpCodec`. */
  codec?: MsrpSdpCodec;
}

/** A session description as JsSIP hands it around (RTCSessionDescriptionInit). */
export interface SessionDescriptionInit {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp?: string;
}

/** Events (`addEventListener` for JsSIP's DOM-style listeners; `stateChange` for the owner). */
export interface MsrpPeerConnectionEvents {
  stateChange: (to: MsrpSignalingState, from: MsrpSignalingState) => void;
}

interface ParsedDescription {
  type: 'offer' | 'answer';
  sdp: string;
  media: MsrpSdpDescription;
  path: MsrpUri[];
}

/** The RTCPeerConnection look-alike. Methods reject with an Error (never throw synchronously) like the real one. */
export class MsrpPeerConnection extends EventEmitter {
  private state: MsrpSignalingState = MsrpSignalingState.Stable;
  private local: ParsedDescription | null = null;
  private remote: ParsedDescription | null = null;
  private pendingRemoteOffer: ParsedDescription | null = null;
  private readonly codec: MsrpSdpCodec;
  private readonly kind: EndpointKind;
  private readonly sessionId = String(Math.floor(Math.random() * 2 ** 48));
  private sessionVersion = 0;

  constructor(private readonly options: MsrpPeerConnectionOptions) {
    super();
    this.codec = options.codec ?? msrpSdpCodec;
    this.kind = options.endpointKind ?? 'device';
  }

  /** W3C signalingState. */
  get signalingState(): MsrpSignalingState {
    return this.state;
  }

  /** Always `complete`: there are no candidates to gather. */
  get iceGatheringState(): 'complete' {
    return 'complete';
  }

  /** `closed` after close(), else `connected` (never `failed`, which would make JsSIP end the session). */
  get iceConnectionState(): 'connected' | 'closed' {
    return this.state === MsrpSignalingState.Closed ? 'closed' : 'connected';
  }

  /** The last local description set, or null. */
  get localDescription(): { type: 'offer' | 'answer'; sdp: string } | null {
    return this.local ? { type: this.local.type, sdp: this.local.sdp } : null;
  }

  /** The last remote description set, or null. */
  get remoteDescription(): { type: 'offer' | 'answer'; sdp: string } | null {
    const d = this.pendingRemoteOffer ?? this.remote;
    return d ? { type: d.type, sdp: d.sdp } : null;
  }

  /** DOM-style listener registration (JsSIP listens to iceconnectionstatechange, icecandidate, icegatheringstatechange). */
  addEventListener(type: string, listener: (event: { type: string }) => void): void {
    this.on(type, listener);
  }

  removeEventListener(type: string, listener: (event: { type: string }) => void): void {
    this.off(type, listener);
  }

  /** No RTP senders. */
  getSenders(): never[] {
    return [];
  }

  /** No RTP receivers. */
  getReceivers(): never[] {
    return [];
  }

  /** Media tracks do not apply to MSRP; refuse clearly rather than pretend. */
  addTrack(): never {
    throw new Error('MsrpPeerConnection carries no media tracks: pass mediaConstraints { audio: false, video: false }');
  }

  /** An MSRP offer with our path and `a=setup` (RFC 6135 §4.2). */
  async createOffer(): Promise<{ type: 'offer'; sdp: string }> {
    this.assertOpen('createOffer');
    return { type: 'offer', sdp: this.buildLocal(offerSetup(this.kind)) };
  }

  /** An MSRP answer to the remote offer, choosing our role from its `a=setup`. */
  async createAnswer(): Promise<{ type: 'answer'; sdp: string }> {
    this.assertOpen('createAnswer');
    if (this.state !== MsrpSignalingState.HaveRemoteOffer || !this.pendingRemoteOffer) {
      throw new Error(`createAnswer: no remote offer (signalingState is ${this.state})`);
    }
    let setup: 'active' | 'passive';
    try {
      setup = answerSetup(this.pendingRemoteOffer.media.setup, this.kind).setup;
    } catch (error) {
      throw new Error(`createAnswer: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { type: 'answer', sdp: this.buildLocal(setup) };
  }

  async setLocalDescription(description: SessionDescriptionInit): Promise<void> {
    this.assertOpen('setLocalDescription');
    const parsed = this.parse(description, 'local');
    if (parsed.type === 'offer') {
      if (this.state !== MsrpSignalingState.Stable) throw new Error(`setLocalDescription(offer): signalingState is ${this.state}`);
      this.local = parsed;
      this.transition(MsrpSignalingState.HaveLocalOffer);
      return;
    }
    const offer = this.pendingRemoteOffer;
    if (this.state !== MsrpSignalingState.HaveRemoteOffer || !offer) throw new Error(`setLocalDescription(answer): signalingState is ${this.state}`);
    const connecting = this.whoConnects('setLocalDescription(answer)', offer.media.setup, parsed.media.setup);
    this.local = parsed;
    this.remote = offer;
    this.pendingRemoteOffer = null;
    this.transition(MsrpSignalingState.Stable);
    this.negotiated('answerer', connecting === 'answerer' ? 'active' : 'passive');
  }

  async setRemoteDescription(description: SessionDescriptionInit): Promise<void> {
    this.assertOpen('setRemoteDescription');
    const parsed = this.parse(description, 'remote');
    if (parsed.type === 'offer') {
      if (this.state !== MsrpSignalingState.Stable) throw new Error(`setRemoteDescription(offer): signalingState is ${this.state}`);
      if (parsed.media.setup === 'holdconn') throw new Error('setRemoteDescription(offer): a=setup:holdconn is not supported');
      this.pendingRemoteOffer = parsed;
      this.transition(MsrpSignalingState.HaveRemoteOffer);
      return;
    }
    if (this.state !== MsrpSignalingState.HaveLocalOffer || !this.local) throw new Error(`setRemoteDescription(answer): signalingState is ${this.state}`);
    const connecting = this.whoConnects('setRemoteDescription(answer)', this.local.media.setup, parsed.media.setup);
    this.remote = parsed;
    this.transition(MsrpSignalingState.Stable);
    this.negotiated('offerer', connecting === 'offerer' ? 'active' : 'passive');
  }

  /** Close: no more offers or answers; JsSIP calls this when the session ends. Idempotent. */
  close(): void {
    if (this.state === MsrpSignalingState.Closed) return;
    this.transition(MsrpSignalingState.Closed);
    this.emit('iceconnectionstatechange', { type: 'iceconnectionstatechange' });
  }

  override on<E extends keyof MsrpPeerConnectionEvents>(event: E, listener: MsrpPeerConnectionEvents[E]): this;
  override on(event: string, listener: (event: { type: string }) => void): this;
  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** The one transition function. */
  private transition(to: MsrpSignalingState): void {
    const from = this.state;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`MsrpPeerConnection: illegal transition ${from} → ${to}`);
    this.state = to;
    this.emit('stateChange', to, from);
    this.emit('signalingstatechange', { type: 'signalingstatechange' });
  }

  private assertOpen(what: string): void {
    if (this.state === MsrpSignalingState.Closed) throw new Error(`${what}: the connection is closed`);
  }

  private buildLocal(setup: MsrpSetup): string {
    const endpoint = this.options.localEndpoint();
    const own = endpoint.path[endpoint.path.length - 1];
    if (!own) throw new Error('localEndpoint: the path is empty');
    if (own.port === undefined) throw new Error('localEndpoint: our own MSRP URI has no port');
    this.sessionVersion++;
    return this.codec.build(
      {
        address: endpoint.address ?? own.host,
        port: own.port,
        path: endpoint.path.map(formatMsrpUri),
        setup,
        acceptTypes: endpoint.acceptTypes,
        acceptWrappedTypes: endpoint.acceptWrappedTypes,
        transport: own.scheme === 'msrps' ? 'TCP/TLS/MSRP' : 'TCP/MSRP',
      },
      { id: this.sessionId, version: this.sessionVersion },
    );
  }

  /**
   * Which side opens the connection (RFC 6135, RFC 4145 §4.1; absent a=setup per RFC 4975 §5.4). An answer
   * must say `active` or `passive`, and exactly one side must connect; anything else is refused.
   */
  private whoConnects(what: string, offer: MsrpSetup | undefined, answer: MsrpSetup | undefined): 'offerer' | 'answerer' {
    if (answer === 'actpass' || answer === 'holdconn') throw new Error(`${what}: a=setup must be active or passive in an answer (got ${answer})`);
    try {
      return connectingSide(offer, answer);
    } catch (error) {
      throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private parse(description: SessionDescriptionInit, side: 'local' | 'remote'): ParsedDescription {
    const what = `set${side === 'local' ? 'Local' : 'Remote'}Description`;
    if (description.type !== 'offer' && description.type !== 'answer') {
      throw new Error(`${what}: type ${JSON.stringify(description.type)} is not supported (offer or answer only)`);
    }
    if (typeof description.sdp !== 'string' || description.sdp === '') throw new Error(`${what}: no SDP`);
    let media: MsrpSdpDescription;
    let path: MsrpUri[];
    try {
      media = this.codec.parse(description.sdp);
      path = media.path.map((text) => parseMsrpUri(text));
    } catch (error) {
      throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (path.length === 0) throw new Error(`${what}: empty a=path`);
    return { type: description.type, sdp: description.sdp, media, path };
  }

  private negotiated(role: 'offerer' | 'answerer', setup: 'active' | 'passive'): void {
    const local = this.local!;
    const remote = this.remote!;
    const firstHop = remote.path[0]!;
    const port = firstHop.port ?? MSRP_DEFAULT_PORT;
    this.options.onNegotiated({
      role,
      localPath: local.path,
      remotePath: remote.path,
      setup,
      remoteAddress: { host: firstHop.host, port },
      remoteAcceptTypes: remote.media.acceptTypes,
      remoteAcceptWrappedTypes: remote.media.acceptWrappedTypes,
    });
  }
}

