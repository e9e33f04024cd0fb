import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../transport/transport-types';
import { responseTarget } from './response-target';
import { sampleRequest } from './sample-messages';

function received(via: string, protocol: 'udp' | 'tcp', flowId?: string): ReceivedMessage {
  const message = sampleRequest('OPTIONS', { via, branch: 'z9hG4bK-1' });
  const r: ReceivedMessage = { message, raw: new Uint8Array(0), source: { protocol, host: '203.0.113.5', port: 40000 }, local: { protocol, host: '127.0.0.1', port: 5060 } };
  if (flowId) r.flowId = flowId;
  return r;
}

describe('responseTarget (§18.2.2, RFC 3581)', () => {
  it('uses the flow of a reliable transport', () => {
    expect(responseTarget(received('SIP/2.0/TCP 10.0.0.1:5070', 'tcp', 'flow-7'))).toEqual({ protocol: 'tcp', host: '203.0.113.5', port: 40000, flowId: 'flow-7' });
  });

  it('over UDP answers the source address, and the source port only with rport', () => {
    expect(responseTarget(received('SIP/2.0/UDP 10.0.0.1:5070;rport', 'udp'))).toEqual({ protocol: 'udp', host: '203.0.113.5', port: 40000 });
    expect(responseTarget(received('SIP/2.0/UDP 10.0.0.1:5070', 'udp'))).toEqual({ protocol: 'udp', host: '203.0.113.5', port: 5070 });
    expect(responseTarget(received('SIP/2.0/UDP 10.0.0.1', 'udp'))).toEqual({ protocol: 'udp', host: '203.0.113.5', port: 5060 });
  });
});
