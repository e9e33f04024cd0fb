/**
 * What travels inside a CPM session's MSRP SENDs (PROFILE.md "A CPM session"): `message/cpim` (RFC 3862)
 * wrapping either `text/plain` (a chat message, with `imdn.Message-ID`, `DateTime` and
 * `imdn.Disposition-Notification: positive-delivery, display`, RFC 5438 §6) or `message/imdn+xml`
 * (a delivery or display notification, RFC 5438 §7.1.1).
 */
import { decodeUtf8Strict } from '../../../protocol/common/bytes';
import { newImdnMessageId } from '../../../protocol/cpm/cpm-ids';
import { CpimError, decodeCpim, encodeCpim, type CpimAddress } from '../../../protocol/cpim/cpim';
import { decodeImdn, encodeImdnCpim, IMDN_CONTENT_TYPE, ImdnError, type Imdn } from '../../../protocol/imdn/imdn';

/** The MSRP content type of everything a CPM session carries. */
export const CPIM_CONTENT_TYPE = 'message/cpim';

/** A chat message as the peer's device decoded it. */
export interface IncomingText {
  kind: 'text';
  messageId: string;
  /** The CPIM DateTime as epoch ms (the receive time when absent or unreadable). */
  timestamp: number;
  /** The CPIM DateTime as written (what IMDNs must echo, RFC 5438 §7.2.1.2), or an ISO string of `timestamp`. */
  dateTime: string;
  from: CpimAddress | undefined;
  text: string;
  /** The dispositions the sender asked for. */
  wantsDelivery: boolean;
  wantsDisplay: boolean;
}

/** A notification about one of our messages. */
export interface IncomingNotification {
  kind: 'imdn';
  imdn: Imdn;
}

/** Thrown for a payload this client cannot use (the MSRP layer already acknowledged it). */
export class ChatPayloadError extends Error {
  override readonly name = 'ChatPayloadError';
}

/** Encode a text message; returns the bytes and the `imdn.Message-ID` and DateTime it carries. */
export function encodeTextMessage(input: { from: CpimAddress; to: CpimAddress; text: string; messageId?: string; at?: Date }): {
  bytes: Uint8Array;
  messageId: string;
  timestamp: number;
} {
  const messageId = input.messageId ?? newImdnMessageId();
  const at = input.at ?? new Date();
  const bytes = encodeCpim({
    from: input.from,
    to: [input.to],
    dateTime: at,
    imdn: { messageId, dispositionNotification: ['positive-delivery', 'display'] },
    contentType: 'text/plain;charset=utf-8',
    body: input.text,
  });
  return { bytes, messageId, timestamp: at.getTime() };
}

/** Encode a delivery or display notification for a message we received (RFC 5438 §7.2). */
export function encodeNotification(input: {
  from: CpimAddress;
  to: CpimAddress;
  messageId: string;
  dateTime: string;
  kind: 'delivery' | 'display';
}): Uint8Array {
  return encodeImdnCpim({
    from: input.from,
    to: input.to,
    messageId: newImdnMessageId(),
    dateTime: new Date(),
    imdn: {
      messageId: input.messageId,
      dateTime: input.dateTime,
      recipientUri: input.from.uri,
      notification: input.kind === 'delivery' ? { kind: 'delivery', status: 'delivered' } : { kind: 'display', status: 'displayed' },
    },
  });
}

/** Decode what arrived in a `message/cpim` MSRP message. Throws {@link ChatPayloadError} with the reason. */
export function decodeChatPayload(bytes: Uint8Array, receivedAt: number = Date.now()): IncomingText | IncomingNotification {
  let cpim;
  try {
    cpim = decodeCpim(bytes);
  } catch (error) {
    if (error instanceof CpimError) throw new ChatPayloadError(`bad CPIM: ${error.message}`);
    throw error;
  }
  const type = (cpim.contentType ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (type === IMDN_CONTENT_TYPE) {
    try {
      return { kind: 'imdn', imdn: decodeImdn(cpim.body) };
    } catch (error) {
      if (error instanceof ImdnError) throw new ChatPayloadError(`bad IMDN: ${error.message}`);
      throw error;
    }
  }
  if (type !== 'text/plain') throw new ChatPayloadError(`unsupported content type ${type}`);
  if (!cpim.imdnMessageId) throw new ChatPayloadError('text message without imdn.Message-ID');
  let text: string;
  try {
    text = decodeUtf8Strict(cpim.body);
  } catch {
    throw new ChatPayloadError('text message is not UTF-8');
  }
  const parsed = cpim.dateTime === undefined ? NaN : Date.parse(cpim.dateTime);
  const timestamp = Number.isFinite(parsed) ? parsed : receivedAt;
  const dispositions = cpim.dispositionNotification.map((d) => d.toLowerCase());
  return {
    kind: 'text',
    messageId: cpim.imdnMessageId,
    timestamp,
    dateTime: cpim.dateTime ?? new Date(timestamp).toISOString(),
    from: cpim.from,
    text,
    wantsDelivery: dispositions.includes('positive-delivery'),
    wantsDisplay: dispositions.includes('display'),
  };
}
