/**
 * `application/reginfo+xml` documents for the `reg` event package (RFC 3680 §5.3), with the GRUU extension
 * (RFC 5628 `gr:pub-gruu`, `gr:temp-gruu`) and the contact parameters a CPM device list needs as
 * `unknown-param` elements (`+sip.instance`, `+cpm.device-name`, the CPM feature tag): PROFILE.md,
 * "Registration and the device list".
 */

import { parseXml } from '../imdn/xml-reader';

/** One contact as the registry knows it. */
export interface RegContact {
  /** Stable id of the contact within the document (RFC 3680 §5.3: unique per registration). */
  id: string;
  uri: string;
  state: 'active' | 'terminated';
  event: 'registered' | 'created' | 'refreshed' | 'shortened' | 'expired' | 'deactivated' | 'probation' | 'unregistered' | 'rejected';
  /** Seconds left, for active contacts. */
  expires?: number;
  callId?: string;
  cseq?: number;
  /** Contact parameters reported as unknown-param (name → value as sent, quotes included, or null). */
  params: Record<string, string | null>;
  pubGruu?: string;
  tempGruu?: { uri: string; firstCseq: number };
}

/** One registration (one AOR) in a reginfo document. */
export interface RegRegistration {
  aor: string;
  id: string;
  state: 'init' | 'active' | 'terminated';
  contacts: RegContact[];
}

/** The parameters that go into the document as unknown-param (the rest are dropped). */
export const REGINFO_PARAMS: readonly string[] = ['+sip.instance', '+cpm.device-name', '+g.3gpp.icsi-ref', 'reg-id'];

/** Serialize a reginfo document (RFC 3680 §5.4 schema, RFC 5628 §4 extension). */
export function buildReginfo(version: number, state: 'full' | 'partial', registrations: RegRegistration[]): string {
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" xmlns:gr="urn:ietf:params:xml:ns:gruuinfo" version="${version}" state="${state}">`,
  );
  for (const reg of registrations) {
    out.push(`  <registration aor="${xmlAttr(reg.aor)}" id="${xmlAttr(reg.id)}" state="${reg.state}">`);
    for (const c of reg.contacts) {
      const attrs = [`id="${xmlAttr(c.id)}"`, `state="${c.state}"`, `event="${c.event}"`];
      if (c.expires !== undefined) attrs.push(`expires="${Math.max(0, Math.floor(c.expires))}"`);
      if (c.callId !== undefined) attrs.push(`callid="${xmlAttr(c.callId)}"`);
      if (c.cseq !== undefined) attrs.push(`cseq="${c.cseq}"`);
      out.push(`    <contact ${attrs.join(' ')}>`);
      out.push(`      <uri>${xmlText(c.uri)}</uri>`);
      for (const name of REGINFO_PARAMS) {
        if (!(name in c.params)) continue;
        const value = c.params[name];
        out.push(
          value === null || value === undefined
            ? `      <unknown-param name="${xmlAttr(name)}"/>`
            : `      <unknown-param name="${xmlAttr(name)}">${xmlText(value)}</unknown-param>`,
        );
      }
      if (c.pubGruu) out.push(`      <gr:pub-gruu uri="${xmlAttr(c.pubGruu)}"/>`);
      if (c.tempGruu) out.push(`      <gr:temp-gruu uri="${xmlAttr(c.tempGruu.uri)}" first-cseq="${c.tempGruu.firstCseq}"/>`);
      out.push('    </contact>');
    }
    out.push('  </registration>');
  }
  out.push('</reginfo>');
  return out.join('\r\n') + '\r\n';
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A reginfo document as read by a subscriber. */
export interface Reginfo {
  version: number;
  state: 'full' | 'partial';
  registrations: RegRegistration[];
}

/** Thrown for a document that is not a valid reginfo (RFC 3680 §5.4). */
export class ReginfoError extends Error {
  override readonly name = 'ReginfoError';
}

