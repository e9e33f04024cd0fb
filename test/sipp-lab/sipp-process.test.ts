import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { peakCpuShare, processCpuSeconds, sippArguments, SippProcess, SippState, summarizeSippErrors } from './sipp-process';

describe('Running SIPp from tests and benchmarks', () => {
  it('gives SIPp a system-chosen control port and writes its files under the run name', () => {
    const args = sippArguments({ name: 'reg', workDir: '/tmp/x', scenario: '/s.xml', remote: '127.0.0.1:5070', localPort: 40000, calls: 10, rate: 5, timeoutSeconds: 30 });
    expect(args.slice(0, 2)).toEqual(['-sf', '/s.xml']);
    expect(args[2]).toBe('127.0.0.1:5070');
    const after = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    expect(after('-cp')).toBe('0');
    expect(after('-buff_size')).toBe(String(1 << 20));
    expect(after('-p')).toBe('40000');
    expect(after('-m')).toBe('10');
    expect(after('-r')).toBe('5');
    expect(after('-stf')).toBe('reg.stat.csv');
    expect(after('-error_file')).toBe('reg.errors.log');
    expect(after('-timeout')).toBe('30s');
    expect(args).toContain('-timeout_error');
    expect(args).toContain('-nostdin');
  });

  it('passes keys, credentials and the service as SIPp options', () => {
    const args = sippArguments({
      name: 'uac', workDir: '/tmp', scenario: '/c.xml', calls: 1, timeoutSeconds: 5,
      service: 'bob', keys: { from_user: 'alice' }, auth: { user: 'alice', password: 'alice-secret' }, pauseMs: 500,
    });
    expect(args.join(' ')).toContain('-s bob -key from_user alice -au alice -ap alice-secret -d 500');
    expect(args).not.toContain('-r');
  });

  it('boils an error log down to the events that failed calls, counting dead-call noise', () => {
    const log = [
      'The following events occurred:',
      "2026-11-26\t21:14:43.895926\t1795727683.895926: Dead call 1-13029@127.0.0.1 (successful), received 'SIP/2.0 200 OK",
      'Via: SIP/2.0/UDP 127.0.0.1:5060',
      "'2026-11-26\t21:14:44.000001\t1795727684.000001: Aborting call on unexpected message for Call-Id '7-1551@127.0.0.1': while expecting '180' (index 6), received 'SIP/2.0 408 Request Timeout",
      'Via: x',
      "'2026-11-26\t21:14:45.000001\t1795727685.000001: Dead call 2-13029@127.0.0.1 (successful)",
    ].join('\n');
    expect(summarizeSippErrors(log)).toBe(
      "Aborting call on unexpected message for Call-Id '7-1551@127.0.0.1': while expecting '180' (index 6), received 'SIP/2.0 408 Request Timeout\n" +
        '(2 dead-call messages: late retransmissions, discarded)\n',
    );
    expect(summarizeSippErrors('The following events occurred:\n')).toBe('');
  });

  it('reads a live process CPU time from /proc, and nothing for one that is gone', () => {
    const own = processCpuSeconds(process.pid);
    expect(own).toBeGreaterThan(0);
    expect(processCpuSeconds(2 ** 22 + 12345)).toBeUndefined();
  });

  it('finds the busiest second of processes sharing a CPU, on a common clock', () => {
    // One process busy at 50 % for its first two seconds, then idle; another busy at 40 % from 1 s to 3 s.
    const a = [0, 500, 1000, 1500, 2000, 2500, 3000].map((atMs) => ({ atMs, cpuSeconds: Math.min(atMs, 2000) / 2000 }));
    const b = [0, 500, 1000, 1500, 2000].map((atMs) => ({ atMs, cpuSeconds: (atMs / 1000) * 0.4 }));
    expect(peakCpuShare([a])).toBeCloseTo(0.5);
    expect(peakCpuShare([b])).toBeCloseTo(0.4);
    // b started 1 s after a: both are busy between 1 s and 2 s.
    expect(peakCpuShare([a, b], 1000, [0, 1000])).toBeCloseTo(0.9);
    expect(peakCpuShare([a, b], 1000, [0, 3000])).toBeCloseTo(0.5);
    expect(peakCpuShare([])).toBe(0);
  });

  it('reports a SIPp that cannot start as exited, with the reason, instead of rejecting', async () => {
    const sipp = await SippProcess.start({ name: 'none', workDir: tmpdir(), scenario: '/s.xml', calls: 1, timeoutSeconds: 1, binary: '/nonexistent/sipp' });
    const changes: string[] = [];
    sipp.on('stateChange', (from, to) => changes.push(`${from}→${to}`));
    const result = await sipp.done;
    expect(result.exitCode).toBeNull();
    expect(result.stats).toBeUndefined();
    expect(result.errors).toMatch(/cannot run \/nonexistent\/sipp/);
    expect(sipp.state).toBe(SippState.Exited);
    expect(changes).toEqual(['running→exited']);
  });
});
