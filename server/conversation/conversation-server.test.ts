import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequest, type SipRequest, type SipResponse } from '../sip/message/sip-message';
import { buildResponse } from '../sip/transaction/response-builder';
import { TransactionLayer } from '../sip/transaction/transaction-layer';
import { devCertificate } from '../sip/transport/dev-certificate';
import { createTransportLayer } from '../sip/transport/sip-transport-layer';
import type { SipTransportLayer } from '../sip/transport/transport-types';
import { parseConversationMode } from './conversation-mode';
import { ConversationServer } from './conversation-server';
import type { ProxyModeHandler } from './proxy-mode/proxy-mode';
import type { CpmSessionHandler, SessionHandlerEnvironment } from './session-handler';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function server(options: Partial<Parameters<typeof ConversationServer.start>[0]> = {}): Promise<ConversationServer> {
  const cert = await devCertificate();
  const cs = await ConversationServer.start({ domain: 'a.example', tls: { key: cert.key, cert: cert.cert }, ...options });
  closers.push(() => cs.close());
  return cs;
}

/** A trusted element (the core) talking to the server over TLS. */
async function client(): Promise<{ transport: SipTransportLayer; layer: TransactionLayer }> {
  const cert = await devCertificate();
  const transport = await createTransportLayer({
    listeners: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { key: cert.key, cert: cert.cert },
    tlsClient: { ca: cert.cert },
  });
  const layer = new TransactionLayer(transport);
  closers.push(() => transport.close());
  closers.push(() => layer.close());
  return { transport, layer };
}

function send(c: { transport: SipTransportLayer; layer: TransactionLayer }, cs: ConversationServer, request: SipRequest): Promise<SipResponse> {
  const self = c.transport.listeningPoint('tls')!;
  request.headers.prepend('Via', `SIP/2.0/TLS 127.0.0.1:${self.port};branch=z9hG4bK${randomUUID().replace(/-/g, '')}`);
  return new Promise((resolve, reject) => {
    const tx = c.layer.sendRequest(request, { protocol: 'tls', host: cs.address.host, port: cs.address.port });
    tx.on('response', (response: SipResponse) => {
      if (response.status >= 200) resolve(response);
    });
    tx.on('timeout', () => reject(new Error('no final response')));
    tx.on('transportError', (error: Error) => reject(error));
  });
}

function request(method: string, uri: string, extra: { name: string; value: string }[] = []): SipRequest {
  return createRequest(method, uri, [
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: '<sip:registrar@a.example>;tag=t1' },
    { name: 'To', value: '<sip:alice@a.example>' },
    { name: 'Call-ID', value: `${randomUUID()}@test` },
    { name: 'CSeq', value: `1 ${method}` },
    ...extra,
  ]);
}

/** An in-path handler stand-in that answers every INVITE 488 and records what it was given. */
function fakeInPath(seen: string[]): (env: SessionHandlerEnvironment) => CpmSessionHandler {
  return (env) => {
    seen.push(`created for ${env.domain} at ${env.address.port}`);
    return {
      mode: 'in-path',
      wants: (r) => r.method === 'INVITE',
      handleRequest: (tx, received) => {
        if (received.message.type !== 'request') return;
        seen.push(`request ${received.message.method}`);
        tx.respond(buildResponse(received.message, 488, { toTag: 'ip' }));
      },
      handleAck: () => undefined,
      handleResponse: () => undefined,
      sessionCount: () => 0,
      findByDialog: () => undefined,
      close: () => {
        seen.push('closed');
      },
    };
  };
}

