/**
 * Test support: CPM INVITE dialogs without SIP. `FakeSignalling.startInvite` is a ChatService's `startInvite`;
 * `deliver` hands the INVITE to the callee's ChatService as an incoming dialog; when the callee answers, the
 * offer/answer exchange is played between the two sides' MsrpPeerConnection options exactly as the real
 * peer connection reports it (device to device: the offerer connects, RFC 6135), and both dialogs confirm.
 */
import { EventEmitter } from 'node:events';
import type { CpmInviteDialog, CpmInviteOptions, CpmInviteSessionEvents, CpmInviteTermination, PeerIdentity } from '../../sip/cpm-invite-session';
import type { MsrpPeerConnectionOptions } from '../../sip/msrp-peer-connection';
import { buildMsrpSdp } from '../../../../protocol/sdp/msrp-sdp';

/** One side of a fake dialog. */
export class FakeDialog extends EventEmitter implements CpmInviteDialog {
  other: FakeDialog | null = null;
  established = false;
  ended: CpmInviteTermination | null = null;
  /** What the test saw this side do. */
  readonly calls: string[] = [];
  peerConnection: MsrpPeerConnectionOptions | null = null;
  /** What `probe()` answers: true while the peer holds the dialog. */
  alive = true;
  probes = 0;

  constructor(
    readonly direction: 'outgoing' | 'incoming',
    readonly peer: PeerIdentity,
    private readonly headers: Record<string, string> = {},
    /** The SDP offer an incoming dialog carries. */
    readonly offer: string | undefined = undefined,
  ) {
    super();
  }

  inviteHeader(name: string): string | undefined {
    return this.direction === 'incoming' ? this.headers[name] : undefined;
  }

  answer(peerConnection: MsrpPeerConnectionOptions): void {
    this.calls.push('answer');
    const caller = this.other;
    if (!caller?.peerConnection) throw new Error('answer: no caller');
    const offer = caller.peerConnection.localEndpoint().path;
    const answer = peerConnection.localEndpoint().path;
    const hop = (path: typeof offer) => ({ host: path[0]!.host, port: path[0]!.port! });
    peerConnection.onNegotiated({ role: 'answerer', localPath: answer, remotePath: offer, setup: 'passive', remoteAddress: hop(offer), remoteAcceptTypes: [], remoteAcceptWrappedTypes: [] });
    caller.peerConnection.onNegotiated({ role: 'offerer', localPath: offer, remotePath: answer, setup: 'active', remoteAddress: hop(answer), remoteAcceptTypes: [], remoteAcceptWrappedTypes: [] });
    this.established = caller.established = true;
    queueMicrotask(() => {
      this.emit('established');
      caller.emit('established');
    });
  }

  reject(statusCode = 603, reasonPhrase = 'Decline'): void {
    this.calls.push(`reject ${statusCode}`);
    this.finish('failed', 'local', `${statusCode} ${reasonPhrase}`, null);
    this.other?.finish('failed', 'remote', `${statusCode} ${reasonPhrase}`, null);
  }

  terminate(): void {
    this.calls.push('terminate');
    const phase = this.established ? 'ended' : 'failed';
    this.finish(phase, 'local', null, null);
    this.other?.finish(phase, 'remote', null, null);
  }

  get dialog(): { callId: string; localTag: string; remoteTag: string; remoteTarget: string } | null {
    if (!this.established && !this.ended) return null;
    const [local, remote] = this.direction === 'outgoing' ? ['caller-tag', 'callee-tag'] : ['callee-tag', 'caller-tag'];
    return { callId: 'fake-call', localTag: local, remoteTag: remote, remoteTarget: `${this.peer.uri};gr=fake` };
  }

  probe(): Promise<boolean> {
    this.probes++;
    return Promise.resolve(this.alive && this.established);
  }

  /** The caller cancels, optionally with a Reason header (RFC 3326). */
  cancelFromCaller(reason: string | null): void {
    this.finish('failed', 'remote', null, reason);
  }

  /** End from the stack (no answer to an in-dialog request). */
  timeOut(): void {
    this.finish('ended', 'system', null, null, 'Request Timeout');
  }

  override on<E extends keyof CpmInviteSessionEvents>(event: E, listener: CpmInviteSessionEvents[E]): this {
    return super.on(event, listener);
  }

  private finish(phase: 'failed' | 'ended', originator: 'local' | 'remote' | 'system', statusLine: string | null, reason: string | null, cause = 'Terminated'): void {
    if (this.ended) return;
    this.established = false;
    this.ended = { phase, originator, cause, statusCode: statusLine ? Number(statusLine.slice(0, 3)) : null, statusLine, reason };
    this.emit('terminated', this.ended);
  }
}

/** Creates outgoing fake dialogs and delivers them. */
export class FakeSignalling {
  readonly outgoing: Array<{ dialog: FakeDialog; options: CpmInviteOptions }> = [];

  constructor(private readonly callerIdentity: PeerIdentity) {}

  /** A ChatService `startInvite`. */
  readonly startInvite = (options: CpmInviteOptions): FakeDialog => {
    const dialog = new FakeDialog('outgoing', { uri: options.target, displayName: '' });
    dialog.peerConnection = options.peerConnection;
    this.outgoing.push({ dialog, options });
    return dialog;
  };

  /** The incoming side of the last INVITE (or of `index`), with its CPM headers and the caller's MSRP offer. */
  incomingFor(index = this.outgoing.length - 1, headers?: Record<string, string>, offer?: string): FakeDialog {
    const out = this.outgoing[index];
    if (!out) throw new Error('no INVITE was sent');
    const path = out.options.peerConnection.localEndpoint().path;
    const own = path[path.length - 1]!;
    const sdp = offer ?? buildMsrpSdp({ address: { addrType: 'IP4', address: own.host }, port: own.port!, path, setup: 'actpass' });
    const incoming = new FakeDialog('incoming', this.callerIdentity, headers ?? {
      'Conversation-ID': out.options.conversationId,
      'Contribution-ID': out.options.contributionId,
    }, sdp);
    incoming.other = out.dialog;
    out.dialog.other = incoming;
    return incoming;
  }
}
