/**
 * What the user reads about a move, on the source (progress in the conversation's banner) and the target
 * (the join prompt). The SIP status codes are those PROFILE.md gives each refusal.
 */
import type { JoinRequest, TransferPhase } from '../../electron/api/payloads';

/** Why a move was refused, by the SIP status of the REFER's answer or of the final NOTIFY sipfrag. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'the request was malformed',
  403: 'the server did not allow it',
  404: 'the server does not know that device',
  408: 'the device did not answer in time',
  480: 'that device is not reachable right now',
  481: 'the chat session no longer exists',
  486: 'that device is busy',
  488: 'this chat cannot be moved',
  491: 'another move of this chat is under way',
  500: 'the server failed',
  503: 'the service is unavailable',
  603: 'it was declined on that device',
};

/** The reason for a status code, or a generic one with the code. */
export function statusReason(statusCode: number | null): string | null {
  if (statusCode === null) return null;
  return REASONS[statusCode] ?? `the server answered ${statusCode}`;
}

/** The state of a move as the source shows it. */
export type MoveProgressPhase = TransferPhase | 'sending';

/** True for the phases after which nothing more happens. */
export function isFinalPhase(phase: MoveProgressPhase): boolean {
  return phase === 'completed' || phase === 'declined' || phase === 'timed-out' || phase === 'failed';
}

/** One line about a move in progress or its result, on the source device. */
export function moveProgressText(phase: MoveProgressPhase, target: string, statusCode: number | null, error: string | null): string {
  switch (phase) {
    case 'sending':
      return `Asking ${target}…`;
    case 'requested':
      return `Asking ${target}…`;
    case 'accepted':
      return `Waiting for ${target} to accept…`;
    case 'joining':
      return `${target} is joining…`;
    case 'replaced':
      return `${target} took over; finishing…`;
    case 'completed':
      return `Moved to ${target}.`;
    case 'declined':
      return `${target} declined the move.`;
    case 'timed-out':
      return `No answer from ${target}. The chat stays here.`;
    case 'failed': {
      const reason = error ?? statusReason(statusCode);
      return `The move failed${reason ? `: ${reason}` : ''}. The chat stays here.`;
    }
  }
}

/** The join prompt's question (the same sentence as the OS notification's). */
export function joinQuestion(request: Pick<JoinRequest, 'peerDisplayName' | 'peerUri' | 'sourceDeviceName'>): string {
  const peer = request.peerDisplayName.trim() || request.peerUri;
  return `Continue your conversation with ${peer} here? (moved from ${request.sourceDeviceName})`;
}
