/**
 * Load test of the proxy core with SIPp (v3.6, UDP): 4000 INVITE dialogs at 200 calls/s (20 s) from a SIPp UAC
 * through a ProxyCore on 127.0.0.1 to a SIPp UAS, judged by SIPp's own statistics: every call succeeds,
 * none fails, no unexpected message. Ports are ephemeral; both SIPp processes are always killed.
 *
 * Built to hold on a loaded 2-core CI machine (test/sipp/README.md): large UDP buffers everywhere (the proxy's
 * default 4 MiB, SIPp's -buff_size), scenarios that absorb what a late peer retransmits, and generous global
 * timeouts that only matter when something is already wrong. A failure message carries the kernel's count of
 * datagrams dropped on full receive buffers during the run (/proc/net/snmp Udp RcvbufErrors).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyCore } from '../server/sip/proxy/proxy-core';
import { createTransportLayer, type SipTransport } from '../server/sip/transport/sip-transport-layer';

const SIPP = '/usr/bin/sipp';
const CALLS = 4000;
const RATE = 200;
/** SIPp's socket buffers (SO_RCVBUF / SO_SNDBUF), as the proxy's: the OS clamps to net.core.rmem_max / wmem_max. */
const SIPP_BUFFER = 4 * 1024 * 1024;
/** SIPp's global timeout: the 20 s of load, the tail, and room for a starved machine; reaching it fails the test. */
const SIPP_TIMEOUT_S = 50;
const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));

/** A UDP port the OS considers free right now. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** SIPp's statistics file (`-trace_stat`, `;`-separated, one row per `-fd` period): the last row as a map. */
function lastStats(file: string): Map<string, string> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(';') ?? [];
  const last = lines.at(-1)?.split(';') ?? [];
  return new Map(header.map((name, i) => [name, last[i] ?? '']));
}

/**
 * Udp RcvbufErrors of this network namespace (/proc/net/snmp): datagrams the kernel dropped because a socket's
 * receive buffer was full, for every process on the machine. Undefined where the file is not there.
 */
function udpReceiveBufferErrors(): number | undefined {
  if (!existsSync('/proc/net/snmp')) return undefined;
  const rows = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.trim().split(/\s+/));
  const column = rows[0]?.indexOf('RcvbufErrors') ?? -1;
  const value = column < 0 ? undefined : rows[1]?.[column];
  return value === undefined ? undefined : Number(value);
}

/**
 * Datagrams dropped on a full receive buffer by each IPv4 UDP socket bound to one of `ports` (the last column of
 * /proc/net/udp), by port. Empty where the file is not there.
 */
function socketDrops(ports: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync('/proc/net/udp')) return out;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
    const drops = Number(fields.at(-1));
    if (ports.includes(port) && Number.isFinite(drops)) out.set(port, drops);
  }
  return out;
}

