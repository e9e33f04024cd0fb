import { describe, expect, it } from 'vitest';
import { ownString, paramTextValue, paramsText } from './compact-text';

describe('What a binding keeps of its Contact', () => {
  it('keeps every parameter but the ones left out, raw and in order', () => {
    const params = [
      { name: '+sip.instance', value: '"<urn:uuid:1>"' },
      { name: 'Expires', value: '600' },
      { name: 'ob', value: null },
      { name: 'q', value: '0.5' },
    ];
    expect(paramsText(params, new Set(['expires', 'q']))).toBe(';+sip.instance="<urn:uuid:1>";ob');
  });

  it('reads a parameter back unquoted, case-insensitively; a valueless one is null, a missing one undefined', () => {
    const text = ';+sip.instance="<urn:uuid:1>";ob;+CPM.Device-Name="Bob\'s \\"PC\\""';
    expect(paramTextValue(text, '+cpm.device-name')).toBe('Bob\'s "PC"');
    expect(paramTextValue(text, 'ob')).toBeNull();
    expect(paramTextValue(text, 'reg-id')).toBeUndefined();
  });

  it('answers undefined for text that is not header parameters, rather than throwing', () => {
    expect(paramTextValue(';="x', 'x')).toBeUndefined();
  });

  it('an owned copy equals the original', () => {
    const long = `${'x'.repeat(40)}@host`;
    expect(ownString(long.slice(3))).toBe(long.slice(3));
    expect(ownString('short')).toBe('short');
  });
});
