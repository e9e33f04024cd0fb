import { describe, expect, it } from 'vitest';
import {
  acceptRanges, callId, contentLength, contentType, expires, fromTag, isCallId, maxForwards, mediaTypeMatches, optionTags, toTag,
} from './header-fields';
import { SipParseError } from './parse-error';
import { createRequest } from './sip-message';

const req = (headers: [string, string][]) => createRequest('INVITE', 'sip:a@b', headers.map(([name, value]) => ({ name, value })));

describe('typed header accessors', () => {
  it('read tags, Call-ID, Max-Forwards, Content-Length and Expires', () => {
    const m = req([['From', '<sip:a@x>;tag=abc'], ['To', 'sip:b@y'], ['i', "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"], ['Max-Forwards', '0068'], ['l', '12'], ['Expires', '99999999999']]);
    expect(fromTag(m)).toBe('abc');
    expect(toTag(m)).toBeUndefined();
    expect(callId(m)).toMatch(/^intmeth/);
    expect(maxForwards(m)).toBe(68);
    expect(contentLength(m)).toBe(12);
    expect(expires(m)).toBe(0xffffffff);
  });

  it('return undefined for absent headers and throw SipParseError for malformed ones', () => {
    expect(maxForwards(req([]))).toBeUndefined();
    expect(() => maxForwards(req([['Max-Forwards', '300']]))).toThrow(SipParseError);
    expect(() => callId(req([['Call-ID', 'a b']]))).toThrow(SipParseError);
    expect(() => expires(req([['Expires', 'soon']]))).toThrow(SipParseError);
    expect(isCallId('a@b@c')).toBe(false);
  });

  it('split option tags across lines and commas', () => {
    const m = req([['Require', '100rel, timer'], ['Require', 'tdialog'], ['k', 'gruu']]);
    expect(optionTags(m, 'Require')).toEqual(['100rel', 'timer', 'tdialog']);
    expect(optionTags(m, 'Supported')).toEqual(['gruu']);
  });

  it('parse media types and match Accept ranges', () => {
    const m = req([['c', 'Multipart/Mixed ; boundary=7a9c'], ['Accept', 'application/sdp, text/*;q=0.5']]);
    expect(contentType(m)).toEqual({ type: 'multipart', subtype: 'mixed', params: [{ name: 'boundary', value: '7a9c' }] });
    const ranges = acceptRanges(m)!;
    expect(mediaTypeMatches(ranges, 'text/plain')).toBe(true);
    expect(mediaTypeMatches(ranges, 'message/cpim')).toBe(false);
    expect(() => contentType(req([['Content-Type', 'sdp']]))).toThrow(SipParseError);
  });
});
