/**
 * Identifier generators for CPM (PROFILE.md): Conversation-ID and Contribution-ID as UUIDs, CPIM
 * `imdn.Message-ID`s (RFC 5438 §6.3: globally unique; 96 random bits here).
 */
import { randomAlphanumeric, randomUuid } from '../common/random';

/** A new Conversation-ID (kept across devices and sessions of one conversation). */
export function newConversationId(): string {
  return randomUuid();
}

/** A new Contribution-ID (one per session). */
export function newContributionId(): string {
  return randomUuid();
}

/** A new `imdn.Message-ID` for a CPIM message or notification. */
export function newImdnMessageId(): string {
  return randomAlphanumeric(96);
}
