import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../sip/transaction/state-machine';
import { decideAsUas, formatSessionExpires, parseMinSe, parseSessionExpires, SessionTimer, SessionTimerState } from './session-timer';

const POLICY = { interval: 1800, minSe: 90 };

describe('Session-Expires and Min-SE (RFC 4028 §4, §5)', () => {
  it.each([
    ['1800', { deltaSeconds: 1800, refresher: undefined }],
    ['90;refresher=uac', { deltaSeconds: 90, refresher: 'uac' }],
    [' 600 ; refresher = UAS ', { deltaSeconds: 600, refresher: 'uas' }],
    ['600;refresher=other;x=1', { deltaSeconds: 600, refresher: undefined }],
  ] as const)('reads %j', (text, expected) => {
    expect(parseSessionExpires(text)).toEqual(expected);
  });

  it.each(['', 'abc', '0', '-5', '1.5', '12345678901'])('treats %j as absent', (text) => {
    expect(parseSessionExpires(text)).toBeUndefined();
  });

  it('formats what it reads, and reads Min-SE', () => {
    expect(formatSessionExpires({ deltaSeconds: 90, refresher: 'uas' })).toBe('90;refresher=uas');
    expect(formatSessionExpires({ deltaSeconds: 90, refresher: undefined })).toBe('90');
    expect(parseMinSe('120')).toBe(120);
    expect(parseMinSe('x')).toBeUndefined();
  });
});

describe('the UAS decision (RFC 4028 §9)', () => {
  it('no Session-Expires: no timer', () => {
    expect(decideAsUas(undefined, ['timer'], POLICY)).toEqual({ kind: 'none' });
  });

  it('below our Min-SE: 422 with our Min-SE', () => {
    expect(decideAsUas('60', ['timer'], POLICY)).toEqual({ kind: 'too-small', minSe: 90 });
  });

  it('keeps the refresher the request named, else the UAC when it supports timers, else us', () => {
    expect(decideAsUas('300;refresher=uas', ['timer'], POLICY)).toEqual({ kind: 'timer', deltaSeconds: 300, refresher: 'uas' });
    expect(decideAsUas('300', ['gruu', 'timer'], POLICY)).toEqual({ kind: 'timer', deltaSeconds: 300, refresher: 'uac' });
    expect(decideAsUas('300', ['gruu'], POLICY)).toEqual({ kind: 'timer', deltaSeconds: 300, refresher: 'uas' });
  });
});

describe('SessionTimer', () => {
  it('moves between refreshing and watching, stops for good, and ignores refreshes once stopped', () => {
    const timer = new SessionTimer();
    const moves: string[] = [];
    timer.on('stateChange', (from, to) => moves.push(`${from}→${to}`));
    timer.refreshed(90, true);
    timer.refreshed(90, false);
    timer.stop();
    timer.refreshed(90, true);
    expect(moves).toEqual(['off→refreshing', 'refreshing→watching', 'watching→stopped']);
    expect(timer.state).toBe(SessionTimerState.Stopped);
  });

  it('refuses a move its diagram does not have', () => {
    const timer = new SessionTimer();
    timer.stop();
    expect(() => (timer as unknown as { transition(to: SessionTimerState): void }).transition(SessionTimerState.Watching)).toThrow(IllegalTransitionError);
  });
});
