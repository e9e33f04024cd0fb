/**
 * Settings: the account this device is signed in with, "auto-accept moves from my own devices" (off by
 * default), and sign out.
 */
import { useId, type ReactNode } from 'react';
import { useAppState } from '../state/store-context';

/** The panel (a dialog opened from the side bar). */
export function SettingsPanel(props: { onClose: () => void }): ReactNode {
  const account = useAppState((s) => s.account);
  const autoAccept = useAppState((s) => s.autoAccept);
  const setAutoAccept = useAppState((s) => s.setAutoAccept);
  const error = useAppState((s) => s.settingsError);
  const signOut = useAppState((s) => s.signOut);
  const titleId = useId();

  return (
    <div className="picker-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        className="picker settings"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={(e) => {
          if (e.key === 'Escape') props.onClose();
        }}
      >
        <h2 id={titleId}>Settings</h2>
        {account ? (
          <dl className="account-details">
            <dt>Signed in as</dt>
            <dd>{account.uri}</dd>
            <dt>This device</dt>
            <dd>{account.deviceName}</dd>
            <dt>Server</dt>
            <dd>{account.websocketUrl}</dd>
          </dl>
        ) : null}
        <label className="switch">
          <input type="checkbox" role="switch" checked={autoAccept} onChange={(e) => void setAutoAccept(e.target.checked)} autoFocus />
          <span>Accept moves from my own devices without asking</span>
        </label>
        {error !== null ? <p className="field-error" role="alert">{error}</p> : null}
        <div className="picker-actions">
          <button type="button" className="danger" onClick={() => void signOut().finally(props.onClose)}>Sign out</button>
          <button type="button" className="primary" onClick={props.onClose}>Done</button>
        </div>
      </div>
    </div>
  );
}
