import { describe, expect, it } from 'vitest';
import { sampleRequest } from '../transaction/sample-messages';
import { computeBranch, loopHash, loopHashOfBranch } from './branch-id';

describe('branch computation (§16.6 item 8, RFC 5393)', () => {
  it('is deterministic for a request and its retransmission, and differs per fork', () => {
    const a = computeBranch(sampleRequest('INVITE'), 0);
    expect(a).toMatch(/^z9hG4bK[A-Za-z0-9]+\.[A-Za-z0-9]+\.0$/);
    expect(computeBranch(sampleRequest('INVITE'), 0)).toBe(a);
    expect(computeBranch(sampleRequest('INVITE'), 1)).not.toBe(a);
    expect(computeBranch(sampleRequest('INVITE', { branch: 'z9hG4bK-other' }), 0)).not.toBe(a);
  });

  it('carries a loop hash that changes with the Request-URI (spiral) but not with the upstream branch', () => {
    const first = sampleRequest('MESSAGE');
    const sameFieldsNewHop = sampleRequest('MESSAGE', { branch: 'z9hG4bK-next-hop' });
    const spiral = sampleRequest('MESSAGE', { uri: 'sip:bob@192.0.2.9' });
    expect(loopHash(sameFieldsNewHop)).toBe(loopHash(first));
    expect(loopHash(spiral)).not.toBe(loopHash(first));
    expect(loopHashOfBranch(computeBranch(first, 3))).toBe(loopHash(first));
    expect(loopHashOfBranch('z9hG4bK-foreign')).toBeUndefined();
  });
});
