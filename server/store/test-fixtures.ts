/**
 * Helpers shared by the store's tests and bench: temporary database directories and message factories.
 * Not used by production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageInput } from './message-store';

/** A fresh directory under the OS temp dir, and a function that removes it. */
export function tempDir(prefix = 'cpm-store-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

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
