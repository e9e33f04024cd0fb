/**
 * The body of the Join REFER (PROFILE.md "The transfer", steps 6–9): `application/vnd.cpm.session-transfer+json`,
 * what the target device's UI needs to offer "Continue the conversation with Bob here?".
 *
 * ```json
 * { "version": 1, "conversationId": "…", "peer": { "uri": "sip:bob@b.example", "displayName": "Bob" },
 *   "sourceDeviceName": "Laptop", "historyCursor": "…" }
 * ```
 */
import { decodeUtf8Strict } from '../common/bytes';
import { isValidCpmId } from './cpm-headers';

/** The media type of the transfer body. */
export const SESSION_TRANSFER_CONTENT_TYPE = 'application/vnd.cpm.session-transfer+json';

/** The transfer body. */
export interface SessionTransfer {
  version: 1;
  /** The Conversation-ID of the session being moved. */
  conversationId: string;
  /** The remote party. */
  peer: { uri: string; displayName?: string };
  /** The human name of the device the session moves from. */
  sourceDeviceName: string;
  /**
   * Opaque Message Store position: the store's paging cursor of the conversation (for the transferring user)
   * when the Join went out; the store held at least this much. Absent when unknown. Compare with
   * {@link isHistoryBehind}, never by arithmetic.
   */
  historyCursor?: string;
}

/** A Message Store cursor as the store sends it: its decimal arrival `seq` (protocol/store, store-types.ts). */
const STORE_CURSOR = /^(0|[1-9]\d{0,14})$/;

/**
 * Whether a device whose store cursor for the conversation is `deviceCursor` (null: nothing fetched yet) has
 * not yet fetched up to the Join body's `historyCursor`: the store had more than the device got. Store cursors
 * are the conversation's arrival sequence (`StoredMessage.seq`), so they order as numbers; this is the one place
 * a device compares them (store-wire.ts: no arithmetic). A cursor of any other form cannot be judged: false.
 */
export function isHistoryBehind(deviceCursor: string | null, historyCursor: string): boolean {
  if (!STORE_CURSOR.test(historyCursor)) return false;
  if (deviceCursor === null) return Number(historyCursor) > 0;
  if (!STORE_CURSOR.test(deviceCursor)) return false;
  return Number(deviceCursor) < Number(historyCursor);
}

/** Thrown for a body that is not a valid transfer body; `field` names the culprit. */
export class SessionTransferError extends Error {
  override readonly name = 'SessionTransferError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const MAX_BODY_BYTES = 8 * 1024;
const MAX_TEXT = 256;

/** Validate and serialize a transfer body. */
export function encodeSessionTransfer(body: SessionTransfer): string {
  return JSON.stringify(validateSessionTransfer(body));
}

/** Parse and validate a transfer body (text or UTF-8 bytes). Throws `SessionTransferError`. */
export function parseSessionTransfer(input: string | Uint8Array): SessionTransfer {
  const size = typeof input === 'string' ? input.length : input.length;
  if (size > MAX_BODY_BYTES) throw new SessionTransferError('body', `larger than ${MAX_BODY_BYTES} bytes`);
  let text: string;
  try {
    text = typeof input === 'string' ? input : decodeUtf8Strict(input);
  } catch {
    throw new SessionTransferError('body', 'not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SessionTransferError('body', 'not JSON');
  }
  return validateSessionTransfer(value);
}

/** Check that `value` is a transfer body; returns a clean copy (unknown fields dropped). */
export function validateSessionTransfer(value: unknown): SessionTransfer {
  const obj = record(value, 'body');
  if (obj.version !== 1) throw new SessionTransferError('version', 'must be 1');
  const conversationId = text(obj.conversationId, 'conversationId');
  if (!isValidCpmId(conversationId)) throw new SessionTransferError('conversationId', 'not a valid Conversation-ID');
  const peerObj = record(obj.peer, 'peer');
  const uri = text(peerObj.uri, 'peer.uri');
  if (!/^(sips?|tel|im):[^\s<>"]+$/i.test(uri)) throw new SessionTransferError('peer.uri', 'not a sip:, sips:, tel: or im: URI');
  const peer: SessionTransfer['peer'] = { uri };
  if (peerObj.displayName !== undefined) peer.displayName = text(peerObj.displayName, 'peer.displayName', true);
  const out: SessionTransfer = { version: 1, conversationId, peer, sourceDeviceName: text(obj.sourceDeviceName, 'sourceDeviceName') };
  if (obj.historyCursor !== undefined) out.historyCursor = text(obj.historyCursor, 'historyCursor');
  return out;
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SessionTransferError(field, 'must be an object');
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string') throw new SessionTransferError(field, 'must be a string');
  if (!allowEmpty && value.trim() === '') throw new SessionTransferError(field, 'must not be empty');
  if (value.length > MAX_TEXT) throw new SessionTransferError(field, `longer than ${MAX_TEXT} characters`);
  if (/[\x00-\x1f\x7f]/.test(value)) throw new SessionTransferError(field, 'contains control characters');
  return value;
}
