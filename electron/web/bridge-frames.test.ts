import { describe, expect, it } from 'vitest';
import { DeviceApiError } from '../api/device-api';
import { errorFrame, eventFrame, isCommandFrame, parseCommandFrame, replyFrame } from './bridge-frames';

describe('reading a page’s command frame', () => {
  it('reads the frame the renderer’s transport sends', () => {
    const frame = parseCommandFrame(JSON.stringify({ id: 7, channel: 'cpm:command:sendMessage', args: ['conv-1', 'hi'] }));
    expect(frame).toEqual({ id: 7, channel: 'cpm:command:sendMessage', args: ['conv-1', 'hi'] });
    expect(isCommandFrame(frame)).toBe(true);
  });

  it.each([
    ['{nope', 'the frame is not JSON', null],
    ['[1,2]', 'the frame is not a JSON object', null],
    ['{"channel":"cpm:command:listDevices","args":[]}', 'the frame has no "id" (a positive integer)', null],
    ['{"id":0,"channel":"cpm:command:listDevices","args":[]}', 'the frame has no "id" (a positive integer)', null],
    ['{"id":1.5,"channel":"cpm:command:listDevices","args":[]}', 'the frame has no "id" (a positive integer)', null],
    ['{"id":3,"args":[]}', 'the frame has no "channel" (a string)', 3],
    ['{"id":4,"channel":"cpm:command:listDevices"}', 'the frame has no "args" (an array)', 4],
    ['{"id":5,"channel":"cpm:command:listDevices","args":{}}', 'the frame has no "args" (an array)', 5],
    ['{"id":6,"channel":"cpm:command:listDevices","args":[],"extra":1}', 'the frame has an unknown field "extra"', 6],
  ])('names the problem with %s and keeps the request id when there is one', (text, problem, id) => {
    expect(parseCommandFrame(text)).toEqual({ problem, id });
  });
});

describe('writing the shell’s frames', () => {
  it('writes replies, void replies and events in the shape the page parses', () => {
    expect(JSON.parse(replyFrame(1, [{ a: 1 }]))).toEqual({ id: 1, ok: true, value: [{ a: 1 }] });
    expect(JSON.parse(replyFrame(2, undefined))).toEqual({ id: 2, ok: true });
    expect(JSON.parse(eventFrame('cpm:event:devices', []))).toEqual({ event: 'cpm:event:devices', payload: [] });
  });

  it('keeps a DeviceApiError’s code in the error text and calls anything else internal', () => {
    expect(JSON.parse(errorFrame(3, new DeviceApiError('not-found', 'no conversation c-1')))).toEqual({ id: 3, ok: false, error: '[not-found] no conversation c-1' });
    expect(JSON.parse(errorFrame(4, new Error('boom')))).toEqual({ id: 4, ok: false, error: '[internal] boom' });
  });
});
