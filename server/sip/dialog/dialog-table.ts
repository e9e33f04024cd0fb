/** The dialogs of one user agent, found by the ID an in-dialog request names (RFC 3261 §12.2.2). */
import type { SipRequest } from '../message/sip-message';
import { type Dialog, DialogState, dialogIdOfRequest, dialogKey } from './dialog';

/** Dialogs by ID; a dialog leaves the table by itself when it reaches Terminated. */
export class DialogTable {
  private readonly dialogs = new Map<string, Dialog>();

  /** Add a dialog; throws when one with the same ID is already there. */
  add(dialog: Dialog): void {
    const key = dialogKey(dialog.id);
    if (this.dialogs.has(key)) throw new Error(`dialog ${dialog.id.callId} already exists`);
    this.dialogs.set(key, dialog);
    dialog.on('stateChange', (_from, to) => {
      if (to === DialogState.Terminated && this.dialogs.get(key) === dialog) this.dialogs.delete(key);
    });
  }

  /** The dialog a received request belongs to, or undefined (then a UAS answers 481, §12.2.2). */
  match(request: SipRequest): Dialog | undefined {
    const id = dialogIdOfRequest(request);
    return id === undefined ? undefined : this.dialogs.get(dialogKey(id));
  }

  /** Number of dialogs in the table. */
  size(): number {
    return this.dialogs.size;
  }
}
