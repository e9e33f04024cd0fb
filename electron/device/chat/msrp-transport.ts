/**
 * What the chat layer needs from MSRP over TCP (RFC 4975 §4, §5.4): a listening address for our `a=path`,
 * and, per session, either an active connection (we connect and send the binding SEND) or a passive wait
 * for the peer's binding SEND. The real endpoint is `electron/device/chat/msrp/` (`MsrpEndpoint`, a
 * teammate's); until it lands, `msrp-socket-transport.ts` implements this over `node:net`.
 */
import type { MsrpSession } from '../../../protocol/msrp/msrp-session';
import type { MsrpUri } from '../../../protocol/msrp/msrp-uri';

/** The MSRP endpoint a chat service runs its sessions on. */
export interface ChatMediaTransport {
  /** A fresh local URI (`msrp://host:port/<new session id>;tcp`) for one session. */
  newLocalUri(): MsrpUri;
  /**
   * Carry `session` (which must know its remote path) on a connection to `remote`, opening one or sharing an
   * open one to the same address; the session sends its binding SEND at once. A connection failure closes
   * the session.
   */
  connectActive(session: MsrpSession, remote: { host: string; port: number }): void;
  /** Wait for the peer to connect and bind `session` with its first SEND; a session never bound is closed after a while. */
  awaitPassive(session: MsrpSession): void;
  /** Close every connection and stop listening. */
  close(): Promise<void>;
}
