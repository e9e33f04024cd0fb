/**
 * The app's layout: the first screen until an account is set; then the side bar (status, new chat,
 * invitations, conversations, settings) and the selected conversation, with the Join prompt on top.
 * Ctrl/Cmd+Shift+M opens the "Move this conversation to…" picker of the open conversation.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useAppState } from '../state/store-context';
import { ConversationList } from './conversation-list';
import { ConversationView } from './conversation-view';
import { JoinPrompt } from './join-prompt';
import { NewChatForm } from './new-chat-form';
import { RegistrationBadge } from './registration-badge';
import { SettingsPanel } from './settings-panel';
import { WelcomeScreen } from './welcome-screen';

/** True for the picker's shortcut: Ctrl+Shift+M, or Cmd+Shift+M on macOS. */
export function isMoveShortcut(event: Pick<KeyboardEvent, 'key' | 'code' | 'shiftKey' | 'ctrlKey' | 'metaKey' | 'altKey'>): boolean {
  return event.shiftKey && !event.altKey && (event.ctrlKey || event.metaKey) && (event.code === 'KeyM' || event.key.toLowerCase() === 'm');
}

/** Invitations to chat waiting for an answer. */
function Invitations(): ReactNode {
  const invitations = useAppState((s) => s.invitations);
  const accept = useAppState((s) => s.acceptInvitation);
  const decline = useAppState((s) => s.declineInvitation);
  if (invitations.length === 0) return null;
  return (
    <ul className="invitations" aria-label="Chat invitations">
      {invitations.map((i) => {
        const name = i.peerDisplayName.trim() || i.peerUri;
        return (
          <li key={i.sessionId} className="invitation">
            <span>{name} wants to chat</span>
            <button type="button" onClick={() => void decline(i.sessionId)} aria-label={`Decline chat with ${name}`}>Decline</button>
            <button type="button" className="primary" onClick={() => void accept(i.sessionId)} aria-label={`Accept chat with ${name}`}>Accept</button>
          </li>
        );
      })}
    </ul>
  );
}

/** The root component. */
export function App(): ReactNode {
  const accountLoaded = useAppState((s) => s.accountLoaded);
  const account = useAppState((s) => s.account);
  const selectedId = useAppState((s) => s.selectedId);
  const openPicker = useAppState((s) => s.openPicker);
  const connectionLost = useAppState((s) => s.connectionLost);
  const notice = useAppState((s) => s.notice);
  const dismissNotice = useAppState((s) => s.dismissNotice);
  const [settingsOpen, setSettingsOpen] = useState(false);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!isMoveShortcut(event) || selectedId === null) return;
      event.preventDefault();
      openPicker();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [selectedId, openPicker]);

  if (!accountLoaded) return <div className="splash" role="status">Starting…</div>;

  return (
    <>
      {connectionLost ? <div className="connection-lost" role="alert">The connection to this device was lost. Reload to reconnect.</div> : null}
      {account === null ? (
        <WelcomeScreen />
      ) : (
        <div className="layout">
          <nav className="sidebar" aria-label="Chats">
            <div className="sidebar-header">
              <div className="identity">
                <span className="identity-name">{account.displayName || account.uri}</span>
                <span className="identity-device">{account.deviceName}</span>
              </div>
              <button type="button" className="icon-button" aria-label="Settings" title="Settings" onClick={() => setSettingsOpen(true)}>⚙</button>
            </div>
            <RegistrationBadge />
            <NewChatForm />
            <Invitations />
            <ConversationList />
          </nav>
          {selectedId !== null ? (
            <ConversationView key={selectedId} conversationId={selectedId} />
          ) : (
            <section className="conversation-view empty" aria-label="Conversation">
              <p className="empty-note">Choose a conversation, or start a new one.</p>
            </section>
          )}
        </div>
      )}
      <JoinPrompt />
      {notice !== null ? (
        <div className="toast" role="alert">
          <span>{notice}</span>
          <button type="button" className="link" onClick={dismissNotice}>Dismiss</button>
        </div>
      ) : null}
      {settingsOpen ? <SettingsPanel onClose={() => setSettingsOpen(false)} /> : null}
    </>
  );
}
