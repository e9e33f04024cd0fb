import { describe, expect, it } from 'vitest';
import { aorOfHeader, displayNameOfHeader } from './domain-core';

describe('the user a From or To header names', () => {
  it('reads the display name, quoted or as tokens, and none when there is none', () => {
    expect(displayNameOfHeader('"Bob Builder" <sip:bob@b.example>;tag=9fxced76sl')).toBe('Bob Builder');
    expect(displayNameOfHeader('"Alice \\"Al\\" Liddell" <sip:alice@a.example>')).toBe('Alice "Al" Liddell');
    expect(displayNameOfHeader('Bob <sip:bob@b.example>')).toBe('Bob');
    expect(displayNameOfHeader('<sip:bob@b.example>;tag=1')).toBeUndefined();
    expect(displayNameOfHeader('sip:bob@b.example')).toBeUndefined();
    expect(displayNameOfHeader('"  " <sip:bob@b.example>')).toBeUndefined();
  });

  it('gives nothing for a header that does not parse, or none at all', () => {
    expect(displayNameOfHeader('"Bob <sip:bob@b.example')).toBeUndefined();
    expect(displayNameOfHeader(undefined)).toBeUndefined();
    expect(aorOfHeader('"Bob <sip:bob@b.example')).toBeUndefined();
  });

  it('reads the address of record beside it, lower-casing the host', () => {
    expect(aorOfHeader('"Bob Builder" <sip:bob@B.Example;transport=tls>;tag=1')).toBe('sip:bob@b.example');
  });
});
