/**
 * IMDN documents (RFC 5438 §7): delivery, display and processing notifications as
 * `message/imdn+xml`, and the CPIM wrapper they travel in (RFC 5438 §7.1.1: `Content-Disposition:
 * notification`, their own `imdn.Message-ID`).
 *
 * ```xml
 * <imdn xmlns="urn:ietf:params:xml:ns:imdn">
 *   <message-id>34jk324j</message-id>
 *   <datetime>2008-04-04T12:16:49-00:00</datetime>
 *   <display-notification><status><displayed/></status></display-notification>
 * </imdn>
 * ```
 */
import { encodeCpim, type CpimAddress } from '../cpim/cpim';
import { decodeUtf8Strict } from '../common/bytes';
import { childElement, escapeXml, parseXml, XmlError, type XmlElement } from './xml-reader';

/** The IMDN XML namespace (RFC 5438 §11.2). */
export const IMDN_XML_NAMESPACE = 'urn:ietf:params:xml:ns:imdn';
/** The IMDN media type. */
export const IMDN_CONTENT_TYPE = 'message/imdn+xml';

/** Statuses per notification kind (RFC 5438 §7.2.1 schema). */
export const IMDN_STATUSES = {
  delivery: ['delivered', 'failed', 'forbidden', 'error'],
  display: ['displayed', 'forbidden', 'error'],
  processing: ['processed', 'stored', 'forbidden', 'error'],
} as const;

/** A notification kind. */
export type ImdnKind = keyof typeof IMDN_STATUSES;

/** A notification: its kind and a status valid for that kind. */
export type ImdnNotification = { [K in ImdnKind]: { kind: K; status: (typeof IMDN_STATUSES)[K][number] } }[ImdnKind];

/** An IMDN document. */
export interface Imdn {
  /** The `imdn.Message-ID` of the message this notification is about. */
  messageId: string;
  /** RFC 3339 time of the original message (its CPIM DateTime). */
  dateTime: string;
  recipientUri?: string;
  originalRecipientUri?: string;
  subject?: string;
  notification: ImdnNotification;
}

/** Thrown for a document that is not a valid IMDN. */
export class ImdnError extends Error {
  override readonly name = 'ImdnError';
}

/** Serialize an IMDN document. */
export function encodeImdn(imdn: Imdn): string {
  const statuses: readonly string[] = IMDN_STATUSES[imdn.notification.kind];
  if (!statuses.includes(imdn.notification.status)) throw new ImdnError(`status ${imdn.notification.status} is not valid for ${imdn.notification.kind}`);
  const opt = (tag: string, v: string | undefined): string => (v === undefined ? '' : `<${tag}>${escapeXml(v)}</${tag}>`);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<imdn xmlns="${IMDN_XML_NAMESPACE}">` +
    `<message-id>${escapeXml(imdn.messageId)}</message-id>` +
    `<datetime>${escapeXml(imdn.dateTime)}</datetime>` +
    opt('recipient-uri', imdn.recipientUri) +
    opt('original-recipient-uri', imdn.originalRecipientUri) +
    opt('subject', imdn.subject) +
    `<${imdn.notification.kind}-notification><status><${imdn.notification.status}/></status></${imdn.notification.kind}-notification>` +
    '</imdn>'
  );
}

/** Parse an IMDN document (text or UTF-8 bytes). Throws `ImdnError` with the reason. */
export function decodeImdn(input: string | Uint8Array): Imdn {
  let root: XmlElement;
  try {
    const text = typeof input === 'string' ? input : decodeUtf8Strict(input);
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) throw new ImdnError(`not well-formed: ${e.message}`);
    if (e instanceof TypeError) throw new ImdnError('not UTF-8');
    throw e;
  }
  if (root.localName !== 'imdn' || root.namespace !== IMDN_XML_NAMESPACE) throw new ImdnError(`root is <${root.name}> in ${root.namespace ?? 'no namespace'}, not an IMDN`);
  const text = (name: string, required: boolean): string | undefined => {
    const el = childElement(root, name, IMDN_XML_NAMESPACE);
    if (!el) {
      if (required) throw new ImdnError(`missing <${name}>`);
      return undefined;
    }
    return el.text.trim();
  };
  const messageId = text('message-id', true)!;
  const dateTime = text('datetime', true)!;
  if (messageId === '') throw new ImdnError('empty <message-id>');
  const found = (Object.keys(IMDN_STATUSES) as ImdnKind[]).flatMap((kind) => {
    const el = childElement(root, `${kind}-notification`, IMDN_XML_NAMESPACE);
    return el ? [{ kind, el }] : [];
  });
  if (found.length !== 1) throw new ImdnError(found.length ? 'more than one notification' : 'no delivery, display or processing notification');
  const { kind, el } = found[0]!;
  const status = childElement(el, 'status', IMDN_XML_NAMESPACE);
  const value = status?.children.find((c) => c.namespace === IMDN_XML_NAMESPACE);
  const allowed: readonly string[] = IMDN_STATUSES[kind];
  if (!value || !allowed.includes(value.localName)) throw new ImdnError(`bad status in <${kind}-notification>`);
  const imdn: Imdn = { messageId, dateTime, notification: { kind, status: value.localName } as ImdnNotification };
  const recipientUri = text('recipient-uri', false);
  const originalRecipientUri = text('original-recipient-uri', false);
  const subject = text('subject', false);
  if (recipientUri !== undefined) imdn.recipientUri = recipientUri;
  if (originalRecipientUri !== undefined) imdn.originalRecipientUri = originalRecipientUri;
  if (subject !== undefined) imdn.subject = subject;
  return imdn;
}

/** What `encodeImdnCpim` needs. */
export interface ImdnCpimInput {
  /** The recipient of the original message, who sends the notification. */
  from: CpimAddress;
  /** The sender of the original message. */
  to: CpimAddress;
  /** The notification's own `imdn.Message-ID` (a fresh one). */
  messageId: string;
  dateTime: Date | string;
  imdn: Imdn;
}

/** A CPIM message carrying an IMDN (RFC 5438 §7.1.1), ready to be the body of an MSRP SEND. */
export function encodeImdnCpim(input: ImdnCpimInput): Uint8Array {
  return encodeCpim({
    from: input.from,
    to: [input.to],
    dateTime: input.dateTime,
    imdn: { messageId: input.messageId },
    contentType: `${IMDN_CONTENT_TYPE};charset=utf-8`,
    contentHeaders: [{ name: 'Content-Disposition', value: 'notification' }],
    body: encodeImdn(input.imdn),
  });
}
