import { describe, expect, it } from 'vitest';
import {
  formatByteRange,
  formatStatus,
  MsrpHeaderError,
  parseByteRange,
  parseFailureReport,
  parseMediaType,
  parsePath,
  parseStatus,
  parseSuccessReport,
} from './msrp-headers';

describe('MSRP header values (RFC 4975 §8)', () => {
  it('parses a multi-hop path in order', () => {
    const p = parsePath('msrp://relay.example:2855;tcp  msrp://b.example:7/s2;tcp');
    expect(p.map((u) => u.host)).toEqual(['relay.example', 'b.example']);
  });

  it('rejects empty, bad and overlong paths', () => {
    expect(() => parsePath('  ')).toThrow(MsrpHeaderError);
    expect(() => parsePath('msrp://x')).toThrow('bad path');
    expect(() => parsePath(Array(17).fill('msrp://h:1/s;tcp').join(' '))).toThrow('longer than');
  });

  it('round-trips Byte-Range including unknown end and total', () => {
    expect(parseByteRange('1-25/25')).toEqual({ start: 1, end: 25, total: 25 });
    expect(parseByteRange('26-*/*')).toEqual({ start: 26, end: undefined, total: undefined });
    expect(parseByteRange('1-0/0')).toEqual({ start: 1, end: 0, total: 0 });
    expect(formatByteRange({ start: 3, end: undefined, total: 10 })).toBe('3-*/10');
  });

  it.each(['0-5/5', '5-3/10', '1-11/10', '1-2', 'a-b/c', '1-2/3/4', '1-99999999999999999/*'])('rejects Byte-Range %s', (v) => {
    expect(() => parseByteRange(v)).toThrow(MsrpHeaderError);
  });

  it('parses and formats Status', () => {
    expect(parseStatus('000 200 OK')).toEqual({ namespace: 0, code: 200, comment: 'OK' });
    expect(parseStatus('000 413')).toEqual({ namespace: 0, code: 413, comment: '' });
    expect(formatStatus({ namespace: 0, code: 481, comment: 'Session Does Not Exist' })).toBe('000 481 Session Does Not Exist');
    expect(() => parseStatus('200 OK')).toThrow(MsrpHeaderError);
  });

  it('applies the report header defaults of §7.1.2', () => {
    expect(parseSuccessReport(undefined)).toBe('no');
    expect(parseFailureReport(undefined)).toBe('yes');
    expect(parseFailureReport('Partial')).toBe('partial');
    expect(() => parseSuccessReport('partial')).toThrow(MsrpHeaderError);
    expect(() => parseFailureReport('maybe')).toThrow(MsrpHeaderError);
  });

  it('parses media types with quoted parameters', () => {
    expect(parseMediaType('Text/Plain; charset="utf-8";format=flowed')).toEqual({ type: 'text', subtype: 'plain', params: { charset: 'utf-8', format: 'flowed' } });
    expect(() => parseMediaType('textplain')).toThrow(MsrpHeaderError);
    expect(() => parseMediaType('text/plain; =x')).toThrow(MsrpHeaderError);
  });
});
