/**
 * From and To tags (RFC 3261 §19.3) as the Conversation Server reads them in its dispatch and hooks.
 *
 * The message layer's `fromTag` / `toTag` throw on a From or To that does not parse. The server sees
 * messages no one has screened yet (its `wants` runs before any request check, and responses are not
 * checked at all), so here a broken value reads as "no tag": the message then matches no dialog, instead
 * of throwing inside an event listener.
 */
import { fromTag, toTag } from '../sip/message/header-fields';
import type { SipMessage } from '../sip/message/sip-message';

/** The From tag, or undefined when there is none or the From value does not parse. */
export function fromTagOrNone(message: SipMessage): string | undefined {
  return orNone(() => fromTag(message));
}

/** The To tag, or undefined when there is none (outside a dialog) or the To value does not parse. */
export function toTagOrNone(message: SipMessage): string | undefined {
  return orNone(() => toTag(message));
}

function orNone(read: () => string | undefined): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
