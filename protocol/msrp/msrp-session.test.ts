import { describe, expect, it } from 'vitest';
import { utf8 } from '../common/bytes';
import { MsrpConnection } from './msrp-connection';
import { newLocalMsrpUri, newSessionId, newTransactionId } from './msrp-ids';
import { IDENT } from './msrp-message';
import { MsrpSession, MsrpSessionState, type MsrpSessionCarrier } from './msrp-session';
import { parseMsrpUri } from './msrp-uri';
import { MemoryDuplex } from './testing/memory-pipe';

const nullCarrier: MsrpSessionCarrier = { wake: () => undefined, writeUnacknowledged: () => undefined, detach: () => undefined };

describe('MsrpSession state machine', () => {
  it('throws on a transition the diagram does not allow', () => {
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [newLocalMsrpUri('p', 2)] });
    s.close();
    expect(s.state).toBe(MsrpSessionState.Closed);
    expect(() => s.attachActive(nullCarrier)).toThrow('illegal MSRP session transition closed → binding');
  });

  it('refuses to attach a session twice, without a remote path, or on the passive side', () => {
    const remote = newLocalMsrpUri('p', 2);
    const conn = new MsrpConnection({ transport: new MemoryDuplex(), role: 'active' });
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [remote] });
    conn.attach(s);
    expect(() => conn.attach(s)).toThrow(TypeError);
    expect(() => conn.attach(new MsrpSession({ localUri: newLocalMsrpUri('h', 1) }))).toThrow('remote path');
    const passive = new MsrpConnection({ transport: new MemoryDuplex(), role: 'passive' });
    expect(() => passive.attach(new MsrpSession({ localUri: newLocalMsrpUri('h', 1), remotePath: [remote] }))).toThrow('passive');
  });

  it('requires a session-id in its URI and validates what it is asked to send', () => {
    expect(() => new MsrpSession({ localUri: parseMsrpUri('msrp://relay.example:1;tcp') })).toThrow('session-id');
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1) });
    expect(() => s.send(utf8('x'), 'text/plain\r\nEvil: 1')).toThrow(TypeError);
    expect(() => s.send(utf8('x'), 'text/plain', { messageId: 'no spaces allowed' })).toThrow(TypeError);
  });

  it('fails queued messages with status 0 on close', async () => {
    const s = new MsrpSession({ localUri: newLocalMsrpUri('h', 1) });
    const m = s.send(utf8('x'), 'text/plain');
    s.close();
    expect(await m.done).toEqual({ ok: false, messageId: m.messageId, status: 0, comment: 'session closed' });
  });
});

describe('MSRP identifiers', () => {
  it('makes transaction ids of ≥64 bits and session ids of ≥80 bits within the ident grammar', () => {
    const tid = newTransactionId();
    expect(tid.length * Math.log2(62)).toBeGreaterThanOrEqual(64);
    expect(IDENT.test(tid)).toBe(true);
    expect(newSessionId().length * Math.log2(62)).toBeGreaterThanOrEqual(80);
  });
});
