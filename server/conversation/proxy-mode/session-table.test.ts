import { afterEach, describe, expect, it, vi } from 'vitest';
import { CpmSessionState, type CpmSessionInit } from './cpm-session-record';
import { SessionTable } from './session-table';

function init(callId: string, callerTag = 'a1', calleeTag = 'b1'): CpmSessionInit {
  return {
    role: 'term',
    callId,
    conversationId: 'conv-1',
    contributionId: 'contrib-1',
    assertedIdentity: 'sip:alice@a.example',
    caller: { aor: 'sip:alice@a.example', tag: callerTag, target: 'sip:alice@a.example;gr=urn:uuid:1' },
    callee: { aor: 'sip:bob@b.example', tag: calleeTag, target: 'sip:bob@b.example;gr=urn:uuid:2' },
    recordRoute: [],
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the session table', () => {
  it('keeps a session from its 2xx to the answer to its BYE', () => {
    const table = new SessionTable();
    const events: string[] = [];
    table.on('added', (r) => events.push(`added ${r.callId}`));
    table.on('removed', (r) => events.push(`removed ${r.callId} (${r.endReason ?? ''})`));
    const r = table.add(init('c1'));
    expect(table.sessionCount()).toBe(1);
    r.transition(CpmSessionState.Established);
    r.transition(CpmSessionState.Terminating);
    expect(table.sessionCount()).toBe(1);
    r.transition(CpmSessionState.Terminated, 'bye');
    expect(table.sessionCount()).toBe(0);
    expect(table.findByDialog('c1', 'a1', 'b1')).toBeUndefined();
    expect(events).toEqual(['added c1', 'removed c1 (bye)']);
    table.close();
  });

  it('finds a session by Call-ID and both tags in either order; a retransmitted 2xx adds nothing', () => {
    const table = new SessionTable();
    const r = table.add(init('c1'));
    expect(table.add(init('c1'))).toBe(r);
    table.add(init('c1', 'a1', 'b2')); // a second fork's 2xx: another dialog
    expect(table.sessionCount()).toBe(2);
    expect(table.findByDialog('c1', 'b1', 'a1')).toBe(r);
    expect(table.findByDialog('c1', 'a1', 'b1')).toBe(r);
    expect(table.findByDialog('c1', 'a1', 'zz')).toBeUndefined();
    table.close();
  });

  it('records both roles when a session between two of its users passes it twice, as one session', () => {
    const table = new SessionTable();
    const r = table.add(init('c1'));
    expect(table.add({ ...init('c1'), role: 'orig' })).toBe(r);
    expect(table.add({ ...init('c1'), role: 'orig' })).toBe(r);
    expect(r.roles).toEqual(['orig', 'term']);
    expect(table.sessionCount()).toBe(1);
    table.close();
  });

  it('ends a session whose ACK never comes after 64·T1', () => {
    vi.useFakeTimers();
    const table = new SessionTable({ guardMs: 32_000 });
    const r = table.add(init('c1'));
    vi.advanceTimersByTime(31_999);
    expect(r.state).toBe(CpmSessionState.Confirmed);
    vi.advanceTimersByTime(1);
    expect(r.state).toBe(CpmSessionState.Terminated);
    expect(r.endReason).toBe('ack-timeout');
    expect(table.sessionCount()).toBe(0);
  });

  it('keeps an acknowledged session however long it lasts, but ends one whose BYE is never answered', () => {
    vi.useFakeTimers();
    const table = new SessionTable({ guardMs: 32_000 });
    const r = table.add(init('c1'));
    r.transition(CpmSessionState.Established);
    vi.advanceTimersByTime(10 * 60_000);
    expect(r.state).toBe(CpmSessionState.Established);
    r.transition(CpmSessionState.Terminating);
    vi.advanceTimersByTime(32_000);
    expect(r.endReason).toBe('bye-failed');
    expect(table.sessionCount()).toBe(0);
  });

  it('ends every session on close', () => {
    const table = new SessionTable();
    const a = table.add(init('c1'));
    const b = table.add(init('c2'));
    b.transition(CpmSessionState.Established);
    table.close();
    expect([a.endReason, b.endReason]).toEqual(['shutdown', 'shutdown']);
    expect(table.sessionCount()).toBe(0);
  });

  it('refuses a guard time that is not a positive number', () => {
    expect(() => new SessionTable({ guardMs: 0 })).toThrow('SessionTable: guardMs must be a positive number, got 0');
  });
});
