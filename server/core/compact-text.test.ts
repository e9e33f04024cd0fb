import { describe, expect, it } from 'vitest';
import { ownString, paramTextValue, paramsText, paramsTextEquals } from './compact-text';

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

  it('tells whether a refresh repeats the kept parameters without building their text', () => {
    const skip = new Set(['expires', 'q']);
    const sent = [
      { name: '+sip.instance', value: '"<urn:uuid:1>"' },
      { name: 'expires', value: '600' },
      { name: 'ob', value: null },
    ];
    const kept = paramsText(sent, skip);
    expect(paramsTextEquals(sent, skip, kept)).toBe(true);
    expect(paramsTextEquals([...sent, { name: 'q', value: '1' }], skip, kept)).toBe(true); // only left-out ones differ
    expect(paramsTextEquals([...sent, { name: '+cpm.device-name', value: '"PC"' }], skip, kept)).toBe(false);
    expect(paramsTextEquals(sent.slice(0, 2), skip, kept)).toBe(false); // one fewer
    expect(paramsTextEquals([{ name: '+sip.instance', value: '"<urn:uuid:2>"' }, sent[2]!], skip, kept)).toBe(false);
    expect(paramsTextEquals([sent[0]!, { name: 'ob', value: '1' }], skip, kept)).toBe(false); // valueless vs valued
    expect(paramsTextEquals([sent[0]!, { name: 'o', value: null }], skip, kept)).toBe(false); // a prefix of a name
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
