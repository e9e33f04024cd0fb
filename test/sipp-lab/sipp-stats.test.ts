import { describe, expect, it } from 'vitest';
import { creationSeconds, describeSippStats, parseSippStats, SippStatsError } from './sipp-stats';

/** A SIPp 3.6 statistics file cut down to the columns we read plus a few others, in SIPp's order. */
const HEADER =
  'StartTime;TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedMaxUDPRetrans(P);FailedMaxUDPRetrans(C);' +
  'FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);FailedTimeoutOnRecv(P);FailedTimeoutOnRecv(C);OutOfCallMsgs(P);OutOfCallMsgs(C);' +
  'DeadCallMsgs(P);DeadCallMsgs(C);Retransmissions(P);Retransmissions(C);';

describe('Reading what a SIPp run did from its -trace_stat file', () => {
  it('takes the cumulative counters of the last line, not the per-period ones', () => {
    const csv = [
      HEADER,
      '2026-11-26\t21:09:21.1;200;12;190;190;0;0;0;0;0;0;0;0;0;0;0;0;3;3;',
      '2026-11-26\t21:09:41.1;4000;0;10;3990;1;4;0;1;1;2;0;1;0;5;0;18;0;916;',
      '',
    ].join('\n');
    expect(parseSippStats(csv)).toEqual({
      created: 4000,
      successful: 3990,
      failed: 4,
      maxRetransmissions: 1,
      unexpected: 2,
      receiveTimeouts: 1,
      outOfCall: 5,
      deadCall: 18,
      retransmissions: 916,
    });
  });

  it('reads Windows line ends too', () => {
    expect(parseSippStats(`${HEADER}\r\nx;7;0;0;7;0;0;0;0;0;0;0;0;0;0;0;0;0;0;\r\n`).successful).toBe(7);
  });

  it('refuses a file with a header only: SIPp never got to write its counters', () => {
    expect(() => parseSippStats(`${HEADER}\n`)).toThrow(SippStatsError);
    expect(() => parseSippStats('')).toThrow(/no data line/);
  });

  it('names the missing column when the file is not a SIPp statistics file', () => {
    expect(() => parseSippStats('a;b\n1;2\n')).toThrow(/no column TotalCallCreated/);
  });

  it('refuses a counter that is not a count', () => {
    const csv = `${HEADER}\nx;7;0;0;seven;0;0;0;0;0;0;0;0;0;0;0;0;0;0;\n`;
    expect(() => parseSippStats(csv)).toThrow(/SuccessfulCall\(C\) is not a count: "seven"/);
  });

  it('tells how long SIPp took to create its calls, from the periodic lines', () => {
    const csv = [
      'StartTime;CurrentTime;TotalCallCreated;',
      '2026-11-26\t21:00:00.000000\t1000.000000;2026-11-26\t21:00:01.000000\t1001.000000;300;',
      '2026-11-26\t21:00:00.000000\t1000.000000;2026-11-26\t21:00:02.000000\t1002.000000;600;',
      '2026-11-26\t21:00:00.000000\t1000.000000;2026-11-26\t21:00:03.500000\t1003.500000;1000;',
      '2026-11-26\t21:00:00.000000\t1000.000000;2026-11-26\t21:00:04.000000\t1004.000000;1000;',
    ].join('\n');
    expect(creationSeconds(csv, 600)).toBe(2);
    expect(creationSeconds(csv, 1000)).toBe(3.5);
    expect(creationSeconds(csv, 1001)).toBeUndefined();
    expect(() => creationSeconds('a;b\n1;2\n', 1)).toThrow(/no TotalCallCreated/);
  });

  it('describes the counters in one line for failure messages', () => {
    const stats = parseSippStats(`${HEADER}\nx;3;0;0;2;0;1;0;0;0;1;0;0;0;0;0;0;0;4;\n`);
    expect(describeSippStats(stats)).toBe('created=3 successful=2 failed=1 unexpected=1 maxRetransmissions=0 receiveTimeouts=0 outOfCall=0 deadCall=0 retransmissions=4');
  });
});
