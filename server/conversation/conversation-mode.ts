/**
 * How a Conversation Server takes part in CPM sessions (PROFILE.md, actors): `in-path` anchors each session
 * as a B2BUA and MSRP relay (the seed's flow 1); `proxy` Record-Routes and forwards the session, staying out
 * of the media path (flow 2). Each domain picks its own mode; all four pairs must work.
 */

/** The modes of a Conversation Server. */
export type ConversationMode = 'in-path' | 'proxy';

/** Every mode, in the order they are documented. */
export const CONVERSATION_MODES: readonly ConversationMode[] = ['in-path', 'proxy'];

/** True when `value` names a mode. */
export function isConversationMode(value: unknown): value is ConversationMode {
  return typeof value === 'string' && (CONVERSATION_MODES as readonly string[]).includes(value);
}

/** Read a mode from configuration text; throws an Error naming the setting and the allowed values. */
export function parseConversationMode(value: string, setting = 'mode'): ConversationMode {
  if (isConversationMode(value)) return value;
  throw new Error(`${setting} must be one of ${CONVERSATION_MODES.join(', ')} (got ${JSON.stringify(value)})`);
}
