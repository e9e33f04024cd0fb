/**
 * What the chat layer needs from MSRP over TCP (RFC 4975 §4, §5.4; PROFILE.md "A CPM session"): a fresh
 * local URI for each session's `a=path`, and sessions opened actively (we connect, or share an open
 * connection to the same peer, and send the binding SEND) or passively (we wait for the peer's binding SEND).
 * `MsrpEndpoint` (electron/device/chat/msrp/) implements it; tests may give a fake.
 */
import type { MsrpSession } from '../../../protocol/msrp/msrp-session';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';

/** The MSRP endpoint a chat service runs its sessions on. */
export interface ChatMediaTransport {
  /** A fresh local URI (`msrp://host:port/<new session id>;tcp`) for one session. */
  newLocalUri(): MsrpUri;
  /** Resolves with the session once bound; rejects when it cannot be (connection refused, no peer in time). */
  openSession(options: { localUri: MsrpUri; remotePath: MsrpUri[]; setup: 'active' | 'passive' }): Promise<MsrpSession>;
}
