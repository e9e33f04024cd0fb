import { describe, expect, it, vi } from 'vitest';
import { createResponse } from '../message/sip-message';
import { sampleRequest } from '../transaction/sample-messages';
import { buildResponse } from '../transaction/response-builder';
import { IllegalTransitionError } from '../transaction/state-machine';
import { Dialog, DialogState } from './dialog';
import { DialogTable } from './dialog-table';

const CONTACT = '<sip:alice@192.0.2.1:5070>';

function inviteWithRecordRoute() {
  const invite = sampleRequest('INVITE', { cseq: 7 });
  invite.headers.append('Record-Route', '<sip:p2.example.com;lr>, <sip:p1.example.com;lr>');
  return invite;
}

function okFor(invite = inviteWithRecordRoute()) {
  const ok = buildResponse(invite, 200, { toTag: 'bob-tag', headers: [{ name: 'Contact', value: '<sip:bob@192.0.2.9:5080;transport=tcp>' }] });
  return { invite, ok };
}

describe('Dialog (RFC 3261 §12)', () => {
  it('builds the UAC side from a 2xx: IDs, reversed route set, remote target, local CSeq', () => {
    const { invite, ok } = okFor();
    const dialog = Dialog.fromUac(invite, ok, CONTACT);
    expect(dialog.state).toBe(DialogState.Confirmed);
    expect(dialog.id).toEqual({ callId: 'call-1@192.0.2.1', localTag: 'a1', remoteTag: 'bob-tag' });
    expect(dialog.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(dialog.remoteTarget).toBe('sip:bob@192.0.2.9:5080;transport=tcp');
    expect(dialog.localSeq).toBe(7);
  });

  it('builds the UAS side from the request: route set in order, remote CSeq, the peer\'s Contact', () => {
    const invite = inviteWithRecordRoute();
    const dialog = Dialog.fromUas(invite, 'our-tag', '<sip:bob@192.0.2.9>');
    expect(dialog.id).toEqual({ callId: 'call-1@192.0.2.1', localTag: 'our-tag', remoteTag: 'a1' });
    expect(dialog.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(dialog.remoteTarget).toBe('sip:alice@192.0.2.1:5070');
    expect(dialog.remoteSeq).toBe(7);
  });

  it('creates in-dialog requests with loose routing: Request-URI = remote target, Route = route set (§12.2.1.1)', () => {
    const { invite, ok } = okFor();
    const dialog = Dialog.fromUac(invite, ok, CONTACT);
    const bye = dialog.createRequest('BYE');
    expect(bye.uri).toBe('sip:bob@192.0.2.9:5080;transport=tcp');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(bye.headers.get('CSeq')).toBe('8 BYE');
    expect(bye.headers.get('From')).toBe('<sip:alice@example.com>;tag=a1');
    expect(bye.headers.get('To')).toBe('<sip:bob@example.com>;tag=bob-tag');
    expect(bye.headers.has('Contact')).toBe(false);
    expect(dialog.createRequest('INFO').headers.get('CSeq')).toBe('9 INFO');
    expect(dialog.createRequest('INVITE').headers.get('Contact')).toBe(CONTACT);
  });

  it('uses the strict-routing form when the first route has no lr', () => {
    const invite = sampleRequest('INVITE');
    invite.headers.append('Record-Route', '<sip:strict.example.com>');
    const { ok } = okFor(invite);
    const dialog = Dialog.fromUac(invite, ok, CONTACT);
    const bye = dialog.createRequest('BYE');
    expect(bye.uri).toBe('sip:strict.example.com');
    expect(bye.headers.values('Route')).toEqual(['<sip:bob@192.0.2.9:5080;transport=tcp>']);
  });

  it('creates the ACK for a 2xx with the INVITE\'s CSeq number (§13.2.2.4)', () => {
    const { invite, ok } = okFor();
    const dialog = Dialog.fromUac(invite, ok, CONTACT);
    dialog.createRequest('INFO');
    const ack = dialog.createAck(7);
    expect(ack.method).toBe('ACK');
    expect(ack.headers.get('CSeq')).toBe('7 ACK');
    expect(ack.headers.getAll('Route')).toHaveLength(2);
  });

  it('rejects an out-of-order peer request with 500 and refreshes the target on re-INVITE (§12.2.2)', () => {
    const dialog = Dialog.fromUas(sampleRequest('INVITE', { cseq: 5 }), 'our', '<sip:bob@192.0.2.9>');
    expect(dialog.receiveRequest(sampleRequest('BYE', { cseq: 5 }))).toEqual({ status: 500, reason: 'CSeq Out Of Order' });
    const reinvite = sampleRequest('INVITE', { cseq: 6 });
    reinvite.headers.set('Contact', '<sip:alice@198.51.100.7:5070>');
    expect(dialog.receiveRequest(reinvite)).toBeUndefined();
    expect(dialog.remoteTarget).toBe('sip:alice@198.51.100.7:5070');
    expect(dialog.receiveRequest(sampleRequest('ACK', { cseq: 6 }))).toBeUndefined();
  });

  it('refuses responses that cannot create a dialog', () => {
    const invite = sampleRequest('INVITE');
    expect(() => Dialog.fromUac(invite, buildResponse(invite, 486, { toTag: 'x' }), CONTACT)).toThrow('does not establish a dialog');
    const noTag = createResponse(200, 'OK', [{ name: 'To', value: '<sip:bob@example.com>' }, { name: 'Contact', value: '<sip:b@192.0.2.9>' }]);
    expect(() => Dialog.fromUac(invite, noTag, CONTACT)).toThrow('no To tag');
    const noContact = buildResponse(invite, 200, { toTag: 't' });
    expect(() => Dialog.fromUac(invite, noContact, CONTACT)).toThrow('missing Contact');
  });

  it('goes Early → Confirmed → Terminated, and refuses requests once terminated', () => {
    const invite = sampleRequest('INVITE');
    const ringing = buildResponse(invite, 180, { toTag: 'b', headers: [{ name: 'Contact', value: '<sip:b@192.0.2.9>' }] });
    const dialog = Dialog.fromUac(invite, ringing, CONTACT);
    const changes = vi.fn();
    dialog.on('stateChange', changes);
    expect(dialog.state).toBe(DialogState.Early);
    dialog.confirm();
    dialog.terminate();
    expect(changes.mock.calls).toEqual([[DialogState.Early, DialogState.Confirmed], [DialogState.Confirmed, DialogState.Terminated]]);
    expect(() => dialog.createRequest('BYE')).toThrow('terminated');
    expect(() => dialog.confirm()).toThrow(IllegalTransitionError);
  });
});

describe('DialogTable', () => {
  it('matches a peer request by Call-ID and tags, and forgets terminated dialogs', () => {
    const table = new DialogTable();
    const dialog = Dialog.fromUas(sampleRequest('INVITE'), 'our', '<sip:bob@192.0.2.9>');
    table.add(dialog);
    expect(table.match(sampleRequest('BYE', { toTag: 'our', cseq: 2 }))).toBe(dialog);
    expect(table.match(sampleRequest('BYE', { toTag: 'other', cseq: 2 }))).toBeUndefined();
    expect(table.match(sampleRequest('BYE', { cseq: 2 }))).toBeUndefined();
    expect(() => table.add(dialog)).toThrow('already exists');
    dialog.terminate();
    expect(table.size()).toBe(0);
  });
});
