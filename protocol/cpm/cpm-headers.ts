/**
 * OMA CPM names used in SIP (PROFILE.md "Registration", "A CPM session"): the session ICSI and its
 * feature tag (RFC 3840 / RFC 3841 `Accept-Contact`), the device-name Contact parameter, and the CPM
 * identity headers.
 */

/** The CPM session IMS communication service identifier. */
export const CPM_SESSION_ICSI = 'urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session';

/** The Contact feature parameter that marks a CPM-capable instance (value URL-encoded, as 3GPP writes it). */
export const CPM_FEATURE_TAG = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

/** The `Accept-Contact` value every CPM session INVITE carries (RFC 3841 §10). */
export const CPM_ACCEPT_CONTACT = `*;${CPM_FEATURE_TAG}`;

/** The Contact parameter name carrying a device's human name. */
export const DEVICE_NAME_PARAM = '+cpm.device-name';

/** CPM SIP header names. */
export const CpmHeader = {
  ConversationId: 'Conversation-ID',
  ContributionId: 'Contribution-ID',
  InReplyToContributionId: 'InReplyTo-Contribution-ID',
} as const;

/** Thrown for a malformed CPM parameter. */
export class CpmHeaderError extends Error {
  override readonly name = 'CpmHeaderError';
}

const MAX_DEVICE_NAME = 64;
const CPM_ID = /^[A-Za-z0-9\-.!%*_+`'~]{1,128}$/;

/** Whether a Conversation-ID / Contribution-ID value is acceptable (a SIP token of at most 128 chars). */
export function isValidCpmId(value: string): boolean {
  return CPM_ID.test(value);
}

/**
 * `+cpm.device-name="<Alice's laptop>"`: an RFC 3840 §9 string value (`"<…>"`, with `\` escaping
 * `"`, `\`, `<` and `>`). Names are trimmed, must not be empty, and are at most 64 characters.
 */
export function formatDeviceNameParam(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || [...trimmed].length > MAX_DEVICE_NAME) throw new CpmHeaderError(`device name must have 1 to ${MAX_DEVICE_NAME} characters`);
  if (/[\x00-\x1f\x7f]/.test(trimmed)) throw new CpmHeaderError('control characters in a device name');
  return `${DEVICE_NAME_PARAM}="<${trimmed.replace(/[\\"<>]/g, (c) => `\\${c}`)}>"`;
}

/**
 * The device name in a Contact header value's `+cpm.device-name` parameter, or undefined when absent.
 * Accepts the RFC 3840 form `"<name>"` and a plain quoted string `"name"`. Throws on a malformed value.
 */
export function parseDeviceNameParam(contact: string): string | undefined {
  const at = contact.toLowerCase().indexOf(`;${DEVICE_NAME_PARAM}=`);
  if (at < 0) return undefined;
  const rest = contact.slice(at + DEVICE_NAME_PARAM.length + 2);
  const m = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
  if (!m) throw new CpmHeaderError('device name parameter is not a quoted string');
  let value = m[1]!;
  if (value.startsWith('<') && value.endsWith('>') && value.length >= 2) value = value.slice(1, -1);
  value = value.replace(/\\(.)/g, '$1').trim();
  if (value === '' || [...value].length > MAX_DEVICE_NAME) throw new CpmHeaderError(`device name must have 1 to ${MAX_DEVICE_NAME} characters`);
  return value;
}

/**
 * Whether a Contact (or Accept-Contact) value carries the CPM session feature tag, comparing the
 * ICSI after percent-decoding and case-insensitively on the parameter name (RFC 3840 §9).
 */
export function hasCpmFeatureTag(contact: string): boolean {
  const re = /;\s*\+g\.3gpp\.icsi-ref\s*=\s*"([^"]*)"/gi;
  for (let m = re.exec(contact); m; m = re.exec(contact)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(m[1]!);
    } catch {
      continue;
    }
    if (decoded.split(',').some((v) => v.trim().toLowerCase() === CPM_SESSION_ICSI)) return true;
  }
  return false;
}
