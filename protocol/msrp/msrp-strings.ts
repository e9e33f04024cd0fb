/**
 * Strings kept for a session's life. A string built piece by piece (`+=`, a template literal) is a tree of its
 * pieces in V8, 32 bytes a node, until something flattens it; an id, a map key or a header line kept as long as
 * its session should cost its characters only.
 */

/** `text` as one flat string of its own (a JSON round trip makes a flat copy; V8 builds no tree under 13 characters). */
export function compactString(text: string): string {
  return text.length < 13 ? text : (JSON.parse(JSON.stringify(text)) as string);
}