/** The first lines of a SIPp error log, for the failure message. */
function head(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(0, 4000) : '';
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

const children: ChildProcess[] = [];
let workDir: string;
let transport: SipTransport;
let proxy: ProxyCore;
const proxyErrors: Error[] = [];
/** Messages through the proxy by direction and method/status, for the failure message. */
const wire = new Map<string, number>();

function runSipp(args: string[], name: string): { child: ChildProcess; stderr: () => string } {
  let stderr = '';
  const child = spawn(SIPP, args, { cwd: workDir, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.on('error', (error) => {
    stderr += `${name}: ${error.message}`;
  });
  children.push(child);
  return { child, stderr: () => stderr };
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'sipp-proxy-'));
  transport = await createTransportLayer({
    listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    trace: (direction, bytes) => {
      const start = new TextDecoder().decode(bytes.subarray(0, 12));
      const key = `${direction} ${start.startsWith('SIP/2.0 ') ? start.slice(8, 11) : start.split(' ')[0] ?? '?'}`;
      wire.set(key, (wire.get(key) ?? 0) + 1);
    },
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exitOf));
  proxy?.close();
  await transport?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('ProxyCore under SIPp load', () => {
  it(`proxies ${CALLS} calls at ${RATE} calls/s with no failure and no unexpected message`, async () => {
    expect(existsSync(SIPP), `${SIPP} is missing: install the Debian package sip-tester`).toBe(true);
    const [uasPort, uacPort, uasMedia, uacMedia] = await Promise.all([freeUdpPort(), freeUdpPort(), freeUdpPort(), freeUdpPort()]);
    proxy = new ProxyCore({ transport, hooks: { locate: () => [{ uri: `sip:uas@127.0.0.1:${uasPort}` }] } });
    proxy.on('error', (e) => proxyErrors.push(e));
    const proxyPort = transport.listeningPoint('udp')!.port;
    // Large socket buffers absorb the bursts a scheduling or garbage-collection pause causes. An ACK for a 2xx
    // is resent only when the UAS's 200 retransmission comes back, and the BYE may overtake it: a dropped ACK
    // can fail its call.
    const common = [
      '-i', '127.0.0.1', '-m', String(CALLS), '-nostdin', '-buff_size', String(SIPP_BUFFER),
      '-trace_stat', '-fd', '1', '-timeout', `${SIPP_TIMEOUT_S}s`, '-timeout_error', '-trace_err',
    ];
    const dropsBefore = udpReceiveBufferErrors();
    // SIPp's sockets vanish with SIPp: sample every socket's drop count while the load runs.
    const sockets = { proxy: proxyPort, uac: uacPort, uas: uasPort };
    const dropsBySocket = new Map<number, number>();
    const sample = (): void => {
      for (const [port, drops] of socketDrops(Object.values(sockets))) dropsBySocket.set(port, drops);
    };
    const sampler = setInterval(sample, 1000);

    const uas = runSipp([
      '-sf', join(SCENARIOS, 'uas.xml'), '-p', String(uasPort), '-mp', String(uasMedia),
      '-stf', join(workDir, 'uas.csv'), '-error_file', join(workDir, 'uas-errors.log'), ...common,
    ], 'uas');
    const uac = runSipp([
      '-sf', join(SCENARIOS, 'uac.xml'), '-p', String(uacPort), '-mp', String(uacMedia), '-s', 'service',
      '-r', String(RATE), '-stf', join(workDir, 'uac.csv'), '-error_file', join(workDir, 'uac-errors.log'), ...common,
      `127.0.0.1:${proxyPort}`,
    ], 'uac');

    const uacCode = await exitOf(uac.child);
    const uasCode = await exitOf(uas.child);
    clearInterval(sampler);
    sample();
    const dropsAfter = udpReceiveBufferErrors();
    const stats = lastStats(join(workDir, 'uac.csv'));
    const uasStats = lastStats(join(workDir, 'uas.csv'));
    const drops = dropsBefore === undefined || dropsAfter === undefined ? 'unknown' : String(dropsAfter - dropsBefore);
    const buffers = transport.udpBufferSizes().map((b) => `receive ${b.receive} B, send ${b.send} B`).join('; ');
    const summary = [
      `UDP datagrams dropped on full receive buffers during the run: ${drops} on the whole machine; ${
        Object.entries(sockets).map(([name, port]) => `${name} ${dropsBySocket.get(port) ?? '?'}`).join(', ')}`,
      `proxy UDP socket buffers granted: ${buffers}`,
      `proxy errors: ${proxyErrors.slice(0, 5).map((e) => e.message).join(' | ')}`,
      `proxy wire: ${[...wire].sort().map(([k, n]) => `${k}=${n}`).join(' ')}`,
      `uac exit ${String(uacCode)}: ${uac.stderr()}`, head(join(workDir, 'uac-errors.log')),
      `uas exit ${String(uasCode)}: ${uas.stderr()}`, head(join(workDir, 'uas-errors.log')),
    ].join('\n');
    expect(stats.get('SuccessfulCall(C)'), summary).toBe(String(CALLS));
    expect(stats.get('FailedCall(C)'), summary).toBe('0');
    expect(stats.get('FailedUnexpectedMessage(C)'), summary).toBe('0');
    expect(uasStats.get('SuccessfulCall(C)'), summary).toBe(String(CALLS));
    expect(uasStats.get('FailedUnexpectedMessage(C)'), summary).toBe('0');
    expect(uacCode, summary).toBe(0);
    expect(uasCode, summary).toBe(0);
    expect(proxyErrors).toEqual([]);
  }, (SIPP_TIMEOUT_S + 15) * 1000);
});