const REGINFO_NS = 'urn:ietf:params:xml:ns:reginfo';
const GRUU_NS = 'urn:ietf:params:xml:ns:gruuinfo';
const CONTACT_STATES = new Set(['active', 'terminated']);
const CONTACT_EVENTS = new Set(['registered', 'created', 'refreshed', 'shortened', 'expired', 'deactivated', 'probation', 'unregistered', 'rejected']);
const REG_STATES = new Set(['init', 'active', 'terminated']);

/** Parse an `application/reginfo+xml` body; throws {@link ReginfoError} (or the XML reader's error) on bad input. */
export function parseReginfo(xml: string): Reginfo {
  const root = parseXml(xml, { maxLength: 256 * 1024 });
  if (root.localName !== 'reginfo' || root.namespace !== REGINFO_NS) throw new ReginfoError('root element is not reginfo');
  const version = Number(root.attributes['version']);
  if (!Number.isInteger(version) || version < 0) throw new ReginfoError('reginfo version must be a non-negative integer');
  const state = root.attributes['state'];
  if (state !== 'full' && state !== 'partial') throw new ReginfoError('reginfo state must be full or partial');
  const registrations: RegRegistration[] = [];
  for (const r of root.children) {
    if (r.localName !== 'registration' || r.namespace !== REGINFO_NS) continue;
    const aor = r.attributes['aor'];
    const id = r.attributes['id'];
    const rstate = r.attributes['state'];
    if (!aor || !id || !rstate || !REG_STATES.has(rstate)) throw new ReginfoError('registration needs aor, id and a valid state');
    const contacts: RegContact[] = [];
    for (const c of r.children) {
      if (c.localName !== 'contact' || c.namespace !== REGINFO_NS) continue;
      const cid = c.attributes['id'];
      const cstate = c.attributes['state'];
      const event = c.attributes['event'];
      if (!cid || !cstate || !CONTACT_STATES.has(cstate) || !event || !CONTACT_EVENTS.has(event)) {
        throw new ReginfoError('contact needs id, a valid state and a valid event');
      }
      const uriEl = c.children.find((x) => x.localName === 'uri' && x.namespace === REGINFO_NS);
      if (!uriEl || uriEl.text.trim() === '') throw new ReginfoError('contact without uri');
      const params: Record<string, string | null> = {};
      let pubGruu: string | undefined;
      let tempGruu: RegContact['tempGruu'];
      for (const x of c.children) {
        if (x.localName === 'unknown-param' && x.namespace === REGINFO_NS) {
          const name = x.attributes['name'];
          if (name) params[name] = x.text === '' ? null : x.text;
        } else if (x.localName === 'pub-gruu' && x.namespace === GRUU_NS && x.attributes['uri']) {
          pubGruu = x.attributes['uri'];
        } else if (x.localName === 'temp-gruu' && x.namespace === GRUU_NS && x.attributes['uri']) {
          tempGruu = { uri: x.attributes['uri'], firstCseq: Number(x.attributes['first-cseq'] ?? 0) || 0 };
        }
      }
      const expires = c.attributes['expires'] === undefined ? undefined : Number(c.attributes['expires']);
      const cseq = c.attributes['cseq'] === undefined ? undefined : Number(c.attributes['cseq']);
      contacts.push({
        id: cid,
        uri: uriEl.text.trim(),
        state: cstate as RegContact['state'],
        event: event as RegContact['event'],
        ...(expires !== undefined && Number.isFinite(expires) ? { expires } : {}),
        ...(c.attributes['callid'] !== undefined ? { callId: c.attributes['callid'] } : {}),
        ...(cseq !== undefined && Number.isFinite(cseq) ? { cseq } : {}),
        params,
        ...(pubGruu ? { pubGruu } : {}),
        ...(tempGruu ? { tempGruu } : {}),
      });
    }
    registrations.push({ aor, id, state: rstate as RegRegistration['state'], contacts });
  }
  return { version, state, registrations };
}

/** The value of a quoted unknown-param (`"Laptop"` → `Laptop`, `"<urn:uuid:…>"` → `urn:uuid:…`). */
export function unquoteParam(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  let v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  if (v.startsWith('<') && v.endsWith('>')) v = v.slice(1, -1);
  return v;
}
