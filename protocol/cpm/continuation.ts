/**
 * The remote party's decision on an INVITE that continues a live session (PROFILE.md, steps 10–23 in proxy
 * mode): the far side of T recognizes it by `Target-Dialog` (RFC 4538 §4: the dialog is named from the
 * recipient's point of view) and the same asserted user, and accepts it without prompting.
 */
import { parseTargetDialog, type TargetDialog } from '../sip/refer-headers';

/** A live dialog as the far side knows it. */
export interface LiveDialog {
  /** The far side's key for it (a session id). */
  id: string;
  /** The peer user's AOR (`sip:alice@a.example`). */
  peerAor: string;
  conversationId: string;
}

/** The INVITE's relevant parts. */
export interface ContinuationInvite {
  targetDialog: string | undefined;
  /** The AOR the network asserted for the caller. */
  assertedAor: string | undefined;
  conversationId: string | undefined;
}

/** The decision. */
export type ContinuationVerdict =
  | { kind: 'new-session' }
  | { kind: 'continuation'; dialog: LiveDialog; targetDialog: TargetDialog }
  | { kind: 'refuse'; status: number; reason: string };

/**
 * Judge an INVITE. Without Target-Dialog it is an ordinary new session; with one, it must name a live dialog
 * of ours (else 481), come from the same asserted user (else 403), and keep the conversation (else 403).
 */
export function judgeContinuation(invite: ContinuationInvite, lookup: (td: TargetDialog) => LiveDialog | undefined): ContinuationVerdict {
  if (invite.targetDialog === undefined) return { kind: 'new-session' };
  let td: TargetDialog;
  try {
    td = parseTargetDialog(invite.targetDialog);
  } catch {
    return { kind: 'refuse', status: 400, reason: 'Bad Target-Dialog' };
  }
  const dialog = lookup(td);
  if (!dialog) return { kind: 'refuse', status: 481, reason: 'Call/Transaction Does Not Exist' };
  if (!invite.assertedAor || invite.assertedAor.toLowerCase() !== dialog.peerAor.toLowerCase()) {
    return { kind: 'refuse', status: 403, reason: 'Forbidden: not the user of the target dialog' };
  }
  if (invite.conversationId !== undefined && invite.conversationId !== dialog.conversationId) {
    return { kind: 'refuse', status: 403, reason: 'Forbidden: another conversation' };
  }
  return { kind: 'continuation', dialog, targetDialog: td };
}
