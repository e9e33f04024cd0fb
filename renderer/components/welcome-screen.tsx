/**
 * The first screen: "Try it locally" (starts the embedded lab network and signs this device in to it) and
 * the manual account form (SIP URI, password, WebSocket URL, transfer service URI, Message Store URL and
 * whether this device deposits into it, device name).
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { AccountConfig } from '../../electron/api/payloads';
import { accountConfig as validateAccountConfig } from '../../electron/api/validate';
import { useAppState } from '../state/store-context';

/** The form's text fields, as typed. */
interface FormFields {
  uri: string;
  password: string;
  websocketUrl: string;
  transferServiceUri: string;
  messageStoreUrl: string;
  deviceName: string;
  displayName: string;
}

/** The form's switches. */
interface FormSwitches {
  /** This device deposits its messages in the Message Store (the server's Conversation Server is a proxy). */
  depositHistory: boolean;
}

/** The AccountConfig for what was typed, or the first problem in words the user understands. */
export function accountFromForm(
  fields: FormFields,
  switches: FormSwitches = { depositHistory: false },
): { ok: true; config: AccountConfig } | { ok: false; field: keyof FormFields; problem: string } {
  const uri = /^sips?:/i.test(fields.uri.trim()) ? fields.uri.trim() : `sip:${fields.uri.trim()}`;
  const candidate: AccountConfig = {
    uri,
    displayName: fields.displayName.trim(),
    deviceName: fields.deviceName.trim(),
    password: fields.password,
    websocketUrl: fields.websocketUrl.trim(),
    ...(fields.transferServiceUri.trim() ? { transferServiceUri: fields.transferServiceUri.trim() } : {}),
    ...(fields.messageStoreUrl.trim() ? { messageStoreUrl: fields.messageStoreUrl.trim() } : {}),
    ...(switches.depositHistory ? { depositHistory: true } : {}),
  };
  const checked = validateAccountConfig(candidate, 'account');
  if (checked.ok) return { ok: true, config: checked.value };
  const named = /^account\.(\w+)/.exec(checked.error)?.[1];
  // Depositing needs a store: point at the store field, where the fix is.
  const field = (named === 'depositHistory' ? 'messageStoreUrl' : named) as keyof FormFields | undefined;
  const problems: Partial<Record<keyof FormFields, string>> = {
    uri: 'Enter your address, such as alice@a.example.',
    password: 'Enter your password.',
    websocketUrl: 'Enter the server address, such as wss://sip.a.example/ws.',
    transferServiceUri: 'Enter a SIP address such as sip:cpm-transfer@a.example, or leave it empty.',
    messageStoreUrl: switches.depositHistory
      ? 'Enter the Message Store address, such as https://store.a.example/, to deposit your messages there.'
      : 'Enter the Message Store address, such as https://store.a.example/, or leave it empty.',
    deviceName: 'Name this device, such as Laptop (at most 64 characters).',
    displayName: 'Your name is too long.',
  };
  const key = field !== undefined && field in problems ? field : 'uri';
  return { ok: false, field: key, problem: problems[key] ?? checked.error };
}

const FIELDS: ReadonlyArray<{ name: keyof FormFields; label: string; type: string; placeholder: string; autoComplete: string }> = [
  { name: 'uri', label: 'SIP address', type: 'text', placeholder: 'alice@a.example', autoComplete: 'username' },
  { name: 'password', label: 'Password', type: 'password', placeholder: '', autoComplete: 'current-password' },
  { name: 'websocketUrl', label: 'WebSocket URL', type: 'url', placeholder: 'wss://sip.a.example/ws', autoComplete: 'off' },
  { name: 'transferServiceUri', label: 'Transfer service (optional)', type: 'text', placeholder: 'sip:cpm-transfer@a.example', autoComplete: 'off' },
  { name: 'messageStoreUrl', label: 'Message Store URL (optional)', type: 'url', placeholder: 'https://store.a.example/', autoComplete: 'off' },
  { name: 'deviceName', label: 'This device’s name', type: 'text', placeholder: 'Laptop', autoComplete: 'off' },
  { name: 'displayName', label: 'Your name (optional)', type: 'text', placeholder: 'Alice', autoComplete: 'name' },
];

