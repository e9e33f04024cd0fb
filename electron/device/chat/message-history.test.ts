import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../api/payloads';
import { MemoryMessageHistory } from './message-history';

function msg(id: string, conversationId = 'conv-1', text = id): ChatMessage {
  return { id, conversationId, direction: 'incoming', senderUri: 'sip:bob@b.example', text, timestamp: 1000, status: 'delivered' };
}

describe('MemoryMessageHistory', () => {
  it('keeps each conversation’s messages in append order and pages them newest first', () => {
    const h = new MemoryMessageHistory();
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) h.append(msg(id));
    h.append(msg('x1', 'conv-2'));
    const first = h.page('conv-1', { limit: 2 });
    expect(first.messages.map((m) => m.id)).toEqual(['m5', 'm4']);
    expect(first.hasMore).toBe(true);
    const second = h.page('conv-1', { limit: 2, before: 'm4' });
    expect(second.messages.map((m) => m.id)).toEqual(['m3', 'm2']);
    const last = h.page('conv-1', { limit: 2, before: 'm2' });
    expect(last).toEqual({ messages: [msg('m1')], hasMore: false });
    expect(h.page('conv-2', { limit: 10 }).messages.map((m) => m.id)).toEqual(['x1']);
    expect(h.page('nothing', { limit: 10 })).toEqual({ messages: [], hasMore: false });
  });

  it('refuses a second message with the same imdn.Message-ID in a conversation, keeping the first', () => {
    const h = new MemoryMessageHistory();
    expect(h.append(msg('m1', 'conv-1', 'first'))).toBe(true);
    expect(h.append(msg('m1', 'conv-1', 'again'))).toBe(false);
    expect(h.append(msg('m1', 'conv-2', 'elsewhere'))).toBe(true);
    expect(h.get('conv-1', 'm1')?.text).toBe('first');
    expect(h.since('conv-1', undefined)).toHaveLength(1);
  });

  it('changes a status and hands out copies that cannot change what is stored', () => {
    const h = new MemoryMessageHistory();
    h.append(msg('m1'));
    expect(h.setStatus('conv-1', 'm1', 'displayed')?.status).toBe('displayed');
    expect(h.setStatus('conv-1', 'unknown', 'displayed')).toBeUndefined();
    const copy = h.get('conv-1', 'm1')!;
    copy.text = 'tampered';
    expect(h.get('conv-1', 'm1')!.text).toBe('m1');
  });

  it('lists what was appended after a message', () => {
    const h = new MemoryMessageHistory();
    for (const id of ['m1', 'm2', 'm3']) h.append(msg(id));
    expect(h.since('conv-1', 'm1').map((m) => m.id)).toEqual(['m2', 'm3']);
    expect(h.since('conv-1', 'm3')).toEqual([]);
  });

  it('rejects a bad page limit and an unknown cursor with a RangeError', () => {
    const h = new MemoryMessageHistory();
    h.append(msg('m1'));
    expect(() => h.page('conv-1', { limit: 0 })).toThrow(RangeError);
    expect(() => h.page('conv-1', { limit: 1.5 })).toThrow('page limit must be a positive integer (got 1.5)');
    expect(() => h.page('conv-1', { limit: 5, before: 'nope' })).toThrow('no message "nope" in conversation conv-1');
  });

  it('lists conversations most recently updated first', () => {
    const h = new MemoryMessageHistory();
    const base = { peerDisplayName: '', lastMessageText: null, unreadCount: 0 };
    h.saveConversation({ id: 'a', peerUri: 'sip:a@x', updatedAt: 1, ...base });
    h.saveConversation({ id: 'b', peerUri: 'sip:b@x', updatedAt: 3, ...base });
    h.saveConversation({ id: 'c', peerUri: 'sip:c@x', updatedAt: 2, ...base });
    h.saveConversation({ id: 'a', peerUri: 'sip:a@x', updatedAt: 4, ...base });
    expect(h.conversations().map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(h.conversation('zzz')).toBeUndefined();
  });
});
