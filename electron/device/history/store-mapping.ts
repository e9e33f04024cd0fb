/**
 * How a device's messages (`ChatMessage`, the DeviceApi's shape) map to and from the Message Store's
 * (`protocol/store`): direction, sender and recipient, CPIM DateTime (RFC 3862 §3.3, RFC 3339) and delivery
 * state (RFC 5438 IMDN outcomes).
 */
import type { ChatMessage, MessageStatus } from '../../api/payloads';
import type { DeliveryState, MessageInput, StoredMessage } from '../../../protocol/store/store-types';

/** Content type of what the DeviceApi carries (text chat). */
export const TEXT_CONTENT_TYPE = 'text/plain;charset=utf-8';

/**
 * Rank of a status when two copies of one message meet (a merge from the store): the further along wins.
 * A positive IMDN after a failure wins, as in the store (`none < failed < delivered < displayed`).
 */
export const MERGE_RANK: Readonly<Record<MessageStatus, number>> = { pending: 0, sent: 1, failed: 2, delivered: 3, displayed: 4 };

/** Epoch ms of an RFC 3339 date-time (a leap second `:60` counts as `:59`); NaN when unparsable. */
export function parseDateTime(value: string): number {
  return Date.parse(value.replace(/:60(?=[.Zz+-])/, ':59'));
}

/** The store's delivery state for a local status. Our own incoming messages only ever reach `displayed`. */
export function toDelivery(message: Pick<ChatMessage, 'direction' | 'status'>): DeliveryState {
  if (message.direction === 'incoming') return message.status === 'displayed' ? 'displayed' : 'none';
  switch (message.status) {
    case 'pending':
    case 'sent':
      return 'none';
    default:
      return message.status;
  }
}

/** The local status for a stored message's delivery state. */
export function fromDelivery(direction: 'in' | 'out', delivery: DeliveryState): MessageStatus {
  if (direction === 'in') return delivery === 'displayed' ? 'displayed' : 'delivered';
  return delivery === 'none' ? 'sent' : delivery;
}

/**
 * What a device deposits for one of its messages. `self` is the account's AOR (the recipient of incoming
 * messages), `peerUri` the conversation's peer (the recipient of outgoing ones).
 */
export function toDeposit(message: ChatMessage, self: string, peerUri: string): MessageInput {
  const out = message.direction === 'outgoing';
  return {
    conversationId: message.conversationId,
    messageId: message.id,
    sender: message.senderUri,
    recipient: out ? peerUri : self,
    direction: out ? 'out' : 'in',
    dateTime: new Date(message.timestamp).toISOString(),
    contentType: TEXT_CONTENT_TYPE,
    body: message.text,
    delivery: toDelivery(message),
  };
}

/** A stored message as the device shows it. */
export function fromStored(stored: StoredMessage): ChatMessage {
  return {
    id: stored.messageId,
    conversationId: stored.conversationId,
    direction: stored.direction === 'out' ? 'outgoing' : 'incoming',
    senderUri: stored.sender,
    text: stored.body,
    timestamp: parseDateTime(stored.dateTime),
    status: fromDelivery(stored.direction, stored.delivery),
  };
}

/** The peer of a conversation as seen from one of its messages. */
export function peerOf(stored: Pick<StoredMessage, 'direction' | 'sender' | 'recipient'>): string {
  return stored.direction === 'out' ? stored.recipient : stored.sender;
}
