/**
 * "New chat": a SIP URI field and a button; `bob@b.example` is accepted for `sip:bob@b.example`.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { uri as validateUri } from '../../electron/api/validate';
import { useAppState } from '../state/store-context';

/** The URI the user meant: adds `sip:` when there is no scheme. */
export function normalizeChatUri(input: string): string {
  const trimmed = input.trim();
  return /^(sips?|tel):/i.test(trimmed) ? trimmed : `sip:${trimmed}`;
}

/** The form. */
export function NewChatForm(): ReactNode {
  const startChat = useAppState((s) => s.startChat);
  const serverError = useAppState((s) => s.newChatError);
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const target = normalizeChatUri(value);
    const checked = validateUri(target, 'address');
    if (!checked.ok) {
      setProblem('Enter an address such as bob@b.example or sip:bob@b.example.');
      return;
    }
    setProblem(null);
    setBusy(true);
    const started = await startChat(checked.value);
    setBusy(false);
    if (started) setValue('');
  };

  const error = problem ?? serverError;
  return (
    <form className="new-chat" onSubmit={submit} aria-label="New chat">
      <label htmlFor="new-chat-uri" className="visually-hidden">Address to chat with</label>
      <input
        id="new-chat-uri"
        type="text"
        inputMode="email"
        autoComplete="off"
        spellCheck={false}
        placeholder="New chat: bob@b.example"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        aria-invalid={error !== null}
        aria-describedby={error !== null ? 'new-chat-error' : undefined}
      />
      <button type="submit" disabled={busy || value.trim() === ''}>Chat</button>
      {error !== null ? <p id="new-chat-error" className="field-error" role="alert">{error}</p> : null}
    </form>
  );
}
