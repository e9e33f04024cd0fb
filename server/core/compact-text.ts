/**
 * Small string helpers for what the location service keeps for a long time.
 *
 * A string cut from a larger one (a header value sliced from a whole received message) can keep that larger
 * string alive in V8. A binding lives for an hour; it should cost its own bytes, not its REGISTER's.
 */
import { getParamText, scanHeaderParams, type HeaderParam } from '../sip/message/header-params';

/** A copy of `text` that shares no memory with the string it was cut from. */
export function ownString(text: string): string {
  // Short strings are copied by V8 when sliced; a JSON round trip makes a fresh flat copy of a longer one.
  return text.length < 13 ? text : (JSON.parse(JSON.stringify(text)) as string);
}

/**
 * The unquoted value of parameter `name` (case-insensitive) in `;name=value…` text, null when it has no
 * value, undefined when absent or when the text does not parse (RFC 3261 §25.1 generic-param).
 */
export function paramTextValue(paramText: string, name: string): string | null | undefined {
  const params: HeaderParam[] = [];
  try {
    scanHeaderParams(paramText, 0, params, false);
  } catch {
    return undefined;
  }
  return getParamText(params, name);
}

/** `;name=value…` text of header parameters (values raw, as received), leaving out the names in `skip` (lower case). */
export function paramsText(params: readonly HeaderParam[], skip: ReadonlySet<string>): string {
  let out = '';
  for (const p of params) {
    if (skip.has(p.name.toLowerCase())) continue;
    out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  }
  return out;
}

/** Whether `paramsText(params, skip)` would be exactly `text`, found without building it. */
export function paramsTextEquals(params: readonly HeaderParam[], skip: ReadonlySet<string>, text: string): boolean {
  let at = 0;
  for (const p of params) {
    if (skip.has(p.name.toLowerCase())) continue;
    if (text.charCodeAt(at) !== 0x3b /* ; */ || !text.startsWith(p.name, at + 1)) return false;
    at += 1 + p.name.length;
    if (p.value === null) continue;
    if (text.charCodeAt(at) !== 0x3d /* = */ || !text.startsWith(p.value, at + 1)) return false;
    at += 1 + p.value.length;
  }
  return at === text.length;
}
