/**
 * The composer: Enter sends, Shift+Enter starts a new line. The text stays if sending fails.
 */
import { useState, type KeyboardEvent, type ReactNode } from 'react';
import { LIMITS } from '../../electron/api/validate';
import { useAppState } from '../state/store-context';

/** The composer of `conversationId`. */
export function Composer(props: { conversationId: string; peerName: string }): ReactNode {
  const send = useAppState((s) => s.send);
  const error = useAppState((s) => s.composerError);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);

  const submit = async () => {
    if (text.trim() === '' || sending) return;
    setSending(true);
    const sent = await send(props.conversationId, text);
    setSending(false);
    if (sent) setText('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form
      className="composer"
      aria-label="Write a message"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {error !== null ? <p className="field-error" role="alert">Not sent: {error}</p> : null}
      <div className="composer-row">
        <label htmlFor="composer-text" className="visually-hidden">Message to {props.peerName}</label>
        <textarea
          id="composer-text"
          rows={1}
          maxLength={LIMITS.messageTextLength}
          placeholder={`Message ${props.peerName}`}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={sending || text.trim() === ''}>Send</button>
      </div>
    </form>
  );
}
