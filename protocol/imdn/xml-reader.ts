/**
 * A strict, small XML reader for the documents protocol/ receives (IMDN, RFC 5438): elements,
 * attributes, namespaces, text, CDATA, comments and the XML declaration. It never expands entities
 * beyond the five predefined ones and character references, refuses any DOCTYPE (so no entity bombs
 * and no external entities), and bounds size, depth and element count. Errors are `XmlError`.
 */

/** An element with its namespace resolved. */
export interface XmlElement {
  /** The qualified name as written (`prefix:local` or `local`). */
  name: string;
  localName: string;
  /** The namespace URI, or undefined when none applies. */
  namespace: string | undefined;
  /** Attributes by qualified name as written (namespace declarations excluded). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (CDATA included), concatenated, not trimmed. */
  text: string;
}

/** Thrown for input that is not well-formed, uses a forbidden construct, or exceeds a bound. */
export class XmlError extends Error {
  override readonly name = 'XmlError';
}

/** Bounds of the reader. */
export interface XmlLimits {
  /** Characters of input. Default 64 Ki. */
  maxLength: number;
  /** Nesting depth. Default 32. */
  maxDepth: number;
  /** Elements in the document. Default 1024. */
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxLength: 64 * 1024, maxDepth: 32, maxElements: 1024 };
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?$/;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Parse a document and return its root element. */
export function parseXml(input: string, limits: Partial<XmlLimits> = {}): XmlElement {
  const { maxLength, maxDepth, maxElements } = { ...DEFAULT_LIMITS, ...limits };
  if (input.length > maxLength) throw new XmlError(`XML document longer than ${maxLength} characters`);
  let pos = input.charCodeAt(0) === 0xfeff ? 1 : 0;
  let elements = 0;
  let root: XmlElement | undefined;
  const stack: Array<{ element: XmlElement; scope: Map<string, string> }> = [];

  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${pos}`);
  };

  if (input.startsWith('<?xml', pos)) {
    const end = input.indexOf('?>', pos);
    if (end < 0) fail('unterminated XML declaration');
    pos = end + 2;
  }

  while (pos < input.length) {
    const lt = input.indexOf('<', pos);
    const textEnd = lt < 0 ? input.length : lt;
    if (textEnd > pos) {
      const raw = input.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.element.text += decodeText(raw, fail);
      else if (raw.trim() !== '') fail('text outside the root element');
      pos = textEnd;
      continue;
    }
    if (input.startsWith('<!--', pos)) {
      const end = input.indexOf('-->', pos + 4);
      if (end < 0) fail('unterminated comment');
      pos = end + 3;
      continue;
    }
    if (input.startsWith('<![CDATA[', pos)) {
      const top = stack[stack.length - 1];
      if (!top) fail('CDATA outside the root element');
      const end = input.indexOf(']]>', pos + 9);
      if (end < 0) fail('unterminated CDATA section');
      top!.element.text += input.slice(pos + 9, end);
      pos = end + 3;
      continue;
    }
    if (input.startsWith('<!', pos)) fail('DOCTYPE and other declarations are not accepted');
    if (input.startsWith('<?', pos)) {
      const end = input.indexOf('?>', pos);
      if (end < 0) fail('unterminated processing instruction');
      pos = end + 2;
      continue;
    }
    if (input.startsWith('</', pos)) {
      const end = input.indexOf('>', pos);
      if (end < 0) fail('unterminated end tag');
      const name = input.slice(pos + 2, end).trim();
      const top = stack.pop();
      if (!top || top.element.name !== name) fail(`end tag </${name}> does not match`);
      pos = end + 1;
      continue;
    }
    // A start tag.
    const tagEnd = findTagEnd(input, pos);
    if (tagEnd < 0) fail('unterminated start tag');
    const selfClosing = input[tagEnd - 1] === '/';
    const inner = input.slice(pos + 1, selfClosing ? tagEnd - 1 : tagEnd);
    const nameMatch = /^[^\s/>]+/.exec(inner);
    const name = nameMatch?.[0] ?? '';
    if (!NAME.test(name)) fail(`bad element name ${JSON.stringify(name.slice(0, 40))}`);
    const rawAttributes = parseAttributes(inner.slice(name.length), fail);
    const parentScope = stack[stack.length - 1]?.scope ?? new Map<string, string>([['xml', XML_NS]]);
    const scope = new Map(parentScope);
    const attributes: Record<string, string> = {};
    for (const [attrName, value] of rawAttributes) {
      if (attrName === 'xmlns') scope.set('', value);
      else if (attrName.startsWith('xmlns:')) scope.set(attrName.slice(6), value);
      else attributes[attrName] = value;
    }
    for (const attrName of Object.keys(attributes)) {
      const colon = attrName.indexOf(':');
      if (colon > 0 && !scope.has(attrName.slice(0, colon))) fail(`unbound prefix in attribute ${attrName}`);
    }
    const colon = name.indexOf(':');
    const prefix = colon < 0 ? '' : name.slice(0, colon);
    if (prefix && !scope.has(prefix)) fail(`unbound prefix ${prefix}`);
    const ns = scope.get(prefix);
    const element: XmlElement = { name, localName: colon < 0 ? name : name.slice(colon + 1), namespace: ns === '' ? undefined : ns, attributes, children: [], text: '' };
    if (++elements > maxElements) fail(`more than ${maxElements} elements`);
    const parent = stack[stack.length - 1];
    if (parent) parent.element.children.push(element);
    else if (root) fail('more than one root element');
    else root = element;
    pos = tagEnd + 1;
    if (!selfClosing) {
      stack.push({ element, scope });
      if (stack.length > maxDepth) fail(`nesting deeper than ${maxDepth}`);
    }
  }
  if (stack.length > 0) fail(`unclosed element <${stack[stack.length - 1]!.element.name}>`);
  if (!root) fail('no root element');
  return root!;
}

/** The first child with this local name (and namespace, when given). */
export function childElement(parent: XmlElement, localName: string, namespace?: string): XmlElement | undefined {
  return parent.children.find((c) => c.localName === localName && (namespace === undefined || c.namespace === namespace));
}

/** Escape text for element content or attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`);
}

