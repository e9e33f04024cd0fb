import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { createTransportLayer, type SipTransport } from './sip-transport-layer';
import { responseTo } from './transport-test-kit';
import type { TransportProtocol } from './transport-types';

/** SIPp (Debian `sip-tester`) is a test dependency installed by `npm test`'s pretest step. */
const SIPP = '/usr/bin/sipp';

const open: SipTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** A free UDP port on loopback for SIPp's own socket (SIPp otherwise tries 5060 first). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Run SIPp's built-in UAC scenario (INVITE, ACK, BYE) once against `port`; resolves with its exit code. */
async function runSippUac(mode: 'u1' | 't1', port: number): Promise<{ code: number | null; stderr: string }> {
  const localPort = await freePort();
  const args = ['-sn', 'uac', `127.0.0.1:${port}`, '-t', mode, '-m', '1', '-i', '127.0.0.1', '-p', String(localPort), '-timeout', '10', '-timeout_error', '-nostdin'];
  return new Promise((resolve) => {
    const child = spawn(SIPP, args, { cwd: tmpdir(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolve({ code: -1, stderr: error.message }));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** A UAS on the transport: 200 to every request but ACK, with a To tag and a Contact on INVITE. */
async function answeringLayer(protocol: TransportProtocol): Promise<{ layer: SipTransport; methods: string[] }> {
  const layer = await createTransportLayer({ listeners: [{ protocol }] });
  open.push(layer);
  const methods: string[] = [];
  layer.on('message', ({ message, flowId }) => {
    if (message.type !== 'request') return;
    methods.push(message.method);
    if (message.method === 'ACK') return;
    const ok = responseTo(message);
    if (message.method === 'INVITE') {
      ok.headers.set('To', `${ok.headers.get('To')!};tag=uas1`);
      ok.headers.append('Contact', '<sip:uas@127.0.0.1>');
    }
    void layer.sendResponse(ok, flowId).catch(() => undefined);
  });
  return { layer, methods };
}

describe('interoperability with SIPp', () => {
  it('SIPp is installed', () => {
    expect(spawnSync(SIPP, ['-v']).error).toBeUndefined();
  });

  it.each([['udp', 'u1'], ['tcp', 't1']] as const)('completes a SIPp INVITE/ACK/BYE call over %s', async (protocol, mode) => {
    const { layer, methods } = await answeringLayer(protocol);
    const result = await runSippUac(mode, layer.listeningPoint(protocol)!.port);
    expect(result.code, result.stderr).toBe(0);
    expect(methods).toEqual(['INVITE', 'ACK', 'BYE']);
  });
});
