/**
 * What the chat layer needs from MSRP over TCP (RFC 4975 §4, §5.4; PROFILE.md "A CPM session"): a fresh
 * local URI for each session's `a=path`, and a way to carry a session the chat layer made (its listeners
 * already attached) actively (we connect, or share an open connection to the same peer, and send the binding
 * SEND) or passively (we wait for the peer's binding SEND).
 *
 * Why the chat layer makes the session: whatever arrives in the same TCP read as the binding (a message sent
 * by the peer right after it) is emitted synchronously while the binding completes; a session handed over
 * only once bound (as `MsrpEndpoint.openSession` does today) would drop it.
 */
import type { MsrpSession } from '../../../protocol/msrp/msrp-session';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';

/** The MSRP endpoint a chat service runs its sessions on. */
export interface ChatMediaTransport {
  /** A fresh local URI (`msrp://host:port/<new session id>;tcp`) for one session. */
  newLocalUri(): MsrpUri;
  /**
   * Carry `session` (its local URI from `newLocalUri`, its remote path from the SDP). Resolves once bound;
   * rejects, with the session closed, when it cannot be (connection refused, no peer or answer in time).
   */
  bind(session: MsrpSession, setup: 'active' | 'passive'): Promise<void>;
}
