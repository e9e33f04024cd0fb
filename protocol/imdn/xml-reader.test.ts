import { describe, expect, it } from 'vitest';
import { childElement, escapeXml, parseXml, XmlError } from './xml-reader';

describe('strict XML reader', () => {
  it('reads elements, namespaces, attributes, text, CDATA and references', () => {
    const root = parseXml(
      '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><a:r xmlns:a="urn:a" xmlns="urn:d" x=\'1\' a:y="&lt;2&#x41;&#66;"><c>t&amp;u<![CDATA[<raw>]]></c><e/></a:r>\n',
    );
    expect(root).toMatchObject({ name: 'a:r', localName: 'r', namespace: 'urn:a', attributes: { x: '1', 'a:y': '<2AB' } });
    const c = childElement(root, 'c', 'urn:d');
    expect(c?.text).toBe('t&u<raw>');
    expect(childElement(root, 'e')?.namespace).toBe('urn:d');
    expect(childElement(root, 'c', 'urn:other')).toBeUndefined();
  });

  it('round-trips escaped text', () => {
    expect(parseXml(`<r>${escapeXml('<&>"\'')}</r>`).text).toBe('<&>"\'');
  });

  it.each([
    ['a DOCTYPE (entity bomb)', '<!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>', 'DOCTYPE'],
    ['an external entity', '<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>', 'DOCTYPE'],
    ['an unknown entity', '<r>&nbsp;</r>', 'no entity expansion'],
    ['a bare ampersand', '<r>a & b</r>', 'unterminated reference'],
    ['an illegal character reference', '<r>&#0;</r>', 'illegal character'],
    ['mismatched tags', '<a><b></a></b>', 'does not match'],
    ['an unclosed element', '<a><b></b>', 'unclosed'],
    ['two roots', '<a/><b/>', 'more than one root'],
    ['text outside the root', 'x<a/>', 'outside the root'],
    ['an unbound prefix', '<p:a/>', 'unbound prefix'],
    ['a duplicate attribute', '<a x="1" x="2"/>', 'duplicate attribute'],
    ['< in an attribute', '<a x="<"/>', '< in an attribute value'],
    ['an unquoted attribute', '<a x=1/>', 'bad attribute'],
    ['nothing', '  ', 'no root'],
  ])('rejects %s', (_name, xml, why) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
    expect(() => parseXml(xml)).toThrow(why);
  });

  it('bounds size, depth and element count', () => {
    expect(() => parseXml(`<r>${'x'.repeat(70_000)}</r>`)).toThrow('longer than');
    expect(() => parseXml('<a>'.repeat(40) + '</a>'.repeat(40))).toThrow('deeper than 32');
    expect(() => parseXml(`<r>${'<e/>'.repeat(2000)}</r>`)).toThrow('more than 1024 elements');
  });
});