describe('the Conversation Server’s modes', () => {
  it('runs proxy mode by default', async () => {
    const cs = await server();
    expect(cs.mode).toBe('proxy');
    expect(cs.sessions.mode).toBe('proxy');
    expect(cs.diagnostics).toEqual([]);
    expect(cs.load()).toMatchObject({ sessions: 0 });
  });

  it('in-path without an in-path handler proxies its sessions and says so', async () => {
    const lines: string[] = [];
    const cs = await server({ mode: 'in-path', log: (line) => lines.push(line) });
    expect(cs.mode).toBe('in-path');
    expect(cs.sessions.mode).toBe('proxy');
    expect(lines).toEqual(['a.example: in-path mode is not available yet; CPM sessions are proxied (Record-Route, no MSRP relay)']);
  });

  it('a logger that throws does not stop the server from starting', async () => {
    const cs = await server({ mode: 'in-path', log: () => {
      throw new Error('disk full');
    } });
    expect(cs.diagnostics).toHaveLength(1);
  });

  it('hands session requests to the in-path handler it is given, and keeps REGISTER for the registry', async () => {
    const seen: string[] = [];
    const cs = await server({ mode: 'in-path', inPath: fakeInPath(seen) });
    expect(cs.sessions.mode).toBe('in-path');
    const c = await client();
    const invite = await send(c, cs, request('INVITE', 'sip:bob@b.example', [{ name: 'Contact', value: '<sip:core@127.0.0.1;transport=tls>' }]));
    expect(invite.status).toBe(488);
    const register = await send(c, cs, request('REGISTER', `sip:127.0.0.1:${cs.address.port};transport=tls`, [
      { name: 'Contact', value: '<sip:alice@127.0.0.1:5999;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";expires=600' },
    ]));
    expect(register.status).toBe(200);
    expect(cs.registry.size()).toBe(1);
    await cs.close();
    expect(seen).toEqual([`created for a.example at ${cs.address.port}`, 'request INVITE', 'closed']);
  });

  it('in proxy mode, refuses an INVITE that is not a CPM session, saying why', async () => {
    const cs = await server();
    const c = await client();
    const response = await send(c, cs, request('INVITE', 'sip:bob@b.example', [{ name: 'Contact', value: '<sip:core@127.0.0.1;transport=tls>' }]));
    expect(response.status).toBe(400);
    expect(response.reason).toBe('Bad Request: Accept-Contact lacks the CPM session feature tag');
  });

  it('in proxy mode, lets a screen refuse a CPM-session INVITE that passed service control', async () => {
    const cs = await server();
    const screened: string[] = [];
    (cs.sessions as ProxyModeHandler).screenInvites((invite, info) => {
      screened.push(`${invite.method} ${info.role} ${info.assertedIdentity}`);
      return { status: 481, reason: 'Call/Transaction Does Not Exist: that transfer is over' };
    });
    const c = await client();
    const self = c.transport.listeningPoint('tls')!;
    const response = await send(c, cs, request('INVITE', 'sip:bob@b.example', [
      { name: 'Route', value: `<sip:127.0.0.1:${cs.address.port};transport=tls;lr;orig>, <sip:127.0.0.1:${self.port};transport=tls;lr>` },
      { name: 'Contact', value: '<sip:alice@a.example;gr=urn:uuid:00000000-0000-4000-8000-000000000002>' },
      { name: 'P-Asserted-Identity', value: '<sip:registrar@a.example>' },
      { name: 'Accept-Contact', value: '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"' },
      { name: 'Conversation-ID', value: 'conv-1' },
      { name: 'Contribution-ID', value: 'contrib-2' },
    ]));
    expect(response.status).toBe(481);
    expect(response.reason).toBe('Call/Transaction Does Not Exist: that transfer is over');
    expect(screened).toEqual(['INVITE orig sip:registrar@a.example']);
  });

  it('reads a mode from configuration, naming the setting when it is wrong', () => {
    expect(parseConversationMode('in-path')).toBe('in-path');
    expect(parseConversationMode('proxy')).toBe('proxy');
    expect(() => parseConversationMode('b2bua', '--mode-a')).toThrow('--mode-a must be one of in-path, proxy (got "b2bua")');
  });
});
