/**
 * A test bench for the in-path handler (tests only): the handler on its own transaction layer over TCP on
 * loopback, dispatched as `ConversationServer` dispatches, and one peer element that plays the core and both
 * devices: it sends the caller's INVITE as the core would route it (our Route marked `orig`, then its own
 * `odi` Route), receives what the handler forwards, answers as the callee, and opens both devices' MSRP
 * connections towards the server with protocol/msrp over Node sockets.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { MsrpConnectionPool } from '../../../protocol/msrp/msrp-connection-pool';
import { newLocalMsrpUri } from '../../../protocol/msrp/msrp-ids';
import type { MsrpSession } from '../../../protocol/msrp/msrp-session';
import { adaptStreamSocket, type MsrpSocket } from '../../../protocol/msrp/msrp-socket';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';
import { buildMsrpSdp, parseMsrpSdp } from '../../../protocol/sdp/msrp-sdp';
import { Dialog } from '../../sip/dialog/dialog';
import { newCallId, newTag } from '../../sip/dialog/identifiers';
import { UserAgent } from '../../sip/dialog/user-agent';
import { createRequest, type SipRequest, type SipResponse } from '../../sip/message/sip-message';
import { buildResponse } from '../../sip/transaction/response-builder';
import type { TimerConfig } from '../../sip/transaction/timers';
import { TransactionLayer, type ServerTransaction } from '../../sip/transaction/transaction-layer';
import { createTransportLayer } from '../../sip/transport/sip-transport-layer';
import type { Endpoint, SipTransportLayer } from '../../sip/transport/transport-types';
import type { MessageSink } from '../../store/message-sink';
import { InPathHandler, type InPathOptions } from './in-path-handler';
import { MsrpServerEndpoint } from './msrp/msrp-server-endpoint';

const CPM_ACCEPT_CONTACT = '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

/** A request the peer received, with its transaction. */
export interface PeerRequest {
  request: SipRequest;
  tx: ServerTransaction;
}

/** A session placed through the bench: the caller's view and the callee's. */
export interface BenchCall {
  /** The caller's INVITE and its final response. */
  invite: SipRequest;
  final: Promise<SipResponse>;
  provisional: SipResponse[];
  /** What the handler forwarded to the callee. */
  forwarded: PeerRequest;
}

/** The bench. */
export class InPathBench {
  readonly acks: SipRequest[] = [];
  readonly received: PeerRequest[] = [];
  /** Answers the peer gives on its own to requests no test took (default: 200 to every in-dialog request). */
  autoAnswer: (request: SipRequest) => number | undefined = (request) => (request.headers.get('To')?.includes('tag=') ? 200 : undefined);
  private readonly waiters: { match: (r: PeerRequest) => boolean; resolve: (r: PeerRequest) => void }[] = [];
  private readonly peerUa: UserAgent;
  readonly devices: MsrpConnectionPool;
  private readonly pools: MsrpConnectionPool[] = [];

  private constructor(
    readonly handler: InPathHandler,
    readonly msrp: MsrpServerEndpoint,
    readonly server: { transport: SipTransportLayer; layer: TransactionLayer; address: Endpoint },
    readonly peer: { transport: SipTransportLayer; layer: TransactionLayer; address: Endpoint },
  ) {
    this.peerUa = new UserAgent(peer.layer);
    this.devices = new MsrpConnectionPool({ connect: (host, port) => dial(host, port) });
    peer.layer.on('request', (tx, received) => {
      if (received.message.type !== 'request') return;
      const item = { request: received.message, tx };
      const waiter = this.waiters.findIndex((w) => w.match(item));
      if (waiter >= 0) {
        const [w] = this.waiters.splice(waiter, 1);
        w!.resolve(item);
        return;
      }
      this.received.push(item);
      const status = this.autoAnswer(item.request);
      if (status !== undefined) tx.respond(buildResponse(item.request, status));
    });
    peer.layer.on('ack', (received) => {
      if (received.message.type === 'request') this.acks.push(received.message);
    });
    peer.layer.on('error', () => undefined);
  }

