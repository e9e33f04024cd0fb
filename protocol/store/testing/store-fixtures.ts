/**
 * Message factories for the tests and benches of the Message Store and of its clients. Not used by
 * production code.
 */
import type { MessageInput } from '../store-types';

/** A valid message; override any field. */
export function message(overrides: Partial<MessageInput> = {}): MessageInput {
  return {
    conversationId: 'conv-1',
    messageId: 'msg-1',
    sender: 'sip:alice@a.example',
    recipient: 'sip:bob@b.example',
    direction: 'out',
    dateTime: '2026-11-26T20:00:00.000Z',
    contentType: 'text/plain;charset=utf-8',
    body: 'hello',
    ...overrides,
  };
}

/** `count` valid messages of one conversation with ids `${prefix}${start + i}`. */
export function messages(count: number, options: { conversationId?: string; prefix?: string; start?: number } = {}): MessageInput[] {
  const { conversationId = 'conv-1', prefix = 'msg-', start = 0 } = options;
  return Array.from({ length: count }, (_, i) => message({ conversationId, messageId: `${prefix}${start + i}`, body: `message ${start + i}` }));
}
