/**
 * The move's progress and result on the source, above the history; it never blocks the chat. On the
 * target, the same place says the chat is arriving from the other device.
 */
import type { ReactNode } from 'react';
import { isFinalPhase, moveProgressText } from '../format/transfer-text';
import { useAppState } from '../state/store-context';
import { isTargetFinalPhase } from '../state/transfer-slice';

/** The banner of `conversationId` (nothing when there is no move). */
export function TransferBanner(props: { conversationId: string }): ReactNode {
  const move = useAppState((s) => s.moves[props.conversationId]);
  const joined = useAppState((s) => s.joined[props.conversationId]);
  const dismiss = useAppState((s) => s.dismissMove);

  if (move !== undefined && move.phase !== 'completed') {
    const final = isFinalPhase(move.phase);
    const tone = final ? 'problem' : 'progress';
    return (
      <div className={`transfer-banner ${tone}`} role="status" aria-live="polite">
        {!final ? <span className="spinner" aria-hidden="true" /> : null}
        <span>{final && move.description !== null ? move.description : moveProgressText(move.phase, move.targetName, move.statusCode, move.error)}</span>
        {final ? <button type="button" className="link" onClick={() => dismiss(props.conversationId)}>Dismiss</button> : null}
      </div>
    );
  }
  // On the target the move is over at its final event (`replaced` when it worked): the banner goes.
  if (joined !== undefined && !isTargetFinalPhase(joined.phase)) {
    return (
      <div className="transfer-banner progress" role="status" aria-live="polite">
        <span className="spinner" aria-hidden="true" />
        <span>Bringing the chat over from {joined.sourceDeviceName}…</span>
      </div>
    );
  }
  return null;
}
