import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { processTreeCpuSeconds, stopChild, waitForSipAnswer } from './server-under-test';

describe('Watching a server under test', () => {
  it('counts the CPU of a process together with the children it forked', async () => {
    // A shell that forks a busy child and prints its pid: the tree's CPU grows although the shell itself waits.
    const shell = spawn('sh', ['-c', 'while :; do :; done & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const childPid = await new Promise<number>((resolve) => shell.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    try {
      const pid = shell.pid as number;
      let cpu = 0;
      for (let i = 0; i < 50 && cpu < 0.05; i++) {
        await new Promise((r) => setTimeout(r, 100));
        cpu = processTreeCpuSeconds(pid);
      }
      expect(cpu).toBeGreaterThanOrEqual(0.05);
    } finally {
      process.kill(childPid, 'SIGKILL');
      await stopChild(shell, 1000);
    }
  });

  it('knows a SIP server is up when it answers OPTIONS, and says so when nothing answers', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    server.on('message', (data, from) => {
      if (data.toString('latin1').startsWith('OPTIONS ')) server.send('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', from.port, from.address);
    });
    try {
      await expect(waitForSipAnswer('127.0.0.1', server.address().port, 5000)).resolves.toBeUndefined();
    } finally {
      server.close();
    }
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      await expect(waitForSipAnswer('127.0.0.1', silent.address().port, 600)).rejects.toThrow(/no SIP answer/);
    } finally {
      silent.close();
    }
  });
});