  /** Start the handler (TCP on loopback) and the peer. */
  static async start(
    options: { timers?: Partial<TimerConfig>; handler?: Partial<Omit<InPathOptions, 'msrp'>>; log?: (line: string) => void; messageSink?: MessageSink } = {},
  ): Promise<InPathBench> {
    const transport = await createTransportLayer({ listeners: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }] });
    const layer = new TransactionLayer(transport, { ...(options.timers ? { timers: options.timers } : {}), autoTrying: true });
    const address = transport.listeningPoint('tcp')!;
    const msrp = new MsrpServerEndpoint();
    await msrp.listen();
    const handler = new InPathHandler(
      {
        domain: 'a.example',
        transport,
        layer,
        address,
        ...(options.timers ? { timers: options.timers } : {}),
        ...(options.messageSink ? { messageSink: options.messageSink } : {}),
        log: options.log ?? (() => undefined),
      },
      { msrp, ...options.handler },
    );
    layer.on('request', (tx, received) => {
      const request = received.message;
      if (request.type !== 'request') return;
      if (handler.wants(request)) handler.handleRequest(tx, received);
      else tx.respond(buildResponse(request, 501, { toTag: 'x' }));
    });
    layer.on('ack', (received, tx) => {
      if (received.message.type === 'request' && handler.wants(received.message)) handler.handleAck(received, tx);
    });
    layer.on('response', (received) => handler.handleResponse(received));
    layer.on('error', () => undefined);
    const peerTransport = await createTransportLayer({ listeners: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }] });
    const peerLayer = new TransactionLayer(peerTransport, { ...(options.timers ? { timers: options.timers } : {}) });
    return new InPathBench(handler, msrp, { transport, layer, address }, { transport: peerTransport, layer: peerLayer, address: peerTransport.listeningPoint('tcp')! });
  }

  /** The next request the peer receives that `match` accepts (taken out of `received` if already there). */
  nextRequest(match: (request: SipRequest) => boolean, timeoutMs = 5000): Promise<PeerRequest> {
    const at = this.received.findIndex((r) => match(r.request));
    if (at >= 0) return Promise.resolve(this.received.splice(at, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match: (r: PeerRequest) => match(r.request), resolve: (r: PeerRequest) => { clearTimeout(timer); resolve(r); } };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error('the peer received no such request in time'));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** A device's MSRP URI (the path it would put in its SDP; it connects, so nothing listens there). */
  deviceUri(): MsrpUri {
    return newLocalMsrpUri('127.0.0.1', 9);
  }

  /** The caller's INVITE as core A delivers it for originating service control. */
  buildInvite(options: { path?: MsrpUri; setup?: 'actpass' | 'passive'; headers?: Record<string, string>; omit?: string[]; sdp?: string | null } = {}): SipRequest {
    const path = options.path ?? this.deviceUri();
    const cs = this.server.address;
    const me = this.peer.address;
    const headers: Record<string, string> = {
      Via: `SIP/2.0/TCP 127.0.0.1:${me.port};branch=z9hG4bK${randomUUID().replace(/-/g, '')}`,
      'Max-Forwards': '69',
      Route: `<sip:127.0.0.1:${cs.port};transport=tcp;lr;orig>, <sip:127.0.0.1:${me.port};transport=tcp;lr;odi=t1>`,
      From: `"Alice" <sip:alice@a.example>;tag=${newTag()}`,
      To: '<sip:bob@b.example>',
      'Call-ID': newCallId('alice.test'),
      CSeq: '1 INVITE',
      Contact: `<sip:alice@127.0.0.1:${me.port};transport=tcp>`,
      'P-Asserted-Identity': '<sip:alice@a.example>',
      'Accept-Contact': CPM_ACCEPT_CONTACT,
      'Conversation-ID': randomUUID(),
      'Contribution-ID': randomUUID(),
      Allow: 'INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE',
      ...options.headers,
    };
    for (const name of options.omit ?? []) delete headers[name];
    const request = createRequest('INVITE', 'sip:bob@b.example', Object.entries(headers).map(([name, value]) => ({ name, value })));
    if (options.sdp !== null) {
      request.headers.append('Content-Type', 'application/sdp');
      request.body = new TextEncoder().encode(options.sdp ?? buildMsrpSdp({ address: { addrType: 'IP4', address: '127.0.0.1' }, port: path.port ?? 9, path: [path], setup: options.setup ?? 'actpass' }));
    }
    return request;
  }

  /** Send the caller's INVITE to the handler and wait for what it forwards to the callee. */
  async call(invite: SipRequest = this.buildInvite()): Promise<BenchCall> {
    const provisional: SipResponse[] = [];
    const final = this.send(invite, (r) => provisional.push(r));
    const conversationId = invite.headers.get('Conversation-ID');
    const forwarded = await this.nextRequest((r) => r.method === 'INVITE' && r.headers.get('Conversation-ID') === conversationId && !r.headers.get('To')!.includes('tag='));
    return { invite, final, provisional, forwarded };
  }

  /** Send a request to the handler; resolves with its final response. */
  send(request: SipRequest, onProvisional?: (response: SipResponse) => void): Promise<SipResponse> {
    const cs = this.server.address;
    if (!request.headers.has('Via')) this.peerUa.stampVia(request, 'tcp');
    return new Promise((resolve, reject) => {
      const tx = this.peer.layer.sendRequest(request, { protocol: 'tcp', host: cs.host, port: cs.port });
      tx.on('response', (response: SipResponse) => {
        if (response.status < 200) onProvisional?.(response);
        else resolve(response);
      });
      tx.on('timeout', () => reject(new Error(`${request.method}: no answer`)));
      tx.on('transportError', (error: Error) => reject(error));
    });
  }

  /** The callee answers the forwarded INVITE with a 2xx (active SDP: it connects). Returns its dialog and MSRP path. */
  answer(forwarded: PeerRequest, options: { status?: number; path?: MsrpUri; headers?: { name: string; value: string }[]; sdp?: string } = {}): { dialog: Dialog; tag: string; path: MsrpUri } {
    const tag = newTag();
    const path = options.path ?? this.deviceUri();
    const sdp = options.sdp ?? buildMsrpSdp({ address: { addrType: 'IP4', address: '127.0.0.1' }, port: 9, path: [path], setup: 'active' });
    const contact = `<sip:bob@127.0.0.1:${this.peer.address.port};transport=tcp>`;
    const response = buildResponse(forwarded.request, options.status ?? 200, {
      toTag: tag,
      headers: [{ name: 'Contact', value: contact }, { name: 'Content-Type', value: 'application/sdp' }, ...(options.headers ?? [])],
      body: sdp,
    });
    forwarded.tx.respond(response);
    return { dialog: Dialog.fromUas(forwarded.request, tag, contact), tag, path };
  }

  /** The caller's side once answered: its dialog, ACK sent. */
  async acknowledge(call: BenchCall): Promise<{ dialog: Dialog; response: SipResponse }> {
    const response = await call.final;
    const dialog = Dialog.fromUac(call.invite, response, `<sip:alice@127.0.0.1:${this.peer.address.port};transport=tcp>`);
    const ack = dialog.createAck(1);
    this.peerUa.stampVia(ack, 'tcp');
    await this.peer.layer.sendStateless(ack, { protocol: 'tcp', host: this.server.address.host, port: this.server.address.port });
    return { dialog, response };
  }

  /**
   * A device connects to the server's path from `serverSdp` and binds as `own`'s path (RFC 4975 §5.4), over
   * `pool`'s connection (devices of one pool share it; `newDevicePool` gives a device its own).
   */
  connectMsrp(serverSdp: SipRequest | SipResponse, own: SipRequest | SipResponse | MsrpUri, pool: MsrpConnectionPool = this.devices): Promise<MsrpSession> {
    const localUri = 'host' in own ? own : sdpPath(own);
    return pool.openSession({ localUri, remotePath: [sdpPath(serverSdp)], setup: 'active' });
  }

  /** Another device's MSRP connections (closed with the bench). */
  newDevicePool(): MsrpConnectionPool {
    const pool = new MsrpConnectionPool({ connect: (host, port) => dial(host, port) });
    this.pools.push(pool);
    return pool;
  }

  /** Send an in-dialog request of `dialog` to the handler. */
  sendInDialog(dialog: Dialog, method: string, body?: { type: string; content: string }): Promise<SipResponse> {
    return this.send(dialog.createRequest(method, body));
  }

  /** Stop everything. */
  async close(): Promise<void> {
    this.handler.close();
    this.devices.close();
    for (const pool of this.pools) pool.close();
    this.server.layer.close();
    this.peer.layer.close();
    await Promise.all([this.server.transport.close(), this.peer.transport.close(), this.msrp.close()]);
  }
}

/** The (single) `a=path` URI of a message's SDP. */
export function sdpPath(message: SipRequest | SipResponse): MsrpUri {
  const path = parseMsrpSdp(new TextDecoder().decode(message.body)).path;
  if (path.length !== 1) throw new Error(`expected one a=path URI, got ${path.length}`);
  return path[0]!;
}

function dial(host: string, port: number): Promise<MsrpSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      resolve(adaptStreamSocket(socket));
    });
  });
}
