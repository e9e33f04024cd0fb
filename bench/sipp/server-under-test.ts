/**
 * The servers a SIPp benchmark measures, as separate processes pinned to one CPU: what the bench needs of each
 * (its UDP address, the CPU it has used, a way to stop it), and the lab core's implementation of that.
 * Kamailio's is in bench/kamailio/kamailio-server.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A running server under test. */
export interface ServerUnderTest {
  /** Its name in tables ("lab core", "Kamailio 5.6"). */
  readonly name: string;
  /** Where SIPp sends (UDP). */
  readonly host: string;
  readonly udpPort: number;
  /** The SIP domain it serves. */
  readonly domain: string;
  /** Process id of its main process. */
  readonly pid: number;
  /** CPU seconds used so far by the server and every process it forked. */
  cpuSeconds(): number;
  /** Stop it (SIGTERM, then SIGKILL after a grace period); resolves when it has exited. */
  stop(): Promise<void>;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux unless the kernel says otherwise). */
export const CLOCK_TICKS = 100;

/** CPU seconds of one process (all its threads), or 0 when it is gone. */
function ownCpuSeconds(pid: number): { cpu: number; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process and all its live descendants (Kamailio forks its workers). */
export function processTreeCpuSeconds(rootPid: number): number {
  const parents = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const own = ownCpuSeconds(pid);
    if (!own) continue;
    cpu.set(pid, own.cpu);
    parents.set(own.ppid, [...(parents.get(own.ppid) ?? []), pid]);
  }
  let total = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    total += cpu.get(pid) ?? 0;
    queue.push(...(parents.get(pid) ?? []));
  }
  return total;
}

/** Stop a child process: SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Resolve once something answers a SIP OPTIONS on host:port over UDP (any response), or reject after `timeoutMs`.
 * Used to know that a server's UDP listener is up.
 */
export function waitForSipAnswer(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const callId = randomBytes(8).toString('hex');
    let timer: NodeJS.Timeout | undefined;
    const done = (error?: Error): void => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.close();
      if (error) reject(error);
      else resolve();
    };
    const giveUp = setTimeout(() => done(new Error(`no SIP answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('message', (data) => {
      if (data.toString('latin1').startsWith('SIP/2.0 ')) done();
    });
    socket.on('error', (error) => done(error));
    socket.bind(0, '127.0.0.1', () => {
      const { port: local } = socket.address();
      const probe = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${callId};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1>;tag=${callId}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: ${callId}@bench`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      const send = (): void => socket.send(probe, port, host);
      send();
      timer = setInterval(send, 250);
    });
  });
}

/** Options of the lab-core server process. */
export interface LabServerOptions {
  /** The repository root (where server/lab.ts is). */
  repoRoot: string;
  /** A lab config JSON file with the domain to serve (its first domain is used). */
  configPath: string;
  /** Pin the process to this CPU (`taskset -c`). */
  cpu: number;
}

/** Start `npm run lab` (server/lab.ts under node + tsx) pinned to one CPU; resolves when it has printed its description. */
export function startLabServer(options: LabServerOptions): Promise<ServerUnderTest> {
  const child = spawn('taskset', ['-c', String(options.cpu), process.execPath, '--import', 'tsx', join(options.repoRoot, 'server/lab.ts'), '--config', options.configPath], {
    cwd: options.repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stopChild(child, 1000);
      reject(new Error(`lab server: ${why}\n${err.slice(0, 2000)}`));
    };
    const timer = setTimeout(() => fail('no description within 60 s'), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (err.length < 10_000) err += chunk.toString('utf8');
    });
    child.on('error', (error) => fail(`cannot start: ${error.message}`));
    child.on('exit', (code) => fail(`exited with ${String(code)} before describing itself`));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      let description: { domains: { domain: string; host: string; udp: number }[] };
      try {
        description = JSON.parse(out.slice(0, newline)) as typeof description;
      } catch {
        fail(`first line is not JSON: ${out.slice(0, 200)}`);
        return;
      }
      const domain = description.domains[0];
      if (!domain || child.pid === undefined) {
        fail('no domain in its description');
        return;
      }
      const pid = child.pid;
      resolve({
        name: 'lab core',
        host: domain.host,
        udpPort: domain.udp,
        domain: domain.domain,
        pid,
        cpuSeconds: () => processTreeCpuSeconds(pid),
        stop: () => stopChild(child),
      });
    });
  });
}
