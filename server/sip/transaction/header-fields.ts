/**
 * Compatibility only: names code outside server/sip still imports from here. They hold no parsing of
 * their own; the grammar is the message layer's. Import from `../message/` instead (`parseVia` from
 * `via.ts`, `fromTag` / `toTag` from `header-fields.ts`); this file goes once nothing imports it.
 */
import { parseNameAddr, tagOf } from '../message/name-addr';

export { parseVia } from '../message/via';

/**
 * The `tag` parameter of a From or To value, or undefined when there is none or the value does not parse.
 * @deprecated use `fromTag(message)` / `toTag(message)` from `../message/header-fields`.
 */
export function tagParam(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return tagOf(parseNameAddr(value));
  } catch {
    return undefined;
  }
}

