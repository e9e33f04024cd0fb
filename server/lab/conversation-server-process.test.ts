import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDevCertificate } from '../sip/transport/dev-certificate';
import type { Endpoint } from '../sip/transport/transport-types';
import { waitUntil } from '../../electron/device/testing/wait-until';
import { ConversationServerProcess, ProcessState } from './conversation-server-process';
import { connectSipProbe, sipOptionsRequest } from './testing/sip-options-probe';

let dir: string;
let config: Record<string, unknown>;
let ca: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpm-cs-process-'));
  const certificate = await generateDevCertificate();
  await writeFile(join(dir, 'key.pem'), certificate.key, { mode: 0o600 });
  await writeFile(join(dir, 'cert.pem'), certificate.cert);
  ca = certificate.cert;
  // The core need not be up: the server reaches it only when it has something to send.
  config = { domain: 'a.example', tlsKey: 'key.pem', tlsCert: 'cert.pem', tlsCa: 'cert.pem', core: '127.0.0.1:9' };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, settings: Record<string, unknown>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(settings));
  return file;
}

/** A TLS connection to the server, as its core would open, that sends an OPTIONS and resolves with the status line of the answer. */
async function optionsProbe(address: Endpoint, callId: string): Promise<string> {
  const { socket, statusLine } = await connectSipProbe(address, ca);
  try {
    socket.write(sipOptionsRequest(address, socket, callId));
    return await statusLine;
  } finally {
    socket.destroy();
  }
}

describe('a Conversation Server forked by the lab', () => {
  it('describes itself, runs in another process, and stops when closed (starting → running → stopping → exited)', async () => {
    const logs: string[] = [];
    const child = await ConversationServerProcess.start({ name: 'CS A', configFile: await configFile('in-path.json', { ...config, mode: 'in-path' }), log: (l) => logs.push(l) });
    const states: string[] = [child.state];
    child.on('stateChange', (state) => states.push(state));
    let unexpected = false;
    child.on('unexpectedExit', () => (unexpected = true));
    expect(child.pid).not.toBe(process.pid);
    expect(child.mode).toBe('in-path');
    expect(child.description).toMatchObject({ domain: 'a.example', sip: `sip:127.0.0.1:${child.address.port};transport=tls`, msrp: { host: '127.0.0.1' } });
    await Promise.all([child.close(), child.close()]);
    expect(states).toEqual(['running', 'stopping', 'exited']);
    expect(child.exitStatus).toEqual({ code: 0, signal: null, expected: true });
    expect(unexpected).toBe(false);
    expect(child.stderr).toContain('SIGTERM, shutting down');
  }, 30_000);

  it('sends its trace entries, the bytes as they went and when it saw them, only while asked to', async () => {
    const entries: { direction: string; text: string; remote: Endpoint; timestampNs: bigint | undefined }[] = [];
    const child = await ConversationServerProcess.start({
      name: 'CS A',
      configFile: await configFile('traced.json', config),
      trace: (direction, bytes, endpoints, timestampNs) => entries.push({ direction, text: new TextDecoder().decode(bytes), remote: endpoints.remote, timestampNs }),
    });
    const ofCall = (callId: string): typeof entries => entries.filter((e) => e.text.includes(`Call-ID: ${callId}\r\n`));
    try {
      expect(await optionsProbe(child.address, 'untraced')).toBe('SIP/2.0 200 OK');
      // Once the child has confirmed, every message it sees is traced.
      await child.setTracing(true);
      const before = process.hrtime.bigint();
      expect(await optionsProbe(child.address, 'traced')).toBe('SIP/2.0 200 OK');
      const after = process.hrtime.bigint();
      await waitUntil('its traced 200 OK', () => ofCall('traced').some((e) => e.direction === 'out'), 10_000);
      // The untraced OPTIONS was taken in before tracing was asked for. (An answer's `out` entry is recorded
      // once its write completes, which may be after the switch.)
      expect(ofCall('untraced').filter((e) => e.direction === 'in')).toEqual([]);
      const traced = ofCall('traced');
      expect(traced.map((e) => [e.direction, e.text.split('\r\n')[0]])).toEqual([
        ['in', `OPTIONS sip:127.0.0.1:${child.address.port};transport=tls SIP/2.0`],
        ['out', 'SIP/2.0 200 OK'],
      ]);
      expect(traced[0]!.remote).toMatchObject({ protocol: 'tls', host: '127.0.0.1' });
      // Stamped in the child, on the clock we read here (system-wide on Linux): the request seen within the probe,
      // the answer's entry no earlier (it is stamped when its write completes, which may come after the client
      // has read the answer).
      const [seenIn, seenOut] = traced.map((e) => e.timestampNs!);
      expect(before < seenIn! && seenIn! < after && seenIn! <= seenOut!).toBe(true);

      // Switched off: nothing of a later probe comes (its `in` entry would have preceded the confirmation of a
      // second switch, the channel keeping order).
      await child.setTracing(false);
      expect(await optionsProbe(child.address, 'off-again')).toBe('SIP/2.0 200 OK');
      await child.setTracing(false);
      expect(ofCall('off-again').filter((e) => e.direction === 'in')).toEqual([]);
    } finally {
      await child.close();
    }
  }, 30_000);

  it('reports an end it was not asked for', async () => {
    const child = await ConversationServerProcess.start({ name: 'CS B', configFile: await configFile('proxy.json', { ...config, domain: 'b.example' }) });
    const ended = new Promise((resolve) => child.once('unexpectedExit', resolve));
    process.kill(child.pid, 'SIGKILL');
    expect(await ended).toEqual({ code: null, signal: 'SIGKILL', expected: false });
    expect(child.state).toBe(ProcessState.Exited);
    await expect(child.setTracing(true)).rejects.toThrow('CS B: cannot set tracing, the process is exited');
    await child.close();
  }, 30_000);

  it('refuses to start with a setting the program refuses, saying what the program said', async () => {
    const file = await configFile('bad.json', { ...config, core: undefined, mode: 'proxy' });
    await expect(ConversationServerProcess.start({ name: 'CS A', configFile: file })).rejects.toThrow(
      /^CS A: exited before it was ready \(code 2\); its stderr: conversation-server: --core: is required/,
    );
  }, 30_000);
});