function findTagEnd(input: string, from: number): number {
  let quote = '';
  for (let i = from + 1; i < input.length; i++) {
    const ch = input[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '>') return i;
    else if (ch === '<') return -1;
  }
  return -1;
}

function parseAttributes(text: string, fail: (why: string) => never): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  const re = /\s+([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) fail(`bad attribute syntax near ${JSON.stringify(text.slice(at, at + 40))}`);
    const name = m![1]!;
    if (!NAME.test(name)) fail(`bad attribute name ${JSON.stringify(name.slice(0, 40))}`);
    if (seen.has(name)) fail(`duplicate attribute ${name}`);
    seen.add(name);
    const raw = m![2] ?? m![3] ?? '';
    if (raw.includes('<')) fail('< in an attribute value');
    out.push([name, decodeText(raw, fail)]);
    at = re.lastIndex;
  }
  return out;
}

function decodeText(raw: string, fail: (why: string) => never): string {
  if (!raw.includes('&')) {
    if (raw.includes(']]>')) fail(']]> in text');
    return raw;
  }
  return raw.replace(/&([^;&\s]{0,12});?/g, (match, ref: string) => {
    if (!match.endsWith(';')) fail(`unterminated reference &${ref}`);
    const predefined = PREDEFINED[ref];
    if (predefined !== undefined) return predefined;
    const num = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (num) {
      const code = num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]);
      const valid = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!valid) fail(`character reference to an illegal character &${ref};`);
      return String.fromCodePoint(code);
    }
    return fail(`entity &${ref}; is not accepted (no entity expansion)`);
  });
}
