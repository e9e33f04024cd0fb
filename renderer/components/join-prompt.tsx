/**
 * The in-app Join prompt on the target device: "Continue your conversation with Bob here? (moved from
 * Laptop)" with Accept and Decline, and the seconds left before the request expires (60 s, PROFILE.md).
 * It sits at the top of the window without blocking anything else. The countdown runs from the moment
 * the request reached this window (`PendingJoin.receivedAt`), not from when the page loaded.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import { joinQuestion } from '../format/transfer-text';
import { useAppState } from '../state/store-context';

/** The wall clock, read at each call (whatever `Date` is then). */
const systemNow = (): number => Date.now();

/** The prompt for the oldest pending Join request (nothing when there is none). */
export function JoinPrompt(props: { now?: () => number }): ReactNode {
  const requests = useAppState((s) => s.joinRequests);
  const acceptJoin = useAppState((s) => s.acceptJoin);
  const declineJoin = useAppState((s) => s.declineJoin);
  const expire = useAppState((s) => s.expireJoinRequests);
  const error = useAppState((s) => s.joinError);
  const now = props.now ?? systemNow;
  const [clock, setClock] = useState(now);
  const titleId = useId();
  const request = requests[0];

  useEffect(() => {
    if (request === undefined) return;
    const timer = setInterval(() => {
      const t = now();
      setClock(t);
      expire(t);
    }, 1000);
    return () => clearInterval(timer);
  }, [request, now, expire]);

  if (request === undefined) {
    return error !== null ? <div className="join-prompt problem" role="alert">{error}</div> : null;
  }
  // The clock is only read every second while a prompt is up: a newer request starts from its arrival.
  const seconds = Math.max(0, Math.ceil((request.deadline - Math.max(clock, request.receivedAt)) / 1000));
  return (
    <section className="join-prompt" role="alertdialog" aria-modal="false" aria-labelledby={titleId} aria-describedby={`${titleId}-time`}>
      <p id={titleId} className="join-question">{joinQuestion(request)}</p>
      <p id={`${titleId}-time`} className="join-time">{seconds} s left</p>
      <div className="join-actions">
        <button type="button" onClick={() => void declineJoin(request.joinId)}>Decline</button>
        <button type="button" className="primary" onClick={() => void acceptJoin(request.joinId)}>Accept</button>
      </div>
    </section>
  );
}
