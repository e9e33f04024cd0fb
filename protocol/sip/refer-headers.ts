/**
 * Small header and body formats of the REFER machinery: Target-Dialog (RFC 4538 §7), Subscription-State
 * (RFC 6665 §8.2.3), `message/sipfrag` status lines (RFC 3420, as used by RFC 3515 §2.4.5) and SIP
 * quoted-strings (RFC 3261 §25.1). Pure functions; they throw an Error naming the problem on bad input.
 */

/** The dialog a Target-Dialog header names, with the tags as the *recipient* sees them (RFC 4538 §4). */
export interface TargetDialog {
  callId: string;
  /** The recipient's own tag. */
  localTag: string;
  /** The tag of the recipient's peer. */
  remoteTag: string;
}

// RFC 3261 §25.1 `token` and `word` (Call-ID) character sets.
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const WORD = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;

/** `callid;local-tag=…;remote-tag=…` (RFC 4538 §7). */
export function formatTargetDialog(dialog: TargetDialog): string {
  if (!WORD.test(dialog.callId)) throw new Error(`Target-Dialog: invalid Call-ID ${JSON.stringify(dialog.callId)}`);
  if (!TOKEN.test(dialog.localTag)) throw new Error(`Target-Dialog: invalid local-tag ${JSON.stringify(dialog.localTag)}`);
  if (!TOKEN.test(dialog.remoteTag)) throw new Error(`Target-Dialog: invalid remote-tag ${JSON.stringify(dialog.remoteTag)}`);
  return `${dialog.callId};local-tag=${dialog.localTag};remote-tag=${dialog.remoteTag}`;
}

/** Parse a Target-Dialog value; both tags are mandatory (RFC 4538 §7). */
export function parseTargetDialog(value: string): TargetDialog {
  const [callId, ...params] = value.trim().split(';').map((p) => p.trim());
  if (!callId || !WORD.test(callId)) throw new Error(`Target-Dialog: invalid Call-ID in ${JSON.stringify(value)}`);
  let localTag: string | undefined;
  let remoteTag: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? '' : param.slice(eq + 1);
    if (name === 'local-tag') localTag = v;
    else if (name === 'remote-tag') remoteTag = v;
  }
  if (!localTag || !TOKEN.test(localTag)) throw new Error(`Target-Dialog: missing or invalid local-tag in ${JSON.stringify(value)}`);
  if (!remoteTag || !TOKEN.test(remoteTag)) throw new Error(`Target-Dialog: missing or invalid remote-tag in ${JSON.stringify(value)}`);
  return { callId, localTag, remoteTag };
}

/** A Subscription-State value (RFC 6665 §8.2.3). */
export interface SubscriptionStateHeader {
  state: 'active' | 'pending' | 'terminated';
  /** Seconds, when given. */
  expires?: number;
  /** `reason` of a terminated subscription (RFC 6665 §4.1.3: deactivated, probation, rejected, timeout, giveup, noresource, invariant). */
  reason?: string;
  retryAfter?: number;
}

/** Parse a Subscription-State value; unknown states are refused. */
export function parseSubscriptionState(value: string): SubscriptionStateHeader {
  const [rawState, ...params] = value.split(';').map((p) => p.trim());
  const state = rawState?.toLowerCase();
  if (state !== 'active' && state !== 'pending' && state !== 'terminated') {
    throw new Error(`Subscription-State: unknown state ${JSON.stringify(rawState ?? '')}`);
  }
  const out: SubscriptionStateHeader = { state };
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).toLowerCase();
    const v = param.slice(eq + 1);
    if (name === 'expires' || name === 'retry-after') {
      if (!/^\d{1,10}$/.test(v)) throw new Error(`Subscription-State: invalid ${name} ${JSON.stringify(v)}`);
      if (name === 'expires') out.expires = Number(v);
      else out.retryAfter = Number(v);
    } else if (name === 'reason') {
      out.reason = v.toLowerCase();
    }
  }
  return out;
}

/** A status line carried in a `message/sipfrag` body. */
export interface SipfragStatus {
  status: number;
  reason: string;
}

/** The status line of a sipfrag body (`SIP/2.0 200 OK`, RFC 3420 §2); anything else throws. */
export function parseSipfragStatus(body: string): SipfragStatus {
  const first = body.split(/\r?\n/, 1)[0] ?? '';
  const m = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(first.trim());
  if (!m) throw new Error(`message/sipfrag: no SIP status line in ${JSON.stringify(first.slice(0, 60))}`);
  return { status: Number(m[1]), reason: m[2] ?? '' };
}

/** A sipfrag body holding one status line, CRLF-terminated as in RFC 3261 §7.2. */
export function formatSipfrag(status: number, reason: string): string {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new Error(`message/sipfrag: invalid status ${status}`);
  if (/[\u0000-\u001f]/.test(reason)) throw new Error('message/sipfrag: control characters in the reason phrase');
  return `SIP/2.0 ${status} ${reason}\r\n`;
}

/** A SIP quoted-string (RFC 3261 §25.1): `"` and `\` escaped; control characters other than TAB refused. */
export function quoteString(value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw new Error(`quoted-string: control characters in ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `<uri>` unless the value is already a name-addr. */
export function angleBracket(uri: string): string {
  const trimmed = uri.trim();
  return trimmed.includes('<') ? trimmed : `<${trimmed}>`;
}
