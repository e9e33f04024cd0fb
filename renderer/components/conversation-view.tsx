/**
 * One conversation: its header (peer, session state, "Move to…"), the move banner, the history and the
 * composer — or, once the conversation moved to another device, a read-only note saying where it went.
 */
import { useEffect, type ReactNode } from 'react';
import type { SessionStateName } from '../../electron/api/payloads';
import { useAppState } from '../state/store-context';
import { Composer } from './composer';
import { MessageHistory } from './message-history';
import { MovePicker } from './move-picker';
import { TransferBanner } from './transfer-banner';

const SESSION_TEXT: Readonly<Record<SessionStateName, string>> = {
  connecting: 'Connecting…',
  ringing: 'Waiting for an answer…',
  active: 'Live chat',
  ended: 'Session ended',
  failed: 'Session failed',
};

/** The view of `conversationId`. */
export function ConversationView(props: { conversationId: string }): ReactNode {
  const { conversationId } = props;
  const summary = useAppState((s) => s.conversations.find((c) => c.id === conversationId));
  const session = useAppState((s) => s.sessions[conversationId]);
  const movedAway = useAppState((s) => s.movedAway[conversationId]);
  const pickerOpen = useAppState((s) => s.pickerOpen);
  const openPicker = useAppState((s) => s.openPicker);
  const startChat = useAppState((s) => s.startChat);
  const markDisplayed = useAppState((s) => s.markDisplayed);
  const newestId = useAppState((s) => s.histories[conversationId]?.messages.at(-1)?.id);

  useEffect(() => {
    if (document.visibilityState === 'visible') markDisplayed(conversationId);
  }, [conversationId, newestId, summary?.unreadCount, markDisplayed]);

  if (summary === undefined) return <section className="conversation-view empty" aria-label="Conversation" />;
  const peerName = summary.peerDisplayName.trim() || summary.peerUri;
  const sessionActive = summary.activeSessionId !== null && (session === undefined || session.state === 'active');
  const sessionText = movedAway ? `Continues on ${movedAway.deviceName}` : session ? SESSION_TEXT[session.state] : sessionActive ? 'Live chat' : 'No live session';

  return (
    <section className="conversation-view" aria-label={`Conversation with ${peerName}`}>
      <header className="conversation-header">
        <div className="conversation-title">
          <h2>{peerName}</h2>
          <p className="conversation-subtitle">
            <span>{summary.peerUri}</span> · <span>{sessionText}</span>
          </p>
        </div>
        {movedAway ? null : (
          <button type="button" onClick={openPicker} aria-keyshortcuts="Control+Shift+M Meta+Shift+M" aria-haspopup="dialog" title="Move this conversation to another of your devices (Ctrl/Cmd+Shift+M)">
            Move to…
          </button>
        )}
      </header>
      <TransferBanner conversationId={conversationId} />
      <MessageHistory conversationId={conversationId} peerName={peerName} />
      {movedAway ? (
        <div className="moved-away" role="note">
          <p>This conversation moved to <strong>{movedAway.deviceName}</strong>. You can read it here; new messages go there.</p>
          <button type="button" onClick={() => void startChat(summary.peerUri)}>Continue here instead</button>
        </div>
      ) : (
        <Composer conversationId={conversationId} peerName={peerName} />
      )}
      {pickerOpen && !movedAway ? <MovePicker conversationId={conversationId} peerName={peerName} sessionActive={sessionActive} /> : null}
    </section>
  );
}
