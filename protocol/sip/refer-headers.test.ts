import { describe, expect, it } from 'vitest';
import {
  angleBracket,
  formatSipfrag,
  formatTargetDialog,
  parseSipfragStatus,
  parseSubscriptionState,
  parseTargetDialog,
  quoteString,
} from './refer-headers';

describe('Target-Dialog (RFC 4538 §7)', () => {
  it('formats the dialog with the tags as its recipient sees them, and reads it back', () => {
    const dialog = { callId: 'a84b4c76e66710@pc33.example', localTag: 'far-side', remoteTag: 'a-d1' };
    const text = formatTargetDialog(dialog);
    expect(text).toBe('a84b4c76e66710@pc33.example;local-tag=far-side;remote-tag=a-d1');
    expect(parseTargetDialog(text)).toEqual(dialog);
  });

  it('reads parameters in any order and case, ignoring unknown ones', () => {
    expect(parseTargetDialog(' c1 ; Remote-Tag=r ; x=1 ; local-tag=l')).toEqual({ callId: 'c1', localTag: 'l', remoteTag: 'r' });
  });

  it.each([
    ['c1;local-tag=l', 'missing or invalid remote-tag'],
    ['c1;remote-tag=r', 'missing or invalid local-tag'],
    [';local-tag=l;remote-tag=r', 'invalid Call-ID'],
    ['c 1;local-tag=l;remote-tag=r', 'invalid Call-ID'],
  ])('refuses %j', (value, problem) => {
    expect(() => parseTargetDialog(value)).toThrow(problem);
  });

  it('refuses to format a tag that would break the header', () => {
    expect(() => formatTargetDialog({ callId: 'c', localTag: 'a;b', remoteTag: 'r' })).toThrow('invalid local-tag "a;b"');
  });
});

describe('Subscription-State (RFC 6665 §8.2.3)', () => {
  it.each([
    ['active;expires=120', { state: 'active', expires: 120 }],
    ['terminated;reason=noresource', { state: 'terminated', reason: 'noresource' }],
    ['Terminated; reason=Timeout; retry-after=30', { state: 'terminated', reason: 'timeout', retryAfter: 30 }],
    ['pending', { state: 'pending' }],
  ])('reads %j', (value, expected) => {
    expect(parseSubscriptionState(value)).toEqual(expected);
  });

  it('refuses unknown states and non-numeric expiries', () => {
    expect(() => parseSubscriptionState('maybe')).toThrow('Subscription-State: unknown state "maybe"');
    expect(() => parseSubscriptionState('active;expires=soon')).toThrow('Subscription-State: invalid expires "soon"');
  });
});

describe('message/sipfrag status lines', () => {
  it('formats a CRLF-terminated status line and reads the first line of a fragment', () => {
    expect(formatSipfrag(100, 'Trying')).toBe('SIP/2.0 100 Trying\r\n');
    expect(parseSipfragStatus('SIP/2.0 603 Decline\r\nContent-Length: 0\r\n')).toEqual({ status: 603, reason: 'Decline' });
    expect(parseSipfragStatus('SIP/2.0 200 OK')).toEqual({ status: 200, reason: 'OK' });
  });

  it('refuses what is not a status line, and a reason that would inject lines', () => {
    expect(() => parseSipfragStatus('INVITE sip:x SIP/2.0')).toThrow('message/sipfrag: no SIP status line');
    expect(() => parseSipfragStatus('SIP/2.0 99 Low')).toThrow('no SIP status line');
    expect(() => formatSipfrag(200, 'OK\r\nEvil: 1')).toThrow('control characters');
    expect(() => formatSipfrag(700, 'x')).toThrow('invalid status 700');
  });
});

describe('quoted strings and name-addrs', () => {
  it('escapes quotes and backslashes (RFC 3261 §25.1) and keeps UTF-8', () => {
    expect(quoteString('Alice\'s "Lap\\top" · ü')).toBe('"Alice\'s \\"Lap\\\\top\\" · ü"');
  });

  it('refuses control characters', () => {
    expect(() => quoteString('a\r\nb')).toThrow('quoted-string: control characters');
  });

  it('adds angle brackets to a bare URI only', () => {
    expect(angleBracket('sip:a@b;gr=x')).toBe('<sip:a@b;gr=x>');
    expect(angleBracket('"A" <sip:a@b>')).toBe('"A" <sip:a@b>');
  });
});
