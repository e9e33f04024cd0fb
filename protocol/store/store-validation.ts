/**
 * Validation of everything that enters the Message Store, shared by the store itself, its HTTP API and its
 * clients (the device checks what it queues for deposit), so that all refuse the same input with the same
 * reasons.
 */
import { utf8 } from '../common/bytes';
import { MAX_BATCH, type DeliveryState, type DeliveryUpdate, type MessageInput } from './store-types';

/** Bad input: the operation wrote nothing. `reason` is safe to return to the client. */
export class StoreInputError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'StoreInputError';
  }
}

/** Maximum body size per message, in UTF-8 bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Conversation-ID and imdn.Message-ID: 1–128 characters of the RFC 3261 §25.1 `token` alphabet
 * (alphanumerics and `-.!%*_+\`'~`), which is what both IDs are drawn from on the wire.
 */
export const ID_PATTERN = /^[A-Za-z0-9\-.!%*_+`'~]{1,128}$/;
/** Owner, sender and recipient: a sip:, sips: or tel: URI without whitespace, controls, `<`, `>` or `"`. */
export const URI_PATTERN = /^(?:sips?|tel):[^\s\x00-\x1f\x7f<>"]{1,250}$/i;
/** A MIME type with optional parameters (RFC 2045 §5.1), printable ASCII, ≤ 200 characters. */
export const CONTENT_TYPE_PATTERN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+\/[A-Za-z0-9!#$%&'*+\-.^_`|~]+(?:[ \t]*;[\x20-\x7e\t]*)?$/;
/** RFC 3339 §5.6 date-time, as CPIM DateTime requires. */
export const DATE_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

const DELIVERY_STATES: ReadonlySet<string> = new Set<DeliveryState>(['none', 'delivered', 'displayed', 'failed']);
const LONE_SURROGATE = /\p{Cs}/u;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: Json, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new StoreInputError(`${where}.${key} must be a string`);
  if (LONE_SURROGATE.test(v)) throw new StoreInputError(`${where}.${key} is not well-formed Unicode`);
  return v;
}

function match(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new StoreInputError(`${what} is malformed`);
  return value;
}

/** Check an owner AOR. */
export function validateOwner(owner: unknown): string {
  if (typeof owner !== 'string') throw new StoreInputError('owner must be a string');
  return match(owner, URI_PATTERN, 'owner');
}

/** Check a Conversation-ID. */
export function validateConversationId(id: unknown): string {
  if (typeof id !== 'string') throw new StoreInputError('conversationId must be a string');
  return match(id, ID_PATTERN, 'conversationId');
}

/** Check an RFC 3339 date-time: the grammar and a real calendar date. */
export function validateDateTime(value: string, what: string): string {
  if (!DATE_TIME_PATTERN.test(value)) throw new StoreInputError(`${what} is not an RFC 3339 date-time`);
  const [y, mo, d, h, mi, s] = value.split(/[-Tt:.Zz+]/).map(Number);
  const monthDays = [31, (y! % 4 === 0 && y! % 100 !== 0) || y! % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > monthDays[mo! - 1]! || h! > 23 || mi! > 59 || s! > 60 || Number.isNaN(Date.parse(value.replace(/:60/, ':59')))) {
    throw new StoreInputError(`${what} is not a valid date-time`);
  }
  return value;
}

/** Check one deposited message; returns a clean copy (unknown fields dropped). */
export function validateMessage(value: unknown, index: number): MessageInput {
  const where = `messages[${index}]`;
  if (!isObject(value)) throw new StoreInputError(`${where} must be an object`);
  const conversationId = str(value, 'conversationId', where);
  match(conversationId, ID_PATTERN, `${where}.conversationId`);
  const messageId = match(str(value, 'messageId', where), ID_PATTERN, `${where}.messageId`);
  const sender = match(str(value, 'sender', where), URI_PATTERN, `${where}.sender`);
  const recipient = match(str(value, 'recipient', where), URI_PATTERN, `${where}.recipient`);
  const direction = str(value, 'direction', where);
  if (direction !== 'in' && direction !== 'out') throw new StoreInputError(`${where}.direction must be "in" or "out"`);
  const dateTime = validateDateTime(str(value, 'dateTime', where), `${where}.dateTime`);
  const contentType = str(value, 'contentType', where);
  if (contentType.length > 200) throw new StoreInputError(`${where}.contentType is too long`);
  match(contentType, CONTENT_TYPE_PATTERN, `${where}.contentType`);
  const body = str(value, 'body', where);
  if (body.length > MAX_BODY_BYTES / 3 && utf8(body).length > MAX_BODY_BYTES) throw new StoreInputError(`${where}.body exceeds ${MAX_BODY_BYTES} bytes`);
  let delivery: DeliveryState = 'none';
  if (value['delivery'] !== undefined) {
    const d = str(value, 'delivery', where);
    if (!DELIVERY_STATES.has(d)) throw new StoreInputError(`${where}.delivery is not a delivery state`);
    delivery = d as DeliveryState;
  }
  return { conversationId, messageId, sender, recipient, direction, dateTime, contentType, body, delivery };
}

/** Check a deposit batch: an array of 1..MAX_BATCH messages. */
export function validateBatch(value: unknown): MessageInput[] {
  if (!Array.isArray(value)) throw new StoreInputError('messages must be an array');
  if (value.length === 0) throw new StoreInputError('messages is empty');
  if (value.length > MAX_BATCH) throw new StoreInputError(`at most ${MAX_BATCH} messages per batch`);
  return value.map((m, i) => validateMessage(m, i));
}

/** Check a batch of IMDN outcomes. */
export function validateDeliveryUpdates(value: unknown): DeliveryUpdate[] {
  if (!Array.isArray(value)) throw new StoreInputError('updates must be an array');
  if (value.length === 0) throw new StoreInputError('updates is empty');
  if (value.length > MAX_BATCH) throw new StoreInputError(`at most ${MAX_BATCH} updates per batch`);
  return value.map((u: unknown, i) => {
    const where = `updates[${i}]`;
    if (!isObject(u)) throw new StoreInputError(`${where} must be an object`);
    const state = str(u, 'state', where);
    if (state !== 'delivered' && state !== 'displayed' && state !== 'failed') throw new StoreInputError(`${where}.state must be delivered, displayed or failed`);
    const update: DeliveryUpdate = {
      conversationId: match(str(u, 'conversationId', where), ID_PATTERN, `${where}.conversationId`),
      messageId: match(str(u, 'messageId', where), ID_PATTERN, `${where}.messageId`),
      state,
    };
    if (u['at'] !== undefined) update.at = validateDateTime(str(u, 'at', where), `${where}.at`);
    return update;
  });
}

/** Check a cursor (a non-negative safe integer) given as a number. */
export function validateCursor(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) throw new StoreInputError(`${what} must be a non-negative integer`);
  return value;
}

/** Check a page limit: an integer in 1..max. */
export function validateLimit(value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new StoreInputError(`limit must be an integer from 1 to ${max}`);
  return value;
}
