import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../sip/transaction/state-machine';
import { CpmSessionRecord, CpmSessionState, type CpmSessionInit } from './cpm-session-record';

const INIT: CpmSessionInit = {
  role: 'orig',
  callId: 'c1@a.example',
  conversationId: 'conv-1',
  contributionId: 'contrib-1',
  assertedIdentity: 'sip:alice@a.example',
  caller: { aor: 'sip:alice@a.example', tag: 'a1', target: 'sip:alice@a.example;gr=urn:uuid:1' },
  callee: { aor: 'sip:bob@b.example', tag: 'b1', target: 'sip:bob@b.example;gr=urn:uuid:2' },
  recordRoute: ['<sip:127.0.0.1:5071;transport=tls;lr>'],
};

function record(): { r: CpmSessionRecord; moves: string[] } {
  const r = new CpmSessionRecord(INIT);
  const moves: string[] = [];
  r.on('stateChange', (from, to) => moves.push(`${from}→${to}`));
  return { r, moves };
}

describe('a CPM session record', () => {
  it('lives through ACK, BYE and its answer, announcing each move', () => {
    const { r, moves } = record();
    expect(r.state).toBe(CpmSessionState.Confirmed);
    r.transition(CpmSessionState.Established);
    r.transition(CpmSessionState.Terminating);
    r.transition(CpmSessionState.Terminated, 'bye');
    expect(moves).toEqual(['confirmed→established', 'established→terminating', 'terminating→terminated']);
    expect(r.endReason).toBe('bye');
  });

  it('goes back to Established when its BYE is refused with something that does not end the dialog', () => {
    const { r } = record();
    r.transition(CpmSessionState.Established);
    r.transition(CpmSessionState.Terminating);
    r.transition(CpmSessionState.Established);
    expect(r.state).toBe(CpmSessionState.Established);
    expect(r.endReason).toBeUndefined();
  });

  it('refuses moves its diagram does not have, and stays where it was', () => {
    const { r, moves } = record();
    expect(() => r.transition(CpmSessionState.Confirmed)).toThrow(IllegalTransitionError);
    r.transition(CpmSessionState.Terminated, 'ack-timeout');
    expect(() => r.transition(CpmSessionState.Established)).toThrow('CpmSessionRecord: illegal transition terminated → established');
    expect(r.state).toBe(CpmSessionState.Terminated);
    expect(moves).toEqual(['confirmed→terminated']);
  });

  it('matches its dialog with the tags in either order, and nothing else', () => {
    const { r } = record();
    expect(r.isDialog('c1@a.example', 'a1', 'b1')).toBe(true);
    expect(r.isDialog('c1@a.example', 'b1', 'a1')).toBe(true);
    expect(r.isDialog('c1@a.example', 'a1', 'a1')).toBe(false);
    expect(r.isDialog('c2@a.example', 'a1', 'b1')).toBe(false);
  });

  it('follows a target refresh of either side and ignores a stranger’s tag', () => {
    const { r } = record();
    r.refreshTarget('b1', 'sip:bob@b.example;gr=urn:uuid:3');
    r.refreshTarget('zz', 'sip:mallory@example.net');
    expect(r.callee.target).toBe('sip:bob@b.example;gr=urn:uuid:3');
    expect(r.caller.target).toBe(INIT.caller.target);
    expect(INIT.callee.target).toBe('sip:bob@b.example;gr=urn:uuid:2'); // the init object is not shared
  });
});
