/**
 * Helpers for the history's tests and bench: temporary data folders and chat messages. Not used by
 * production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage } from '../../../api/payloads';

/** The account the fixtures write for. */
export const SELF = 'sip:alice@a.example';
/** Its peer. */
export const PEER = 'sip:bob@b.example';

/** A fresh folder under the OS temp dir, and a function that removes it. */
export function tempDataDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cpm-history-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A chat message; `i` sets the id (`m<i>`), the text and the timestamp (one second apart). */
export function chat(i: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  const outgoing = i % 2 === 0;
  return {
    id: `m${i}`,
    conversationId: 'conv-1',
    direction: outgoing ? 'outgoing' : 'incoming',
    senderUri: outgoing ? SELF : PEER,
    text: `message ${i}`,
    timestamp: Date.UTC(2026, 10, 26, 20, 0, 0) + i * 1000,
    status: outgoing ? 'sent' : 'delivered',
    ...overrides,
  };
}
