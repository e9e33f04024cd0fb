/**
 * The side bar's conversation list: peer, last message, time and unread count, most recent first.
 * Arrow keys move between conversations (one tab stop), Enter or click opens one.
 */
import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import { formatListTime } from '../format/time';
import { useAppState } from '../state/store-context';

/** The list. */
export function ConversationList(): ReactNode {
  const conversations = useAppState((s) => s.conversations);
  const selectedId = useAppState((s) => s.selectedId);
  const movedAway = useAppState((s) => s.movedAway);
  const select = useAppState((s) => s.select);
  const list = useRef<HTMLUListElement>(null);

  if (conversations.length === 0) {
    return <p className="empty-note">No conversations yet. Start one above.</p>;
  }

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const buttons = [...(list.current?.querySelectorAll<HTMLButtonElement>('button.conversation') ?? [])];
    const at = buttons.findIndex((b) => b === document.activeElement);
    const next = buttons[Math.min(buttons.length - 1, Math.max(0, at + (event.key === 'ArrowDown' ? 1 : -1)))];
    next?.focus();
  };

  return (
    <ul className="conversation-list" aria-label="Conversations" ref={list} onKeyDown={onKeyDown}>
      {conversations.map((c) => {
        const name = c.peerDisplayName.trim() || c.peerUri;
        const selected = c.id === selectedId;
        const away = movedAway[c.id];
        const unread = c.unreadCount > 0 ? `, ${c.unreadCount} unread` : '';
        return (
          <li key={c.id}>
            <button
              type="button"
              className={selected ? 'conversation selected' : 'conversation'}
              aria-current={selected ? 'true' : undefined}
              aria-label={`${name}${unread}${away ? `, moved to ${away.deviceName}` : ''}`}
              tabIndex={selected || (selectedId === null && c === conversations[0]) ? 0 : -1}
              onClick={() => select(c.id)}
            >
              <span className="avatar" aria-hidden="true">{initials(name)}</span>
              <span className="conversation-text">
                <span className="conversation-top">
                  <span className="conversation-name">{name}</span>
                  <time className="conversation-time" dateTime={new Date(c.updatedAt).toISOString()}>{formatListTime(c.updatedAt)}</time>
                </span>
                <span className="conversation-bottom">
                  <span className="conversation-last">{away ? `Continues on ${away.deviceName}` : c.lastMessageText ?? 'No messages yet'}</span>
                  {c.unreadCount > 0 ? <span className="unread-count" aria-hidden="true">{c.unreadCount > 99 ? '99+' : c.unreadCount}</span> : null}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The avatar's letters: the initials of the first two words, or the first letter. */
export function initials(name: string): string {
  const cleaned = name.replace(/^sips?:|^tel:/i, '').replace(/@.*$/, '');
  const words = cleaned.split(/[\s._-]+/).filter(Boolean);
  const letters = words.length >= 2 ? `${words[0]![0]}${words[1]![0]}` : cleaned.slice(0, 1);
  return letters.toUpperCase() || '?';
}
