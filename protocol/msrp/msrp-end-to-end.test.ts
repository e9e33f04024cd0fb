import { describe, expect, it } from 'vitest';
import { MsrpConnection } from './msrp-connection';
import { newLocalMsrpUri } from './msrp-ids';
import { MsrpSession } from './msrp-session';
import { msrpUriKey } from './msrp-uri';
import { flush, MemoryDuplex } from './testing/memory-pipe';
import { checkWorkloadBody, mixedSizes, workloadBody } from './testing/workload';

describe('two MsrpConnections back to back in memory', () => {
  it('deliver 10,000 messages of mixed sizes up to 1 MiB complete, in order and once, both ways', () => {
    const sizes = mixedSizes(10_000);
    expect(Math.max(...sizes)).toBe(1024 * 1024);
    const aUri = newLocalMsrpUri('127.0.0.1', 1111);
    const bUri = newLocalMsrpUri('127.0.0.1', 2222);
    const a = new MsrpSession({ localUri: aUri, remotePath: [bUri] });
    const b = new MsrpSession({ localUri: bUri, remotePath: [aUri] });
    const aOut = new MemoryDuplex();
    const bOut = new MemoryDuplex();
    const aConn = new MsrpConnection({ transport: aOut, role: 'active' });
    const bConn = new MsrpConnection({ transport: bOut, role: 'passive', resolveSession: (u) => (msrpUriKey(u) === msrpUriKey(bUri) ? b : undefined) });
    aConn.attach(a);

    const arrivedAtB: number[] = [];
    const arrivedAtA: number[] = [];
    let corrupt = 0;
    const index = (body: Uint8Array): number => new DataView(body.buffer, body.byteOffset, 8).getFloat64(0);
    b.on('message', (m) => {
      const i = index(m.body);
      if (!checkWorkloadBody(m.body, i, sizes[i]!)) corrupt++;
      arrivedAtB.push(i);
    });
    a.on('message', (m) => arrivedAtA.push(index(m.body)));

    const outcomes: Array<Promise<{ ok: boolean }>> = [];
    let next = 0;
    while (next < sizes.length) {
      // Honour back-pressure: queue until the high-water mark, then let the wire drain.
      while (next < sizes.length && !a.needsDrain) {
        outcomes.push(a.send(workloadBody(next, sizes[next]!), 'application/octet-stream').done);
        if (next % 100 === 0 && b.state === 'active') b.send(workloadBody(next, 16), 'application/octet-stream');
        next++;
      }
      flush(aOut, aConn, bOut, bConn);
    }
    flush(aOut, aConn, bOut, bConn);

    expect(corrupt).toBe(0);
    expect(arrivedAtB).toEqual(sizes.map((_, i) => i));
    expect(arrivedAtA.length).toBeGreaterThan(90);
    expect(arrivedAtA).toEqual([...arrivedAtA].sort((x, y) => x - y));
    expect(aConn.outstandingTransactions).toBe(0);
    expect(a.bufferedAmount).toBe(0);
    return Promise.all(outcomes).then((done) => expect(done.every((d) => d.ok)).toBe(true));
  });
});