/** The screen. */
export function WelcomeScreen(): ReactNode {
  const signIn = useAppState((s) => s.signIn);
  const tryLocally = useAppState((s) => s.tryLocally);
  const canTryLocally = useAppState((s) => s.canTryLocally);
  const signingIn = useAppState((s) => s.signingIn);
  const serverError = useAppState((s) => s.signInError);
  const [fields, setFields] = useState<FormFields>({ uri: '', password: '', websocketUrl: '', transferServiceUri: '', messageStoreUrl: '', deviceName: '', displayName: '' });
  const [switches, setSwitches] = useState<FormSwitches>({ depositHistory: false });
  const [labDevice, setLabDevice] = useState('Laptop');
  const [problem, setProblem] = useState<{ field: keyof FormFields; text: string } | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = accountFromForm(fields, switches);
    if (!result.ok) {
      setProblem({ field: result.field, text: result.problem });
      document.getElementById(`account-${result.field}`)?.focus();
      return;
    }
    setProblem(null);
    void signIn(result.config);
  };

  return (
    <main className="welcome">
      <h1>CPM Handoff</h1>
      <p className="tagline">Chat from any of your devices, and move a live conversation between them.</p>
      <div className="welcome-cards">
        <section className="card" aria-labelledby="try-title">
          <h2 id="try-title">Try it locally</h2>
          <p>Starts a small test network on this computer, with a contact to talk to. Nothing leaves your machine.</p>
          <label htmlFor="lab-device">This device’s name</label>
          <input id="lab-device" type="text" value={labDevice} maxLength={64} onChange={(e) => setLabDevice(e.target.value)} />
          <button type="button" className="primary" disabled={!canTryLocally || signingIn || labDevice.trim() === ''} onClick={() => void tryLocally(labDevice.trim())}>
            Try it locally
          </button>
          {!canTryLocally ? <p className="note">Not available in this build: sign in to a server instead.</p> : null}
        </section>
        <section className="card" aria-labelledby="account-title">
          <h2 id="account-title">Sign in to your server</h2>
          <form onSubmit={submit} noValidate>
            {FIELDS.map((f) => (
              <div className="field" key={f.name}>
                <label htmlFor={`account-${f.name}`}>{f.label}</label>
                <input
                  id={`account-${f.name}`}
                  name={f.name}
                  type={f.type}
                  placeholder={f.placeholder}
                  autoComplete={f.autoComplete}
                  spellCheck={false}
                  value={fields[f.name]}
                  onChange={(e) => {
                    setFields({ ...fields, [f.name]: e.target.value });
                    if (problem?.field === f.name) setProblem(null);
                  }}
                  aria-invalid={problem?.field === f.name}
                  aria-describedby={problem?.field === f.name ? 'account-problem' : undefined}
                />
              </div>
            ))}
            <label className="switch">
              <input
                id="account-depositHistory"
                type="checkbox"
                checked={switches.depositHistory}
                onChange={(e) => {
                  setSwitches({ depositHistory: e.target.checked });
                  if (problem?.field === 'messageStoreUrl') setProblem(null);
                }}
              />
              <span>Save my messages to the Message Store from this device (when the server does not)</span>
            </label>
            {problem !== null ? <p id="account-problem" className="field-error" role="alert">{problem.text}</p> : null}
            <button type="submit" className="primary" disabled={signingIn}>{signingIn ? 'Signing in…' : 'Sign in'}</button>
          </form>
        </section>
      </div>
      {serverError !== null ? <p className="field-error" role="alert">{serverError}</p> : null}
    </main>
  );
}
