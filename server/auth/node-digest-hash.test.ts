import { describe, expect, it } from 'vitest';
import { digestEquals, nodeDigestHash } from './node-digest-hash';

describe('nodeDigestHash', () => {
  it('hashes UTF-8 text with each named hash', () => {
    expect(nodeDigestHash('MD5', '')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(nodeDigestHash('SHA-256', 'abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(nodeDigestHash('SHA-512-256', 'abc')).toBe('53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    expect(nodeDigestHash('MD5', 'é')).toBe(nodeDigestHash('MD5', '\u00e9'));
    expect(nodeDigestHash('MD5', 'é')).not.toBe(nodeDigestHash('MD5', 'e'));
  });
});

describe('digestEquals', () => {
  it('compares case-insensitively and refuses different lengths', () => {
    expect(digestEquals('ABCDEF', 'abcdef')).toBe(true);
    expect(digestEquals('abcdef', 'abcde0')).toBe(false);
    expect(digestEquals('abc', 'abcd')).toBe(false);
  });
});
