/**
 * The registration status: a coloured dot and a word, with the cause when registration failed.
 */
import type { ReactNode } from 'react';
import type { RegistrationStateName } from '../../electron/api/payloads';
import { useAppState } from '../state/store-context';

/** How each registration state reads. */
export const REGISTRATION_TEXT: Readonly<Record<RegistrationStateName, string>> = {
  unregistered: 'Offline',
  registering: 'Connecting…',
  registered: 'Online',
  refreshing: 'Online',
  failed: 'Not connected',
};

/** The badge. */
export function RegistrationBadge(): ReactNode {
  const registration = useAppState((s) => s.registration);
  const text = REGISTRATION_TEXT[registration.state];
  const detail = registration.state === 'failed' && registration.cause ? ` (${registration.cause})` : '';
  return (
    <div className={`registration registration-${registration.state}`} role="status" aria-live="polite" aria-label={`Registration: ${text}${detail}`}>
      <span className="registration-dot" aria-hidden="true" />
      <span>{text}</span>
      {detail ? <span className="registration-cause">{detail}</span> : null}
    </div>
  );
}
